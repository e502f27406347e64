//! Tests: sign-in through SAML (Adgangsstyring) against the stand-in IdP, end to end over HTTP:
//! login redirect -> IdP page -> the IdP's answer posted to the ACS -> a session with the roles the
//! privilege list grants. Answers that must be refused: tampered, replayed, expired, for another
//! audience, answering no request of ours, unencrypted, signed by another key. A privilege for
//! another CVR gives no role here. Runs on SQLite and PostgreSQL.

use std::sync::Arc;

use sorsync::config::{SamlConfig, SamlPrivileges};
use sorsync::domain::{Cvr, KommuneKode};
use sorsync::generate::municipalities::Municipality;
use sorsync::review::Role;
use sorsync::standin::idp::{self, AssertionSpec, DemoUser, Encryption, StandinIdp};
use sorsync::store::Store;
use sorsync::web::saml::SamlSp;
use sorsync::web::{serve_listener, WebConfig};

use crate::test_db::TestDb;
use crate::web::{between, kommune, populate, today, Client};

on_sqlite_and_postgres!(
    signing_in_through_the_stand_in_idp_opens_a_session_with_the_roles_of_the_privilege_list,
    a_tampered_assertion_is_refused,
    a_replayed_answer_is_refused_the_second_time,
    an_expired_assertion_is_refused,
    an_assertion_for_another_audience_is_refused,
    an_answer_to_a_request_we_did_not_send_is_refused,
    an_unencrypted_assertion_is_refused_when_encryption_is_required,
    an_assertion_signed_with_another_key_is_refused,
    a_privilege_for_another_cvr_gives_no_role_here,
    roles_are_taken_afresh_at_each_sign_in_and_the_changes_are_audited,
    the_older_profile_with_aes_cbc_is_accepted,
);

const SOR_ADMIN_URI: &str = "http://sorsync.test/roles/usersystemrole/sor_admin/1";
const OPERATOR_URI: &str = "http://sorsync.test/roles/usersystemrole/operator/1";
const SP_ENTITY: &str = "https://sorsync.test/sp";

pub fn cvr_of(code: u16) -> Cvr {
    Municipality::by_code(code).unwrap().cvr()
}

/// The SP (the web app with `[saml]`) and the stand-in IdP, both on loopback.
pub struct SamlSetup {
    pub sp_base: String,
    pub idp: Arc<StandinIdp>,
    stops: Vec<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for SamlSetup {
    fn drop(&mut self) {
        for s in self.stops.drain(..) {
            let _ = s.send(());
        }
    }
}

pub fn privileges() -> SamlPrivileges {
    SamlPrivileges {
        sor_admin: Some(SOR_ADMIN_URI.into()),
        org_admin: None,
        operator: Some(OPERATOR_URI.into()),
        read_only: None,
    }
}

pub async fn saml_setup(store: Store, require_encryption: bool) -> SamlSetup {
    let sp_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let idp_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sp_base = format!("http://{}", sp_listener.local_addr().unwrap());
    let idp_base = format!("http://{}", idp_listener.local_addr().unwrap());
    let (sp_key, sp_cert) = idp::generate_key_and_cert("sp").unwrap();
    let (idp_key, idp_cert) = idp::generate_key_and_cert("idp").unwrap();
    let users = vec![
        DemoUser {
            name_id: "anna-350".into(),
            label: "SOR administrator 350".into(),
            privileges: vec![(cvr_of(350), vec![SOR_ADMIN_URI.into()])],
        },
        DemoUser {
            name_id: "bo-350".into(),
            label: "operator 350".into(),
            privileges: vec![(cvr_of(350), vec![OPERATOR_URI.into()])],
        },
    ];
    let idp = Arc::new(StandinIdp::new(
        "https://idp.stand-in.test",
        &idp_base,
        idp_key,
        idp_cert,
        SP_ENTITY,
        &format!("{sp_base}/saml/acs"),
        sp_cert.clone(),
        users,
    ));
    let config = SamlConfig {
        idp_metadata: "unused".into(),
        entity_id: SP_ENTITY.into(),
        base_url: sp_base.clone(),
        cert: "unused".into(),
        key: "unused".into(),
        require_encryption,
        local_accounts: false,
        privileges: privileges(),
    };
    let idp_metadata = idp.metadata_xml().parse().unwrap();
    let sp = SamlSp::new(config, idp_metadata, sp_cert, sp_key).unwrap();
    let web = WebConfig { today: Some(today()), saml: Some(Arc::new(sp)), ..Default::default() };
    let (stop_sp, stopped_sp) = tokio::sync::oneshot::channel::<()>();
    let (stop_idp, stopped_idp) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = serve_listener(sp_listener, store, web, async {
            let _ = stopped_sp.await;
        })
        .await;
    });
    let idp_for_server = idp.clone();
    tokio::spawn(async move {
        let _ = idp::serve(idp_listener, idp_for_server, async {
            let _ = stopped_idp.await;
        })
        .await;
    });
    SamlSetup { sp_base, idp, stops: vec![stop_sp, stop_idp] }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// Starts a sign-in at the SP: the IdP URL it redirects to and the AuthnRequest's id.
