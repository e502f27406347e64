//! The SORUS client against the SOR stand-in over real HTTP on 127.0.0.1: creates get new valid
//! SOR-IDs, a repeated key changes nothing, lookups, rule violations, and exactly-once through
//! injected failures, hangs and dropped connections.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use chrono::NaiveDate;
use sorsync::apply::port::{ChangeOutcome, FieldValue, IdempotencyKey, SorChange, SorWriter, WriteError};
use sorsync::config::SorConfig;
use sorsync::domain::{Cvr, FkUuid, SorId, SorKind, SorTree};
use sorsync::sorus::envelope::{self, Response};
use sorsync::sorus::{retry_with_backoff, RetryPolicy, SelfDeclaredIdCard, SorusClient};
use sorsync::sources::read_sor_file;
use sorsync::sources::sor_xml::read_sor_xml;
use sorsync::standin::sor::{spawn, SorStandIn, SorStandInOptions, SOR_XML_PATH};

use crate::support::{fixture, sorsync, stand_in_process};

fn korsbaek() -> SorTree {
    read_sor_file(&fixture("bundled/999/sor.xml")).unwrap()
}

fn id(s: &str) -> SorId {
    SorId::parse(s).unwrap()
}

/// Korsbæk's health institution, one of its care homes and two of that home's sections.
const SI: &str = "999000021000016008";
const CARE_HOME: &str = "999000041000016003";
const SECTION: &str = "999000051000016000";
const OTHER_CARE_HOME: &str = "999000071000016007";

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).unwrap()
}

fn options() -> SorStandInOptions {
    SorStandInOptions { today: Some(day(11, 22)), ..SorStandInOptions::default() }
}

fn client(server: &SorStandIn) -> SorusClient {
    let cfg = SorConfig { url: server.service_url(), timeout_secs: 10, connect_timeout_secs: 5 };
    SorusClient::new(&cfg, SelfDeclaredIdCard::new("sorsync-test", Cvr::parse("11111111").unwrap())).unwrap()
}

fn key(s: &str) -> IdempotencyKey {
    IdempotencyKey(s.to_string())
}

fn fk(n: u32) -> FkUuid {
    FkUuid::parse(&format!("0b0e5a2e-6d38-4c1b-9c39-{n:012}")).unwrap()
}

fn create(parent: &str, name: &str, n: u32) -> SorChange {
    SorChange::Create {
        parent: id(parent),
        name: name.to_string(),
        fk_uuid: fk(n),
        fields: vec![FieldValue { field: "phone".into(), value: Some("46 31 40 00".into()) }],
        from_date: day(12, 1),
    }
}

/// The stand-in's current state as served at `GET /sor.xml`, read back by our own SOR reader.
async fn read_back(server: &SorStandIn) -> SorTree {
    let resp = reqwest::get(format!("http://{}{SOR_XML_PATH}", server.addr())).await.unwrap();
    assert_eq!(resp.status(), 200);
    let bytes = resp.bytes().await.unwrap();
    read_sor_xml(Path::new("sor.xml"), &bytes).unwrap()
}

#[tokio::test]
async fn a_create_gets_a_new_valid_sor_id_that_the_served_sor_xml_shows() {
    let before = korsbaek();
    let server = spawn(before.clone(), options()).await.unwrap();
    let outcome = client(&server).apply(&key("create-1"), &create(SI, "Sundhedsplejen", 1)).await.unwrap();
    let ChangeOutcome::Created { sor_id } = outcome else { panic!("a create answers with a SOR-ID, got {outcome:?}") };
    assert_eq!(SorId::parse(&sor_id.to_string()), Ok(sor_id), "the check digit is right");
    assert!(before.get(sor_id).is_none(), "the SOR-ID was not in use");

    let after = read_back(&server).await;
    assert_eq!(after.len(), before.len() + 1);
    let unit = after.get(sor_id).expect("the new unit is in the served SOR XML");
    assert_eq!(unit.name, "Sundhedsplejen");
    assert_eq!(unit.parent, Some(id(SI)));
    assert_eq!(unit.kind, SorKind::OrganizationalUnit);
    assert_eq!(unit.own.phone.as_deref(), Some("46 31 40 00"));
    assert_eq!(unit.from_date, Some(day(12, 1)));
    server.shutdown().await;
}

