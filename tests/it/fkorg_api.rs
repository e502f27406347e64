//! The FK-ORG client against the stand-in server (in-process, port 0): paging, the token and
//! transaction headers, retries through injected failures, and clear errors.

use std::net::SocketAddr;
use std::time::Duration;

use sorsync::config::FkOrgConfig;
use sorsync::domain::{Cvr, FkTree, FkUnit, FkUser};
use sorsync::sources::fkorg_client::{Backoff, ClientError, FkOrgClient};
use sorsync::sources::read_fkorg_file;
use sorsync::standin::fkorg::{spawn, Credentials, StandInOptions, StandInStats, GRAPHQL_PATH, TOKEN_PATH};

use crate::support::{fixture, stand_in_process};

const SECRET: &str = "korsbaek-test-secret";

fn korsbaek() -> FkTree {
    read_fkorg_file(&fixture("fkorg/korsbaek.json")).unwrap()
}

fn cvr() -> Cvr {
    Cvr::parse("11111111").unwrap()
}

fn options() -> StandInOptions {
    StandInOptions {
        credentials: Some(Credentials { client_id: "sorsync".into(), client_secret: SECRET.into() }),
        ..StandInOptions::default()
    }
}

fn config(addr: SocketAddr, page_size: u32) -> FkOrgConfig {
    FkOrgConfig {
        endpoint: format!("http://{addr}{GRAPHQL_PATH}"),
        token_url: format!("http://{addr}{TOKEN_PATH}"),
        client_id: "sorsync".into(),
        client_secret: SECRET.into(),
        page_size,
        timeout_secs: 10,
        max_retries: 3,
    }
}

fn client(cfg: &FkOrgConfig) -> FkOrgClient {
    FkOrgClient::new(cfg)
        .unwrap()
        .with_backoff(Backoff { base: Duration::from_millis(1), max: Duration::from_millis(5) })
}

fn count(c: &std::sync::atomic::AtomicU64) -> u64 {
    StandInStats::get(c)
}

fn sorted_units(t: &FkTree) -> Vec<FkUnit> {
    let mut v = t.units.clone();
    v.sort_by_key(|u| u.uuid);
    v
}

fn sorted_users(t: &FkTree) -> Vec<FkUser> {
    let mut v = t.users.clone();
    v.sort_by_key(|u| u.uuid);
    v
}

fn assert_same_tree(fetched: &FkTree, file: &FkTree) {
    assert_eq!(fetched.cvr, file.cvr);
    assert_eq!(sorted_units(fetched), sorted_units(file));
    assert_eq!(sorted_users(fetched), sorted_users(file));
    assert_eq!(fetched.units[fetched.tree.roots()[0]].enhedsnavn, "Korsbaek Kommune");
}

#[tokio::test]
async fn paging_two_at_a_time_fetches_the_same_tree_as_the_file() {
    let opts = options();
    let stats = opts.stats.clone();
    let (addr, _server) = spawn(korsbaek(), opts).await.unwrap();
    let fetched = client(&config(addr, 2)).fetch_tree(cvr()).await.unwrap();
    assert_same_tree(&fetched, &korsbaek());
    // 6 units in pages of 2 and 3 users in pages of 2: 3 + 2 requests, with one token.
    assert_eq!(count(&stats.graphql_requests), 5);
    assert_eq!(count(&stats.tokens_issued), 1);
}

