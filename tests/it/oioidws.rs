//! OIOIDWS on FK-ORG's Organisation 6 calls, against the in-process stand-in on HTTPS: the
//! client's signed envelopes verify with libxmlsec1, the STS token is fetched once and reused, and
//! the stand-in answers a SOAP Fault to an unsigned, tampered or foreign-signed request, and its
//! STS refuses a certificate from another CA or another municipality. Also: the certificate as a
//! PKCS#12 file.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;

use chrono::Utc;
use sorsync::domain::{Cvr, FkTree, FkUuid, SorId};
use sorsync::sources::fkorg_client::{FkOrgClient, ORGANISATION_SERVICE};
use sorsync::sources::fkorg_soap::{self as soap, Operation, Service};
use sorsync::sources::oioidws::{self, Addressing, Identity, StsToken};
use sorsync::sources::read_fkorg_file;
use sorsync::standin::fkorg::spawn;

use crate::support::{fixture, fkorg_certs, fkorg_config, https_client, secure_fkorg_options};

fn korsbaek() -> FkTree {
    read_fkorg_file(&fixture("fkorg/korsbaek.json")).unwrap()
}

fn cvr() -> Cvr {
    Cvr::parse("11111111").unwrap()
}

fn test_identity() -> Identity {
    let certs = fkorg_certs();
    Identity::from_pem(
        &std::fs::read(certs.client_certificate()).unwrap(),
        &std::fs::read(certs.client_key()).unwrap(),
        "test client",
    )
    .unwrap()
}

/// A client certificate from another CA (not the stand-in's).
fn foreign_identity() -> (Identity, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let other = sorsync::standin::tls::StandInCerts::load_or_create(dir.path()).unwrap();
    let id = Identity::from_pem(
        &std::fs::read(other.client_certificate()).unwrap(),
        &std::fs::read(other.client_key()).unwrap(),
        "foreign",
    )
    .unwrap();
    (id, dir)
}

fn unit_without_sor_id(tree: &FkTree) -> FkUuid {
    tree.units.iter().find(|u| u.sor_id.is_none()).unwrap().uuid
}

