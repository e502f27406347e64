//! The layers of docs/ARCHITECTURE.md, kept by the compiler and checked here: each crate of the
//! workspace depends only on the crates below it, and the core can do no IO and read no clock.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// Which of our crates each crate may depend on (docs/ARCHITECTURE.md draws the same).
const LAYERS: &[(&str, &[&str])] = &[
    ("sorsync-core", &[]),
    ("sorsync-store", &["sorsync-core"]),
    ("sorsync-clients", &["sorsync-core"]),
    ("sorsync-app", &["sorsync-core", "sorsync-store", "sorsync-clients"]),
    ("sorsync-standin", &["sorsync-core", "sorsync-clients"]),
    ("sorsync-web", &["sorsync-core", "sorsync-store", "sorsync-clients", "sorsync-app"]),
    ("sorsync", &["sorsync-core", "sorsync-store", "sorsync-clients", "sorsync-app", "sorsync-standin", "sorsync-web"]),
];

/// Crates that do IO (or run it): none of them may reach the core, directly or through another.
const IO_CRATES: &[&str] = &[
    "tokio",
    "mio",
    "sqlx",
    "sqlx-core",
    "reqwest",
    "hyper",
    "hyper-util",
    "axum",
    "async-graphql",
    "rustls",
    "openssl",
    "samael",
    "tracing-subscriber",
];

struct Workspace {
    /// Package id -> name, for every package in the build.
    names: BTreeMap<String, String>,
    /// Package id -> ids of its normal (not dev, not build) dependencies.
    normal_deps: BTreeMap<String, Vec<String>>,
    packages: Vec<Value>,
}

fn workspace() -> Workspace {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(cargo)
        .current_dir(root)
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr));
    let meta: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
    let packages = meta["packages"].as_array().expect("packages").clone();
    let names = packages
        .iter()
        .map(|p| (p["id"].as_str().unwrap().to_string(), p["name"].as_str().unwrap().to_string()))
        .collect();
    let mut normal_deps = BTreeMap::new();
    for node in meta["resolve"]["nodes"].as_array().expect("resolve nodes") {
        let deps = node["deps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["dep_kinds"].as_array().unwrap().iter().any(|k| k["kind"].is_null()))
            .map(|d| d["pkg"].as_str().unwrap().to_string())
            .collect();
        normal_deps.insert(node["id"].as_str().unwrap().to_string(), deps);
    }
    Workspace { names, normal_deps, packages }
}

impl Workspace {
    fn id_of(&self, name: &str) -> String {
        let ids: Vec<&String> = self.names.iter().filter(|(_, n)| *n == name).map(|(id, _)| id).collect();
        assert_eq!(ids.len(), 1, "one package named {name}");
        ids[0].clone()
    }

    fn direct(&self, name: &str) -> BTreeSet<String> {
        self.normal_deps[&self.id_of(name)].iter().map(|id| self.names[id].clone()).collect()
    }

    /// Every package `name` builds on (normal dependencies, transitively).
    fn closure(&self, name: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![self.id_of(name)];
        while let Some(id) = todo.pop() {
            for dep in &self.normal_deps[&id] {
                if seen.insert(dep.clone()) {
                    todo.push(dep.clone());
                }
            }
        }
        seen.into_iter().map(|id| self.names[&id].clone()).collect()
    }
}

#[test]
fn each_crate_depends_only_on_the_layers_below_it() {
    let ws = workspace();
    let ours: BTreeSet<&str> = LAYERS.iter().map(|(name, _)| *name).collect();
    for (name, allowed) in LAYERS {
        let used: BTreeSet<String> = ws.direct(name).into_iter().filter(|d| ours.contains(d.as_str())).collect();
        let allowed: BTreeSet<String> = allowed.iter().map(|s| s.to_string()).collect();
        let extra: Vec<&String> = used.difference(&allowed).collect();
        assert!(extra.is_empty(), "{name} depends on {extra:?}, which docs/ARCHITECTURE.md puts above it");
    }
    let members: BTreeSet<&str> =
        ws.packages.iter().filter(|p| p["source"].is_null()).map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(members, ours, "every crate of the workspace has its place in LAYERS");
}

#[test]
fn the_core_cannot_reach_io_or_the_clock() {
    let ws = workspace();
    let reach = ws.closure("sorsync-core");
    let io: Vec<&&str> = IO_CRATES.iter().filter(|c| reach.contains(**c)).collect();
    assert!(io.is_empty(), "sorsync-core builds on {io:?}: the core must not be able to do IO");
    // chrono's `clock` feature is what gives `Utc::now`: the core declares chrono without it.
    let core = ws.packages.iter().find(|p| p["name"] == "sorsync-core").unwrap();
    for dep in core["dependencies"].as_array().unwrap() {
        if dep["kind"].is_null() && dep["name"] == "chrono" {
            assert_eq!(dep["uses_default_features"], false, "chrono's default features include the clock");
            let features: Vec<&str> = dep["features"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
            assert!(!features.contains(&"clock"), "sorsync-core asks chrono for the clock: {features:?}");
        }
    }
}

#[test]
fn the_core_source_opens_no_file_socket_or_clock() {
    // Features are unified across a workspace build, so the core could still compile a call that
    // its own dependencies would not allow; the text is checked too.
    let forbidden =
        ["std::fs", "std::net", "std::process", "std::env", "Utc::now", "Local::now", "SystemTime", "Instant::now"];
    let mut found = Vec::new();
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/core/src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for (n, line) in text.lines().enumerate() {
                    let code = line.split("//").next().unwrap_or("");
                    for f in forbidden.iter().filter(|f| code.contains(**f)) {
                        found.push(format!("{}:{}: {f}", path.display(), n + 1));
                    }
                }
            }
        }
    }
    assert!(found.is_empty(), "the core does IO or reads the clock:\n{}", found.join("\n"));
}