#[tokio::test]
async fn the_same_key_twice_creates_one_unit() {
    let server = spawn(korsbaek(), options()).await.unwrap();
    let c = client(&server);
    let change = create(SI, "Sundhedsplejen", 1);
    let first = c.apply(&key("create-1"), &change).await.unwrap();
    let second = c.apply(&key("create-1"), &change).await.unwrap();
    assert_eq!(first, second, "the repeated key answers with the first outcome");
    assert_eq!(server.units().len(), korsbaek().len() + 1);
    assert_eq!(server.created().len(), 1);
    assert_eq!(server.stats().replayed, 1);

    // The same key for a different change is refused, and changes nothing either.
    let err = c.apply(&key("create-1"), &create(SI, "Noget andet", 2)).await.unwrap_err();
    assert!(matches!(err, WriteError::Permanent(_)), "{err}");
    assert_eq!(server.units().len(), korsbaek().len() + 1);
}

#[tokio::test]
async fn a_lookup_finds_an_applied_key_and_not_an_unknown_one() {
    let server = spawn(korsbaek(), options()).await.unwrap();
    let c = client(&server);
    let created = c.apply(&key("create-1"), &create(SI, "Sundhedsplejen", 1)).await.unwrap();
    let close = SorChange::Close { sor_id: id(SECTION), to_date: day(12, 31) };
    c.apply(&key("close-1"), &close).await.unwrap();
    assert_eq!(c.lookup(&key("create-1")).await.unwrap(), Some(created));
    assert_eq!(c.lookup(&key("close-1")).await.unwrap(), Some(ChangeOutcome::Done));
    assert_eq!(c.lookup(&key("never-sent")).await.unwrap(), None);
}

#[tokio::test]
async fn update_move_and_close_take_effect() {
    let server = spawn(korsbaek(), options()).await.unwrap();
    let c = client(&server);
    let update = SorChange::Update {
        sor_id: id(CARE_HOME),
        fields: vec![
            FieldValue { field: "name".into(), value: Some("Plejecenter Solgården".into()) },
            FieldValue { field: "address".into(), value: Some("Evigheden 1, 4999 Korsbæk".into()) },
            FieldValue { field: "phone".into(), value: Some("46 31 40 00".into()) },
        ],
    };
    assert_eq!(c.apply(&key("u"), &update).await.unwrap(), ChangeOutcome::Done);
    let mv = SorChange::Move { sor_id: id(SECTION), new_parent: id(OTHER_CARE_HOME) };
    assert_eq!(c.apply(&key("m"), &mv).await.unwrap(), ChangeOutcome::Done);
    let close = SorChange::Close { sor_id: id(OTHER_CARE_HOME), to_date: day(12, 31) };
    assert_eq!(c.apply(&key("c"), &close).await.unwrap(), ChangeOutcome::Done);

    let after = read_back(&server).await;
    let home = after.get(id(CARE_HOME)).unwrap();
    assert_eq!(home.name, "Plejecenter Solgården");
    let postal = home.own.postal.as_ref().unwrap();
    assert_eq!((postal.street.as_str(), postal.building.as_deref()), ("Evigheden", Some("1")));
    assert_eq!((postal.postcode.as_str(), postal.district.as_str()), ("4999", "Korsbæk"));
    assert_eq!(home.own.phone.as_deref(), Some("46 31 40 00"));
    assert_eq!(after.get(id(SECTION)).unwrap().parent, Some(id(OTHER_CARE_HOME)));
    assert_eq!(after.get(id(OTHER_CARE_HOME)).unwrap().to_date, Some(day(12, 31)));
}

