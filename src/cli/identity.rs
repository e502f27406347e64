//! Who runs a mutating command: the operating-system account (from the process's uid, never from
//! `$USER`), mapped by an administrator to the sorsync users it may act as (`sorsync users
//! map-os`). `--as` (or SORSYNC_USER) only chooses among those; without a mapping nothing mutates.

use anyhow::Context as _;

use super::import::open_store;
use super::{block_on, Context};
use crate::review::Actor;
use crate::store::Store;

/// The operating-system account running this process: the name its uid has in `/etc/passwd`,
/// else `uid:N`. Not `$USER`, which anyone can set.
pub fn os_user() -> anyhow::Result<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        // The owner of /proc/self is the process's effective uid.
        let uid = std::fs::metadata("/proc/self").context("reading the process's uid from /proc/self")?.uid();
        let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        let name = passwd.lines().find_map(|line| {
            let mut f = line.split(':');
            let (name, _, id) = (f.next()?, f.next()?, f.next()?);
            (id.parse::<u32>().ok()? == uid && !name.is_empty()).then(|| name.to_string())
        });
        Ok(name.unwrap_or_else(|| format!("uid:{uid}")))
    }
    #[cfg(not(unix))]
    {
        anyhow::bail!("verified command-line identities need a Unix system")
    }
}

/// The verified sorsync user of this process: one the OS account is mapped to, `as_user` if given
/// (it must be one of them).
pub async fn verified_actor(store: &Store, as_user: Option<&str>) -> anyhow::Result<Actor> {
    let os = os_user()?;
    let mapped = store.os_user_mapping(&os).await.context("reading the command-line identities")?;
    let wanted = as_user.map(str::trim).filter(|u| !u.is_empty());
    let user = match (wanted, mapped.as_slice()) {
        (_, []) => anyhow::bail!(
            "the operating-system user {os:?} may not act as anyone in sorsync: an administrator maps it with \
             `sorsync users map-os {os} USER`"
        ),
        (Some(w), m) if m.iter().any(|u| u == w) => w.to_string(),
        (Some(w), _) => anyhow::bail!(
            "the operating-system user {os:?} may not act as {w:?} (mapped to: {}); an administrator can add it \
             with `sorsync users map-os {os} {w}`",
            mapped.join(", ")
        ),
        (None, [one]) => one.clone(),
        (None, _) => {
            anyhow::bail!("the operating-system user {os:?} may act as {}: choose one with --as", mapped.join(", "))
        }
    };
    tracing::info!(os_user = %os, user = %user, "Acting as a verified user.");
    Ok(Actor::new(user))
}

/// [`verified_actor`] for commands that have not opened the store yet.
pub fn verified_actor_blocking(ctx: &Context, as_user: Option<&str>) -> anyhow::Result<Actor> {
    block_on(async {
        let store = open_store(ctx).await?;
        let r = verified_actor(&store, as_user).await;
        store.close().await;
        r
    })
}
