//! Tests: the authorisation matrix (every route x every role x own/other municipality, allowed or
//! refused, and refused requests change nothing) and escaping (a unit named
//! `<script>alert(1)</script>` is shown as text on every page that shows unit names).

use serde_json::json;
use sorsync::domain::KommuneKode;
use sorsync::review::Role;
use sorsync::store::ProposalStatus;

use crate::test_db::TestDb;
use crate::web::{fk_id, kommune, other_kommune, pending_links, populate, signed_in, start, Client, XSS, XSS_ESCAPED};

on_sqlite_and_postgres!(
    every_route_allows_exactly_the_roles_of_the_table_and_only_in_their_own_municipality,
    a_unit_named_like_a_script_is_shown_as_text_on_every_page,
);

const ALL: &[Role] = &Role::ALL;
const ADMINS: &[Role] = &[Role::SorAdmin, Role::OrgAdmin];
const SOR_ADMIN: &[Role] = &[Role::SorAdmin];

/// The matrix: method, path, the roles (in the path's own municipality) that may use it.
const MATRIX: &[(&str, &str, &[Role])] = &[
    ("GET", "/k/{kommune}", ALL),
    ("GET", "/k/{kommune}/queue", ALL),
    ("GET", "/k/{kommune}/proposals/{id}", ALL),
    ("GET", "/k/{kommune}/contacts", ALL),
    ("GET", "/k/{kommune}/whatif", ADMINS),
    ("GET", "/k/{kommune}/bulk", SOR_ADMIN),
    ("POST", "/k/{kommune}/proposals/{id}/decide", SOR_ADMIN),
    ("POST", "/k/{kommune}/bulk", SOR_ADMIN),
    ("POST", "/k/{kommune}/proposals/{id}/act", SOR_ADMIN),
    ("GET", "/k/{kommune}/audit", ALL),
    ("GET", "/k/{kommune}/wave", ALL),
    ("GET", "/api/k/{kommune}", ALL),
    ("GET", "/api/k/{kommune}/queue", ALL),
    ("GET", "/api/k/{kommune}/proposals/{id}", ALL),
    ("GET", "/api/k/{kommune}/contacts", ALL),
    ("GET", "/api/k/{kommune}/whatif", ADMINS),
    ("GET", "/api/k/{kommune}/bulk", SOR_ADMIN),
    ("POST", "/api/k/{kommune}/proposals/{id}/decide", SOR_ADMIN),
    ("POST", "/api/k/{kommune}/bulk", SOR_ADMIN),
    ("POST", "/api/k/{kommune}/proposals/{id}/act", SOR_ADMIN),
    ("GET", "/api/k/{kommune}/audit", ALL),
    ("GET", "/api/k/{kommune}/wave", ALL),
];

/// Every API route (method in lower case, OpenAPI path): the municipality routes of the matrix
/// and the routes for any signed-in user.
pub fn api_routes() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&'static str, &'static str)> = MATRIX
        .iter()
        .filter(|(_, p, _)| p.starts_with("/api/"))
        .map(|(m, p, _)| (if *m == "GET" { "get" } else { "post" }, *p))
        .collect();
    out.extend([
        ("get", "/api/openapi.json"),
        ("post", "/api/login"),
        ("post", "/api/logout"),
        ("get", "/api/session"),
        ("get", "/api/kommuner"),
        ("get", "/api/waves"),
    ]);
    out
}

/// Sends one request of the matrix as `client` against municipality `k`. Returns the status and
/// the proposal id it used.
async fn request(client: &mut Client, method: &str, path: &str, k: KommuneKode, id: i64) -> u16 {
    let path = path.replace("{kommune}", &k.to_string()).replace("{id}", &id.to_string());
    let csrf = client.csrf.clone();
    let api = path.starts_with("/api/");
    match (method, api) {
        ("GET", _) => client.get(&path).await.status,
        ("POST", false) if path.ends_with("/bulk") => {
            client.post_form(&path, &[("csrf", &csrf), ("ids", &id.to_string())]).await.status
        }
        ("POST", false) if path.ends_with("/act") => {
            client.post_form(&path, &[("csrf", &csrf), ("action", "no_match")]).await.status
        }
        ("POST", false) => client.post_form(&path, &[("csrf", &csrf), ("decision", "reject")]).await.status,
        ("POST", true) if path.ends_with("/act") => {
            client.post_json(&path, &json!({"action": "no_match"}), true).await.status
        }
        ("POST", true) if path.ends_with("/bulk") => client.post_json(&path, &json!({"ids": [id]}), true).await.status,
        _ => client.post_json(&path, &json!({"decision": "reject"}), true).await.status,
    }
}