#[tokio::test]
async fn a_move_under_a_closed_or_unknown_parent_is_a_permanent_error_that_changes_nothing() {
    let server = spawn(korsbaek(), options()).await.unwrap();
    let c = client(&server);
    c.apply(&key("close"), &SorChange::Close { sor_id: id(OTHER_CARE_HOME), to_date: day(11, 1) }).await.unwrap();
    let under_closed = SorChange::Move { sor_id: id(SECTION), new_parent: id(OTHER_CARE_HOME) };
    let err = c.apply(&key("m1"), &under_closed).await.unwrap_err();
    assert!(matches!(&err, WriteError::Permanent(m) if m.contains("closed")), "{err}");
    let unknown = SorId::from_running_number(424_242);
    let err = c.apply(&key("m2"), &SorChange::Move { sor_id: id(SECTION), new_parent: unknown }).await.unwrap_err();
    assert!(matches!(&err, WriteError::Permanent(m) if m.contains(&unknown.to_string())), "{err}");
    let err = c.apply(&key("c1"), &create(SI, "  ", 3)).await.unwrap_err();
    assert!(matches!(&err, WriteError::Permanent(m) if m.contains("name")), "{err}");

    assert_eq!(read_back(&server).await.get(id(SECTION)).unwrap().parent, Some(id(CARE_HOME)));
    assert_eq!(c.lookup(&key("m1")).await.unwrap(), None, "a refused change is not recorded as applied");
}

#[tokio::test]
async fn every_injected_fault_is_a_temporary_failure_for_the_client() {
    let cases = [
        SorStandInOptions { fail_rate: 1.0, ..options() },
        SorStandInOptions { timeout_rate: 1.0, hang: Duration::from_secs(5), ..options() },
        SorStandInOptions { drop_rate: 1.0, ..options() },
    ];
    for opts in cases {
        let server = spawn(korsbaek(), opts).await.unwrap();
        let c = client(&server).with_timeout(Duration::from_millis(300));
        let err = c.apply(&key("k"), &create(SI, "Sundhedsplejen", 1)).await.unwrap_err();
        assert!(err.is_temporary(), "{err}");
        let err = c.lookup(&key("k")).await.unwrap_err();
        assert!(err.is_temporary(), "{err}");
        server.shutdown().await;
    }
}

/// Sends `change` until it is known to be applied: before each resend, asks SOR whether the key
/// was applied already (a hang or a dropped connection may have applied it).
async fn apply_exactly_once(
    c: &SorusClient,
    k: &IdempotencyKey,
    change: &SorChange,
) -> Result<ChangeOutcome, WriteError> {
    let policy = RetryPolicy {
        budget: Duration::from_secs(120),
        first_delay: Duration::from_millis(2),
        max_delay: Duration::from_millis(20),
        max_retries: None,
    };
    retry_with_backoff(&policy, |n| async move {
        if n > 0 {
            if let Some(done) = c.lookup(k).await? {
                return Ok(done);
            }
        }
        c.apply(k, change).await
    })
    .await
}

