//! Stand-in for the SOR update service (SORUS): keeps a SOR tree in memory, accepts the SOAP
//! requests of [`crate::sorus::envelope`] (create, update, move, close, lookup by idempotency key),
//! assigns new valid SOR-IDs, and serves the current state as SOR XML 1.0.0 at `GET /sor.xml`.
//!
//! A repeated idempotency key (`MessageID`) returns the first outcome and changes nothing.
//! Faults are injected per request from a seeded generator: a 500 with a temporary fault before
//! applying (`fail_rate`), a hang beyond the client's timeout (`timeout_rate`) and a dropped
//! connection (`drop_rate`); the last two apply the change first in half the cases, so the client
//! cannot know the outcome and must look the key up. Binds loopback only.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::domain::{FkUuid, SorId, SorKind, SorTree, SorUnit, TreeError};
use crate::port::{ChangeOutcome, FieldValue, IdempotencyKey, SorChange};
use crate::sorus::envelope::{self, Fault, Operation, Request, RequestBody};

/// Where the SOAP service is served: SORUS v3's published path.
pub const SERVICE_PATH: &str = crate::sorus::envelope::SORUS_V3_PATH;
/// The current state as SOR XML 1.0.0.
pub const SOR_XML_PATH: &str = "/sor.xml";
/// Counters as JSON.
pub const STATS_PATH: &str = "/stats";
pub const HEALTH_PATH: &str = "/health";

/// How the stand-in behaves.
#[derive(Debug, Clone)]
pub struct SorStandInOptions {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Share of SOAP requests (0.0 to 1.0) answered 500 with a temporary fault, not applied.
    pub fail_rate: f64,
    /// Share of SOAP requests that hang for `hang` (half of them applied first).
    pub timeout_rate: f64,
    /// Share of SOAP requests whose connection is closed without an answer (half applied first).
    pub drop_rate: f64,
    /// Added to every SOAP request before it is answered.
    pub latency: Duration,
    /// How long a "timeout" request hangs: longer than the client's timeout.
    pub hang: Duration,
    /// Seed for the fault injection, so that a run can be repeated.
    pub seed: u64,
    /// `RegionCode` written in EAN entities of `GET /sor.xml`.
    pub region: u32,
    /// The day changes are stamped with (UpdatedAt) and closures are judged on; `None` = today (UTC).
    pub today: Option<NaiveDate>,
    /// A file that keeps every applied change (one JSON line each, written before the answer):
    /// on start the changes in it are applied again on top of the initial data, so a restarted
    /// stand-in knows its keys and never hands out a SOR-ID twice. `None`: memory only.
    pub state: Option<std::path::PathBuf>,
}

impl Default for SorStandInOptions {
    fn default() -> Self {
        SorStandInOptions {
            port: 0,
            fail_rate: 0.0,
            timeout_rate: 0.0,
            drop_rate: 0.0,
            latency: Duration::ZERO,
            hang: Duration::from_secs(60),
            seed: 0,
            region: 1084,
            today: None,
            state: None,
        }
    }
}

impl SorStandInOptions {
    /// Checks the rates: each between 0 and 1, and together at most 1.
    pub fn check(&self) -> Result<(), String> {
        let rates = [("fail", self.fail_rate), ("timeout", self.timeout_rate), ("drop", self.drop_rate)];
        for (name, r) in rates {
            if !(0.0..=1.0).contains(&r) {
                return Err(format!("--{name}-rate must be between 0.0 and 1.0, got {r}"));
            }
        }
        if self.fail_rate + self.timeout_rate + self.drop_rate > 1.0 {
            return Err("--fail-rate, --timeout-rate and --drop-rate together must not exceed 1.0".into());
        }
        Ok(())
    }
}