/// Posts an Issue request signed with `identity` for `cvr` to the stand-in's STS.
async fn issue(addr: SocketAddr, identity: &Identity, cvr: &str) -> (u16, String) {
    let url = format!("https://{addr}{}", oioidws::STS_PATH);
    let request = oioidws::issue_request(identity, &url, ORGANISATION_SERVICE, cvr, Utc::now()).unwrap();
    let resp = https_client()
        .post(&url)
        .header("content-type", "application/soap+xml; charset=utf-8")
        .body(request)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

async fn token(addr: SocketAddr) -> StsToken {
    let (status, text) = issue(addr, &test_identity(), "11111111").await;
    assert_eq!(status, 200, "{text}");
    oioidws::read_issue_response(text.as_bytes()).unwrap()
}

/// A `laes` of `unit` signed by `identity` under `token`, as the envelope text.
fn laes_request(addr: SocketAddr, identity: &Identity, token: &StsToken, unit: FkUuid) -> String {
    let service = Service::OrganisationEnhed;
    let action = soap::soap_action(service, Operation::Laes);
    let to = format!("https://{addr}{}", service.path());
    let addressing = Addressing { action: &action, to: &to, message_id: format!("urn:uuid:{}", uuid::Uuid::new_v4()) };
    let header = soap::request_header(&uuid::Uuid::new_v4().to_string());
    oioidws::secured_request(
        identity,
        token,
        &addressing,
        &header,
        &soap::laes_input(service, &unit.to_string()),
        Utc::now(),
    )
    .unwrap()
}

async fn post_soap(addr: SocketAddr, service: Service, envelope: String) -> (u16, String) {
    let resp = https_client()
        .post(format!("https://{addr}{}", service.path()))
        .header("content-type", "application/soap+xml; charset=utf-8")
        .body(envelope)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test]
async fn the_clients_envelopes_are_signed_under_the_sts_token_and_verify_with_xmlsec() {
    let tree = korsbaek();
    let unit = unit_without_sor_id(&tree);
    let opts = secure_fkorg_options();
    let (stats, security) = (opts.stats.clone(), opts.security.clone().unwrap());
    let (addr, server) = spawn(tree, opts).await.unwrap();
    let c = FkOrgClient::new(&fkorg_config(addr)).unwrap().for_municipality(cvr());
    let sor_id = SorId::from_running_number(4711);
    c.write_sor_id(unit, sor_id).await.unwrap();
    c.end_sor_id(unit, sor_id).await.unwrap();
    assert_eq!(c.shown_sor_ids(unit).await.unwrap(), Vec::<String>::new());
    let sent = stats.soap_requests.lock().unwrap().clone();
    assert!(sent.len() >= 5, "{} SOAP calls", sent.len());
    assert_eq!(Security::count(&security.tokens_issued), 1, "one STS token for every SOAP call (cached)");
    assert_eq!(stats.soap_refused.load(Ordering::Relaxed), 0);
    for envelope in &sent {
        assert!(!envelope.contains("<!DOCTYPE"), "no DTD in a SOAP message");
        let action = ["importer", "laes", "ret"]
            .iter()
            .flat_map(|op| {
                ["adresse", "organisationenhed"].map(|s| format!("http://kombit.dk/sts/organisation/{s}/{op}"))
            })
            .find(|a| envelope.contains(&format!(">{a}<")))
            .expect("a known soapAction in wsa:Action");
        let checked = oioidws::check_secured_request(
            envelope.as_bytes(),
            security.sts_certificate(),
            ORGANISATION_SERVICE,
            &action,
            Utc::now(),
        )
        .unwrap_or_else(|e| panic!("{e}\n{envelope}"));
        assert_eq!(checked.cvr.as_deref(), Some("11111111"));
        assert_eq!(checked.signer, test_identity().certificate_der(), "signed with the client certificate");
        // The Body's wsu:Id is a signed reference, and the payload is the schema-valid one.
        assert!(envelope.contains("<ds:Reference URI=\"#_body\">"), "{envelope}");
        assert!(soap::body_payload(envelope).is_some_and(|p| p.contains("stoettesystemerne.dk/organisation/")));
    }
    server.abort();
}

#[tokio::test]
async fn unsigned_tampered_and_foreign_signed_requests_get_a_soap_fault() {
    let tree = korsbaek();
    let unit = unit_without_sor_id(&tree);
    let opts = secure_fkorg_options();
    let stats = opts.stats.clone();
    let (addr, server) = spawn(tree, opts).await.unwrap();
    let t = token(addr).await;
    let me = test_identity();

    // The well-formed, signed request is answered.
    let (status, text) = post_soap(addr, Service::OrganisationEnhed, laes_request(addr, &me, &t, unit)).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("LaesOutput"), "{text}");

    let refused = |(status, text): (u16, String), what: &str| {
        assert_eq!(status, 400, "{what}: {text}");
        assert!(text.contains("soap:Sender") && text.contains("InvalidSecurity"), "{what}: {text}");
    };
    // Unsigned: a plain envelope without WS-Security.
    let unsigned = soap::envelope(
        &uuid::Uuid::new_v4().to_string(),
        &soap::laes_input(Service::OrganisationEnhed, &unit.to_string()),
    );
    refused(post_soap(addr, Service::OrganisationEnhed, unsigned).await, "unsigned");
    // Tampered: another unit read after signing.
    let other = korsbaek().units.iter().find(|u| u.uuid != unit).unwrap().uuid;
    let tampered = laes_request(addr, &me, &t, unit).replace(&unit.to_string(), &other.to_string());
    refused(post_soap(addr, Service::OrganisationEnhed, tampered).await, "tampered body");
    // Signed by another certificate than the token's holder.
    let (foreign, _dir) = foreign_identity();
    refused(
        post_soap(addr, Service::OrganisationEnhed, laes_request(addr, &foreign, &t, unit)).await,
        "foreign signer",
    );
    // A token the STS did not sign (issued by another STS key).
    let (fake_sts, _dir2) = foreign_identity();
    let (assertion, id) = oioidws::issue_assertion(
        &fake_sts,
        me.certificate_der(),
        ORGANISATION_SERVICE,
        "11111111",
        Utc::now(),
        chrono::Duration::hours(1),
    )
    .unwrap();
    let forged = StsToken { assertion, id, expires: Utc::now() + chrono::Duration::hours(1) };
    refused(post_soap(addr, Service::OrganisationEnhed, laes_request(addr, &me, &forged, unit)).await, "forged token");
    assert!(stats.soap_refused.load(Ordering::Relaxed) >= 4);
    server.abort();
}

