//! Tests: the security review's findings, each as an attacker or a careless setup would meet it:
//! formulas in CSV files, redirects to other sites, world-readable files with personal data,
//! connections that never finish their headers, secrets in database URLs.

use std::io::{Read as _, Write as _};
use std::os::unix::fs::PermissionsExt as _;

use sorsync::spreadsheet::would_run;
use sorsync::store::Store;

use crate::support::{fixture, sorsync};
use crate::web::{start, Client};

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

#[test]
fn a_unit_named_like_a_formula_never_reaches_a_spreadsheet_as_one() {
    let dir = tempfile::tempdir().unwrap();
    let fk = dir.path().join("fk.json");
    let evil = r#"=HYPERLINK(\"http://evil.example\",\"Plejecenter A\")"#;
    let text = std::fs::read_to_string(fixture("fkorg/korsbaek.json")).unwrap();
    std::fs::write(&fk, text.replace("\"Plejecenter A\"", &format!("\"{evil}\""))).unwrap();
    let sor = fixture("preview/korsbaek-sor.csv");
    let out = sorsync()
        .args(["propose", "--fkorg", fk.to_str().unwrap(), "--sor", sor.to_str().unwrap(), "--format", "csv"])
        .output()
        .unwrap();
    assert!(out.status.code().is_some_and(|c| c == 0 || c == 2), "{}", String::from_utf8_lossy(&out.stderr));
    let mut reader = csv::ReaderBuilder::new().delimiter(b';').from_reader(out.stdout.as_slice());
    let mut saw_it = false;
    for record in reader.records() {
        for cell in record.unwrap().iter() {
            assert!(!would_run(cell), "a spreadsheet would run the cell {cell:?}");
            saw_it |= cell.contains("HYPERLINK");
        }
    }
    assert!(saw_it, "the unit is still in the file, as text");
}

#[test]
fn files_with_credentials_or_personal_data_are_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("sorsync.toml");
    let out = sorsync().args(["init", "--out", config.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(mode(&config), 0o600, "the config init writes");

    let db = dir.path().join("s.db");
    let url = format!("sqlite://{}", db.display());
    let file = fixture("fkorg/korsbaek.json");
    let out = sorsync()
        .args(["--database-url", &url, "import", "fkorg", file.to_str().unwrap(), "--kommune", "999"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(mode(&db), 0o600, "the store");
    for suffix in ["-wal", "-shm"] {
        let side = dir.path().join(format!("s.db{suffix}"));
        if side.exists() {
            assert_eq!(mode(&side), 0o600, "the store's {suffix} file");
        }
    }

    let report = dir.path().join("kontakter.csv");
    let out = sorsync()
        .args(["contacts", "--fkorg", file.to_str().unwrap(), "--format", "csv", "--out", report.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.code().is_some_and(|c| c == 0 || c == 2), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(mode(&report), 0o600, "the contact report (names and phone numbers)");

    // A store someone else can read is used, with a warning that says how to fix it.
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = sorsync().args(["--database-url", &url, "snapshots"]).output().unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("readable by other users") && stderr.contains("chmod 600"), "{stderr}");
}

#[test]
fn a_database_url_secret_the_driver_would_log_is_refused_without_showing_it() {
    let out = sorsync()
        .args(["--database-url", "postgres://u@127.0.0.1:1/db?sslpassword=hunter2", "snapshots"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("sslpassword"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "the secret is shown: {stderr}");
    let out = sorsync().args(["--database-url", "postgres://u:pa/ss@127.0.0.1:1/db", "snapshots"]).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("pa/ss"), "a password with a slash is shown: {stderr}");
}

#[tokio::test]
async fn the_language_switch_goes_back_only_to_this_site() {
    let store = Store::open("sqlite::memory:").await.unwrap();
    let server = start(store).await;
    let mut c = Client::new(&server.base);
    for evil in
        ["/%09/127.0.0.1:1/", "//evil.example/", "/%0a/evil.example", "/\\evil.example", "https://evil.example/"]
    {
        let reply = c.get(&format!("/lang?set=en&back={evil}")).await;
        assert_eq!(reply.status, 303);
        assert_eq!(reply.location.as_deref(), Some("/"), "back={evil}");
    }
    let reply = c.get("/lang?set=en&back=/k/350/queue%3Fq%3DSol").await;
    assert_eq!(reply.location.as_deref(), Some("/k/350/queue?q=Sol"), "a path on this site is kept");
}

#[tokio::test]
async fn a_connection_that_never_finishes_its_headers_is_closed() {
    let store = Store::open("sqlite::memory:").await.unwrap();
    let server = start(store).await;
    let addr = server.base.trim_start_matches("http://").to_string();
    let closed = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ").unwrap();
        // Far longer than the server's limit: the server must close first.
        stream.set_read_timeout(Some(sorsync::web::HEADER_READ_TIMEOUT * 6)).unwrap();
        let mut buf = [0u8; 1024];
        match stream.read(&mut buf) {
            // Closed (end of file), or closed after a "408 Request Timeout".
            Ok(n) => n == 0 || buf[..n].starts_with(b"HTTP/1.1 408"),
            Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
        }
    })
    .await
    .unwrap();
    assert!(closed, "the server kept a connection with unfinished headers open");
    // The server still answers others.
    let reply = Client::new(&server.base).get("/login").await;
    assert_eq!(reply.status, 200);
}

#[test]
fn a_very_deep_tree_prints_in_linear_space() {
    const DEPTH: usize = 20_000;
    let uuid = |i: usize| format!("a1000000-0000-4000-8000-{i:012}");
    let edges: Vec<serde_json::Value> = (0..DEPTH)
        .map(|i| {
            serde_json::json!({ "node": {
                "uuid": uuid(i),
                "enhedsnavn": format!("Enhed {i}"),
                "overordnetEnhed": if i == 0 { serde_json::Value::Null } else { serde_json::json!({ "uuid": uuid(i - 1) }) },
                "tilstand": { "status": "AKTIV", "fraTidspunkt": "2019-01-01T00:00:00+01:00", "tilTidspunkt": null },
                "adresser": []
            }})
        })
        .collect();
    let page = serde_json::json!({ "data": { "organisationEnhedListe": {
        "edges": edges, "pageInfo": { "hasNextPage": false }
    }}});
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("deep.json");
    std::fs::write(&file, serde_json::to_vec(&page).unwrap()).unwrap();
    let out = sorsync().args(["inspect", "fkorg", file.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Drawn indentation would be DEPTH^2 = 400 million spaces; capped it stays near 100 bytes a unit.
    assert!(out.stdout.len() < DEPTH * 200, "{} bytes for {DEPTH} units", out.stdout.len());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("[level {}] Enhed {}", DEPTH - 1, DEPTH - 1)), "the deepest unit says its level");
}

/// A plain-HTTP server on loopback that answers every request with `head` (and no body beyond
/// `body_len` bytes of `x`), and counts the connections it got.
async fn raw_server(
    head: String,
    body_len: usize,
) -> (std::net::SocketAddr, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let head = head.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let _ = sock.read(&mut buf).await;
                let _ = sock.write_all(head.as_bytes()).await;
                let chunk = vec![b'x'; 64 * 1024];
                let mut left = body_len;
                while left > 0 {
                    let n = left.min(chunk.len());
                    if sock.write_all(&chunk[..n]).await.is_err() {
                        break;
                    }
                    left -= n;
                }
            });
        }
    });
    (addr, hits)
}

