//! Browser tests: headless Chromium through chromedriver (Debian `chromium` + `chromium-driver`)
//! with fantoccini, against the app in-process: sign in, approve with the keyboard, bulk approve
//! with confirmation, the what-if drawing for a close, a user of another municipality refused.
//!
//! Each test starts chromedriver on a free loopback port. Without chromedriver the tests print a
//! note and pass, unless SORSYNC_REQUIRE_BROWSER=1 (set in .ci/run), which makes that a failure.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

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
    let mut child = Command::new(path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    // chromedriver says on stdout when it listens: wait for that line, then keep draining the pipe.
    let stdout = child.stdout.take().expect("chromedriver's stdout");
    let listening = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        let mut lines = std::io::BufReader::new(stdout).lines();
        let started = lines.by_ref().map_while(Result::ok).any(|l| l.contains("started successfully"));
        std::thread::spawn(move || lines.for_each(drop));
        started
    });
    let started = tokio::time::timeout(Duration::from_secs(30), listening).await;
    assert!(matches!(started, Ok(Ok(true))), "chromedriver did not say it was listening");
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

/// Waits (up to 20 s) until the review page, loaded again after a decision, counts `n` cases
/// reviewed ("n af N gennemgået", or "n of N reviewed" in English). The decision is stored before
/// the page is answered, so the store can be read right after.
async fn reviewed(b: &Client, n: usize) {
    progress_where(
        b,
        &format!("starts-with(normalize-space(.), '{n} af ') or starts-with(normalize-space(.), '{n} of ')"),
    )
    .await;
}

/// Waits (up to 20 s) until the review page counts more than `n` cases reviewed.
async fn reviewed_more_than(b: &Client, n: usize) {
    progress_where(b, &format!("number(substring-before(normalize-space(.), ' ')) > {n}")).await;
}

async fn progress_where(b: &Client, condition: &str) {
    let xpath = format!("//*[@id='progress' and ({condition})]");
    b.wait().at_most(Duration::from_secs(20)).for_element(Locator::XPath(&xpath)).await.unwrap();
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
    reviewed(&b, 1).await;
    assert_eq!(db.store.proposal(second).await.unwrap().status, ProposalStatus::Approved);
    assert_eq!(
        db.store.proposal(first).await.unwrap().status,
        ProposalStatus::Pending,
        "only the marked row is decided"
    );
    // The cursor stayed on the second row (now the next case); k moves up, r says "not in SOR".
    press(&b, 'k').await;
    press(&b, 'r').await;
    reviewed_more_than(&b, 1).await;
    assert_eq!(db.store.proposal(first).await.unwrap().status, ProposalStatus::Rejected);
    // u undoes it: the case waits again.
    press(&b, 'u').await;
    reviewed(&b, 1).await;
    assert_eq!(db.store.proposal(first).await.unwrap().status, ProposalStatus::Pending);
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
    // The approval answers with the queue, saying how many were approved.
    let back = url::Url::parse(&format!("{}/k/350/queue?approved={n}", server.base)).unwrap();
    b.wait().at_most(Duration::from_secs(20)).for_url(back).await.unwrap();
    assert!(pending_links(&db.store, kommune()).await.is_empty(), "the listed links are approved");
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
