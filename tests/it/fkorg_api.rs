//! The FK-ORG client against the stand-in server (in-process, port 0): paging, the token and
//! transaction headers, retries through injected failures, and clear errors.

use std::net::SocketAddr;
use std::time::Duration;

use sorsync::config::FkOrgConfig;
use sorsync::domain::{Cvr, FkTree, FkUnit, FkUser};
use sorsync::sources::fkorg_client::{ClientError, FkOrgClient, ORGANISATION_SERVICE};
use sorsync::sources::read_fkorg_file;
use sorsync::standin::fkorg::{spawn, StandInOptions, StandInStats, GRAPHQL_PATH, TOKEN_PATH};

use crate::support::{fixture, https_client, secure_fkorg_options, stand_in_process};

fn korsbaek() -> FkTree {
    read_fkorg_file(&fixture("fkorg/korsbaek.json")).unwrap()
}

fn cvr() -> Cvr {
    Cvr::parse("11111111").unwrap()
}

/// The stand-in on HTTPS with the shared test certificates: token, STS and OIOIDWS as on FK-ORG.
fn options() -> StandInOptions {
    secure_fkorg_options()
}

fn config(addr: SocketAddr, page_size: u32) -> FkOrgConfig {
    FkOrgConfig { page_size, ..crate::support::fkorg_config(addr) }
}