#[tokio::test]
async fn the_fkorg_client_follows_no_redirect_and_speaks_plain_http_to_no_other_machine() {
    use sorsync::sources::fkorg_client::FkOrgClient;
    let cvr = sorsync::domain::Cvr::parse("29189846").unwrap();
    let (elsewhere, stolen) = raw_server("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n".into(), 0).await;
    let (redirecting, _) = raw_server(
        format!("HTTP/1.1 307 Temporary Redirect\r\nlocation: http://{elsewhere}/steal\r\ncontent-length: 0\r\n\r\n"),
        0,
    )
    .await;
    let mut cfg = crate::support::fkorg_config(redirecting);
    cfg.token_url = format!("http://{redirecting}/runtime/api/rest/oauth/v1/issue");
    cfg.endpoint = format!("http://{redirecting}/organisation/organisationhent/1");
    cfg.max_retries = 0;
    let client = FkOrgClient::new(&cfg).unwrap();
    assert!(client.fetch_tree(cvr).await.is_err());
    assert_eq!(stolen.load(std::sync::atomic::Ordering::SeqCst), 0, "the redirect was followed");

    let mut remote = crate::support::fkorg_config(redirecting);
    remote.endpoint = "http://fkorg.example.dk/organisation/organisationhent/1".into();
    let err = FkOrgClient::new(&remote).unwrap_err().to_string();
    assert!(err.contains("plain http to another machine"), "{err}");
}

#[tokio::test]
async fn an_endless_fkorg_answer_is_not_read_to_the_end() {
    use sorsync::sources::fkorg_client::FkOrgClient;
    let cvr = sorsync::domain::Cvr::parse("29189846").unwrap();
    // No content length: the client cannot know in advance; it must stop reading at its cap.
    let (server, _) = raw_server("HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n".into(), 80 * 1024 * 1024).await;
    let mut cfg = crate::support::fkorg_config(server);
    cfg.token_url = format!("http://{server}/runtime/api/rest/oauth/v1/issue");
    cfg.max_retries = 0;
    let err = FkOrgClient::new(&cfg).unwrap().fetch_tree(cvr).await.unwrap_err().to_string();
    assert!(err.contains("longer than"), "{err}");
}

#[test]
fn a_reader_that_stops_early_gets_no_error_from_us() {
    use std::process::Stdio;
    // 20,000 units: far more output than a pipe holds.
    let uuid = |i: usize| format!("a1000000-0000-4000-8000-{i:012}");
    let edges: Vec<serde_json::Value> = (0..20_000)
        .map(|i| {
            serde_json::json!({ "node": {
                "uuid": uuid(i),
                "enhedsnavn": format!("Enhed {i}"),
                "overordnetEnhed": if i == 0 { serde_json::Value::Null } else { serde_json::json!({ "uuid": uuid(0) }) },
                "tilstand": { "status": "AKTIV", "fraTidspunkt": "2019-01-01T00:00:00+01:00", "tilTidspunkt": null },
                "adresser": []
            }})
        })
        .collect();
    let page = serde_json::json!({ "data": { "organisationEnhedListe": {
        "edges": edges, "pageInfo": { "hasNextPage": false }
    }}});
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wide.json");
    std::fs::write(&file, serde_json::to_vec(&page).unwrap()).unwrap();
    let mut child = sorsync()
        .args(["inspect", "fkorg", file.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 100];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap(); // and the pipe closes here, like `| head`
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("Broken pipe") && !stderr.contains("panicked"), "{stderr}");
}