#[tokio::test]
async fn at_thirty_percent_failures_hangs_and_drops_every_change_is_applied_exactly_once() {
    let opts = SorStandInOptions {
        fail_rate: 0.1,
        timeout_rate: 0.1,
        drop_rate: 0.1,
        hang: Duration::from_secs(2),
        seed: 7,
        ..options()
    };
    let before = korsbaek();
    let server = spawn(before.clone(), opts).await.unwrap();
    let c = client(&server).with_timeout(Duration::from_millis(250));
    let mut outcomes = Vec::new();
    for n in 0..30 {
        let change = create(SI, &format!("Enhed {n}"), n);
        outcomes.push(apply_exactly_once(&c, &key(&format!("create-{n}")), &change).await.unwrap());
    }
    let rename = SorChange::Update {
        sor_id: id(CARE_HOME),
        fields: vec![FieldValue { field: "name".into(), value: Some("Omdøbt".into()) }],
    };
    apply_exactly_once(&c, &key("rename"), &rename).await.unwrap();

    let stats = server.stats();
    assert!(stats.injected_failures > 0 && stats.injected_timeouts > 0 && stats.injected_drops > 0, "{stats:?}");
    assert!(stats.lost_answers_after_applying > 0, "some answers were lost after applying: {stats:?}");
    assert_eq!(stats.applied, 31, "every change applied once: {stats:?}");
    let created = server.created();
    assert_eq!(created.len(), 30, "no create applied twice");
    let fks: HashSet<FkUuid> = created.iter().map(|(f, _)| *f).collect();
    assert_eq!(fks.len(), 30, "one unit per FK-ORG unit");
    let ids: Vec<ChangeOutcome> = created.iter().map(|(_, s)| ChangeOutcome::Created { sor_id: *s }).collect();
    assert_eq!(outcomes, ids, "the client learnt the SOR-ID SOR assigned, also after a lost answer");
    let after = read_back(&server).await;
    assert_eq!(after.len(), before.len() + 30);
    assert_eq!(after.get(id(CARE_HOME)).unwrap().name, "Omdøbt");
}

#[tokio::test]
async fn a_malformed_soap_request_gets_a_fault_not_a_crash() {
    let server = spawn(korsbaek(), options()).await.unwrap();
    let http = reqwest::Client::new();
    for body in ["", "<not-closed", "<soap:Envelope xmlns:soap=\"urn:wrong\"/>", "\u{0}\u{1}garbage"] {
        let resp = http.post(server.service_url()).body(body.to_string()).send().await.unwrap();
        assert_eq!(resp.status(), 500);
        let answer = envelope::parse_response(&resp.bytes().await.unwrap()).unwrap();
        let Response::Fault(fault) = answer else { panic!("expected a fault, got {answer:?}") };
        assert!(!fault.is_temporary(), "{fault:?}");
    }
    // Still serving, unchanged.
    assert_eq!(client(&server).lookup(&key("k")).await.unwrap(), None);
    assert_eq!(server.units().len(), korsbaek().len());
    assert_eq!(server.stats().rejected, 4);
}

#[tokio::test]
async fn the_stand_in_command_prints_its_address_and_serves_the_state() {
    let process = stand_in_process(&[
        "stand-in".into(),
        "sor".into(),
        "--port".into(),
        "0".into(),
        "--data".into(),
        fixture("bundled/999/sor.xml").into(),
    ])
    .await;
    let addr = process.addr;
    assert!(addr.ip().is_loopback());
    let health = reqwest::get(format!("http://{addr}/health")).await.unwrap();
    assert_eq!(health.status(), 200);
    let bytes = reqwest::get(format!("http://{addr}{SOR_XML_PATH}")).await.unwrap().bytes().await.unwrap();
    assert_eq!(read_sor_xml(Path::new("sor.xml"), &bytes).unwrap().len(), korsbaek().len());
}

