//! Tests: the web app in-process on 127.0.0.1:0, driven over HTTP as a browser or API client
//! would: sign-in, CSRF, the login rate limit, approving through the form, the JSON API mirroring
//! the pages, the OpenAPI document listing every route. Runs on SQLite and PostgreSQL.
//!
//! The helpers here (a small municipality with proposals, a running server, a signed-in client)
//! are shared with tests/it/web_authz.rs and tests/it/browser.rs.

use chrono::NaiveDate;
use serde_json::{json, Value};
use sorsync::domain::{Address, FkTree, FkUnit, FkUuid, KommuneKode, SorId, SorKind, SorTree, SorUnit};
use sorsync::matching::{propose, MatchOptions};
use sorsync::review::{grant, record_run, Role, Snapshot};
use sorsync::store::{ProposalStatus, Store};
use sorsync::web::{hash_password, serve_listener, WebConfig};

use crate::test_db::TestDb;

on_sqlite_and_postgres!(
    signing_in_with_the_right_password_opens_the_pages_and_a_wrong_one_does_not,
    a_form_without_the_csrf_token_is_refused_and_changes_nothing,
    the_sixth_failed_sign_in_is_refused_even_with_the_right_password,
    approving_through_the_queue_form_records_the_decision_in_the_store,
    the_json_api_returns_what_the_pages_show,
    bulk_approval_shows_how_many_and_which_before_approving_exactly_those,
    the_what_if_page_draws_the_consequences_of_closing_a_unit,
    a_trusted_proxy_header_signs_the_user_in_only_when_configured,
    no_match_from_the_proposal_page_rejects_it_and_the_audit_log_shows_who_did_what,
    the_waves_dashboard_shows_only_the_users_own_municipalities_of_the_plan,
    the_queue_shows_one_row_per_case_with_both_paths,
    a_follow_up_of_a_rejected_link_cannot_be_approved_and_leaves_the_queue,
    undo_from_the_api_puts_the_case_back_in_the_queue,
);

pub const PASSWORD: &str = "correct horse battery";
/// A unit name that would run script if it were not escaped.
pub const XSS: &str = "<script>alert(1)</script>";
pub const XSS_ESCAPED: &str = "&lt;script&gt;alert(1)&lt;/script&gt;";

pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
}

pub fn kommune() -> KommuneKode {
    KommuneKode::parse("350").unwrap()
}

pub fn other_kommune() -> KommuneKode {
    KommuneKode::parse("360").unwrap()
}

/// Care-home names on both sides: the matcher links them with high confidence.
const HOMES: [&str; 8] = [
    "Plejecenter Evigglad",
    "Plejehjemmet Solgården",
    "Plejecenter Bakkehuset",
    "Plejecenter Lindehaven",
    "Plejecenter Egevang",
    "Plejecenter Strandly",
    "Plejecenter Skovbrynet",
    XSS,
];

pub fn fk_id(kommune: KommuneKode, n: u128) -> FkUuid {
    let base = 0x1000_0000_0000_4000_8000_0000_0000_0000u128 + (u128::from(kommune.as_u16()) << 16);
    FkUuid::from_uuid(uuid::Uuid::from_u128(base + n))
}

fn sor_id(kommune: KommuneKode, n: u64) -> SorId {
    SorId::from_running_number(u64::from(kommune.as_u16()) * 1000 + n)
}

/// FK-ORG: the municipality, a care department and the homes (3..), each with an address.
pub fn fk_tree(k: KommuneKode) -> FkTree {
    let mut units = vec![
        FkUnit::new(fk_id(k, 1), "Testby Kommune", None),
        FkUnit::new(fk_id(k, 2), "Sundhed og Ældre", Some(fk_id(k, 1))),
    ];
    for (i, name) in HOMES.iter().enumerate() {
        let mut u = FkUnit::new(fk_id(k, 3 + i as u128), *name, Some(fk_id(k, 2)));
        u.postal_address = Some(format!("Vej {} 4, 4000 Testby", i + 1));
        units.push(u);
    }
    FkTree::new(None, units, Vec::new()).unwrap()
}

pub fn sor_tree(k: KommuneKode) -> SorTree {
    let mut units = vec![
        SorUnit::new(sor_id(k, 1), SorKind::InstitutionOwner, "Testby Kommune", None),
        SorUnit::new(sor_id(k, 2), SorKind::HealthInstitution, "Sundhed og Ældre", Some(sor_id(k, 1))),
    ];
    for (i, name) in HOMES.iter().enumerate() {
        let mut u = SorUnit::new(sor_id(k, 3 + i as u64), SorKind::OrganizationalUnit, *name, Some(sor_id(k, 2)));
        u.own.postal = Some(Address {
            street: format!("Vej {}", i + 1),
            building: Some("4".into()),
            postcode: "4000".into(),
            district: "Testby".into(),
            ..Default::default()
        });
        units.push(u);
    }
    SorTree::new(units).unwrap()
}