async fn token(addr: SocketAddr) -> String {
    let resp = reqwest::Client::new()
        .post(format!("http://{addr}{TOKEN_PATH}"))
        .form(&[("grant_type", "client_credentials"), ("client_id", "sorsync"), ("client_secret", SECRET)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let v: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(v["token_type"], "Bearer");
    assert!(v["expires_in"].as_u64().unwrap() > 0);
    v["access_token"].as_str().unwrap().to_string()
}

/// Sends a units query with the given token and headers; returns status and body.
async fn raw_query(addr: SocketAddr, token: Option<&str>, headers: &[(&str, &str)]) -> (u16, String) {
    let mut req = reqwest::Client::new().post(format!("http://{addr}{GRAPHQL_PATH}")).json(&serde_json::json!({
        "query": "{ organisationEnhedListe(cvr: \"11111111\", status: AKTIV, first: 1) { edges { node { uuid } } } }"
    }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test]
async fn requests_without_token_or_transaction_headers_are_refused() {
    let (addr, _server) = spawn(korsbaek(), options()).await.unwrap();
    let t = token(addr).await;
    let id = "0b0e5a2e-6d38-4c1b-9c39-8e3f1a6f1a01";
    let tid = "2026-11-22T06:00:00.000Z";

    let (status, body) = raw_query(addr, Some(&t), &[("x-TransaktionsId", id), ("x-TransaktionsTid", tid)]).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("a1000000-0000-4000-8000-000000000001"), "{body}");

    let (status, body) = raw_query(addr, Some(&t), &[("x-TransaktionsId", id), ("x-TransaktionsTid", tid)]).await;
    assert_eq!(status, 400, "a transaction id is used once");
    assert!(body.contains("already used"), "{body}");

    let (status, body) = raw_query(addr, Some(&t), &[("x-TransaktionsTid", tid)]).await;
    assert_eq!(status, 400);
    assert!(body.contains("x-TransaktionsId"), "{body}");

    let (status, body) = raw_query(addr, Some(&t), &[("x-TransaktionsId", id)]).await;
    assert_eq!(status, 400);
    assert!(body.contains("x-TransaktionsTid"), "{body}");

    let (status, body) =
        raw_query(addr, Some(&t), &[("x-TransaktionsId", "request-7"), ("x-TransaktionsTid", tid)]).await;
    assert_eq!(status, 400);
    assert!(body.contains("x-TransaktionsId") && body.contains("not a UUID"), "{body}");

    let (status, _) = raw_query(addr, None, &[("x-TransaktionsId", id), ("x-TransaktionsTid", tid)]).await;
    assert_eq!(status, 401);
    let (status, _) =
        raw_query(addr, Some("made-up-token"), &[("x-TransaktionsId", id), ("x-TransaktionsTid", tid)]).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn the_client_gets_through_a_thirty_percent_failure_rate() {
    let opts = StandInOptions { fail_rate: 0.3, seed: 7, ..options() };
    let stats = opts.stats.clone();
    let (addr, _server) = spawn(korsbaek(), opts).await.unwrap();
    let cfg = FkOrgConfig { max_retries: 10, ..config(addr, 1) };
    let fetched = client(&cfg).fetch_tree(cvr()).await.unwrap();
    assert_same_tree(&fetched, &korsbaek());
    assert!(count(&stats.injected_failures) > 0, "the stand-in injected no failure, so nothing was retried");
    assert_eq!(count(&stats.graphql_requests), 9 + count(&stats.injected_failures));
}

#[tokio::test]
async fn requests_that_time_out_are_retried() {
    let opts = StandInOptions { hang_rate: 0.3, hang_time: Duration::from_secs(30), seed: 3, ..options() };
    let stats = opts.stats.clone();
    let (addr, _server) = spawn(korsbaek(), opts).await.unwrap();
    let cfg = FkOrgConfig { max_retries: 10, ..config(addr, 2) };
    let fetched = client(&cfg).with_timeout(Duration::from_millis(200)).fetch_tree(cvr()).await.unwrap();
    assert_same_tree(&fetched, &korsbaek());
    assert!(count(&stats.injected_hangs) > 0, "no request hung, so no timeout was retried");
    assert_eq!(count(&stats.graphql_requests), 5 + count(&stats.injected_hangs));
}

#[tokio::test]
async fn a_server_that_keeps_failing_is_given_up_after_max_retries() {
    let opts = StandInOptions { fail_rate: 1.0, ..options() };
    let stats = opts.stats.clone();
    let (addr, _server) = spawn(korsbaek(), opts).await.unwrap();
    let cfg = FkOrgConfig { max_retries: 2, ..config(addr, 2) };
    let err = client(&cfg).fetch_tree(cvr()).await.unwrap_err();
    assert!(matches!(err, ClientError::Unavailable { attempts: 3, .. }), "{err}");
    assert!(err.to_string().contains("503"), "{err}");
    assert_eq!(count(&stats.graphql_requests), 3);
}

#[tokio::test]
async fn a_wrong_client_secret_is_a_clear_error_without_retries() {
    let opts = options();
    let stats = opts.stats.clone();
    let (addr, _server) = spawn(korsbaek(), opts).await.unwrap();
    let cfg = FkOrgConfig { client_secret: "not-the-secret-3141".into(), max_retries: 5, ..config(addr, 2) };
    let err = client(&cfg).fetch_tree(cvr()).await.unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, ClientError::CredentialsRefused { status: 401, .. }), "{msg}");
    assert!(msg.contains("client id \"sorsync\"") && msg.contains("client_secret"), "{msg}");
    assert!(!msg.contains("3141"), "the secret must not be shown: {msg}");
    assert_eq!(count(&stats.token_refusals), 1, "a refused secret is not retried");
    assert_eq!(count(&stats.graphql_requests), 0);
}

#[tokio::test]
async fn a_token_the_api_refuses_is_renewed_once_then_reported() {
    // Tokens that expire at once: the API refuses every one of them.
    let opts = StandInOptions { token_ttl: Duration::ZERO, ..options() };
    let stats = opts.stats.clone();
    let (addr, _server) = spawn(korsbaek(), opts).await.unwrap();
    let err = client(&config(addr, 2)).fetch_tree(cvr()).await.unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, ClientError::TokenRefused { .. }), "{msg}");
    assert!(msg.starts_with("FK-ORG refused the token (client id \"sorsync\")"), "{msg}");
    assert!(!msg.contains("standin-"), "the token must not be shown: {msg}");
    assert_eq!((count(&stats.tokens_issued), count(&stats.graphql_requests)), (2, 2));
}

