//! Browser tests: headless Chromium through chromedriver (Debian `chromium` + `chromium-driver`)
//! with fantoccini, against the app in-process: sign in, approve with the keyboard, bulk approve
//! with confirmation, the what-if drawing for a close, a user of another municipality refused.
//!
//! Each test starts chromedriver on a free loopback port. Without chromedriver the tests print a
//! note and pass, unless SORSYNC_REQUIRE_BROWSER=1 (set in .ci/run), which makes that a failure.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::{Client, ClientBuilder, Locator};
use sorsync::store::ProposalStatus;

use crate::test_db::TestDb;
use crate::web::{fk_id, kommune, pending_links, populate, start, Server, PASSWORD};

fn find_in_path(name: &str, extra: &[&str]) -> Option<PathBuf> {
    let from_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join(name)).collect::<Vec<_>>())
        .unwrap_or_default();
    from_path.into_iter().chain(extra.iter().map(PathBuf::from)).find(|p| p.is_file())
}

/// chromedriver, running on a free port; killed when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts chromedriver, or None (with a note) when it is not installed and not required.
async fn driver() -> Option<Driver> {
    let Some(path) = find_in_path("chromedriver", &["/usr/lib/chromium/chromedriver"]) else {
        assert!(
            std::env::var("SORSYNC_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "SORSYNC_REQUIRE_BROWSER=1 but chromedriver is not installed (apt-get install chromium chromium-driver)"
        );
        eprintln!(
            "note: browser test skipped: chromedriver is not installed (apt-get install chromium chromium-driver)"
        );
        return None;
    };
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let child = Command::new(path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "chromedriver did not start listening");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Some(Driver { child, url: format!("http://127.0.0.1:{port}") })
}

async fn browser(driver: &Driver) -> Client {
    let mut options = serde_json::json!({
        "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,1000"]
    });
    if let Some(chromium) = find_in_path("chromium", &["/usr/bin/chromium"]) {
        options["binary"] = serde_json::Value::String(chromium.display().to_string());
    }
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".to_string(), options);
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a browser session")
}

async fn sign_in(b: &Client, server: &Server, user: &str) {
    b.goto(&format!("{}/login", server.base)).await.unwrap();
    b.find(Locator::Css("input[name=user]")).await.unwrap().send_keys(user).await.unwrap();
    b.find(Locator::Css("input[name=password]")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    b.find(Locator::Css("form.login button")).await.unwrap().click().await.unwrap();
    b.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("a[href='/k/350'], a[href='/k/360']"))
        .await
        .unwrap();
}

async fn press(b: &Client, key: char) {
    let keys =
        KeyActions::new("keyboard".to_string()).then(KeyAction::Down { value: key }).then(KeyAction::Up { value: key });
    b.perform_actions(keys).await.unwrap();
}