async fn every_route_allows_exactly_the_roles_of_the_table_and_only_in_their_own_municipality(db: &TestDb) {
    let store = &db.store;
    populate(store).await;
    let server = start(store.clone()).await;
    let mut failures = Vec::new();
    for role in Role::ALL {
        let user = crate::web::user_for(role, kommune());
        let mut client = signed_in(&server.base, &user).await;
        for (method, path, allowed) in MATRIX {
            for (k, own) in [(kommune(), true), (other_kommune(), false)] {
                let id = pending_links(store, k).await[0];
                let status = request(&mut client, method, path, k, id).await;
                let should = own && allowed.contains(&role);
                let expected = match (should, *method, path.starts_with("/api/")) {
                    (true, "GET", _) => 200,
                    (true, _, false) => 303,
                    (true, _, true) => 200,
                    (false, _, _) => 403,
                };
                if status != expected {
                    failures.push(format!(
                        "{method} {path} as {} ({}): {status}, expected {expected}",
                        role.as_str(),
                        if own { "own" } else { "other" }
                    ));
                }
                let after = store.proposal(id).await.unwrap().status;
                if method == &"POST" && !should && after != ProposalStatus::Pending {
                    failures
                        .push(format!("{method} {path} as {} changed proposal {id} although refused", role.as_str()));
                }
                if method == &"POST" && should && after == ProposalStatus::Pending {
                    failures.push(format!("{method} {path} as {} did not decide proposal {id}", role.as_str()));
                }
            }
        }
    }
    // Without a session: pages send to the sign-in page, the API answers 401.
    let mut anon = Client::new(&server.base);
    for (method, path, _) in MATRIX {
        let id = pending_links(store, kommune()).await[0];
        let status = request(&mut anon, method, path, kommune(), id).await;
        let expected = if path.starts_with("/api/") { 401 } else { 303 };
        if status != expected {
            failures.push(format!("{method} {path} without a session: {status}, expected {expected}"));
        }
    }
    assert!(failures.is_empty(), "authorisation matrix:\n{}", failures.join("\n"));
}

async fn a_unit_named_like_a_script_is_shown_as_text_on_every_page(db: &TestDb) {
    let store = &db.store;
    populate(store).await;
    let server = start(store.clone()).await;
    let mut c = signed_in(&server.base, "sor_admin-350").await;
    let xss_unit = fk_id(kommune(), 10).to_string();
    let proposal = store
        .proposals(kommune(), Some(ProposalStatus::Pending))
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.key.fk_uuid.as_deref() == Some(xss_unit.as_str()))
        .expect("the script-named unit is proposed");
    let pages = [
        "/k/350/queue".to_string(),
        format!("/k/350/proposals/{}", proposal.id),
        "/k/350/bulk?threshold=0.5".to_string(),
        "/k/350/whatif?q=script".to_string(),
        format!("/k/350/whatif?unit={xss_unit}&action=close"),
        format!("/k/350/whatif?unit={xss_unit}&action=rename&name=%3Cscript%3Ealert(1)%3C%2Fscript%3E"),
        "/k/350/contacts".to_string(),
    ];
    for page in &pages {
        let r = c.get(page).await;
        assert_eq!(r.status, 200, "{page}: {}", r.body);
        assert!(!r.body.contains(XSS), "{page} shows the raw tag");
        assert!(r.body.contains(XSS_ESCAPED), "{page} does not show the name as text");
    }
    // The audit log shows what was decided with which reason: a script-like reason stays text.
    let csrf = c.csrf.clone();
    let decide = format!("/k/350/proposals/{}/decide", proposal.id);
    let r = c.post_form(&decide, &[("csrf", &csrf), ("decision", "reject"), ("reason", XSS)]).await;
    assert_eq!(r.status, 303);
    let audit = c.get("/k/350/audit").await;
    assert_eq!(audit.status, 200);
    assert!(!audit.body.contains(XSS), "the audit log shows the raw tag");
    // The pages load no inline script at all, and say so to the browser.
    let r = c.get("/k/350/queue").await;
    assert!(!r.body.contains("<script>"), "inline script on the page");
    let csp = reqwest::get(format!("{}/login", server.base)).await.unwrap();
    let policy = csp.headers().get("content-security-policy").unwrap().to_str().unwrap().to_string();
    assert!(policy.contains("script-src 'self'"), "{policy}");
}