fn client(cfg: &FkOrgConfig) -> FkOrgClient {
    FkOrgClient::new(cfg)
        .unwrap()
        .with_retry_delays(Duration::from_millis(1), Duration::from_millis(5))
        .for_municipality(cvr())
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
    let scope = format!("entityid:{ORGANISATION_SERVICE},anvenderkontekst:11111111");
    let resp = https_client()
        .post(format!("https://{addr}{TOKEN_PATH}"))
        .form(&[("grant_type", "client_credentials"), ("client_id", ORGANISATION_SERVICE), ("scope", &scope)])
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
    let mut req = https_client().post(format!("https://{addr}{GRAPHQL_PATH}")).json(&serde_json::json!({
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
async fn a_client_secret_is_refused_naming_the_certificate_keys() {
    let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let cfg = FkOrgConfig { client_secret: Some("not-the-secret-3141".into()), ..config(addr, 2) };
    let msg = FkOrgClient::new(&cfg).unwrap_err().to_string();
    assert!(msg.contains("client_certificate") && msg.contains("client_pkcs12"), "{msg}");
    assert!(!msg.contains("3141"), "the secret must not be shown: {msg}");
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
    assert!(
        msg.starts_with("FK-ORG refused the token (client id \"http://stoettesystemerne.dk/service/organisation/3\")"),
        "{msg}"
    );
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
        "--certs".into(),
        crate::support::fkorg_certs().dir.clone().into(),
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
    let resp = https_client()
        .post(format!("https://{addr}{GRAPHQL_PATH}"))
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

/// Korsbaek with one unit that has five addresses (EAN, postal, email, mobile, landline), no
/// SOR-ID, and two KLE tasks; returns the tree, the options serving it, and the unit.
fn unit_with_five_addresses_and_two_tasks() -> (FkTree, StandInOptions, sorsync::domain::FkUuid) {
    let tree = korsbaek();
    let mut units = tree.units.clone();
    let unit = units.iter_mut().find(|u| u.sor_id.is_none()).expect("a unit without a SOR-ID");
    unit.ean = Some(sorsync::domain::Ean::parse("5790000123452").unwrap());
    unit.postal_address = Some("Byvej 1, 4000 Korsbaek".into());
    unit.email = Some("sundhed@korsbaek.dk".into());
    unit.mobile = Some("20304050".into());
    unit.landline = Some("44556677".into());
    unit.p_number = None;
    unit.los_id = None;
    let id = unit.uuid;
    let tree = FkTree::new(tree.cvr, units, tree.users.clone()).unwrap();
    let mut opts = options();
    opts.tasks.insert(id, vec!["29.09.00".into(), "27.24.00".into()]);
    (tree, opts, id)
}

#[tokio::test]
async fn a_write_back_through_organisation_6_keeps_the_units_five_addresses_and_two_kle_tasks() {
    use sorsync::domain::SorId;
    use sorsync::sources::fkorg_client::WriteBack;

    let (tree, opts, unit) = unit_with_five_addresses_and_two_tasks();
    let (addr, server) = spawn(tree, opts).await.unwrap();
    let c = client(&config(addr, 500));
    let before = c.read_unit(unit).await.unwrap();
    let kinds = |r: &sorsync::sources::fkorg_soap::UnitRegistration, kind: &str| {
        r.relations.iter().filter(|x| x.kind == kind).count()
    };
    assert_eq!((kinds(&before, "Adresser"), kinds(&before, "Opgaver")), (5, 2), "{before:?}");

    let sor_id = SorId::from_running_number(4711);
    assert_eq!(c.write_sor_id(unit, sor_id).await.unwrap(), WriteBack::Written);
    let after = c.read_unit(unit).await.unwrap();
    assert_eq!(after.relations.len(), before.relations.len() + 1, "{after:?}");
    for r in &before.relations {
        assert!(after.relations.contains(r), "relation {r:?} is kept as it was");
    }
    let new = after.relations.iter().find(|r| !before.relations.contains(r)).unwrap();
    assert_eq!(new.role_uuid().as_deref(), Some(sorsync::domain::fkorg::roles::UNIT_SOR_ID));
    assert_eq!(
        new.class.as_ref().and_then(|c| c.id.as_uuid()).as_deref(),
        Some(sorsync::sources::fkorg_soap::UNIT_ADDRESS_TYPE)
    );
    let virkning = new.virkning.as_ref().expect("a Virkning");
    assert_eq!(virkning.actor, before.organisation().cloned(), "the municipality is the actor");
    assert_eq!(virkning.actor_type.as_deref(), Some("Organisation"));

    // What SOAP wrote shows in GraphQL, next to the five other addresses.
    let fetched = c.fetch_tree(cvr()).await.unwrap();
    let u = fetched.get(unit).unwrap();
    assert_eq!(u.sor_id, Some(sor_id));
    assert_eq!(u.email.as_deref(), Some("sundhed@korsbaek.dk"));
    assert_eq!(u.landline.as_deref(), Some("44556677"));
    assert_eq!(sor_addresses(addr, unit).await, vec![sor_id.to_string()]);
    server.abort();
}

#[tokio::test]
async fn writing_the_same_sor_id_again_sends_nothing_and_another_one_is_refused_not_overwritten() {
    use sorsync::apply::port::FkWriteBack;
    use sorsync::domain::SorId;
    use sorsync::sources::fkorg_client::WriteBack;

    let tree = korsbaek();
    let unit = tree.units.iter().find(|u| u.sor_id.is_none()).expect("a unit without a SOR-ID").uuid;
    let opts = options();
    let stats = opts.stats.clone();
    let (addr, server) = spawn(tree, opts).await.unwrap();
    let c = client(&config(addr, 500));
    let first = SorId::from_running_number(4711);
    c.write_sor_id(unit, first).await.unwrap();
    let sent = stats.soap_requests.lock().unwrap().len();
    assert_eq!(c.write_sor_id(unit, first).await.unwrap(), WriteBack::AlreadyShown);
    FkWriteBack::write_sor_id(&c, &unit, &first).await.unwrap();
    let again: Vec<String> = stats.soap_requests.lock().unwrap()[sent..].to_vec();
    assert!(again.iter().all(|r| r.contains("LaesInput")), "only reads, no importer or ret: {again:?}");
    assert_eq!(sor_addresses(addr, unit).await, vec![first.to_string()], "written twice, one address");

    let second = SorId::from_running_number(4712);
    let err = c.write_sor_id(unit, second).await.unwrap_err();
    assert!(matches!(err, ClientError::OtherSorId { .. }), "{err}");
    assert!(err.to_string().contains(&first.to_string()), "{err}");
    assert!(!err.to_write_error().is_temporary());
    assert_eq!(sor_addresses(addr, unit).await, vec![first.to_string()], "not overwritten");
    assert_eq!(FkWriteBack::shown_sor_ids(&c, &unit).await.unwrap(), vec![first.to_string()]);
    server.abort();
}

#[tokio::test]
async fn ending_a_sor_id_ends_that_relation_and_keeps_every_other() {
    use sorsync::domain::SorId;

    let (tree, opts, unit) = unit_with_five_addresses_and_two_tasks();
    let (addr, server) = spawn(tree, opts).await.unwrap();
    let c = client(&config(addr, 500));
    let sor_id = SorId::from_running_number(4711);
    c.write_sor_id(unit, sor_id).await.unwrap();
    let written = c.read_unit(unit).await.unwrap();
    c.end_sor_id(unit, sor_id).await.unwrap();
    let ended = c.read_unit(unit).await.unwrap();
    assert_eq!(ended.relations.len(), written.relations.len(), "ended, not removed");
    let now = chrono::Utc::now();
    let sor_relation = |r: &sorsync::sources::fkorg_soap::Relation| {
        r.role_uuid().as_deref() == Some(sorsync::domain::fkorg::roles::UNIT_SOR_ID)
    };
    assert!(ended.relations.iter().filter(|r| sor_relation(r)).all(|r| !r.is_current(now)), "{ended:?}");
    let others = |u: &sorsync::sources::fkorg_soap::UnitRegistration| {
        u.relations.iter().filter(|r| !sor_relation(r)).cloned().collect::<Vec<_>>()
    };
    assert_eq!(others(&ended), others(&written));
    assert!(sor_addresses(addr, unit).await.is_empty(), "GraphQL no longer shows it");
    assert!(c.fetch_tree(cvr()).await.unwrap().get(unit).unwrap().sor_id.is_none());
    server.abort();
}

/// Validates `xml` with xmllint (offline) against `schema` under specs/fkorg-soap-6/xsd/.
fn assert_valid(xml: &str, schema: &str) {
    let specs = crate::support::root().join("../shared/specs/fkorg-soap-6/xsd");
    let specs = if specs.exists() { specs } else { std::path::PathBuf::from("/work/shared/specs/fkorg-soap-6/xsd") };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("payload.xml");
    std::fs::write(&file, xml).unwrap();
    let out = std::process::Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(specs.join(schema))
        .arg(&file)
        .output()
        .expect("xmllint runs (Debian package libxml2-utils)");
    assert!(out.status.success(), "{schema} refuses\n{xml}\n{}", String::from_utf8_lossy(&out.stderr));
}

fn schema_of(payload: &str) -> &'static str {
    if payload.contains("http://stoettesystemerne.dk/organisation/adresse/6/") {
        "6.0.STS-0/AdresseOperationer.xsd"
    } else {
        "6.0.STS-0/OrganisationEnhedOperationer.xsd"
    }
}

#[tokio::test]
async fn every_envelope_the_client_sends_and_the_stand_in_answers_is_valid_against_the_published_schemas() {
    use crate::oioidws::signed_call;
    use sorsync::sources::fkorg_soap::{self as soap, body_payload, Service};

    let (tree, opts, unit) = unit_with_five_addresses_and_two_tasks();
    let stats = opts.stats.clone();
    let (addr, server) = spawn(tree, opts).await.unwrap();
    let c = client(&config(addr, 500));
    let sor_id = sorsync::domain::SorId::from_running_number(4711);
    c.write_sor_id(unit, sor_id).await.unwrap();
    c.end_sor_id(unit, sor_id).await.unwrap();
    // Written again after it was ended: the address object exists, so it gets `ret`.
    c.write_sor_id(unit, sor_id).await.unwrap();
    let sent = stats.soap_requests.lock().unwrap().clone();
    let operations: std::collections::BTreeSet<&str> = sent
        .iter()
        .filter_map(|e| ["ImportInput", "LaesInput", "RetInput"].into_iter().find(|op| e.contains(op)))
        .collect();
    assert_eq!(operations.len(), 3, "importer, laes and ret were all sent: {operations:?}");
    assert!(sent.iter().any(|e| e.contains("<adr:RetInput")), "the existing address object got ret");
    for envelope in &sent {
        let payload = body_payload(envelope).expect("a Body");
        assert_valid(payload, schema_of(payload));
        let end = envelope.find("</rh:RequestHeader>").unwrap() + "</rh:RequestHeader>".len();
        let header = &envelope[envelope.find("<rh:RequestHeader").unwrap()..end];
        assert_valid(header, "common/RequestHeader.xsd");
    }
    // The stand-in's answers to laes (the richest outputs) pass too.
    let address = c.read_unit(unit).await.unwrap().relations.iter().find_map(|r| {
        (r.role_uuid().as_deref() == Some(sorsync::domain::fkorg::roles::UNIT_EMAIL))
            .then(|| r.reference_uuid().unwrap())
    });
    for (service, uuid) in [(Service::OrganisationEnhed, unit.to_string()), (Service::Adresse, address.unwrap())] {
        let (status, text) = signed_call(addr, service, soap::Operation::Laes, &soap::laes_input(service, &uuid)).await;
        assert_eq!(status, 200, "{text}");
        let payload = body_payload(&text).unwrap();
        assert!(payload.contains("FiltreretOejebliksbillede"), "{payload}");
        assert_valid(payload, schema_of(payload));
    }
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
async fn the_graphql_api_is_read_only_like_fk_orgs() {
    let (addr, server) = spawn(korsbaek(), options()).await.unwrap();
    let t = token(addr).await;
    let resp = https_client()
        .post(format!("https://{addr}{GRAPHQL_PATH}"))
        .bearer_auth(t)
        .header("x-TransaktionsId", uuid::Uuid::new_v4().to_string())
        .header("x-TransaktionsTid", "2026-11-22T08:00:00Z")
        .json(&serde_json::json!({ "query": "{ __schema { mutationType { name } } }" }))
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(v["data"]["__schema"]["mutationType"], serde_json::Value::Null, "{v}");
    server.abort();
}

#[tokio::test]
async fn a_soap_message_that_is_not_one_gets_a_sender_fault() {
    let (addr, server) = spawn(korsbaek(), options()).await.unwrap();
    let resp = https_client()
        .post(format!("https://{addr}/organisation/organisationenhed/6/"))
        .body("<not-soap/>")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let text = resp.text().await.unwrap();
    assert!(text.contains("soap:Sender"), "{text}");
    server.abort();
}

#[tokio::test]
async fn fk_org_gives_the_scope_chosen_there_by_kle_task_and_by_it_system() {
    use sorsync::sources::fkorg_client::ScopeFilter;

    let tree = korsbaek();
    let ids: Vec<sorsync::domain::FkUuid> = tree.units.iter().map(|u| u.uuid).collect();
    let system = uuid::Uuid::from_u128(0x5c09e);
    let mut opts = options();
    opts.tasks.insert(ids[1], vec!["29.09.00".into()]);
    opts.tasks.insert(ids[2], vec!["29.09.00".into(), "27.24.00".into()]);
    opts.tasks.insert(ids[3], vec!["02.00.00".into()]);
    opts.it_systems.insert(ids[2], vec![system]);
    opts.it_systems.insert(ids[4], vec![system]);
    let (addr, server) = spawn(tree, opts).await.unwrap();
    let c = client(&config(addr, 1));
    let sorted = |mut v: Vec<sorsync::domain::FkUuid>| {
        v.sort();
        v
    };
    let by_kle = ScopeFilter { kle_numbers: vec!["29.09.00".into()], ..ScopeFilter::default() };
    assert_eq!(sorted(c.units_in_scope(cvr(), &by_kle).await.unwrap()), sorted(vec![ids[1], ids[2]]));
    let by_system = ScopeFilter { it_systems: vec![system], ..ScopeFilter::default() };
    assert_eq!(sorted(c.units_in_scope(cvr(), &by_system).await.unwrap()), sorted(vec![ids[2], ids[4]]));
    let both = ScopeFilter { it_systems: vec![system], ..by_kle };
    assert_eq!(c.units_in_scope(cvr(), &both).await.unwrap(), vec![ids[2]], "both filters apply");
    let everything = c.units_in_scope(cvr(), &ScopeFilter::default()).await.unwrap();
    assert_eq!(everything.len(), korsbaek().len(), "no filter: every active unit");

    // The unit shows its tasks and IT systems as the schema's Opgave and ItSystem.
    let query = format!(
        "{{ organisationEnhed(uuid: [\"{}\"]) {{ opgaver {{ kleEmneNummer opgaveRolleTitel }} itSystemer {{ uuid }} }} }}",
        ids[2]
    );
    let resp = https_client()
        .post(format!("https://{addr}{GRAPHQL_PATH}"))
        .bearer_auth(token(addr).await)
        .header("x-TransaktionsId", uuid::Uuid::new_v4().to_string())
        .header("x-TransaktionsTid", "2026-11-22T08:00:00Z")
        .json(&serde_json::json!({ "query": query }))
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = resp.json().await.unwrap();
    let unit = &v["data"]["organisationEnhed"][0];
    let numbers: Vec<&str> =
        unit["opgaver"].as_array().unwrap().iter().map(|o| o["kleEmneNummer"].as_str().unwrap()).collect();
    assert_eq!(numbers, ["29.09.00", "27.24.00"], "{v}");
    assert_eq!(unit["itSystemer"][0]["uuid"], system.to_string());
    server.abort();
}

/// A stand-in on HTTPS with certificates generated into a temp dir, and a client configuration
/// that uses the client certificate (no secret).
async fn https_stand_in(
    tree: FkTree,
) -> (SocketAddr, tokio::task::JoinHandle<()>, FkOrgConfig, std::sync::Arc<StandInStats>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let certs = sorsync::standin::tls::StandInCerts::load_or_create(dir.path()).unwrap();
    let opts = StandInOptions::default().with_certs(&certs).unwrap();
    let stats = opts.stats.clone();
    let (addr, server) = spawn(tree, opts).await.unwrap();
    let cfg = FkOrgConfig {
        endpoint: format!("https://{addr}{GRAPHQL_PATH}"),
        token_url: format!("https://{addr}{TOKEN_PATH}"),
        client_certificate: Some(certs.client_certificate()),
        client_key: Some(certs.client_key()),
        ca_certificate: Some(certs.ca_certificate()),
        ..config(addr, 500)
    };
    (addr, server, cfg, stats, dir)
}

#[tokio::test]
async fn over_https_the_token_is_issued_to_the_client_certificate_for_the_municipalitys_cvr() {
    let (_addr, server, cfg, stats, _dir) = https_stand_in(korsbaek()).await;
    let c = client(&cfg);
    let fetched = c.fetch_tree(cvr()).await.unwrap();
    assert_same_tree(&fetched, &korsbaek());
    let scopes = stats.token_scopes.lock().unwrap().clone();
    assert_eq!(
        scopes,
        vec!["entityid:http://stoettesystemerne.dk/service/organisation/3,anvenderkontekst:11111111".to_string()]
    );
    // The SOAP write-back goes over the same HTTPS host.
    let unit = fetched.units.iter().find(|u| u.sor_id.is_none()).unwrap().uuid;
    c.write_sor_id(unit, sorsync::domain::SorId::from_running_number(4711)).await.unwrap();
    assert!(c.fetch_tree(cvr()).await.unwrap().get(unit).unwrap().sor_id.is_some());
    server.abort();
}

#[tokio::test]
async fn the_token_endpoint_refuses_a_client_without_a_certificate() {
    let (addr, server, cfg, stats, dir) = https_stand_in(korsbaek()).await;
    let ca = reqwest::Certificate::from_pem(&std::fs::read(cfg.ca_certificate.unwrap()).unwrap()).unwrap();
    let http = reqwest::Client::builder().add_root_certificate(ca).build().unwrap();
    let resp = http
        .post(format!("https://{addr}{TOKEN_PATH}"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "http://stoettesystemerne.dk/service/organisation/3"),
            ("scope", "entityid:http://stoettesystemerne.dk/service/organisation/3,anvenderkontekst:11111111"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let body = resp.text().await.unwrap();
    assert!(body.contains("client certificate"), "{body}");
    assert_eq!(count(&stats.tokens_issued), 0);
    // The client without certificate and key is told what to configure.
    let no_cert = FkOrgConfig { client_certificate: None, client_key: None, ..config(addr, 500) };
    let no_cert = FkOrgConfig { endpoint: format!("https://{addr}{GRAPHQL_PATH}"), ..no_cert };
    let msg = FkOrgClient::new(&no_cert).unwrap_err().to_string();
    assert!(msg.contains("client_certificate") && msg.contains("client_pkcs12"), "{msg}");
    drop(dir);
    server.abort();
}

#[tokio::test]
async fn the_stand_in_command_with_certs_writes_them_and_serves_https_to_the_client_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let process = stand_in_process(&[
        "stand-in".into(),
        "fkorg".into(),
        "--port".into(),
        "0".into(),
        "--certs".into(),
        dir.path().into(),
        "--data".into(),
        fixture("fkorg/korsbaek.json").into(),
    ])
    .await;
    for file in ["ca.pem", "client.pem", "client-key.pem"] {
        assert!(dir.path().join(file).is_file(), "{file} written to the certs dir");
    }
    let addr = process.addr;
    let cfg = FkOrgConfig {
        endpoint: format!("https://{addr}{GRAPHQL_PATH}"),
        token_url: format!("https://{addr}{TOKEN_PATH}"),
        client_certificate: Some(dir.path().join("client.pem")),
        client_key: Some(dir.path().join("client-key.pem")),
        ca_certificate: Some(dir.path().join("ca.pem")),
        ..config(addr, 500)
    };
    assert_same_tree(&client(&cfg).fetch_tree(cvr()).await.unwrap(), &korsbaek());
}

/// `name(arg: Type, ...): Type` for each field of the published schema's `type Query`.
fn published_query_fields() -> std::collections::BTreeSet<String> {
    let specs = crate::support::root().join("../shared/specs/fkorg-graphql/schemaOrganisationV1.gql");
    let specs = if specs.exists() {
        specs
    } else {
        std::path::PathBuf::from("/work/shared/specs/fkorg-graphql/schemaOrganisationV1.gql")
    };
    let text = std::fs::read_to_string(specs).unwrap();
    let start = text.find("type Query {").expect("the schema has a Query type") + "type Query {".len();
    let body = &text[start..start + text[start..].find('}').unwrap()];
    let body: String = body.lines().map(|l| l.split('#').next().unwrap_or_default()).collect::<Vec<_>>().join(" ");
    let mut fields = std::collections::BTreeSet::new();
    let mut rest = body.as_str();
    while let Some(colon_or_paren) = rest.find(['(', ':']) {
        let name = rest[..colon_or_paren].trim().to_string();
        let mut args = Vec::new();
        let mut after = &rest[colon_or_paren..];
        if after.starts_with('(') {
            let close = after.find(')').unwrap();
            args = after[1..close].split(',').map(|a| a.split_whitespace().collect::<String>()).collect();
            after = &after[close + 1..];
        }
        let after = after.trim_start().strip_prefix(':').unwrap().trim_start();
        let end = after.find(char::is_whitespace).unwrap_or(after.len());
        args.sort();
        fields.insert(format!("{name}({}):{}", args.join(","), &after[..end]));
        rest = &after[end..];
    }
    fields
}

fn sdl_type(t: &serde_json::Value) -> String {
    match t["kind"].as_str() {
        Some("NON_NULL") => format!("{}!", sdl_type(&t["ofType"])),
        Some("LIST") => format!("[{}]", sdl_type(&t["ofType"])),
        _ => t["name"].as_str().unwrap().to_string(),
    }
}

#[tokio::test]
async fn the_stand_ins_graphql_query_type_is_the_published_one_and_has_no_mutation() {
    let (addr, server) = spawn(korsbaek(), options()).await.unwrap();
    let t = token(addr).await;
    let type_ref = "kind name ofType { kind name ofType { kind name ofType { kind name } } }";
    let query = format!(
        "{{ __schema {{ mutationType {{ name }} queryType {{ fields {{ name args {{ name type {{ {type_ref} }} }} type {{ {type_ref} }} }} }} }} }}"
    );
    let resp = https_client()
        .post(format!("https://{addr}{GRAPHQL_PATH}"))
        .bearer_auth(t)
        .header("x-TransaktionsId", uuid::Uuid::new_v4().to_string())
        .header("x-TransaktionsTid", "2026-11-22T08:00:00Z")
        .json(&serde_json::json!({ "query": query }))
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(v["data"]["__schema"]["mutationType"], serde_json::Value::Null, "{v}");
    let served: std::collections::BTreeSet<String> = v["data"]["__schema"]["queryType"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let mut args: Vec<String> = f["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| format!("{}:{}", a["name"].as_str().unwrap(), sdl_type(&a["type"])))
                .collect();
            args.sort();
            format!("{}({}):{}", f["name"].as_str().unwrap(), args.join(","), sdl_type(&f["type"]))
        })
        .collect();
    let published = published_query_fields();
    assert_eq!(published.len(), 5, "{published:?}");
    assert_eq!(served, published);
    server.abort();
}