/// What the stand-in has done, as counted so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SorStandInStats {
    /// SOAP requests received, whatever became of them.
    pub requests: u64,
    /// Changes applied (each key once).
    pub applied: u64,
    /// Requests with a key already applied, answered with the first outcome.
    pub replayed: u64,
    pub lookups: u64,
    /// Requests refused with a permanent fault (unreadable, or breaking a rule).
    pub rejected: u64,
    pub injected_failures: u64,
    pub injected_timeouts: u64,
    pub injected_drops: u64,
    /// Hangs and drops that applied the change before losing the answer: the client cannot know
    /// the outcome and must look the key up.
    pub lost_answers_after_applying: u64,
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    applied: AtomicU64,
    replayed: AtomicU64,
    lookups: AtomicU64,
    rejected: AtomicU64,
    injected_failures: AtomicU64,
    injected_timeouts: AtomicU64,
    injected_drops: AtomicU64,
    lost_answers_after_applying: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> SorStandInStats {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        SorStandInStats {
            requests: g(&self.requests),
            applied: g(&self.applied),
            replayed: g(&self.replayed),
            lookups: g(&self.lookups),
            rejected: g(&self.rejected),
            injected_failures: g(&self.injected_failures),
            injected_timeouts: g(&self.injected_timeouts),
            injected_drops: g(&self.injected_drops),
            lost_answers_after_applying: g(&self.lost_answers_after_applying),
        }
    }
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// One applied change, remembered by its key.
struct Applied {
    change: SorChange,
    outcome: ChangeOutcome,
}

/// The register's state.
struct Register {
    units: Vec<SorUnit>,
    index: HashMap<SorId, usize>,
    /// The next running number to try for a new SOR-ID: above every one in use.
    next_running: u64,
    applied: HashMap<IdempotencyKey, Applied>,
    /// Units created through the service, in order, with the FK-ORG unit each was made for.
    created: Vec<(FkUuid, SorId)>,
    /// Where applied changes are recorded (`SorStandInOptions::state`).
    journal: Option<Journal>,
}

/// One line of the state file: an applied change with its key, outcome and day.
#[derive(Debug, Serialize, serde::Deserialize)]
struct JournalEntry {
    key: IdempotencyKey,
    change: SorChange,
    outcome: ChangeOutcome,
    today: NaiveDate,
}

/// The state file, open for appending.
struct Journal {
    path: std::path::PathBuf,
    file: std::fs::File,
}

impl Journal {
    fn append(&mut self, entry: &JournalEntry) -> std::io::Result<()> {
        use std::io::Write as _;
        let mut line = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
        line.push(b'\n');
        self.file.write_all(&line)?;
        self.file.sync_data()
    }
}

/// Above this, a running number with namespace, partition and check digit would not fit in a `u64`.
const MAX_RUNNING_NUMBER: u64 = 1_000_000_000;

/// The running number of a SOR-ID: the digits before namespace, partition and check digit.
fn running_number(id: SorId) -> u64 {
    id.as_u64() / 10_000_000_000
}

impl Register {
    fn new(units: Vec<SorUnit>) -> Self {
        let index = units.iter().enumerate().map(|(i, u)| (u.sor_id, i)).collect();
        let next_running = units.iter().map(|u| running_number(u.sor_id)).max().unwrap_or(0) + 1;
        Register { units, index, next_running, applied: HashMap::new(), created: Vec::new(), journal: None }
    }