/// Waits (up to 20 s) until `check` holds.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < Duration::from_secs(20), "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn setup() -> Option<(Driver, TestDb, Server)> {
    let driver = driver().await?;
    let db = TestDb::sqlite().await;
    populate(&db.store).await;
    let server = start(db.store.clone()).await;
    Some((driver, db, server))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_signs_in_and_approves_with_the_keyboard() {
    let Some((driver, db, server)) = setup().await else { return };
    let b = browser(&driver).await;
    sign_in(&b, &server, "sor_admin-350").await;
    b.goto(&format!("{}/k/350/queue", server.base)).await.unwrap();
    let rows = b.find_all(Locator::Css("#queue tr.item")).await.unwrap();
    assert!(rows.len() >= 2);
    let second: i64 = rows[1].attr("data-id").await.unwrap().unwrap().parse().unwrap();
    let first: i64 = rows[0].attr("data-id").await.unwrap().unwrap().parse().unwrap();
    // j moves to the second row, a approves it.
    press(&b, 'j').await;
    press(&b, 'a').await;
    eventually("the second proposal is approved", || async {
        db.store.proposal(second).await.unwrap().status == ProposalStatus::Approved
    })
    .await;
    assert_eq!(
        db.store.proposal(first).await.unwrap().status,
        ProposalStatus::Pending,
        "only the marked row is decided"
    );
    b.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css("#progress")).await.unwrap();
    eventually("the progress line counts it", || async {
        // "1 af N gennemgået", or "1 of N reviewed" when the browser asks for English.
        let t = b.find(Locator::Css("#progress")).await.unwrap().text().await.unwrap();
        t.starts_with("1 af ") || t.starts_with("1 of ")
    })
    .await;
    // The cursor stayed on the second row (now the next case); k moves up, r says "not in SOR".
    press(&b, 'k').await;
    press(&b, 'r').await;
    eventually("the first proposal is rejected", || async {
        db.store.proposal(first).await.unwrap().status == ProposalStatus::Rejected
    })
    .await;
    // u undoes it: the case waits again.
    b.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css("#queue")).await.unwrap();
    press(&b, 'u').await;
    eventually("the rejection is undone", || async {
        db.store.proposal(first).await.unwrap().status == ProposalStatus::Pending
    })
    .await;
    b.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_approval_shows_the_confirmation_and_approves_the_listed_links() {
    let Some((driver, db, server)) = setup().await else { return };
    let b = browser(&driver).await;
    sign_in(&b, &server, "sor_admin-350").await;
    b.goto(&format!("{}/k/350/queue", server.base)).await.unwrap();
    let threshold = b.find(Locator::Css("form.bulk input[name=threshold]")).await.unwrap();
    threshold.clear().await.unwrap();
    threshold.send_keys("0.5").await.unwrap();
    b.find(Locator::Css("#bulk-button")).await.unwrap().click().await.unwrap();
    let count =
        b.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css("#bulk-count strong")).await.unwrap();
    let n: usize = count.text().await.unwrap().parse().unwrap();
    let pending = pending_links(&db.store, kommune()).await;
    assert!(n > 0);
    assert_eq!(pending.len(), n, "nothing is approved before confirming");
    b.find(Locator::Css("#bulk-confirm")).await.unwrap().click().await.unwrap();
    eventually("the listed links are approved", || async { pending_links(&db.store, kommune()).await.is_empty() })
        .await;
    assert_eq!(db.store.links(kommune()).await.unwrap().len(), n);
    b.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_what_if_drawing_appears_when_closing_a_unit() {
    let Some((driver, _db, server)) = setup().await else { return };
    let b = browser(&driver).await;
    sign_in(&b, &server, "org_admin-350").await;
    b.goto(&format!("{}/k/350/whatif", server.base)).await.unwrap();
    b.find(Locator::Css("#whatif-q")).await.unwrap().send_keys("Evigglad\n").await.unwrap();
    let unit = fk_id(kommune(), 3).to_string();
    let link = b
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(&format!("ul.matches a[href*='{unit}']")))
        .await
        .unwrap();
    link.click().await.unwrap();
    b.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css("#whatif-action")).await.unwrap();
    b.find(Locator::Css("#whatif-action option[value=close]")).await.unwrap().click().await.unwrap();
    b.find(Locator::Css("#whatif-show")).await.unwrap().click().await.unwrap();
    let drawing =
        b.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css("#whatif-drawing svg")).await.unwrap();
    let text = drawing.text().await.unwrap();
    assert!(text.contains("Plejecenter Evigglad"), "{text}");
    b.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_of_another_municipality_is_refused() {
    let Some((driver, db, server)) = setup().await else { return };
    let b = browser(&driver).await;
    sign_in(&b, &server, "sor_admin-360").await;
    b.goto(&format!("{}/k/350/queue", server.base)).await.unwrap();
    let body = b.find(Locator::Css("body")).await.unwrap().text().await.unwrap();
    assert!(body.contains("403"), "{body}");
    assert!(b.find_all(Locator::Css("#queue tr.item")).await.unwrap().is_empty());
    let id = pending_links(&db.store, kommune()).await[0];
    b.goto(&format!("{}/k/350/proposals/{id}", server.base)).await.unwrap();
    let body = b.find(Locator::Css("body")).await.unwrap().text().await.unwrap();
    assert!(body.contains("403") && !body.contains("Plejecenter"), "{body}");
    b.close().await.unwrap();
}