/// Imports both municipalities' trees, records a run of proposals for each, and adds the
/// accounts: `<role>-350` for every role of 350 and `sor_admin-360` for 360.
pub async fn populate(store: &Store) {
    for k in [kommune(), other_kommune()] {
        let fk = fk_tree(k);
        let sor = sor_tree(k);
        let fk_snapshot = store.import_fkorg(k, "fk.json", &fk).await.unwrap().snapshot_id;
        let sor_snapshot = store.import_sor("sor.xml", Some(k), &sor).await.unwrap().snapshot_id;
        let proposals = propose(&fk, &sor, &MatchOptions::new(today()));
        record_run(
            store,
            k,
            Snapshot { id: fk_snapshot, tree: &fk },
            Snapshot { id: sor_snapshot, tree: &sor },
            &proposals,
        )
        .await
        .unwrap();
    }
    let hash = hash_password(PASSWORD).unwrap();
    for role in Role::ALL {
        add_user(store, &user_for(role, kommune()), &hash, kommune(), role).await;
    }
    add_user(store, &user_for(Role::SorAdmin, other_kommune()), &hash, other_kommune(), Role::SorAdmin).await;
}

async fn add_user(store: &Store, name: &str, hash: &str, k: KommuneKode, role: Role) {
    store.set_web_password_hash(name, hash).await.unwrap();
    grant(store, None, name, k, role).await.unwrap();
}

pub fn user_for(role: Role, k: KommuneKode) -> String {
    format!("{}-{}", role.as_str(), k)
}

/// A running server; stops when dropped.
pub struct Server {
    pub base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

pub async fn start(store: Store) -> Server {
    start_with(store, WebConfig { secure_cookies: false, today: Some(today()), ..Default::default() }).await
}

pub async fn start_with(store: Store, config: WebConfig) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = serve_listener(listener, store, config, async {
            let _ = stopped.await;
        })
        .await;
    });
    Server { base, stop: Some(stop) }
}

/// A response as the tests look at it.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub location: Option<String>,
    pub set_cookie: Vec<String>,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// An HTTP client that keeps the session cookie by hand and does not follow redirects.
pub struct Client {
    pub base: String,
    http: reqwest::Client,
    pub cookies: Vec<(String, String)>,
    pub csrf: String,
}

