//! Tests: whole commands as a user runs them: `sorsync demo`, `propose --kommune` on the store, `init`.

use std::process::Output;

use crate::support::{fixture, sorsync};

fn run(args: &[&str]) -> Output {
    let out = sorsync().args(args).output().expect("sorsync runs");
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("panicked"),
        "sorsync {args:?} panicked:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn snapshot_count(db_url: &str) -> usize {
    let out = run(&["--database-url", db_url, "snapshots", "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("snapshots JSON");
    json["snapshots"].as_array().expect("a snapshots array").len()
}

/// A fresh SQLite store (in a temp dir, kept alive by the returned guard) holding the Korsbæk
/// FK-ORG fixture and its SOR counterpart as municipality 999.
fn store_with_korsbaek() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("s.db").display());
    for (register, file) in [("fkorg", "fkorg/korsbaek.json"), ("sor", "preview/korsbaek-sor.csv")] {
        let path = fixture(file);
        let out = run(&["--database-url", &url, "import", register, path.to_str().unwrap(), "--kommune", "999"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    (dir, url)
}

#[test]
fn the_demo_runs_the_pipeline_on_the_bundled_data_and_a_second_run_stores_nothing_new() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let data = fixture("bundled");
    let args = ["demo", "--data", data.to_str().unwrap(), "--db", db.to_str().unwrap(), "--no-serve"];
    let first = run(&args);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let text = stdout(&first);
    for name in ["København", "Aalborg", "Faxe", "Næstved", "Korsbæk"] {
        assert!(text.contains(name), "the summary names {name}:\n{text}");
    }
    // The FK-ORG data went through the stand-in server and the real client (one line per municipality).
    assert_eq!(text.matches(" requests").count(), 5, "{text}");
    let url = format!("sqlite://{}", db.display());
    assert_eq!(snapshot_count(&url), 10, "one FK-ORG and one SOR snapshot per municipality");

    // The pilot wave: the live municipality (Faxe) had its auto-approved links written back.
    let applied = |text: &str| -> usize {
        let line = text.lines().find(|l| l.trim_start().starts_with("320 Faxe") && l.contains(", applied "));
        let line = line.unwrap_or_else(|| panic!("a wave line for Faxe:\n{text}"));
        let after = line.split(", applied ").nth(1).unwrap_or_default();
        after.split(|c: char| !c.is_ascii_digit()).next().unwrap_or_default().parse().unwrap_or_default()
    };
    assert!(applied(&text) > 0, "{text}");
    assert!(text.contains("sor-admin-320"), "demo accounts are printed:\n{text}");

    let second = run(&args);
    assert!(second.status.success());
    assert_eq!(snapshot_count(&url), 10, "the same content makes no new snapshots");
    assert_eq!(applied(&stdout(&second)), 0, "nothing is applied twice");
    let listed = run(&["--database-url", &url, "proposals", "list", "--kommune", "999"]);
    assert!(stdout(&listed).contains("link"), "the demo's proposals are stored for review");
}

#[test]
fn propose_on_the_store_records_proposals_once_and_exits_2_while_they_wait() {
    let (_dir, url) = store_with_korsbaek();

    let propose = ["--database-url", &url, "propose", "--kommune", "999", "--today", "2026-11-22"];
    let first = run(&propose);
    assert_eq!(first.status.code(), Some(2), "pending proposals need a person");
    let text = stdout(&first);
    assert!(text.contains("Plejecenter Evigglad"), "the new care home is proposed for creation:\n{text}");
    let new_count: usize = text
        .lines()
        .find_map(|l| l.split_once(" new, ").map(|(n, _)| n.trim().parse().expect("a count")))
        .expect("a summary line");
    assert!(new_count > 0);

    let again = stdout(&run(&propose));
    assert!(again.contains(&format!("0 new, {new_count} unchanged")), "a re-run proposes only what changed:\n{again}");
}

#[test]
fn propose_without_files_or_a_municipality_says_what_to_give() {
    let out = run(&["propose"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--kommune CODE"));
}

#[test]
fn init_writes_a_config_that_the_next_command_reads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sorsync.toml");
    assert!(run(&["init", "--out", path.to_str().unwrap()]).status.success());
    let again = run(&["init", "--out", path.to_str().unwrap()]);
    assert!(!again.status.success(), "init does not overwrite without --force");
    let db = dir.path().join("from-config.db");
    let text =
        std::fs::read_to_string(&path).unwrap().replace("sqlite://sorsync.db", &format!("sqlite://{}", db.display()));
    std::fs::write(&path, text).unwrap();
    let out = run(&["--config", path.to_str().unwrap(), "snapshots"]);
    assert_eq!(out.status.code(), Some(1), "a read-only command does not create the store");
    assert!(String::from_utf8_lossy(&out.stderr).contains("from-config.db"), "it looked where the config says");
    let sor = fixture("preview/korsbaek-sor.csv");
    let out = run(&["--config", path.to_str().unwrap(), "import", "sor", sor.to_str().unwrap(), "--kommune", "999"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(db.exists(), "the store named in the config file was created by the import");
}

#[test]
fn a_narrowed_run_on_the_store_is_refused_so_the_review_queue_stays_whole() {
    let (_dir, url) = store_with_korsbaek();
    let first = run(&["--database-url", &url, "propose", "--kommune", "999", "--today", "2026-11-22"]);
    assert_eq!(first.status.code(), Some(2));
    let before = stdout(&run(&["--database-url", &url, "proposals", "list", "--kommune", "999"]));

    let narrowed = run(&[
        "--database-url",
        &url,
        "propose",
        "--kommune",
        "999",
        "--include",
        "a1000000-0000-4000-8000-000000000005",
    ]);
    assert_eq!(narrowed.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&narrowed.stderr).contains("review queue stays whole"));
    let after = stdout(&run(&["--database-url", &url, "proposals", "list", "--kommune", "999"]));
    assert_eq!(before, after, "nothing was superseded");
}

#[test]
fn preview_on_the_store_places_a_new_unit_under_the_approved_counterpart_of_its_parent() {
    let (_dir, url) = store_with_korsbaek();
    let aeldre = "a1000000-0000-4000-8000-000000000002";
    let preview = [
        "--database-url",
        &url,
        "preview",
        "--kommune",
        "999",
        "--create",
        "Plejecenter Solsikken",
        "--under",
        aeldre,
        "--format",
        "json",
        "--today",
        "2026-11-22",
    ];
    // Nothing approved yet: the parent has no SOR counterpart, and the preview says so.
    let before: serde_json::Value = serde_json::from_slice(&run(&preview).stdout).expect("preview JSON");
    assert_eq!(before["changes"][0]["parent_sor_id"], serde_json::Value::Null, "{before}");
    assert!(before["warnings"].to_string().contains("parent_not_linked"), "{before}");

    // Propose, then a SOR administrator approves the link of Ældreforvaltning.
    run(&["--database-url", &url, "propose", "--kommune", "999", "--today", "2026-11-22", "--format", "json"]);
    let list = run(&["--database-url", &url, "proposals", "list", "--kommune", "999", "--format", "json"]);
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).expect("list JSON");
    let proposals = list["proposals"].as_array().or_else(|| list.as_array()).expect("a list of proposals").clone();
    let link = proposals
        .iter()
        .find(|p| p["kind"] == "link" && p["fk_uuid"] == aeldre)
        .expect("a link proposal for Ældreforvaltning");
    let id = link["id"].to_string();
    let sor_id = link["sor_id"].as_str().expect("a SOR-ID").to_string();
    let os = sorsync::cli::identity::os_user().unwrap();
    assert!(run(&["--database-url", &url, "users", "map-os", &os, "anna"]).status.success());
    let approve = ["--database-url", &url, "proposals", "approve", &id, "--kommune", "999", "--as", "anna"];
    assert!(!run(&approve).status.success(), "anna has no role yet");
    let grant = ["--database-url", &url, "users", "grant", "anna", "--kommune", "999", "--role", "sor_admin"];
    assert!(run(&grant).status.success());
    let approved = run(&approve);
    assert!(approved.status.success(), "{}", String::from_utf8_lossy(&approved.stderr));

    let after: serde_json::Value = serde_json::from_slice(&run(&preview).stdout).expect("preview JSON");
    assert_eq!(after["summary"]["create"], 1, "{after}");
    assert_eq!(after["changes"][0]["parent_sor_id"], sor_id.as_str(), "{after}");
}
