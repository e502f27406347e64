//! Tests: identities you can trust. The command line acts only as a sorsync user its
//! operating-system account is mapped to, and the audit log names that user; revoking a role and
//! changing a password end the user's sessions; grants and revocations are audited; the proxy
//! header counts only from the configured proxy with its secret; the login form's token is one
//! this server issued. Runs on SQLite and PostgreSQL.

use sorsync::review::Role;
use sorsync::web::auth::ProxySignIn;
use sorsync::web::{hash_password, WebConfig};

use crate::support::sorsync;
use crate::test_db::TestDb;
use crate::web::{between, kommune, pending_links, populate, signed_in, start, start_with, today, Client, PASSWORD};

on_sqlite_and_postgres!(
    a_mutating_command_without_a_mapped_os_user_is_refused_and_with_one_the_audit_log_names_the_user,
    revoking_a_role_is_audited_and_ends_the_users_sessions,
    a_password_change_ends_the_users_sessions,
    the_proxy_header_is_refused_from_an_address_that_is_not_the_proxy_and_without_the_secret,
    a_login_token_not_issued_by_the_server_is_refused,
);

fn cli(url: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let out = sorsync()
        .arg("--database-url")
        .arg(url)
        .args(args)
        .env_remove("SORSYNC_USER")
        .env("USER", "sor_admin-350")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn a_mutating_command_without_a_mapped_os_user_is_refused_and_with_one_the_audit_log_names_the_user(db: &TestDb) {
    populate(&db.store).await;
    let id = pending_links(&db.store, kommune()).await[0].to_string();
    let approve = ["proposals", "approve", id.as_str(), "--kommune", "350", "--as", "sor_admin-350"];
    // $USER names a SOR administrator, --as too: neither is a verified identity.
    let (code, _, err) = cli(&db.url, &approve);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("map-os"), "{err}");
    assert_eq!(db.store.proposal(id.parse().unwrap()).await.unwrap().status, sorsync::store::ProposalStatus::Pending);

    let os = sorsync::cli::identity::os_user().unwrap();
    let (code, _, err) = cli(&db.url, &["users", "map-os", &os, "operator-350"]);
    assert_eq!(code, Some(0), "{err}");
    let (code, _, err) = cli(&db.url, &approve);
    assert_eq!(code, Some(1), "--as must be one the account is mapped to: {err}");
    assert!(err.contains("may not act as"), "{err}");

    let (code, _, err) = cli(&db.url, &["users", "map-os", &os, "sor_admin-350"]);
    assert_eq!(code, Some(0), "{err}");
    let (code, out, err) = cli(&db.url, &approve);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("as sor_admin-350"), "{out}");
    let audit = db.store.audit_log(kommune()).await.unwrap();
    assert!(audit.iter().any(|e| e.action == "approve" && e.actor == "sor_admin-350"), "{audit:?}");
}