fn form_body(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", sorsync::web::views::url_encode(k), sorsync::web::views::url_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

impl Client {
    pub fn new(base: &str) -> Client {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Client { base: base.to_string(), http, cookies: Vec::new(), csrf: String::new() }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Reply {
        let req = if self.cookies.is_empty() { req } else { req.header("cookie", self.cookie_header()) };
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let location = resp.headers().get("location").map(|v| v.to_str().unwrap().to_string());
        let set_cookie: Vec<String> =
            resp.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect();
        for c in &set_cookie {
            let pair = c.split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            self.cookies.retain(|(name, _)| name != k);
            if !v.is_empty() {
                self.cookies.push((k.to_string(), v.to_string()));
            }
        }
        let body = resp.text().await.unwrap();
        Reply { status, location, set_cookie, body }
    }

    pub async fn get(&mut self, path: &str) -> Reply {
        let req = self.http.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_body(fields));
        self.send(req).await
    }

    /// A JSON POST; with the session's CSRF header when `with_csrf`.
    pub async fn post_json(&mut self, path: &str, body: &Value, with_csrf: bool) -> Reply {
        let mut req = self.http.post(format!("{}{path}", self.base)).json(body);
        if with_csrf {
            req = req.header("x-csrf-token", self.csrf.clone());
        }
        self.send(req).await
    }

    /// Signs in through the login form (with its double-submit token). Returns the reply to the POST.
    pub async fn sign_in_form(&mut self, user: &str, password: &str) -> Reply {
        let form = self.get("/login").await;
        assert_eq!(form.status, 200);
        let token = between(&form.body, "name=\"csrf\" value=\"", "\"");
        let reply = self.post_form("/login", &[("csrf", &token), ("user", user), ("password", password)]).await;
        if reply.status == 303 {
            let session = self.get("/api/session").await;
            self.csrf = session.json()["csrf"].as_str().unwrap().to_string();
        }
        reply
    }
}

/// A signed-in client.
pub async fn signed_in(base: &str, user: &str) -> Client {
    let mut c = Client::new(base);
    let r = c.sign_in_form(user, PASSWORD).await;
    assert_eq!(r.status, 303, "signing in as {user}: {}", r.body);
    c
}

pub fn between(text: &str, start: &str, end: &str) -> String {
    let from = text.find(start).unwrap_or_else(|| panic!("{start:?} not in {text}")) + start.len();
    let len = text[from..].find(end).unwrap();
    text[from..from + len].to_string()
}

/// The pending link proposals of a municipality, ids only.
pub async fn pending_links(store: &Store, k: KommuneKode) -> Vec<i64> {
    store
        .proposals(k, Some(ProposalStatus::Pending))
        .await
        .unwrap()
        .into_iter()
        .filter(|p| p.key.kind == sorsync::matching::ProposalKind::Link)
        .map(|p| p.id)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Scenarios

async fn signing_in_with_the_right_password_opens_the_pages_and_a_wrong_one_does_not(db: &TestDb) {
    populate(&db.store).await;
    let server = start(db.store.clone()).await;
    let mut anon = Client::new(&server.base);
    let r = anon.get("/k/350/queue").await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/login")), "pages send strangers to sign in");
    assert_eq!(anon.get("/api/k/350/queue").await.status, 401);

    let mut wrong = Client::new(&server.base);
    let r = wrong.sign_in_form("sor_admin-350", "not the password").await;
    assert_eq!(r.status, 401);
    assert!(r.body.contains("Forkert brugernavn eller adgangskode"), "in Danish: {}", r.body);
    assert!(!r.body.contains("not the password"), "the page repeats the password");

    let mut c = Client::new(&server.base);
    let r = c.sign_in_form("sor_admin-350", PASSWORD).await;
    assert_eq!(r.status, 303);
    let cookie = r.set_cookie.iter().find(|c| c.starts_with("sorsync_session=")).expect("a session cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let home = c.get("/").await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("href=\"/k/350\""), "{}", home.body);
    let queue = c.get("/k/350/queue").await;
    assert_eq!(queue.status, 200);
    assert!(queue.body.contains("Gennemgang"), "Danish by default");
    let english = c.get("/k/350/queue?lang=en").await;
    assert!(english.body.contains("Review queue"));

    // Signing out ends the session.
    let csrf = c.csrf.clone();
    assert_eq!(c.post_form("/logout", &[("csrf", &csrf)]).await.status, 303);
    assert_eq!(c.get("/k/350/queue").await.status, 303);
}

async fn a_form_without_the_csrf_token_is_refused_and_changes_nothing(db: &TestDb) {
    populate(&db.store).await;
    let server = start(db.store.clone()).await;
    let mut c = signed_in(&server.base, "sor_admin-350").await;
    let id = pending_links(&db.store, kommune()).await[0];
    let path = format!("/k/350/proposals/{id}/decide");
    let r = c.post_form(&path, &[("decision", "approve")]).await;
    assert_eq!(r.status, 403);
    let r = c.post_form(&path, &[("decision", "approve"), ("csrf", "0000")]).await;
    assert_eq!(r.status, 403);
    let api = format!("/api/k/350/proposals/{id}/decide");
    let r = c.post_json(&api, &json!({"decision": "approve"}), false).await;
    assert_eq!(r.status, 403);
    assert!(r.json()["error"].as_str().unwrap().contains("CSRF"));
    assert_eq!(db.store.proposal(id).await.unwrap().status, ProposalStatus::Pending);
    // The login form is protected too: a post without the form's cookie is refused.
    let mut fresh = Client::new(&server.base);
    let r = fresh.post_form("/login", &[("csrf", "abc"), ("user", "sor_admin-350"), ("password", PASSWORD)]).await;
    assert_eq!(r.status, 403);
}

async fn the_sixth_failed_sign_in_is_refused_even_with_the_right_password(db: &TestDb) {
    populate(&db.store).await;
    let server = start(db.store.clone()).await;
    let mut c = Client::new(&server.base);
    for _ in 0..5 {
        assert_eq!(c.sign_in_form("operator-350", "guess").await.status, 401);
    }
    let r = c.sign_in_form("operator-350", PASSWORD).await;
    assert_eq!(r.status, 429, "{}", r.body);
    // Through the API too.
    let r = c.post_json("/api/login", &json!({"user": "operator-350", "password": PASSWORD}), false).await;
    assert_eq!(r.status, 429);
    // Another user from the same address is not blocked by operator-350's failures.
    let r = c.post_json("/api/login", &json!({"user": "read_only-350", "password": PASSWORD}), false).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

async fn approving_through_the_queue_form_records_the_decision_in_the_store(db: &TestDb) {
    populate(&db.store).await;
    let server = start(db.store.clone()).await;
    let mut c = signed_in(&server.base, "sor_admin-350").await;
    let queue = c.get("/k/350/queue").await;
    let before = between(&queue.body, "id=\"progress\">", "</p>");
    assert!(before.starts_with("0 af "), "{before}");
    let first = between(&queue.body, "data-id=\"", "\"").parse::<i64>().unwrap();
    let csrf = c.csrf.clone();
    let r = c
        .post_form(
            &format!("/k/350/proposals/{first}/decide"),
            &[("csrf", &csrf), ("decision", "approve"), ("back", "/k/350/queue")],
        )
        .await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/k/350/queue")), "{}", r.body);
    let p = db.store.proposal(first).await.unwrap();
    assert_eq!(p.status, ProposalStatus::Approved);
    let after = c.get("/k/350/queue").await;
    let progress = between(&after.body, "id=\"progress\">", "</p>");
    assert!(progress.starts_with("1 af "), "{progress}");
    assert!(!after.body.contains(&format!("data-id=\"{first}\"")), "the approved proposal left the queue");
    // Deciding it again is a conflict, not a second decision.
    let r = c.post_form(&format!("/k/350/proposals/{first}/decide"), &[("csrf", &csrf), ("decision", "reject")]).await;
    assert_eq!(r.status, 409);
    // A back link to another site is not followed.
    let second = pending_links(&db.store, kommune()).await[0];
    let r = c
        .post_form(
            &format!("/k/350/proposals/{second}/decide"),
            &[("csrf", &csrf), ("decision", "reject"), ("back", "//evil.example/")],
        )
        .await;
    assert_eq!(r.location.as_deref(), Some("/k/350/queue"));
    assert_eq!(db.store.proposal(second).await.unwrap().status, ProposalStatus::Rejected);
}

async fn the_json_api_returns_what_the_pages_show(db: &TestDb) {
    populate(&db.store).await;
    let server = start(db.store.clone()).await;
    let mut c = signed_in(&server.base, "sor_admin-350").await;
    let api = c.get("/api/k/350/queue").await.json();
    let page = c.get("/k/350/queue").await.body;
    let items = api["items"].as_array().unwrap();
    assert!(!items.is_empty());
    let page_ids: Vec<String> =
        page.split("data-id=\"").skip(1).map(|s| s.split('"').next().unwrap().to_string()).collect();
    let api_ids: Vec<String> = items.iter().map(|i| i["id"].to_string()).collect();
    assert_eq!(page_ids, api_ids, "the page and the API list the same proposals in the same order");
    assert!(page.contains(&format!("{} af {} gennemgået", api["reviewed"], api["total"])));

    let overview = c.get("/api/k/350").await.json();
    assert_eq!(overview["fk_units"], 10);
    let overview_page = c.get("/k/350").await.body;
    assert!(overview_page.contains("<td>10</td>"));

    let id = items[0]["id"].as_i64().unwrap();
    let detail = c.get(&format!("/api/k/350/proposals/{id}")).await.json();
    let detail_page = c.get(&format!("/k/350/proposals/{id}")).await.body;
    let name = detail["fk_name"].as_str().unwrap();
    let shown = name.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    assert!(detail_page.contains(&shown));
    if !detail["reasons"].as_array().unwrap().is_empty() {
        assert!(detail_page.contains("class=\"explain\""), "the explanation is shown in words");
        assert!(!detail_page.contains("prior"), "no prior on the page");
    }

    // Deciding through the API with the CSRF header works like the form.
    let r = c.post_json(&format!("/api/k/350/proposals/{id}/decide"), &json!({"decision": "reject"}), true).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(db.store.proposal(id).await.unwrap().status, ProposalStatus::Rejected);

    // The OpenAPI document lists every API route of the route table, and each listed route exists.
    let doc = c.get("/api/openapi.json").await.json();
    assert_eq!(doc["openapi"], "3.0.3");
    let paths = doc["paths"].as_object().unwrap();
    for route in sorsync::web::routes::ROUTES.iter().filter(|r| r.api().is_some()) {
        let method = route.method.as_str().to_lowercase();
        assert!(paths.get(route.path).and_then(|p| p.get(&method)).is_some(), "{method} {}", route.path);
        if route.method == sorsync::web::routes::Method::Get {
            let path = route.path.replace("{kommune}", "350").replace("{id}", &id.to_string());
            let r = c.get(&path).await;
            assert_ne!(r.status, 404, "{path} is documented but not served");
            assert_ne!(r.status, 405, "{path} is documented but not served");
        }
    }
}

async fn bulk_approval_shows_how_many_and_which_before_approving_exactly_those(db: &TestDb) {
    populate(&db.store).await;
    let server = start(db.store.clone()).await;
    let mut c = signed_in(&server.base, "sor_admin-350").await;
    let confirm = c.get("/k/350/bulk?threshold=0.5").await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    let ids = between(&confirm.body, "name=\"ids\" value=\"", "\"");
    let listed: Vec<i64> = ids.split(',').map(|s| s.parse().unwrap()).collect();
    let eligible: Vec<i64> = db
        .store
        .proposals(kommune(), Some(ProposalStatus::Pending))
        .await
        .unwrap()
        .into_iter()
        .filter(|p| p.key.kind == sorsync::matching::ProposalKind::Link && p.confidence.unwrap_or(0.0) >= 0.5)
        .map(|p| p.id)
        .collect();
    assert!(!eligible.is_empty());
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(sorted, eligible);
    assert!(confirm.body.contains(&format!("<strong>{}</strong>", listed.len())), "the count is shown");
    assert!(confirm.body.contains(XSS_ESCAPED), "the names are shown, escaped");
    // Nothing is approved by looking at the confirmation.
    assert_eq!(pending_links(&db.store, kommune()).await.len(), eligible.len());

    let csrf = c.csrf.clone();
    let r = c.post_form("/k/350/bulk", &[("csrf", &csrf), ("ids", &ids)]).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location, Some(format!("/k/350/queue?approved={}", listed.len())));
    for id in &listed {
        assert_eq!(db.store.proposal(*id).await.unwrap().status, ProposalStatus::Approved);
    }
    assert_eq!(db.store.links(kommune()).await.unwrap().len(), listed.len());
    // Another municipality's proposals cannot ride along in the list.
    let theirs = pending_links(&db.store, other_kommune()).await;
    let r = c.post_form("/k/350/bulk", &[("csrf", &csrf), ("ids", &theirs[0].to_string())]).await;
    assert_eq!(r.location.as_deref(), Some("/k/350/queue?approved=0"));
    assert_eq!(db.store.proposal(theirs[0]).await.unwrap().status, ProposalStatus::Pending);
}

async fn the_what_if_page_draws_the_consequences_of_closing_a_unit(db: &TestDb) {
    populate(&db.store).await;
    // The care homes are linked (approved), so closing one shows a SOR close.
    let server = start(db.store.clone()).await;
    let mut admin = signed_in(&server.base, "sor_admin-350").await;
    let ids: Vec<String> = pending_links(&db.store, kommune()).await.iter().map(i64::to_string).collect();
    let csrf = admin.csrf.clone();
    assert_eq!(admin.post_form("/k/350/bulk", &[("csrf", &csrf), ("ids", &ids.join(","))]).await.status, 303);
    let mut org = signed_in(&server.base, "org_admin-350").await;
    let search = org.get("/k/350/whatif?q=evigglad").await;
    assert_eq!(search.status, 200);
    let unit = fk_id(kommune(), 3).to_string();
    assert!(search.body.contains(&unit), "the search finds the care home");
    let r = org.get(&format!("/k/350/whatif?unit={unit}&action=close&date=2026-12-31&lang=en")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("id=\"whatif-drawing\""), "the drawing is shown");
    assert!(r.body.contains("<svg"));
    assert!(r.body.contains("1 to close"), "{}", between(&r.body, "id=\"whatif-summary\">", "</p>"));
    let api = org.get(&format!("/api/k/350/whatif?unit={unit}&action=close&date=2026-12-31")).await.json();
    assert_eq!(api["summary"].as_str().unwrap(), between(&r.body, "id=\"whatif-summary\">", "</p>"));
    // Operators do not get the what-if page.
    let mut op = signed_in(&server.base, "operator-350").await;
    assert_eq!(op.get("/k/350/whatif").await.status, 403);
}

#[test]
fn users_add_reads_the_password_from_standard_input_and_stores_only_a_hash() {
    use std::io::Write as _;
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("s.db").display());
    let add = |password: &str| {
        let mut child = crate::support::sorsync()
            .args(["--database-url", &url, "users", "add", "anna", "--password-stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(format!("{password}\n").as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let short = add("short");
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("shorter than 8"));
    let out = add("a long secret");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(printed.contains("anna: account added"), "{printed}");
    assert!(!printed.contains("a long secret"), "the password was printed");
    let again = add("another long secret");
    assert!(String::from_utf8_lossy(&again.stdout).contains("password changed"));
    let list = crate::support::sorsync().args(["--database-url", &url, "users", "list"]).output().unwrap();
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(listed.contains("anna  (web account without roles)"), "{listed}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = Store::open(&url).await.unwrap();
        let hash = store.web_password_hash("anna").await.unwrap().unwrap();
        assert!(!hash.contains("secret"));
        assert!(sorsync::web::auth::verify_password("another long secret", &hash));
        assert!(!sorsync::web::auth::verify_password("a long secret", &hash));
        store.close().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_accounts_can_sign_in_with_the_printed_passwords_and_hold_their_roles() {
    let db = TestDb::sqlite().await;
    let accounts = sorsync::web::demo_accounts(&db.store, &[kommune()]).await.unwrap();
    assert_eq!(accounts.len(), Role::ALL.len());
    let server = start(db.store.clone()).await;
    for a in &accounts {
        let mut c = Client::new(&server.base);
        let r = c.post_json("/api/login", &json!({"user": a.user_name, "password": a.password}), false).await;
        assert_eq!(r.status, 200, "{}: {}", a.user_name, r.body);
        let roles = &r.json()["municipalities"][0]["roles"];
        assert_eq!(roles, &json!([a.role.as_str()]), "{}", a.user_name);
    }
}

on_sqlite_and_postgres!(an_expired_or_ended_session_no_longer_signs_anyone_in);

async fn an_expired_or_ended_session_no_longer_signs_anyone_in(db: &TestDb) {
    let store = &db.store;
    store.set_web_password_hash("anna", &hash_password(PASSWORD).unwrap()).await.unwrap();
    grant(store, None, "anna", kommune(), Role::ReadOnly).await.unwrap();
    store.create_web_session("old", "anna", "csrf-old", "2000-01-01T00:00:00.000Z").await.unwrap();
    store.create_web_session("new", "anna", "csrf-new", "2999-01-01T00:00:00.000Z").await.unwrap();
    assert_eq!(store.web_session("old").await.unwrap(), None, "an expired session still counts");
    let (user, csrf, roles) = store.web_session_with_roles("new").await.unwrap().unwrap();
    assert_eq!((user.as_str(), csrf.as_str()), ("anna", "csrf-new"));
    assert_eq!(roles, vec![(kommune(), "read_only".to_string())]);
    store.delete_web_session("new").await.unwrap();
    assert!(store.web_session_with_roles("new").await.unwrap().is_none());
}

async fn a_trusted_proxy_header_signs_the_user_in_only_when_configured(db: &TestDb) {
    populate(&db.store).await;
    let plain = start(db.store.clone()).await;
    let spoof = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r =
        spoof.get(format!("{}/k/350/queue", plain.base)).header("x-remote-user", "sor_admin-350").send().await.unwrap();
    assert_eq!(r.status(), 303, "the header is ignored unless configured");

    let proxy =
        sorsync::web::auth::ProxySignIn::new("X-Remote-User", &[], None, None, "127.0.0.1:0".parse().unwrap()).unwrap();
    let config = WebConfig { secure_cookies: false, today: Some(today()), proxy: Some(proxy), ..Default::default() };
    let proxied = start_with(db.store.clone(), config).await;
    let get = |path: &str, user: &str| {
        spoof.get(format!("{}{path}", proxied.base)).header("x-remote-user", user.to_string()).send()
    };
    assert_eq!(get("/k/350/queue", "sor_admin-350").await.unwrap().status(), 200);
    assert_eq!(get("/k/350/queue", "sor_admin-360").await.unwrap().status(), 403, "roles still apply");
    let session: Value = get("/api/session", "sor_admin-350").await.unwrap().json().await.unwrap();
    let csrf = session["csrf"].as_str().unwrap().to_string();
    let id = pending_links(&db.store, kommune()).await[0];
    let decide = |token: &str| {
        spoof
            .post(format!("{}/api/k/350/proposals/{id}/decide", proxied.base))
            .header("x-remote-user", "sor_admin-350")
            .header("x-csrf-token", token.to_string())
            .json(&json!({"decision": "approve"}))
            .send()
    };
    assert_eq!(decide("wrong").await.unwrap().status(), 403, "CSRF applies to proxy users too");
    assert_eq!(decide(&csrf).await.unwrap().status(), 200);
    assert_eq!(db.store.proposal(id).await.unwrap().status, ProposalStatus::Approved);
    let decisions_by = db.store.links(kommune()).await.unwrap();
    assert_eq!(decisions_by[0].approved_by, "sor_admin-350");
}

async fn no_match_from_the_proposal_page_rejects_it_and_the_audit_log_shows_who_did_what(db: &TestDb) {
    populate(&db.store).await;
    let server = start(db.store.clone()).await;
    let mut c = signed_in(&server.base, "sor_admin-350").await;
    let ids = pending_links(&db.store, kommune()).await;
    let detail = c.get(&format!("/k/350/proposals/{}", ids[0])).await;
    // One set of decision buttons: the case's keys (not in SOR, create new), not the proposal's as well.
    assert!(detail.body.contains("value=\"reject\"") && detail.body.contains("value=\"new\""), "{}", detail.body);
    assert!(!detail.body.contains("value=\"no_match\""), "two sets of decision buttons");
    let csrf = c.csrf.clone();
    let r = c.post_form(&format!("/k/350/proposals/{}/act", ids[0]), &[("csrf", &csrf), ("action", "no_match")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(db.store.proposal(ids[0]).await.unwrap().status, ProposalStatus::Rejected);
    let r =
        c.post_form(&format!("/k/350/proposals/{}/decide", ids[1]), &[("csrf", &csrf), ("decision", "approve")]).await;
    assert_eq!(r.status, 303);

    let audit = c.get("/api/k/350/audit").await.json();
    // Role grants (made by the bootstrap) are audited too; the decisions are this test's subject.
    let entries: Vec<Value> =
        audit["entries"].as_array().unwrap().iter().filter(|e| e["action"] != "grant_role").cloned().collect();
    assert!(entries.len() >= 2, "{audit}");
    assert!(entries.iter().all(|e| e["actor"] == "sor_admin-350"));
    assert_eq!(entries[0]["proposal_id"], ids[1], "newest first");
    let page = c.get("/k/350/audit").await.body;
    assert!(page.contains(&format!("href=\"/k/350/proposals/{}\"", ids[0])));
    let action = entries[0]["action"].as_str().unwrap().to_string();
    let only = c.get(&format!("/api/k/350/audit?action={action}")).await.json();
    assert!(only["entries"].as_array().unwrap().iter().all(|e| e["action"] == action.as_str()));
    assert!(only["matching"].as_u64().unwrap() < audit["matching"].as_u64().unwrap());
    // A read-only user sees the log but cannot act.
    let mut reader = signed_in(&server.base, "read_only-350").await;
    assert_eq!(reader.get("/k/350/audit").await.status, 200);
    let csrf = reader.csrf.clone();
    let r =
        reader.post_form(&format!("/k/350/proposals/{}/act", ids[2]), &[("csrf", &csrf), ("action", "no_match")]).await;
    assert_eq!(r.status, 403);
}

async fn the_waves_dashboard_shows_only_the_users_own_municipalities_of_the_plan(db: &TestDb) {
    populate(&db.store).await;
    let server = start(db.store.clone()).await;
    let mut c = signed_in(&server.base, "read_only-350").await;
    let none = c.get("/api/waves").await.json();
    assert!(none["report"].is_null(), "no plan stored yet: {none}");
    assert!(c.get("/waves").await.body.contains("ingen bølgeplan"));

    let plan = r#"
[[wave]]
name = "first"
start = 2026-09-01
end = 2026-12-01

[[wave.municipality]]
name = "Testby"
kommunekode = "350"
cvr = "64942212"
status = "pilot"

[[wave.municipality]]
name = "Andenby"
kommunekode = "360"
cvr = "29189420"
status = "pilot"
"#;
    let plan = sorsync::waves::plan::parse_plan(plan, "plan.toml").unwrap();
    sorsync::waves::runner::store_plan(&db.store, &plan, "plan.toml").await.unwrap();
    let v = c.get("/api/waves").await.json();
    let ms = v["report"]["waves"][0]["municipalities"].as_array().unwrap();
    assert_eq!(ms.len(), 1, "only the user's own municipality: {v}");
    assert_eq!(ms[0]["name"], "Testby");
    let page = c.get("/waves").await.body;
    assert!(page.contains("Testby") && !page.contains("Andenby"));
    assert_eq!(c.get("/k/350/wave").await.status, 200);
    assert_eq!(c.get("/k/360/wave").await.status, 403);
}

async fn the_queue_shows_one_row_per_case_with_both_paths(db: &TestDb) {
    populate(&db.store).await;
    let server = start(db.store.clone()).await;
    let mut c = signed_in(&server.base, "sor_admin-350").await;
    let api = c.get("/api/k/350/queue").await.json();
    let items = api["items"].as_array().unwrap();
    let pending = db.store.proposals(kommune(), Some(ProposalStatus::Pending)).await.unwrap();
    let mut units: Vec<String> = pending.iter().filter_map(|p| p.key.fk_uuid.clone()).collect();
    units.sort();
    units.dedup();
    assert!(pending.len() > units.len(), "the data has several proposals for some unit");
    let mut cases: Vec<String> = items.iter().map(|i| i["case"].as_str().unwrap().to_string()).collect();
    cases.sort();
    assert_eq!(cases, units, "one row per FK-ORG unit with something pending");
    let home = items.iter().find(|i| i["fk_name"] == "Plejecenter Evigglad").expect("the care home's case");
    assert_eq!(home["fk_path"], "Sundhed og Ældre > Plejecenter Evigglad");
    assert_eq!(home["sor_path"], "Sundhed og Ældre > Plejecenter Evigglad");
    assert_eq!(home["stage"], "correspondence");
    let page = c.get("/k/350/queue").await.body;
    assert_eq!(page.matches("<tr class=\"item").count(), items.len(), "the page shows the same rows");
    assert!(page.contains("Sundhed og Ældre &gt; Plejecenter Evigglad"));
    // A page beyond the last shows the last page.
    let far = c.get("/api/k/350/queue?page=99").await.json();
    assert_eq!(far["page"], far["pages"]);
    assert_eq!(far["items"].as_array().unwrap().len(), items.len());
}

/// A pending link of 350 with a pending follow-up for the same units: (link id, follow-up id).
async fn link_and_follow_up(store: &Store) -> (i64, i64) {
    let all = store.proposals(kommune(), Some(ProposalStatus::Pending)).await.unwrap();
    for l in all.iter().filter(|p| p.key.kind == sorsync::matching::ProposalKind::Link) {
        if let Some(f) = all
            .iter()
            .find(|p| p.key.kind.is_follow_up() && p.key.fk_uuid == l.key.fk_uuid && p.key.sor_id == l.key.sor_id)
        {
            return (l.id, f.id);
        }
    }
    panic!("no link with a follow-up");
}

async fn a_follow_up_of_a_rejected_link_cannot_be_approved_and_leaves_the_queue(db: &TestDb) {
    populate(&db.store).await;
    let server = start(db.store.clone()).await;
    let mut c = signed_in(&server.base, "sor_admin-350").await;
    let (link, follow_up) = link_and_follow_up(&db.store).await;
    let r = c.post_json(&format!("/api/k/350/cases/{link}/decide"), &json!({"action": "reject"}), true).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(db.store.proposal(link).await.unwrap().status, ProposalStatus::Rejected);
    let r =
        c.post_json(&format!("/api/k/350/proposals/{follow_up}/decide"), &json!({"decision": "approve"}), true).await;
    assert_eq!(r.status, 409, "{}", r.body);
    let r = c.post_json(&format!("/api/k/350/cases/{follow_up}/decide"), &json!({"action": "approve"}), true).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert_ne!(db.store.proposal(follow_up).await.unwrap().status, ProposalStatus::Approved);
    let queue = c.get("/api/k/350/queue").await.json();
    let listed: Vec<i64> = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["proposal_ids"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect::<Vec<_>>())
        .collect();
    assert!(!listed.contains(&follow_up) && !listed.contains(&link), "{listed:?}");
}

async fn undo_from_the_api_puts_the_case_back_in_the_queue(db: &TestDb) {
    populate(&db.store).await;
    let server = start(db.store.clone()).await;
    let mut c = signed_in(&server.base, "sor_admin-350").await;
    let (link, follow_up) = link_and_follow_up(&db.store).await;
    let before = c.get("/api/k/350/queue").await.json();
    let case = |q: &Value| -> Value {
        q["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["proposal_ids"].as_array().unwrap().contains(&json!(link)))
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(case(&before)["stage"], "correspondence");
    // a: the link is approved; the case now waits with what follows from it.
    let r = c.post_json(&format!("/api/k/350/cases/{link}/decide"), &json!({"action": "approve"}), true).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(db.store.links(kommune()).await.unwrap().len(), 1);
    let after = c.get("/api/k/350/queue").await.json();
    assert!(case(&after).is_null());
    // What follows from the link by the sync policy (contact data) was decided with it.
    assert_eq!(r.json()["decided"].as_array().map(|d| d.contains(&json!(follow_up))), Some(true), "{}", r.body);
    assert_eq!(db.store.proposal(follow_up).await.unwrap().status, ProposalStatus::Approved);
    // u: back as it was.
    let r = c.post_json("/api/k/350/undo", &json!({}), false).await;
    assert_eq!(r.status, 403, "undo needs the CSRF token");
    let r = c.post_json("/api/k/350/undo", &json!({}), true).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["proposal_id"], link);
    assert_eq!(db.store.proposal(link).await.unwrap().status, ProposalStatus::Pending);
    assert_eq!(
        db.store.proposal(follow_up).await.unwrap().status,
        ProposalStatus::Pending,
        "the follow-up waits again"
    );
    assert!(db.store.links(kommune()).await.unwrap().is_empty());
    let restored = c.get("/api/k/350/queue").await.json();
    assert_eq!(case(&restored), case(&before), "the case is back as it was");
    // Nothing more to undo: refused with a reason, through the form it is a notice.
    let r = c.post_json("/api/k/350/undo", &json!({}), true).await;
    assert_eq!(r.status, 409);
    let csrf = c.csrf.clone();
    let r = c.post_form("/k/350/undo", &[("csrf", &csrf), ("back", "/k/350/queue?page=1&cursor=2")]).await;
    assert_eq!(r.location.as_deref(), Some("/k/350/queue?page=1&cursor=2&notice=nothing_to_undo"));
    let page = c.get("/k/350/queue?page=1&cursor=2&notice=nothing_to_undo").await.body;
    assert!(page.contains("Der er ingen beslutning at fortryde."));
    // A read-only user cannot undo.
    let mut reader = signed_in(&server.base, "read_only-350").await;
    assert_eq!(reader.post_json("/api/k/350/undo", &json!({}), true).await.status, 403);
}