#[tokio::test]
async fn asking_for_another_municipality_names_the_cvr() {
    let (addr, _server) = spawn(korsbaek(), options()).await.unwrap();
    let err = client(&config(addr, 2)).fetch_tree(Cvr::parse("29189846").unwrap()).await.unwrap_err();
    assert!(err.to_string().contains("29189846"), "{err}");
}

#[tokio::test]
async fn nothing_listening_is_reported_after_the_retries() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let cfg = FkOrgConfig { max_retries: 1, ..config(addr, 2) };
    let err = client(&cfg).fetch_tree(cvr()).await.unwrap_err();
    assert!(matches!(err, ClientError::Unavailable { attempts: 2, .. }), "{err}");
    assert!(err.to_string().contains("connect"), "{err}");
}

#[tokio::test]
async fn the_stand_in_command_prints_its_address_and_serves_the_file() {
    let process = stand_in_process(&[
        "stand-in".into(),
        "fkorg".into(),
        "--port".into(),
        "0".into(),
        "--client-secret".into(),
        SECRET.into(),
        "--data".into(),
        fixture("fkorg/korsbaek.json").into(),
    ])
    .await;
    let addr = process.addr;
    assert!(addr.ip().is_loopback());
    let fetched = client(&config(addr, 500)).fetch_tree(cvr()).await.unwrap();
    assert_same_tree(&fetched, &korsbaek());
}

#[tokio::test]
async fn memberships_of_closed_units_are_left_out_of_an_api_import_instead_of_failing_it() {
    // Close a leaf that a user is a member of: the API (asked for AKTIV units) no longer returns it.
    let mut tree = korsbaek();
    let (leaf, member) = tree
        .users
        .iter()
        .flat_map(|u| u.memberships.iter().filter_map(move |m| m.unit.map(|unit| (unit, u.uuid))))
        .find(|(unit, _)| tree.index_of(*unit).is_some_and(|i| tree.tree.children(i).is_empty()))
        .expect("a user who is a member of a leaf unit");
    let mut units = tree.units.clone();
    units.iter_mut().find(|u| u.uuid == leaf).unwrap().status = sorsync::domain::FkStatus::Inaktiv;
    tree = FkTree::new(tree.cvr, units, tree.users.clone()).unwrap();

    let (addr, server) = spawn(tree, options()).await.unwrap();
    let fetched = client(&config(addr, 500)).fetch_tree(cvr()).await;
    server.abort();
    let fetched = fetched.expect("the import goes through");
    assert!(fetched.get(leaf).is_none(), "the closed unit is not among the active units");
    let user = fetched.users.iter().find(|u| u.uuid == member).expect("the member is still there");
    assert!(user.memberships.iter().all(|m| m.unit != Some(leaf)), "its membership of the closed unit is left out");
}