#[tokio::test]
async fn the_sts_refuses_a_certificate_from_another_ca_and_another_municipality() {
    let opts = secure_fkorg_options();
    let security = opts.security.clone().unwrap();
    let (addr, server) = spawn(korsbaek(), opts).await.unwrap();
    let (foreign, _dir) = foreign_identity();
    let (status, text) = issue(addr, &foreign, "11111111").await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("not issued by a trusted CA"), "{text}");
    let (status, text) = issue(addr, &test_identity(), "29189846").await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("29189846"), "{text}");
    assert_eq!(Security::count(&security.tokens_issued), 0);
    // Without a TLS client certificate the STS refuses too.
    let url = format!("https://{addr}{}", oioidws::STS_PATH);
    let request = oioidws::issue_request(&test_identity(), &url, ORGANISATION_SERVICE, "11111111", Utc::now()).unwrap();
    let ca = reqwest::Certificate::from_pem(fkorg_certs().ca_pem.as_bytes()).unwrap();
    let http = reqwest::Client::builder().add_root_certificate(ca).build().unwrap();
    let resp = http.post(&url).body(request).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    assert!(resp.text().await.unwrap().contains("client certificate"));
    server.abort();
}

#[tokio::test]
async fn the_certificate_can_be_a_pkcs12_file_with_its_password_from_the_environment() {
    let certs = fkorg_certs();
    let cert = openssl::x509::X509::from_pem(&std::fs::read(certs.client_certificate()).unwrap()).unwrap();
    let key = openssl::pkey::PKey::private_key_from_pem(&std::fs::read(certs.client_key()).unwrap()).unwrap();
    let p12 = openssl::pkcs12::Pkcs12::builder().name("sorsync").pkey(&key).cert(&cert).build2("hemmelig").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("foces.p12");
    std::fs::write(&file, p12.to_der().unwrap()).unwrap();

    let tree = korsbaek();
    let unit = unit_without_sor_id(&tree);
    let (addr, server) = spawn(tree, secure_fkorg_options()).await.unwrap();
    let mut cfg = sorsync::config::FkOrgConfig {
        client_certificate: None,
        client_key: None,
        client_pkcs12: Some(file.clone()),
        ..fkorg_config(addr)
    };
    // The password comes from the environment only (never from the file).
    let toml = dir.path().join("sorsync.toml");
    std::fs::write(&toml, format!("[fkorg]\nclient_pkcs12 = {:?}\n", file.display().to_string())).unwrap();
    let env = |k: &str| (k == "SORSYNC_FKORG_PKCS12_PASSWORD").then(|| "hemmelig".to_string());
    let loaded = sorsync::config::Config::load(Some(&toml), env).unwrap();
    cfg.client_pkcs12_password = loaded.fkorg.client_pkcs12_password.clone();
    assert_eq!(loaded.fkorg.client_pkcs12, Some(file.clone()));
    let c = FkOrgClient::new(&cfg).unwrap().for_municipality(cvr());
    c.write_sor_id(unit, SorId::from_running_number(4711)).await.unwrap();
    assert_eq!(c.fetch_tree(cvr()).await.unwrap().get(unit).unwrap().sor_id, Some(SorId::from_running_number(4711)));

    cfg.client_pkcs12_password = Some("forkert".into());
    let err = FkOrgClient::new(&cfg).unwrap_err().to_string();
    assert!(err.contains("foces.p12") && err.contains("wrong password"), "{err}");
    assert!(!err.contains("forkert"), "{err}");
    server.abort();
}

use sorsync::standin::sts::Security;

/// One Organisation 6 call signed with the test client certificate under a fresh STS token.
pub async fn signed_call(addr: SocketAddr, service: Service, operation: Operation, payload: &str) -> (u16, String) {
    let t = token(addr).await;
    let action = soap::soap_action(service, operation);
    let to = format!("https://{addr}{}", service.path());
    let addressing = Addressing { action: &action, to: &to, message_id: format!("urn:uuid:{}", uuid::Uuid::new_v4()) };
    let header = soap::request_header(&uuid::Uuid::new_v4().to_string());
    let envelope = oioidws::secured_request(&test_identity(), &t, &addressing, &header, payload, Utc::now()).unwrap();
    post_soap(addr, service, envelope).await
}