#[test]
fn rates_that_add_up_to_more_than_one_are_refused() {
    let out = sorsync()
        .args(["stand-in", "sor", "--port", "0", "--fail-rate", "0.6", "--drop-rate", "0.6", "--data"])
        .arg(fixture("bundled/999/sor.xml"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("must not exceed 1.0"));
}

#[tokio::test]
async fn a_request_whose_soap_action_does_not_match_its_body_is_refused() {
    let server = spawn(korsbaek(), options()).await.unwrap();
    let card = sorsync::sorus::IdCard::from_assertion_xml(format!(
        "<saml:Assertion xmlns:saml=\"{}\"><saml:Issuer>t</saml:Issuer></saml:Assertion>",
        envelope::SAML_NS
    ));
    let change = create(SI, "Sundhedsplejen", 1);
    let xml =
        envelope::build_request(&card, &key("k"), &envelope::RequestBody::Change(change), chrono::Utc::now()).unwrap();
    let http = reqwest::Client::new();
    for action in [None, Some("\"CloseSorEntity\"")] {
        let mut req = http.post(server.service_url()).body(xml.clone());
        if let Some(a) = action {
            req = req.header("SOAPAction", a);
        }
        let resp = req.send().await.unwrap();
        let answer = envelope::parse_response(&resp.bytes().await.unwrap()).unwrap();
        assert!(matches!(&answer, Response::Fault(f) if f.message.contains("SOAPAction")), "{answer:?}");
    }
    assert!(server.created().is_empty());
    let resp =
        http.post(server.service_url()).header("SOAPAction", "\"CreateSorEntity\"").body(xml).send().await.unwrap();
    assert_eq!(resp.status(), 200, "with the right SOAPAction the same envelope is applied");
    assert_eq!(server.created().len(), 1);
}

#[tokio::test]
async fn a_test_can_wait_until_the_stand_in_has_seen_n_requests() {
    let server = spawn(korsbaek(), options()).await.unwrap();
    let cfg = SorConfig { url: server.service_url(), timeout_secs: 10, connect_timeout_secs: 5 };
    let sender = tokio::spawn(async move {
        let c =
            SorusClient::new(&cfg, SelfDeclaredIdCard::new("sorsync-test", Cvr::parse("11111111").unwrap())).unwrap();
        for n in 0..10 {
            c.apply(&key(&format!("k{n}")), &create(SI, &format!("Enhed {n}"), n)).await.unwrap();
        }
    });
    server.wait_for_requests(3).await;
    assert!(server.requests_seen() >= 3);
    sender.await.unwrap();
    let stats: serde_json::Value =
        reqwest::get(format!("http://{}/stats", server.addr())).await.unwrap().json().await.unwrap();
    assert_eq!(stats["requests"], 10);
    assert_eq!(stats["applied"], 10);
}

#[tokio::test]
async fn the_stand_in_command_with_a_state_file_keeps_keys_and_sor_ids_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("sor-state.jsonl");
    let args: Vec<std::ffi::OsString> = vec![
        "stand-in".into(),
        "sor".into(),
        "--port".into(),
        "0".into(),
        "--data".into(),
        fixture("bundled/999/sor.xml").into(),
        "--state".into(),
        state.clone().into(),
    ];
    let client_at = |addr: std::net::SocketAddr| {
        let url = format!("http://{addr}{}", sorsync::standin::sor::SERVICE_PATH);
        let cfg = SorConfig { url, timeout_secs: 10, connect_timeout_secs: 5 };
        SorusClient::new(&cfg, SelfDeclaredIdCard::new("sorsync-test", Cvr::parse("11111111").unwrap())).unwrap()
    };
    let first_run = stand_in_process(&args).await;
    let created = client_at(first_run.addr).apply(&key("create-1"), &create(SI, "Sundhedsplejen", 1)).await.unwrap();
    let ChangeOutcome::Created { sor_id: first } = created else { panic!("{created:?}") };
    drop(first_run);

    let second_run = stand_in_process(&args).await;
    let c = client_at(second_run.addr);
    assert_eq!(c.lookup(&key("create-1")).await.unwrap(), Some(created), "the restarted stand-in knows the key");
    let again = c.apply(&key("create-2"), &create(SI, "Tandplejen", 2)).await.unwrap();
    let ChangeOutcome::Created { sor_id: second } = again else { panic!("{again:?}") };
    assert_ne!(second, first, "no SOR-ID handed out twice");
    drop(second_run);

    // A damaged state file stops the start with the file and line named.
    std::fs::write(&state, "{\"key\": \"k\"}\n").unwrap();
    let out = sorsync().args(&args).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("sor-state.jsonl, line 1"), "{stderr}");
}
