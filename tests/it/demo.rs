//! Tests: the first hour of a new user: `sorsync demo` from any folder, the commands it suggests, a
//! store that is not there, the numbers the demo, the command line and the web app show, `--help`.

use std::path::Path;
use std::process::Output;

use serde_json::{json, Value};
use sorsync::domain::KommuneKode;
use sorsync::review::{grant, Role};
use sorsync::store::Store;

use crate::support::{fixture, sorsync};
use crate::web::{start, Client, PASSWORD};

/// Runs the binary in `dir` (as a user in that folder would), checking it did not panic.
fn run_in(dir: &Path, args: &[&str]) -> Output {
    let out = sorsync().current_dir(dir).args(args).output().expect("sorsync runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "sorsync {args:?} panicked:\n{stderr}");
    out
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn err(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The percentage after "coverage" on the demo's wave line for `kommune`.
fn demo_coverage(output: &str, kommune: &str) -> f64 {
    let line = output
        .lines()
        .find(|l| l.trim_start().starts_with(kommune) && l.contains("coverage"))
        .unwrap_or_else(|| panic!("a wave line for {kommune}:\n{output}"));
    let after = line.split("coverage").nth(1).unwrap_or_default();
    after.trim_start().split(' ').next().unwrap_or_default().parse().unwrap_or_else(|_| panic!("a number in {line}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_runs_from_any_folder_and_its_numbers_agree_with_the_command_line_and_the_web_app() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let demo = run_in(d, &["demo", "--no-serve", "--addr", "127.0.0.1:0"]);
    assert!(demo.status.success(), "{}", err(&demo));
    let output = text(&demo);
    for name in ["København", "Aalborg", "Faxe", "Næstved", "Korsbæk"] {
        assert!(output.contains(name), "the summary names {name}:\n{output}");
    }
    assert!(d.join("sorsync-demo.db").is_file(), "the demo's store is in the folder it ran in");
    // The built-in data is the repository's fixtures/bundled/: the same summary table from both.
    let bundled = fixture("bundled");
    let from_files = run_in(
        d,
        &["demo", "--no-serve", "--addr", "127.0.0.1:0", "--data", bundled.to_str().unwrap(), "--db", "files.db"],
    );
    assert!(from_files.status.success(), "{}", err(&from_files));
    let table = |t: &str| -> Vec<String> {
        t.lines()
            .take_while(|l| !l.starts_with("Columns:"))
            .filter(|l| !l.starts_with("Store:"))
            .map(String::from)
            .collect()
    };
    assert_eq!(table(&output), table(&text(&from_files)), "built-in data vs fixtures/bundled");
    assert!(!output.contains(" write ") && output.contains("no phone: role holders"), "columns explained:\n{output}");
    assert!(!output.contains("as olga (operator)"), "{output}");
    let faxe = output.lines().find(|l| l.trim_start().starts_with("320 Faxe")).expect("a wave line for Faxe");
    assert!(faxe.contains("in SOR") && faxe.contains("written back to FK-ORG"), "applied changes explained: {faxe}");

    // The commands the demo suggests work as printed, from the same folder.
    let url = "sqlite://sorsync-demo.db";
    assert!(output.contains(&format!("sorsync --database-url {url} proposals list --kommune 320")), "{output}");
    let listed = run_in(d, &["--database-url", url, "proposals", "list", "--kommune", "320", "--status", "all"]);
    assert!(listed.status.success(), "{}", err(&listed));
    assert!(text(&listed).contains(" cases"), "{}", text(&listed));

    // Coverage: one number for Faxe in the demo, `waves status` and the web app's overview and waves page.
    let shown = demo_coverage(&output, "320 Faxe");
    let status = run_in(d, &["--database-url", url, "waves", "status", "--format", "json"]);
    assert!(status.status.success(), "{}", err(&status));
    let status: Value = serde_json::from_slice(&status.stdout).expect("status JSON");
    let faxe_status =
        status.as_array().expect("a list").iter().find(|m| m["kommune"] == "320").expect("Faxe in the status").clone();
    let cli_coverage = faxe_status["coverage"].as_f64().expect("a coverage");
    assert!((cli_coverage * 100.0 - shown).abs() < 0.05, "demo {shown} % vs waves status {cli_coverage}");

    let store = Store::open(&format!("sqlite://{}", d.join("sorsync-demo.db").display())).await.unwrap();
    let hash = sorsync::web::auth::hash_password(PASSWORD).unwrap();
    store.set_web_password_hash("tester", &hash).await.unwrap();
    let faxe_code = KommuneKode::parse("320").unwrap();
    grant(&store, None, "tester", faxe_code, Role::ReadOnly).await.unwrap();
    let server = start(store.clone()).await;
    let mut c = Client::new(&server.base);
    let r = c.post_json("/api/login", &json!({"user": "tester", "password": PASSWORD}), false).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let overview = c.get("/api/k/320").await.json();
    let web_coverage = overview["coverage"].as_f64().expect("the overview's coverage");
    assert!((web_coverage - cli_coverage).abs() < 1e-9, "overview {web_coverage} vs waves status {cli_coverage}");
    let waves = c.get("/api/waves").await.json();
    let on_waves_page = waves["report"]["waves"]
        .as_array()
        .expect("waves")
        .iter()
        .flat_map(|w| w["municipalities"].as_array().cloned().unwrap_or_default())
        .find(|m| m["kommune"] == "320")
        .expect("Faxe on the waves page");
    assert!((on_waves_page["coverage"].as_f64().unwrap() - cli_coverage).abs() < 1e-9, "{on_waves_page}");
    let contacts = c.get("/api/k/320/contacts").await.json();
    assert_eq!(contacts["units_in_scope"], faxe_status["units_in_scope"], "units in scope: contacts vs waves");
    store.close().await;

    // The audit log in the terminal is words, not JSON.
    let audit = run_in(d, &["--database-url", url, "audit", "--kommune", "320"]);
    assert!(audit.status.success(), "{}", err(&audit));
    assert!(!text(&audit).contains("{\""), "{}", text(&audit));
}

#[test]
fn a_read_only_command_without_a_store_says_where_it_looked_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for args in [
        &["proposals", "list", "--kommune", "101"][..],
        &["waves", "status"],
        &["audit", "--kommune", "101"],
        &["snapshots"],
    ] {
        let out = run_in(d, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let e = err(&out);
        assert!(
            e.contains("sorsync.db") && e.contains("sorsync demo") && e.contains("sorsync import"),
            "{args:?}: {e}"
        );
        assert!(!d.join("sorsync.db").exists(), "{args:?} created an empty store");
    }
}

#[test]
fn a_municipality_without_data_is_an_error_not_an_empty_list() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("s.db").display());
    let path = fixture("fkorg/korsbaek.json");
    let import =
        run_in(dir.path(), &["--database-url", &url, "import", "fkorg", path.to_str().unwrap(), "--kommune", "999"]);
    assert!(import.status.success(), "{}", err(&import));
    let out = run_in(dir.path(), &["--database-url", &url, "proposals", "list", "--kommune", "102"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(err(&out).contains("no data for municipality 102"), "{}", err(&out));
    let status = run_in(dir.path(), &["--database-url", &url, "waves", "status"]);
    assert_eq!(status.status.code(), Some(1));
    assert!(err(&status).contains(&url) && err(&status).contains("waves load"), "{}", err(&status));
}

#[test]
fn the_demo_names_data_in_every_error_about_its_data_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), &["demo", "--no-serve", "--data", "nowhere"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(err(&out).contains("--data") && err(&out).contains("nowhere"), "{}", err(&out));
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let out = run_in(dir.path(), &["demo", "--no-serve", "--data", empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(err(&out).contains("--data"), "{}", err(&out));
}

#[test]
fn every_command_has_examples_in_its_help() {
    fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let path = format!("{path} {}", sub.get_name()).trim().to_string();
            let help = sub.get_after_help().or(sub.get_after_long_help()).map(|h| h.to_string()).unwrap_or_default();
            if !help.contains("Example") || !help.contains("sorsync ") {
                missing.push(path.clone());
            }
            walk(sub, &path, missing);
        }
    }
    let mut missing = Vec::new();
    walk(&sorsync::cli::command(), "", &mut missing);
    assert!(missing.is_empty(), "commands without examples in --help: {missing:?}");
    let help = run_in(Path::new("."), &["preview", "--help"]);
    let help = text(&help);
    assert!(help.contains("Examples:") && !help.contains("format above"), "{help}");
}

#[test]
fn preview_takes_a_unit_by_name_and_lists_the_candidates_when_a_name_is_not_enough() {
    let fk = fixture("fkorg/korsbaek.json");
    let sor = fixture("preview/korsbaek-sor.csv");
    let files = ["preview", "--fkorg", fk.to_str().unwrap(), "--sor", sor.to_str().unwrap(), "--today", "2026-11-22"];
    let by_name = run_in(Path::new("."), &[&files[..], &["--close", "plejecenter a"]].concat());
    assert!(by_name.status.success(), "{}", err(&by_name));
    assert!(text(&by_name).contains("to close"), "{}", text(&by_name));

    let several = run_in(Path::new("."), &[&files[..], &["--close", "Plejecenter"]].concat());
    assert_eq!(several.status.code(), Some(1));
    let e = err(&several);
    assert!(e.contains("--close") && e.contains("Plejecenter A") && e.contains("Plejecenter B"), "{e}");

    let none = run_in(Path::new("."), &[&files[..], &["--close", "Rådhuset"]].concat());
    assert_eq!(none.status.code(), Some(1));
    assert!(err(&none).contains("no FK-ORG unit has this name"), "{}", err(&none));
}

#[test]
fn proposals_show_and_list_speak_words_and_name_the_sor_units() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let url = format!("sqlite://{}", d.join("s.db").display());
    for (register, file) in [("fkorg", "fkorg/korsbaek.json"), ("sor", "preview/korsbaek-sor.csv")] {
        let path = fixture(file);
        let out = run_in(d, &["--database-url", &url, "import", register, path.to_str().unwrap(), "--kommune", "999"]);
        assert!(out.status.success(), "{}", err(&out));
    }
    let propose = run_in(d, &["--database-url", &url, "propose", "--kommune", "999", "--today", "2026-11-22"]);
    assert_eq!(propose.status.code(), Some(2), "{}", err(&propose));
    let list = run_in(d, &["--database-url", &url, "proposals", "list", "--kommune", "999", "--format", "json"]);
    let list: Value = serde_json::from_slice(&list.stdout).expect("list JSON");
    let link = list["proposals"].as_array().unwrap().iter().find(|p| p["kind"] == "link").expect("a link").clone();
    let sor_name = link["proposal"]["sor_name"].as_str().expect("the link's SOR name").to_string();

    let listed = text(&run_in(d, &["--database-url", &url, "proposals", "list", "--kommune", "999"]));
    let line = listed.lines().find(|l| l.contains(&format!("#{}", link["id"]))).expect("the link in the list");
    assert!(line.contains(&format!("{} {sor_name:?}", link["sor_id"].as_str().unwrap())), "{line}");

    let id = link["id"].to_string();
    let shown = run_in(d, &["--database-url", &url, "proposals", "show", &id]);
    assert!(shown.status.success(), "{}", err(&shown));
    let shown = text(&shown);
    assert!(shown.contains("is SOR unit") && shown.contains("Confidence"), "{shown}");
    assert!(!shown.contains("{\""), "no JSON by default:\n{shown}");
    let json = run_in(d, &["--database-url", &url, "proposals", "show", &id, "--format", "json"]);
    let json: Value = serde_json::from_slice(&json.stdout).expect("JSON with --format json");
    assert_eq!(json["id"].to_string(), id);
}