async fn revoking_a_role_is_audited_and_ends_the_users_sessions(db: &TestDb) {
    populate(&db.store).await;
    let server = start(db.store.clone()).await;
    let mut c = signed_in(&server.base, "sor_admin-350").await;
    assert_eq!(c.get("/k/350/queue").await.status, 200);
    let (code, out, err) =
        cli(&db.url, &["users", "revoke", "sor_admin-350", "--kommune", "350", "--role", "sor_admin"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("revoked"), "{out}");
    assert_eq!(c.get("/api/session").await.status, 401, "the session ended");
    let audit = db.store.audit_log(kommune()).await.unwrap();
    let revoked = audit.iter().find(|e| e.action == "revoke_role").expect("a revoke_role entry");
    assert!(revoked.actor.starts_with("bootstrap:"), "{revoked:?}");
    assert!(revoked.detail.as_deref().unwrap_or("").contains("sor_admin-350"), "{revoked:?}");
    assert!(audit.iter().any(|e| e.action == "grant_role"), "grants are audited too");
}

async fn a_password_change_ends_the_users_sessions(db: &TestDb) {
    populate(&db.store).await;
    let server = start(db.store.clone()).await;
    let mut c = signed_in(&server.base, "operator-350").await;
    let mut other = signed_in(&server.base, "sor_admin-350").await;
    assert_eq!(c.get("/api/session").await.status, 200);
    let created =
        db.store.set_web_password_hash("operator-350", &hash_password("a new password 1").unwrap()).await.unwrap();
    assert!(!created);
    assert_eq!(c.get("/api/session").await.status, 401, "the old session ended");
    assert_eq!(other.get("/api/session").await.status, 200, "other users keep theirs");
    let mut again = Client::new(&server.base);
    assert_eq!(again.sign_in_form("operator-350", PASSWORD).await.status, 401);
    assert_eq!(again.sign_in_form("operator-350", "a new password 1").await.status, 303);
}

async fn the_proxy_header_is_refused_from_an_address_that_is_not_the_proxy_and_without_the_secret(db: &TestDb) {
    populate(&db.store).await;
    let loopback = "127.0.0.1:0".parse().unwrap();
    let public = "0.0.0.0:8080".parse().unwrap();
    // On an address other than loopback the option needs the proxies and a secret.
    assert!(ProxySignIn::new("X-Remote-User", &[], None, None, public).is_err());
    assert!(ProxySignIn::new("X-Remote-User", &["10.0.0.5".parse().unwrap()], None, None, public).is_err());
    assert!(ProxySignIn::new(
        "X-Remote-User",
        &["10.0.0.5".parse().unwrap()],
        Some("X-Proxy-Secret"),
        Some("a shared secret of some length"),
        public
    )
    .is_ok());

    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    // The proxy is 10.0.0.5; we come from 127.0.0.1.
    let elsewhere = ProxySignIn::new("X-Remote-User", &["10.0.0.5".parse().unwrap()], None, None, loopback).unwrap();
    let s =
        start_with(db.store.clone(), WebConfig { today: Some(today()), proxy: Some(elsewhere), ..Default::default() })
            .await;
    let r = http.get(format!("{}/k/350/queue", s.base)).header("x-remote-user", "sor_admin-350").send().await.unwrap();
    assert_eq!(r.status(), 403, "the header from an address that is not the proxy");

    let secret = "a shared secret of some length";
    let with_secret = ProxySignIn::new(
        "X-Remote-User",
        &["127.0.0.1".parse().unwrap()],
        Some("X-Proxy-Secret"),
        Some(secret),
        loopback,
    )
    .unwrap();
    let s = start_with(
        db.store.clone(),
        WebConfig { today: Some(today()), proxy: Some(with_secret), ..Default::default() },
    )
    .await;
    let get = |user: &str, secret: Option<&str>| {
        let mut r = http.get(format!("{}/k/350/queue", s.base)).header("x-remote-user", user.to_string());
        if let Some(v) = secret {
            r = r.header("x-proxy-secret", v.to_string());
        }
        r.send()
    };
    assert_eq!(get("sor_admin-350", None).await.unwrap().status(), 403, "no secret");
    assert_eq!(get("sor_admin-350", Some("wrong")).await.unwrap().status(), 403, "a wrong secret");
    assert_eq!(get("sor_admin-350", Some(secret)).await.unwrap().status(), 200);
    assert_eq!(get("nobody-we-know", Some(secret)).await.unwrap().status(), 403, "only known accounts");
}

async fn a_login_token_not_issued_by_the_server_is_refused(db: &TestDb) {
    populate(&db.store).await;
    let server = start(db.store.clone()).await;
    // An attacker plants a cookie and a form field of their own choosing (double submit alone
    // would accept this).
    let mut c = Client::new(&server.base);
    c.cookies.push(("sorsync_login".into(), "attacker-chosen".into()));
    let r =
        c.post_form("/login", &[("csrf", "attacker-chosen"), ("user", "sor_admin-350"), ("password", PASSWORD)]).await;
    assert_eq!(r.status, 403, "{}", r.body);
    // A token from another server (another key) is refused too.
    let foreign = sorsync::web::auth::issue_login_token(b"another server's key");
    let mut c = Client::new(&server.base);
    c.cookies.push(("sorsync_login".into(), foreign.clone()));
    let r = c.post_form("/login", &[("csrf", &foreign), ("user", "sor_admin-350"), ("password", PASSWORD)]).await;
    assert_eq!(r.status, 403);
    // The server's own form works; its token is MAC-bound and the cookie is __Host- when Secure.
    let mut c = Client::new(&server.base);
    let form = c.get("/login").await;
    let token = between(&form.body, "name=\"csrf\" value=\"", "\"");
    assert_eq!(token.split('.').count(), 3, "{token}");
    assert_eq!(
        c.post_form("/login", &[("csrf", &token), ("user", "sor_admin-350"), ("password", PASSWORD)]).await.status,
        303
    );
    let secure =
        start_with(db.store.clone(), WebConfig { secure_cookies: true, today: Some(today()), ..Default::default() })
            .await;
    let mut c = Client::new(&secure.base);
    let form = c.get("/login").await;
    assert!(
        form.set_cookie.iter().any(|h| h.starts_with("__Host-sorsync_login=") && h.contains("Secure")),
        "{:?}",
        form.set_cookie
    );
    let _ = Role::ALL;
}