/// The SOR-role addresses of one unit, as a raw GraphQL read shows them.
async fn sor_addresses(addr: SocketAddr, unit: sorsync::domain::FkUuid) -> Vec<String> {
    let t = token(addr).await;
    let query = format!(
        "{{ organisationEnhedListe(cvr: \"11111111\", status: AKTIV) {{ edges {{ node {{ uuid adresser(rolle: [\"{}\"]) {{ adresseTekst }} }} }} }} }}",
        sorsync::domain::fkorg::roles::UNIT_SOR_ID
    );
    let resp = reqwest::Client::new()
        .post(format!("http://{addr}{GRAPHQL_PATH}"))
        .bearer_auth(t)
        .header("x-TransaktionsId", uuid::Uuid::new_v4().to_string())
        .header("x-TransaktionsTid", "2026-11-22T08:00:00Z")
        .json(&serde_json::json!({ "query": query }))
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = resp.json().await.unwrap();
    let edges = v["data"]["organisationEnhedListe"]["edges"].as_array().unwrap().clone();
    let node = edges.iter().find(|e| e["node"]["uuid"] == unit.to_string()).expect("the unit is listed");
    node["node"]["adresser"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["adresseTekst"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_sor_id_written_back_shows_in_a_later_read_and_twice_written_leaves_one_address() {
    use sorsync::apply::port::FkWriteBack;
    use sorsync::domain::SorId;

    let tree = korsbaek();
    let unit = tree.units.iter().find(|u| u.sor_id.is_none()).expect("a unit without a SOR-ID").uuid;
    let (addr, server) = spawn(tree, options()).await.unwrap();
    let c = client(&config(addr, 500));
    let first = SorId::from_running_number(4711);
    c.write_sor_id(unit, first).await.unwrap();
    FkWriteBack::write_sor_id(&c, &unit, &first).await.unwrap();
    let fetched = c.fetch_tree(cvr()).await.unwrap();
    assert_eq!(fetched.get(unit).unwrap().sor_id, Some(first), "the real client reads the SOR-ID back");
    assert_eq!(sor_addresses(addr, unit).await, vec![first.to_string()], "written twice, one address");

    let second = SorId::from_running_number(4712);
    c.write_sor_id(unit, second).await.unwrap();
    assert_eq!(sor_addresses(addr, unit).await, vec![second.to_string()], "a different SOR-ID replaces the first");
    server.abort();
}

#[tokio::test]
async fn writing_to_an_unknown_unit_is_a_permanent_error() {
    use sorsync::apply::port::FkWriteBack;

    let (addr, server) = spawn(korsbaek(), options()).await.unwrap();
    let c = client(&config(addr, 500));
    let unknown = sorsync::domain::FkUuid::parse("0b0e5a2e-6d38-4c1b-9c39-000000000bad").unwrap();
    let sor_id = sorsync::domain::SorId::from_running_number(4711);
    let err = FkWriteBack::write_sor_id(&c, &unknown, &sor_id).await.unwrap_err();
    assert!(!err.is_temporary(), "{err}");
    assert!(err.to_string().contains("no organisation unit"), "{err}");
    server.abort();
}

#[tokio::test]
async fn a_write_without_a_token_is_refused() {
    let (addr, server) = spawn(korsbaek(), options()).await.unwrap();
    let resp = reqwest::Client::new()
        .post(format!("http://{addr}{GRAPHQL_PATH}"))
        .json(&serde_json::json!({ "query": sorsync::sources::fkorg_client::SOR_ID_WRITE_MUTATION }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    server.abort();
}
