//! Whether a plan is still current: no newer snapshot of either register with different content
//! for its municipality. When one is newer, says which register, which snapshot, and how many
//! units differ.

use std::collections::{HashMap, HashSet};
use std::fmt;

use super::plan::Plan;
use crate::store::{units_data_hash, Register, Store, StoreError};

/// One register that changed since the plan was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterChanged {
    pub register: Register,
    pub planned_snapshot: i64,
    pub latest_snapshot: i64,
    /// Units added, removed or with other own values.
    pub units_differing: usize,
}

impl fmt::Display for RegisterChanged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.register {
            Register::FkOrg => "FK-ORG",
            Register::Sor => "SOR",
        };
        write!(
            f,
            "{name} changed: the plan was made on snapshot {}, the store now has snapshot {} ({} units differ)",
            self.planned_snapshot, self.latest_snapshot, self.units_differing
        )
    }
}

/// Counts units present in only one map or with different hashes.
fn differing<K: std::hash::Hash + Eq>(a: &HashMap<K, String>, b: &HashMap<K, String>) -> usize {
    let keys: HashSet<&K> = a.keys().chain(b.keys()).collect();
    keys.into_iter().filter(|k| a.get(*k) != b.get(*k)).count()
}

async fn fk_hashes(store: &Store, id: i64) -> Result<HashMap<String, String>, StoreError> {
    let t = store.load_fkorg(id).await?;
    Ok(t.units.iter().map(|u| (u.uuid.to_string(), units_data_hash(Some(u), None))).collect())
}

async fn sor_hashes(store: &Store, id: i64) -> Result<HashMap<String, String>, StoreError> {
    let t = store.load_sor(id).await?;
    Ok(t.units.iter().map(|u| (u.sor_id.to_string(), units_data_hash(None, Some(u)))).collect())
}

/// The registers that changed since `plan` was made (empty: the plan is current).
pub async fn changes_since(store: &Store, plan: &Plan) -> Result<Vec<RegisterChanged>, StoreError> {
    let mut out = Vec::new();
    if let Some(latest) = store.latest_snapshot_id(Register::FkOrg, Some(plan.kommune)).await? {
        if latest != plan.fk_snapshot.id && store.snapshot(latest).await?.content_hash != plan.fk_snapshot.content_hash
        {
            let planned = fk_hashes(store, plan.fk_snapshot.id).await?;
            let units_differing = differing(&planned, &fk_hashes(store, latest).await?);
            out.push(RegisterChanged {
                register: Register::FkOrg,
                planned_snapshot: plan.fk_snapshot.id,
                latest_snapshot: latest,
                units_differing,
            });
        }
    }
    if let Some((latest, _)) = store.sor_snapshot_for(plan.kommune).await? {
        if latest != plan.sor_snapshot.id
            && store.snapshot(latest).await?.content_hash != plan.sor_snapshot.content_hash
        {
            let planned = sor_hashes(store, plan.sor_snapshot.id).await?;
            let units_differing = differing(&planned, &sor_hashes(store, latest).await?);
            out.push(RegisterChanged {
                register: Register::Sor,
                planned_snapshot: plan.sor_snapshot.id,
                latest_snapshot: latest,
                units_differing,
            });
        }
    }
    Ok(out)
}