pub async fn start_login(s: &SamlSetup) -> (String, String) {
    let r = http().get(format!("{}/saml/login", s.sp_base)).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(&format!("{}/sso?", s.idp.base_url)), "{location}");
    assert!(location.contains("Signature="), "the AuthnRequest is signed: {location}");
    let query = location.split_once('?').unwrap().1;
    let info = s.idp.read_authn_request(query).unwrap();
    (location, info.id)
}

/// Posts a Response to the ACS; returns the client (with the session cookie when it worked) and
/// the status.
pub async fn post_to_acs(s: &SamlSetup, response_xml: &str) -> (Client, u16) {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(response_xml.as_bytes());
    let mut c = Client::new(&s.sp_base);
    let r = c.post_form("/saml/acs", &[("SAMLResponse", &encoded)]).await;
    (c, r.status)
}

fn spec(s: &SamlSetup, request_id: &str, user: usize) -> AssertionSpec {
    AssertionSpec::new(
        request_id,
        &format!("{}/saml/acs", s.sp_base),
        SP_ENTITY,
        &s.idp.users[user],
        Encryption::Aes256Gcm,
    )
}

async fn roles(store: &Store, user: &str) -> Vec<(KommuneKode, String)> {
    store.roles_of(user).await.unwrap()
}

// ---------------------------------------------------------------------------------------------