    /// Applies the changes recorded in the state file `path` (if it exists) again, each with the
    /// SOR-ID it was given then, and records every later change there.
    fn restore(&mut self, path: &std::path::Path) -> std::io::Result<()> {
        let bad = |line: usize, problem: String| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("state file {}, line {line}: {problem}", path.display()),
            )
        };
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(std::io::Error::new(e.kind(), format!("state file {}: {e}", path.display()))),
        };
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let entry: JournalEntry =
                serde_json::from_str(line).map_err(|e| bad(n + 1, format!("not a recorded change ({e})")))?;
            let next_running = self.next_running;
            if let ChangeOutcome::Created { sor_id } = entry.outcome {
                if self.index.contains_key(&sor_id) {
                    return Err(bad(n + 1, format!("SOR-ID {sor_id} is in the data already")));
                }
                // The unused id that `new_sor_id` hands out next is the one recorded.
                self.next_running = running_number(sor_id);
            }
            let outcome = self
                .apply(&entry.change, entry.today)
                .map_err(|f| bad(n + 1, format!("cannot be applied again: {}", f.message)))?;
            if outcome != entry.outcome {
                return Err(bad(n + 1, format!("applied again it gives {outcome:?}, not {:?}", entry.outcome)));
            }
            self.next_running = self.next_running.max(next_running);
            self.applied.insert(entry.key, Applied { change: entry.change, outcome });
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| std::io::Error::new(e.kind(), format!("state file {}: {e}", path.display())))?;
        self.journal = Some(Journal { path: path.to_path_buf(), file });
        Ok(())
    }

    fn unit(&self, id: SorId) -> Result<&SorUnit, Fault> {
        self.index
            .get(&id)
            .map(|&i| &self.units[i])
            .ok_or_else(|| Fault::validation(format!("SOR-ID {id} is not in SOR")))
    }

    /// A parent a unit may be placed under: it exists, is open, and is not an institution owner.
    fn check_parent(&self, parent: SorId, today: NaiveDate) -> Result<(), Fault> {
        let p = self.unit(parent)?;
        if p.is_closed_on(today) {
            let to = p.to_date.map(|d| d.to_string()).unwrap_or_default();
            return Err(Fault::validation(format!("parent {parent} ({}) is closed (ToDate {to})", p.name)));
        }
        if p.kind == SorKind::InstitutionOwner {
            return Err(Fault::validation(format!(
                "parent {parent} ({}) is an institution owner; organisational units go under a health institution or another organisational unit",
                p.name
            )));
        }
        Ok(())
    }

    /// A SOR-ID never used before. Running numbers stop at 9 digits so that the id fits in 19.
    fn new_sor_id(&mut self) -> Result<SorId, Fault> {
        while self.next_running < MAX_RUNNING_NUMBER {
            let id = SorId::from_running_number(self.next_running);
            self.next_running += 1;
            if !self.index.contains_key(&id) {
                return Ok(id);
            }
        }
        Err(Fault::validation("no unused SOR-ID is left"))
    }

    /// Checks `change` against the rules and applies it, all or nothing.
    fn apply(&mut self, change: &SorChange, today: NaiveDate) -> Result<ChangeOutcome, Fault> {
        match change {
            SorChange::Create { parent, name, fk_uuid, fields, from_date } => {
                self.check_parent(*parent, today)?;
                let mut unit =
                    SorUnit::new(SorId::from_running_number(1), SorKind::OrganizationalUnit, "", Some(*parent));
                set_field(&mut unit, &FieldValue { field: "name".into(), value: Some(name.clone()) })?;
                for f in fields {
                    set_field(&mut unit, f)?;
                }
                unit.sor_id = self.new_sor_id()?;
                unit.from_date = Some(*from_date);
                unit.first_from_date = Some(*from_date);
                unit.updated_at = Some(today);
                let id = unit.sor_id;
                self.index.insert(id, self.units.len());
                self.units.push(unit);
                self.created.push((*fk_uuid, id));
                Ok(ChangeOutcome::Created { sor_id: id })
            }
            SorChange::Update { sor_id, fields } => {
                let unit = self.unit(*sor_id)?;
                if unit.is_closed_on(today) {
                    return Err(Fault::validation(format!("unit {sor_id} ({}) is closed", unit.name)));
                }
                let mut updated = unit.clone();
                for f in fields {
                    set_field(&mut updated, f)?;
                }
                updated.updated_at = Some(today);
                let i = self.index[sor_id];
                self.units[i] = updated;
                Ok(ChangeOutcome::Done)
            }
            SorChange::Move { sor_id, new_parent } => {
                let unit = self.unit(*sor_id)?;
                if unit.kind != SorKind::OrganizationalUnit {
                    return Err(Fault::validation(format!(
                        "only organisational units can be moved; {sor_id} is {}",
                        unit.kind.code()
                    )));
                }
                self.check_parent(*new_parent, today)?;
                // The new parent must not be the unit itself nor one of its descendants.
                let mut at = Some(*new_parent);
                while let Some(a) = at {
                    if a == *sor_id {
                        return Err(Fault::validation(format!(
                            "{new_parent} is {sor_id} itself or lies under it: the move would make a cycle"
                        )));
                    }
                    at = self.unit(a).ok().and_then(|u| u.parent);
                }
                let i = self.index[sor_id];
                self.units[i].parent = Some(*new_parent);
                self.units[i].updated_at = Some(today);
                Ok(ChangeOutcome::Done)
            }
            SorChange::Close { sor_id, to_date } => {
                let unit = self.unit(*sor_id)?;
                if let Some(from) = unit.from_date.filter(|f| f > to_date) {
                    return Err(Fault::validation(format!("ToDate {to_date} is before the unit's FromDate {from}")));
                }
                let i = self.index[sor_id];
                self.units[i].to_date = Some(*to_date);
                self.units[i].updated_at = Some(today);
                Ok(ChangeOutcome::Done)
            }
        }
    }

    /// Answers a change with its key: the first outcome for a known key, else applies it.
    fn handle_change(
        &mut self,
        key: &IdempotencyKey,
        change: &SorChange,
        today: NaiveDate,
        counters: &Counters,
    ) -> Result<ChangeOutcome, Fault> {
        if let Some(done) = self.applied.get(key) {
            if done.change != *change {
                bump(&counters.rejected);
                return Err(Fault::validation(format!("MessageID {key} was already used for another change")));
            }
            bump(&counters.replayed);
            return Ok(done.outcome.clone());
        }
        match self.apply(change, today) {
            Ok(outcome) => {
                bump(&counters.applied);
                self.applied.insert(key.clone(), Applied { change: change.clone(), outcome: outcome.clone() });
                if let Some(journal) = &mut self.journal {
                    // Applied in memory either way (a lookup by key finds it); the answer says
                    // the state file could not keep it.
                    let entry =
                        JournalEntry { key: key.clone(), change: change.clone(), outcome: outcome.clone(), today };
                    if let Err(e) = journal.append(&entry) {
                        tracing::error!(error = %e, path = %journal.path.display(), "Cannot record the change.");
                        return Err(Fault::busy(format!("the stand-in cannot record its state: {e}")));
                    }
                }
                Ok(outcome)
            }
            Err(f) => {
                bump(&counters.rejected);
                Err(f)
            }
        }
    }
}