async fn signing_in_through_the_stand_in_idp_opens_a_session_with_the_roles_of_the_privilege_list(db: &TestDb) {
    populate(&db.store).await;
    let s = saml_setup(db.store.clone(), true).await;
    let metadata = http().get(format!("{}/saml/metadata", s.sp_base)).send().await.unwrap().text().await.unwrap();
    assert!(metadata.contains(SP_ENTITY) && metadata.contains("/saml/acs"), "{metadata}");
    assert!(metadata.contains("nameid-format:persistent") && metadata.contains("use=\"encryption\""), "{metadata}");

    // The browser's way: SP -> IdP page -> choose a user -> the IdP's form -> ACS.
    let mut browser = Client::new(&s.sp_base);
    let login = browser.get("/saml/login").await;
    assert_eq!(login.status, 303);
    let idp_url = login.location.unwrap();
    let mut at_idp = Client::new(&s.idp.base_url);
    let page = at_idp.get(idp_url.trim_start_matches(&s.idp.base_url)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("anna-350"), "the page lists the demo users: {}", page.body);
    let handle = between(&page.body, "name=\"handle\" value=\"", "\"");
    let answer = at_idp.post_form("/sso", &[("handle", &handle), ("user", "0")]).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let action = between(&answer.body, "action=\"", "\"");
    assert_eq!(action, format!("{}/saml/acs", s.sp_base));
    let saml_response = between(&answer.body, "name=\"SAMLResponse\" value=\"", "\"");
    let r = browser.post_form("/saml/acs", &[("SAMLResponse", &saml_response)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some("/"));
    let session = browser.get("/api/session").await;
    assert_eq!(session.status, 200, "{}", session.body);
    assert_eq!(session.json()["user"], "anna-350");
    assert_eq!(roles(&db.store, "anna-350").await, vec![(kommune(), "sor_admin".to_string())]);
    assert_eq!(browser.get("/k/350/queue").await.status, 200, "a SOR administrator of 350 reads the queue");

    // Local accounts are off with [saml] (not enabled explicitly).
    let mut local = Client::new(&s.sp_base);
    let form = local.get("/login").await;
    assert!(form.body.contains("/saml/login"), "{}", form.body);
    assert!(!form.body.contains("name=\"password\""), "no password form: {}", form.body);
}

async fn a_tampered_assertion_is_refused(db: &TestDb) {
    let s = saml_setup(db.store.clone(), true).await;
    let (_, id) = start_login(&s).await;
    let spec = spec(&s, &id, 1);
    let signed = s.idp.signed_assertion(&spec).unwrap();
    // bo (operator) makes himself anna after the IdP signed.
    let tampered = signed.replace(">bo-350<", ">anna-350<");
    assert_ne!(signed, tampered);
    let response = s.idp.wrap_response(&spec, &tampered).unwrap();
    let (_, status) = post_to_acs(&s, &response).await;
    assert_eq!(status, 403);
    assert!(roles(&db.store, "anna-350").await.is_empty());
}

async fn a_replayed_answer_is_refused_the_second_time(db: &TestDb) {
    let s = saml_setup(db.store.clone(), true).await;
    let (_, id) = start_login(&s).await;
    let response = s.idp.response_xml(&spec(&s, &id, 0)).unwrap();
    let (mut first, status) = post_to_acs(&s, &response).await;
    assert_eq!(status, 303);
    assert_eq!(first.get("/api/session").await.status, 200);
    let (mut second, status) = post_to_acs(&s, &response).await;
    assert_eq!(status, 403, "the same answer twice");
    assert_eq!(second.get("/api/session").await.status, 401);
}

async fn an_expired_assertion_is_refused(db: &TestDb) {
    let s = saml_setup(db.store.clone(), true).await;
    let (_, id) = start_login(&s).await;
    let mut spec = spec(&s, &id, 0);
    let past = chrono::Utc::now() - chrono::Duration::minutes(30);
    spec.issue_instant = past;
    spec.not_before = past;
    spec.not_on_or_after = past + chrono::Duration::minutes(5);
    let (_, status) = post_to_acs(&s, &s.idp.response_xml(&spec).unwrap()).await;
    assert_eq!(status, 403);
}

async fn an_assertion_for_another_audience_is_refused(db: &TestDb) {
    let s = saml_setup(db.store.clone(), true).await;
    let (_, id) = start_login(&s).await;
    let mut spec = spec(&s, &id, 0);
    spec.audience = "https://another-system.example/sp".into();
    let (_, status) = post_to_acs(&s, &s.idp.response_xml(&spec).unwrap()).await;
    assert_eq!(status, 403);
}

async fn an_answer_to_a_request_we_did_not_send_is_refused(db: &TestDb) {
    let s = saml_setup(db.store.clone(), true).await;
    let _ = start_login(&s).await;
    let spec = spec(&s, "_never_sent_by_us", 0);
    let (_, status) = post_to_acs(&s, &s.idp.response_xml(&spec).unwrap()).await;
    assert_eq!(status, 403);
}

async fn an_unencrypted_assertion_is_refused_when_encryption_is_required(db: &TestDb) {
    let s = saml_setup(db.store.clone(), true).await;
    let (_, id) = start_login(&s).await;
    let mut spec = spec(&s, &id, 0);
    spec.encryption = Encryption::None;
    let (_, status) = post_to_acs(&s, &s.idp.response_xml(&spec).unwrap()).await;
    assert_eq!(status, 403);

    // With require_encryption = false the same kind of answer signs in.
    let plain = saml_setup(db.store.clone(), false).await;
    let (_, id) = start_login(&plain).await;
    let mut spec = self::spec(&plain, &id, 0);
    spec.encryption = Encryption::None;
    let (_, status) = post_to_acs(&plain, &plain.idp.response_xml(&spec).unwrap()).await;
    assert_eq!(status, 303);
}

async fn an_assertion_signed_with_another_key_is_refused(db: &TestDb) {
    let s = saml_setup(db.store.clone(), true).await;
    let (_, id) = start_login(&s).await;
    let spec = spec(&s, &id, 0);
    // An impostor with the IdP's entity id but its own key.
    let (key, cert) = idp::generate_key_and_cert("impostor").unwrap();
    let sp_cert = {
        // The SP's certificate from its metadata (what anyone can read).
        let md = http().get(format!("{}/saml/metadata", s.sp_base)).send().await.unwrap().text().await.unwrap();
        use base64::Engine as _;
        let b64 = between(&md, "X509Certificate>", "<");
        base64::engine::general_purpose::STANDARD.decode(b64.trim()).unwrap()
    };
    let impostor = StandinIdp::new(
        &s.idp.entity_id,
        &s.idp.base_url,
        key,
        cert,
        SP_ENTITY,
        &format!("{}/saml/acs", s.sp_base),
        sp_cert,
        s.idp.users.clone(),
    );
    let (_, status) = post_to_acs(&s, &impostor.response_xml(&spec).unwrap()).await;
    assert_eq!(status, 403);
}

async fn a_privilege_for_another_cvr_gives_no_role_here(db: &TestDb) {
    populate(&db.store).await;
    let s = saml_setup(db.store.clone(), true).await;
    let (_, id) = start_login(&s).await;
    let mut spec = spec(&s, &id, 0);
    spec.name_id = "carl".into();
    spec.privileges = vec![
        (cvr_of(101), vec![SOR_ADMIN_URI.into()]),
        (Cvr::parse("12345674").unwrap(), vec![SOR_ADMIN_URI.into()]),
        (cvr_of(350), vec!["http://another-system.test/roles/usersystemrole/admin/1".into()]),
    ];
    let (mut c, status) = post_to_acs(&s, &s.idp.response_xml(&spec).unwrap()).await;
    assert_eq!(status, 303);
    let copenhagen = KommuneKode::parse("101").unwrap();
    assert_eq!(roles(&db.store, "carl").await, vec![(copenhagen, "sor_admin".to_string())]);
    assert_eq!(c.get("/k/350/queue").await.status, 403, "no role for 350");
}

async fn roles_are_taken_afresh_at_each_sign_in_and_the_changes_are_audited(db: &TestDb) {
    let s = saml_setup(db.store.clone(), true).await;
    // A grant from before: SAML replaces it.
    sorsync::review::grant(&db.store, None, "anna-350", kommune(), Role::Operator).await.unwrap();
    let (mut old_session, _) = {
        let (_, id) = start_login(&s).await;
        post_to_acs(&s, &s.idp.response_xml(&spec(&s, &id, 0)).unwrap()).await
    };
    assert_eq!(roles(&db.store, "anna-350").await, vec![(kommune(), "sor_admin".to_string())]);
    let (_, id) = start_login(&s).await;
    let mut spec = spec(&s, &id, 0);
    spec.privileges = vec![(cvr_of(350), vec![OPERATOR_URI.into()])];
    let (_, status) = post_to_acs(&s, &s.idp.response_xml(&spec).unwrap()).await;
    assert_eq!(status, 303);
    assert_eq!(roles(&db.store, "anna-350").await, vec![(kommune(), "operator".to_string())]);
    assert_eq!(old_session.get("/k/350/queue").await.status, 200, "an operator still reads the queue");
    let audit = db.store.audit_log(kommune()).await.unwrap();
    let actions: Vec<(&str, &str)> =
        audit.iter().map(|e| (e.action.as_str(), e.detail.as_deref().unwrap_or(""))).collect();
    assert!(actions.iter().any(|(a, d)| *a == "revoke_role" && d.contains("sor_admin")), "{actions:?}");
    assert!(actions.iter().filter(|(a, _)| *a == "grant_role").count() >= 2, "{actions:?}");
}

async fn the_older_profile_with_aes_cbc_is_accepted(db: &TestDb) {
    let s = saml_setup(db.store.clone(), true).await;
    let (_, id) = start_login(&s).await;
    let mut spec = spec(&s, &id, 1);
    spec.encryption = Encryption::Aes256Cbc;
    spec.old_profile = true;
    let (_, status) = post_to_acs(&s, &s.idp.response_xml(&spec).unwrap()).await;
    assert_eq!(status, 303);
    assert_eq!(roles(&db.store, "bo-350").await, vec![(kommune(), "operator".to_string())]);
}