/// Sets one field of a unit, checking its value.
fn set_field(unit: &mut SorUnit, f: &FieldValue) -> Result<(), Fault> {
    let value = f.value.as_deref().map(str::trim).filter(|v| !v.is_empty());
    match (f.field.as_str(), value) {
        ("name", Some(v)) => unit.name = v.to_string(),
        ("name", None) => return Err(Fault::validation("the name is empty")),
        ("address", Some(v)) => {
            let a = crate::domain::parse_fk_address(v)
                .filter(|a| !a.street.is_empty() && a.postcode.len() == 4)
                .ok_or_else(|| Fault::validation(format!("address {v:?} is not \"street number, postcode town\"")))?;
            unit.own.postal = Some(a);
        }
        ("address", None) => unit.own.postal = None,
        ("phone", Some(v)) => {
            if v.chars().filter(char::is_ascii_digit).count() < 8 {
                return Err(Fault::validation(format!("phone {v:?} has fewer than 8 digits")));
            }
            unit.own.phone = Some(v.to_string());
        }
        ("phone", None) => unit.own.phone = None,
        ("email", Some(v)) => {
            if !v.contains('@') || v.contains(char::is_whitespace) {
                return Err(Fault::validation(format!("email {v:?} is not an email address")));
            }
            unit.own.email = Some(v.to_string());
        }
        ("email", None) => unit.own.email = None,
        (other, _) => return Err(Fault::validation(format!("field {other:?} cannot be changed"))),
    }
    Ok(())
}

struct Shared {
    register: Mutex<Register>,
    counters: Counters,
    /// Woken on every SOAP request, for [`SorStandIn::wait_for_requests`].
    request_seen: tokio::sync::Notify,
    rng: Mutex<ChaCha8Rng>,
    opts: SorStandInOptions,
}

impl Shared {
    fn today(&self) -> NaiveDate {
        self.opts.today.unwrap_or_else(|| chrono::Utc::now().date_naive())
    }
    fn register(&self) -> std::sync::MutexGuard<'_, Register> {
        self.register.lock().unwrap_or_else(|p| p.into_inner())
    }
    /// One draw per request: the fault, and whether a hang or drop applies the change first.
    fn draw_fault(&self) -> Injected {
        let o = &self.opts;
        if o.fail_rate <= 0.0 && o.timeout_rate <= 0.0 && o.drop_rate <= 0.0 {
            return Injected::None;
        }
        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        let (r, apply_first) = (rng.gen::<f64>(), rng.gen::<bool>());
        if r < o.fail_rate {
            Injected::Fail
        } else if r < o.fail_rate + o.timeout_rate {
            Injected::Hang { apply_first }
        } else if r < o.fail_rate + o.timeout_rate + o.drop_rate {
            Injected::Drop { apply_first }
        } else {
            Injected::None
        }
    }
}

enum Injected {
    None,
    Fail,
    Hang { apply_first: bool },
    Drop { apply_first: bool },
}

/// A running stand-in: its address, its state, and the way to stop it.
pub struct SorStandIn {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for SorStandIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SorStandIn").field("addr", &self.addr).finish_non_exhaustive()
    }
}

impl SorStandIn {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// The SOAP endpoint, for `[sor] url`.
    pub fn service_url(&self) -> String {
        format!("http://{}{SERVICE_PATH}", self.addr)
    }
    /// Every unit as it stands now (own values; inheritance is applied by [`SorStandIn::tree`]).
    pub fn units(&self) -> Vec<SorUnit> {
        self.shared.register().units.clone()
    }
    /// The current state as a checked tree with inheritance applied.
    pub fn tree(&self) -> Result<SorTree, TreeError> {
        SorTree::new(self.units())
    }
    /// Units created through the service, in order, with the FK-ORG unit each was made for.
    pub fn created(&self) -> Vec<(FkUuid, SorId)> {
        self.shared.register().created.clone()
    }
    /// SOAP requests received so far (also `GET /stats`).
    pub fn requests_seen(&self) -> u64 {
        self.shared.counters.requests.load(Ordering::Relaxed)
    }
    /// Returns once at least `n` SOAP requests have arrived (e.g. to kill a client mid-batch).
    pub async fn wait_for_requests(&self, n: u64) {
        loop {
            // Registered before the check, so a request arriving in between is not missed.
            let notified = self.shared.request_seen.notified();
            if self.requests_seen() >= n {
                return;
            }
            notified.await;
        }
    }
    pub fn stats(&self) -> SorStandInStats {
        self.shared.counters.snapshot()
    }
    /// Stops accepting connections. Requests already being answered finish on their own.
    pub async fn shutdown(self) {
        self.task.abort();
        let _ = self.task.await;
    }
    /// Waits until the server stops (it only stops on an error).
    pub async fn join(self) -> Result<(), tokio::task::JoinError> {
        self.task.await
    }
}

/// Starts the stand-in on 127.0.0.1 (port from `opts`, 0 = any free port) with `tree` as the
/// initial state.
pub async fn spawn(tree: SorTree, opts: SorStandInOptions) -> std::io::Result<SorStandIn> {
    opts.check().map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let listener = tokio::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, opts.port)).await?;
    let addr = listener.local_addr()?;
    let mut register = Register::new(tree.units);
    if let Some(path) = &opts.state {
        register.restore(path)?;
    }
    let shared = Arc::new(Shared {
        register: Mutex::new(register),
        counters: Counters::default(),
        request_seen: tokio::sync::Notify::new(),
        rng: Mutex::new(ChaCha8Rng::seed_from_u64(opts.seed)),
        opts,
    });
    let app = Router::new()
        .route(SERVICE_PATH, post(soap))
        .route(SOR_XML_PATH, get(sor_xml))
        .route(STATS_PATH, get(stats))
        .route(HEALTH_PATH, get(|| async { "ok" }))
        .with_state(shared.clone());
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "SOR stand-in stopped");
        }
    });
    Ok(SorStandIn { addr, shared, task })
}

fn xml_response(status: StatusCode, xml: Result<String, envelope::EnvelopeError>) -> Response {
    match xml {
        Ok(x) => (status, [(header::CONTENT_TYPE, "text/xml; charset=utf-8")], x).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot write a SOAP answer");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// SOAP 1.1 sends faults with HTTP 500.
fn fault_response(f: &Fault) -> Response {
    xml_response(StatusCode::INTERNAL_SERVER_ERROR, envelope::build_fault(f))
}

/// A body that fails at once: the server closes the connection without a complete answer.
struct Broken;

impl futures_core::Stream for Broken {
    type Item = Result<Bytes, std::io::Error>;
    fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(Some(Err(std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "stand-in: injected drop"))))
    }
}

fn answer(shared: &Shared, request: &Request) -> Response {
    let today = shared.today();
    match &request.body {
        RequestBody::Lookup => {
            bump(&shared.counters.lookups);
            let found = shared.register().applied.get(&request.message_id).map(|a| a.outcome.clone());
            xml_response(StatusCode::OK, envelope::build_lookup_response(found.as_ref()))
        }
        RequestBody::Change(change) => {
            let result = shared.register().handle_change(&request.message_id, change, today, &shared.counters);
            match result {
                Ok(outcome) => xml_response(
                    StatusCode::OK,
                    envelope::build_applied_response(Operation::of_change(change), &outcome),
                ),
                Err(f) => fault_response(&f),
            }
        }
    }
}

/// SOAP 1.1 over HTTP names the operation in the `SOAPAction` header too; it must match the Body.
fn check_soap_action(headers: &HeaderMap, request: &Request) -> Result<(), Fault> {
    let expected = request.body.operation().soap_action();
    let Some(action) = headers.get("SOAPAction") else {
        return Err(Fault::malformed(format!("missing header SOAPAction (expected \"{expected}\")")));
    };
    let action = action.to_str().unwrap_or("").trim().trim_matches('"');
    if action != expected {
        return Err(Fault::malformed(format!("header SOAPAction {action:?} does not match the Body ({expected:?})")));
    }
    Ok(())
}

async fn soap(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    bump(&shared.counters.requests);
    shared.request_seen.notify_waiters();
    if !shared.opts.latency.is_zero() {
        tokio::time::sleep(shared.opts.latency).await;
    }
    let request = match envelope::parse_request(&body) {
        Ok(r) => r,
        Err(e) => {
            bump(&shared.counters.rejected);
            return fault_response(&Fault::malformed(format!("the request cannot be read: {e}")));
        }
    };
    if let Err(f) = check_soap_action(&headers, &request) {
        bump(&shared.counters.rejected);
        return fault_response(&f);
    }
    match shared.draw_fault() {
        Injected::None => answer(&shared, &request),
        Injected::Fail => {
            bump(&shared.counters.injected_failures);
            fault_response(&Fault::busy("stand-in: injected failure (--fail-rate); nothing was changed"))
        }
        Injected::Hang { apply_first } => {
            bump(&shared.counters.injected_timeouts);
            let response = apply_first.then(|| {
                bump(&shared.counters.lost_answers_after_applying);
                answer(&shared, &request)
            });
            tokio::time::sleep(shared.opts.hang).await;
            response.unwrap_or_else(|| {
                fault_response(&Fault {
                    code: "Server.Timeout".into(),
                    message: "stand-in: injected hang (--timeout-rate)".into(),
                })
            })
        }
        Injected::Drop { apply_first } => {
            bump(&shared.counters.injected_drops);
            if apply_first {
                bump(&shared.counters.lost_answers_after_applying);
                let _ = answer(&shared, &request);
            }
            Response::new(Body::from_stream(Broken))
        }
    }
}

async fn sor_xml(State(shared): State<Arc<Shared>>) -> Response {
    let units = shared.register().units.clone();
    let mut out = Vec::new();
    match crate::generate::sor_writer::write_sor_tree(&mut out, shared.today(), &units, shared.opts.region) {
        Ok(()) => ([(header::CONTENT_TYPE, "application/xml; charset=utf-8")], out).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot write the SOR XML");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn stats(State(shared): State<Arc<Shared>>) -> Json<SorStandInStats> {
    Json(shared.counters.snapshot())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    fn register() -> Register {
        let ie = SorUnit::new(SorId::from_running_number(10), SorKind::InstitutionOwner, "Kommune", None);
        let si = SorUnit::new(SorId::from_running_number(11), SorKind::HealthInstitution, "Sundhed", Some(ie.sor_id));
        let a = SorUnit::new(SorId::from_running_number(12), SorKind::OrganizationalUnit, "A", Some(si.sor_id));
        let b = SorUnit::new(SorId::from_running_number(13), SorKind::OrganizationalUnit, "B", Some(a.sor_id));
        Register::new(vec![ie, si, a, b])
    }

    fn create(parent: SorId) -> SorChange {
        SorChange::Create {
            parent,
            name: "Ny enhed".into(),
            fk_uuid: FkUuid::parse("0b0e5a2e-6d38-4c1b-9c39-8e3f1a6f1a01").unwrap(),
            fields: vec![],
            from_date: day(1),
        }
    }

    #[test]
    fn new_sor_ids_are_valid_and_above_every_running_number_in_use() {
        let mut r = register();
        let ChangeOutcome::Created { sor_id } = r.apply(&create(SorId::from_running_number(11)), day(22)).unwrap()
        else {
            panic!("a create gives a SOR-ID")
        };
        assert_eq!(SorId::parse(&sor_id.to_string()), Ok(sor_id));
        assert_eq!(running_number(sor_id), 14);
    }

    #[test]
    fn sor_ids_run_out_with_a_fault_instead_of_overflowing() {
        let mut r = register();
        r.next_running = MAX_RUNNING_NUMBER - 1;
        assert!(r.apply(&create(SorId::from_running_number(11)), day(22)).is_ok());
        let f = r.apply(&create(SorId::from_running_number(11)), day(22)).unwrap_err();
        assert!(!f.is_temporary() && f.message.contains("SOR-ID"), "{f:?}");
        assert_eq!(r.units.len(), 5);
    }

    #[test]
    fn a_move_under_its_own_descendant_is_refused() {
        let mut r = register();
        let m = SorChange::Move { sor_id: SorId::from_running_number(12), new_parent: SorId::from_running_number(13) };
        assert!(r.apply(&m, day(22)).unwrap_err().message.contains("cycle"));
    }

    #[test]
    fn nothing_goes_directly_under_an_institution_owner() {
        let mut r = register();
        assert!(r.apply(&create(SorId::from_running_number(10)), day(22)).is_err());
        assert_eq!(r.units.len(), 4);
    }

    #[test]
    fn a_failed_update_changes_nothing() {
        let mut r = register();
        let id = SorId::from_running_number(12);
        let u = SorChange::Update {
            sor_id: id,
            fields: vec![
                FieldValue { field: "name".into(), value: Some("Renamed".into()) },
                FieldValue { field: "phone".into(), value: Some("12".into()) },
            ],
        };
        assert!(r.apply(&u, day(22)).is_err());
        assert_eq!(r.unit(id).unwrap().name, "A");
    }
}
