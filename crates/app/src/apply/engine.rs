//! The exactly-once engine: sends a plan's changes to SOR and FK-ORG.
//!
//! - Every change's idempotency key is recorded in the store (state 'sending') BEFORE the call,
//!   and 'applied' with the outcome (or 'failed' with the reason) after it, together with its
//!   audit-log entry.
//! - A change found in 'sending' (an earlier run died, or lost the answer) is settled first by
//!   asking SOR ([`SorWriter::lookup`]); only when SOR has no change with that key is it sent again,
//!   with the same key. So nothing is created twice.
//! - One apply at a time per municipality: the store's apply lock is held for the whole run; a
//!   second apply is refused ([`ApplyError::Busy`]).
//! - The plan file is not trusted: every step is checked against the store (still approved, and
//!   exactly what the stored proposal makes) before anything is sent.
//! - Temporary failures are retried with exponential backoff and jitter within a time budget per
//!   change ([`crate::apply::retry`]); before every resend SOR is asked whether it has the key
//!   already (a timeout or a dropped connection may have applied it); when the budget runs out, the change stays 'sending' (a re-run settles it) and nothing
//!   more is sent in this run (the register is down). Permanent failures are quarantined ('failed',
//!   with the reason) and the rest of the batch goes on.
//! - Closures are limited per municipality and day ([`ClosureLimit`], [`closures_left`]; the day
//!   is the UTC day of [`ApplyOptions::now`], read by the caller): the closures sent today by
//!   any plan count, so re-planning does not reset the limit; the excess is held back and listed,
//!   and goes through only when named (`allow_closures`, recorded in the audit log). Never
//!   all-or-nothing.
//! - The actor must be an operator or a SOR administrator of the plan's municipality.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::closures::{closures_left, ClosureLimit, SentClosure};
use super::fresh::{changes_since, RegisterChanged};
use super::plan::{require_operator, Plan, PlanStep, PlannedChange};
use super::port::{ChangeOutcome, FkWriteBack, IdempotencyKey, SorChange, SorWriter, WriteError};
use super::retry::{retry_with_backoff, RetryPolicy};
use super::verify::{refused_step, StepRefused};
use crate::domain::{KommuneKode, SorId};
use crate::review::{Actor, ReviewError};
use crate::store::{
    ApplyLock, ChangeEnd, ChangeFinished, ChangeRecord, ChangeState, NewAuditEntry, NewChange, Store, StoreError,
};

/// How to apply a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplyOptions {
    /// Closures to make even over the limit.
    pub allow_closures: Vec<SorId>,
    pub closure_limit: ClosureLimit,
    pub retry: RetryPolicy,
    /// Send changes quarantined by an earlier run again (after the cause was fixed).
    pub retry_failed: bool,
    /// When the apply runs: its UTC day is the day of the closure limit. The caller reads the clock.
    pub now: DateTime<Utc>,
}

impl ApplyOptions {
    /// The default options for an apply at `now` (no default time: a forgotten clock must not
    /// put the closure limit on another day).
    pub fn at(now: DateTime<Utc>) -> Self {
        ApplyOptions {
            allow_closures: Vec::new(),
            closure_limit: ClosureLimit::default(),
            retry: RetryPolicy::default(),
            retry_failed: false,
            now,
        }
    }
}

/// What became of one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// Applied by this run.
    Applied,
    /// Applied by an earlier run.
    AlreadyApplied,
    /// Sent by an earlier run that did not record the answer; SOR has it (found by key).
    FoundApplied,
    /// A closure over the limit, not named in `allow_closures`.
    HeldBack,
    /// Rejected by the register (this run or an earlier one): not retried.
    Quarantined,
    /// Waits for a create that did not apply.
    Blocked,
    /// Temporary failures beyond the time budget, or not tried after one: re-run apply.
    Unfinished,
}

impl StepStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Applied => "applied",
            StepStatus::AlreadyApplied => "already applied",
            StepStatus::FoundApplied => "found applied",
            StepStatus::HeldBack => "held back",
            StepStatus::Quarantined => "quarantined",
            StepStatus::Blocked => "blocked",
            StepStatus::Unfinished => "unfinished",
        }
    }
}

/// One step's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepReport {
    pub key: IdempotencyKey,
    pub proposal_id: i64,
    pub op: &'static str,
    pub label: String,
    pub status: StepStatus,
    /// The SOR unit (for a create: the one SOR assigned).
    pub sor_id: Option<SorId>,
    /// Why it failed, was held back or blocked.
    pub detail: Option<String>,
    /// Calls made in this run.
    pub attempts: u32,
}

/// What applying a plan did, step by step in plan order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApplyReport {
    pub plan_id: String,
    pub kommune: KommuneKode,
    /// Closures the plan may make without naming them.
    pub closure_limit: usize,
    pub steps: Vec<StepReport>,
}

impl ApplyReport {
    pub fn with_status(&self, status: StepStatus) -> impl Iterator<Item = &StepReport> {
        self.steps.iter().filter(move |s| s.status == status)
    }

    pub fn count(&self, status: StepStatus) -> usize {
        self.with_status(status).count()
    }

    /// 0 when every change is applied; 2 when something was held back, quarantined or blocked;
    /// 1 when something is unfinished (temporary failures beyond the budget: re-run).
    pub fn exit_code(&self) -> u8 {
        if self.count(StepStatus::Unfinished) > 0 {
            1
        } else if self.count(StepStatus::HeldBack)
            + self.count(StepStatus::Quarantined)
            + self.count(StepStatus::Blocked)
            > 0
        {
            2
        } else {
            0
        }
    }

    /// One line per status that occurred, e.g. `applied 12, held back 3`.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = [
            StepStatus::Applied,
            StepStatus::AlreadyApplied,
            StepStatus::FoundApplied,
            StepStatus::HeldBack,
            StepStatus::Quarantined,
            StepStatus::Blocked,
            StepStatus::Unfinished,
        ]
        .into_iter()
        .map(|s| (s, self.count(s)))
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| format!("{} {n}", s.as_str()))
        .collect();
        if parts.is_empty() {
            "nothing to do".to_string()
        } else {
            parts.join(", ")
        }
    }
}

/// Why a plan was not applied at all.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    NotPermitted(#[from] ReviewError),
    #[error("the plan is stale, nothing was applied (make a new plan with `sorsync plan`): {}", describe(.0))]
    Stale(Vec<RegisterChanged>),
    #[error("the plan is not what was approved, nothing was applied (make a new plan with `sorsync plan`): {0}")]
    NotApproved(StepRefused),
    #[error(
        "another apply for municipality {kommune} is running ({holder}); nothing was applied: wait for it to end and run apply again"
    )]
    Busy { kommune: KommuneKode, holder: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn describe(changes: &[RegisterChanged]) -> String {
    changes.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

/// Calls `call(n)` (n = 0, 1, ...) through the retry helper; returns the result and the number of calls.
async fn counted<T, Fut>(policy: &RetryPolicy, call: impl Fn(u32) -> Fut) -> (Result<T, WriteError>, u32)
where
    Fut: Future<Output = Result<T, WriteError>>,
{
    let calls = AtomicU32::new(0);
    let result = retry_with_backoff(policy, |n| {
        calls.fetch_add(1, Ordering::Relaxed);
        call(n)
    })
    .await;
    (result, calls.into_inner())
}

fn report(
    step: &PlanStep,
    status: StepStatus,
    sor_id: Option<SorId>,
    detail: Option<String>,
    attempts: u32,
) -> StepReport {
    StepReport {
        key: step.key.clone(),
        proposal_id: step.proposal_id,
        op: step.change.op(),
        label: step.label.clone(),
        status,
        sor_id: sor_id.or_else(|| step.change.sor_id()),
        detail,
        attempts,
    }
}

/// A change another process settled while this run sent it (it was no longer 'sending').
fn settled_elsewhere(step: &PlanStep, attempts: u32) -> StepReport {
    let detail = "another apply settled this change meanwhile: run apply again to see its outcome".to_string();
    report(step, StepStatus::Unfinished, None, Some(detail), attempts)
}

/// The audit log's action for closures named with `--allow-closures` (detail: the SOR-IDs).
const ALLOW_CLOSURES: &str = "allow_closures";

/// When the store stamped a record; one it cannot read counts as now (so it counts against
/// today's closure limit rather than slipping past it).
fn stamped(stamp: &str, now: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(stamp).map_or(now, |t| t.with_timezone(&Utc))
}

/// The closures held back: over the limit ([`closures_left`] today), not named, not sent before.
/// Named closures are those of `opts.allow_closures` and `named_today`.
fn held_closures(
    plan: &Plan,
    known: &HashMap<String, ChangeRecord>,
    named_today: &HashSet<SorId>,
    opts: &ApplyOptions,
) -> HashSet<IdempotencyKey> {
    let allowed: HashSet<SorId> = opts.allow_closures.iter().copied().collect();
    let named: HashSet<SorId> = named_today.union(&allowed).copied().collect();
    let sent =
        |key: &str| known.get(key).is_some_and(|r| matches!(r.state, ChangeState::Applied | ChangeState::Sending));
    let plan_keys: HashSet<&str> = plan.steps.iter().map(|s| s.key.0.as_str()).collect();
    let sent_before: Vec<SentClosure> = known
        .values()
        .filter(|r| r.op == "close" && sent(&r.key))
        .map(|r| SentClosure {
            sor_id: r.sor_id.as_deref().and_then(|s| SorId::parse(s).ok()),
            sent_at: stamped(&r.started_at, opts.now),
            in_this_plan: plan_keys.contains(r.key.as_str()),
        })
        .collect();
    let mut left = closures_left(&opts.closure_limit, plan.sor_units, &sent_before, &named, opts.now);
    let mut held = HashSet::new();
    let closes = plan.steps.iter().filter(|s| matches!(s.change, PlannedChange::Close { .. }));
    for s in closes.filter(|s| !sent(&s.key.0)) {
        if s.change.sor_id().is_some_and(|id| allowed.contains(&id)) {
            continue;
        }
        if left > 0 {
            left -= 1;
        } else {
            held.insert(s.key.clone());
        }
    }
    held
}

/// The SOR-IDs named with `--allow-closures` for the plan's municipality on `now`'s day (UTC),
/// from the audit log.
async fn named_today(store: &Store, plan: &Plan, now: DateTime<Utc>) -> Result<HashSet<SorId>, StoreError> {
    let today = now.date_naive();
    Ok(store
        .audit_log(plan.kommune)
        .await?
        .into_iter()
        .filter(|e| e.action == ALLOW_CLOSURES && stamped(&e.at, now).date_naive() == today)
        .filter_map(|e| e.detail)
        .flat_map(|d| d.split(',').filter_map(|s| SorId::parse(s.trim()).ok()).collect::<Vec<_>>())
        .collect())
}

/// What recording a change before the call found.
enum Begun {
    /// Recorded as 'sending' by this run: send it.
    Ours,
    /// Already 'sending' (recorded by someone else): ask SOR before sending.
    InFlight,
    /// Already applied or quarantined.
    Settled(Box<StepReport>),
}

struct Run<'a, W, F> {
    store: &'a Store,
    plan: &'a Plan,
    writer: &'a W,
    fk: &'a F,
    actor: &'a Actor,
    opts: &'a ApplyOptions,
    created: HashMap<IdempotencyKey, SorId>,
}

/// Applies `plan` as `actor` (an operator or SOR administrator of its municipality), exactly once
/// per change: see the module documentation. Refuses a stale plan without sending anything.
#[tracing::instrument(skip_all, fields(kommune = %plan.kommune, plan = %plan.plan_id, user = %actor.user_name))]
pub async fn apply_plan<W: SorWriter, F: FkWriteBack>(
    store: &Store,
    plan: &Plan,
    writer: &W,
    fk: &F,
    actor: &Actor,
    opts: &ApplyOptions,
) -> Result<ApplyReport, ApplyError> {
    require_operator(store, actor, plan.kommune, "apply plans").await?;
    // Longer than one change can take, so a live apply never loses its SQLite lease between steps.
    let lease = opts.retry.budget + Duration::from_secs(600);
    let lock = match store.try_lock_apply(plan.kommune, lease).await? {
        Ok(lock) => lock,
        Err(holder) => return Err(ApplyError::Busy { kommune: plan.kommune, holder }),
    };
    let result = apply_locked(store, plan, writer, fk, actor, opts, &lock, lease).await;
    let unlocked = store.unlock_apply(lock).await;
    let report = result?;
    unlocked?;
    Ok(report)
}

#[allow(clippy::too_many_arguments)]
async fn apply_locked<W: SorWriter, F: FkWriteBack>(
    store: &Store,
    plan: &Plan,
    writer: &W,
    fk: &F,
    actor: &Actor,
    opts: &ApplyOptions,
    lock: &ApplyLock,
    lease: Duration,
) -> Result<ApplyReport, ApplyError> {
    let stale = changes_since(store, plan).await?;
    if !stale.is_empty() {
        return Err(ApplyError::Stale(stale));
    }
    if let Some(refused) = refused_step(store, plan).await? {
        return Err(ApplyError::NotApproved(refused));
    }
    let known: HashMap<String, ChangeRecord> =
        store.changes(plan.kommune).await?.into_iter().map(|c| (c.key.clone(), c)).collect();
    let limit = opts.closure_limit.limit(plan.sor_units);
    let named = named_today(store, plan, opts.now).await?;
    let held = held_closures(plan, &known, &named, opts);
    if !opts.allow_closures.is_empty() {
        let ids: Vec<String> = opts.allow_closures.iter().map(ToString::to_string).collect();
        let entry = NewAuditEntry {
            actor: actor.user_name.clone(),
            automatic: false,
            action: ALLOW_CLOSURES.to_string(),
            proposal_id: None,
            key: None,
            before: None,
            after: Some(serde_json::json!({ "plan_id": plan.plan_id, "allow_closures": ids }).to_string()),
            detail: Some(ids.join(",")),
        };
        store.append_audit(plan.kommune, &entry).await?;
    }
    let mut run = Run { store, plan, writer, fk, actor, opts, created: HashMap::new() };
    let mut steps = Vec::with_capacity(plan.steps.len());
    let mut stopped: Option<String> = None;
    for step in &plan.steps {
        store.renew_apply_lock(lock, lease).await?;
        let r = run.step(step, known.get(&step.key.0), &held, stopped.as_deref()).await?;
        if r.status == StepStatus::Unfinished && stopped.is_none() {
            stopped = Some(format!(
                "not sent: change {} met temporary failures beyond the time budget ({})",
                r.key,
                r.detail.clone().unwrap_or_default()
            ));
        }
        steps.push(r);
    }
    let report = ApplyReport { plan_id: plan.plan_id.clone(), kommune: plan.kommune, closure_limit: limit, steps };
    tracing::info!(summary = %report.summary(), "Plan applied.");
    Ok(report)
}

impl<W: SorWriter, F: FkWriteBack> Run<'_, W, F> {
    async fn step(
        &mut self,
        step: &PlanStep,
        known: Option<&ChangeRecord>,
        held: &HashSet<IdempotencyKey>,
        stopped: Option<&str>,
    ) -> Result<StepReport, StoreError> {
        let mut resend = false;
        match known.map(|r| r.state) {
            Some(ChangeState::Applied) => {
                let sor_id = known.and_then(|r| r.sor_id.as_deref()).and_then(|s| SorId::parse(s).ok());
                if let (PlannedChange::Create { .. }, Some(id)) = (&step.change, sor_id) {
                    self.created.insert(step.key.clone(), id);
                }
                return Ok(report(step, StepStatus::AlreadyApplied, sor_id, None, 0));
            }
            Some(ChangeState::Failed) if !self.opts.retry_failed => {
                let reason = known.and_then(|r| r.reason.clone());
                return Ok(report(step, StepStatus::Quarantined, None, reason, 0));
            }
            Some(ChangeState::Failed) => resend = true,
            Some(ChangeState::Sending) | None => {}
        }
        let in_flight = known.is_some_and(|r| r.state == ChangeState::Sending);
        if held.contains(&step.key) {
            let detail = "over the closure limit: name it with --allow-closures to close it".to_string();
            return Ok(report(step, StepStatus::HeldBack, None, Some(detail), 0));
        }
        if let Some(waits_for) = step.change.depends_on() {
            if !self.created.contains_key(waits_for) {
                let detail = format!("waits for create {waits_for}, which did not apply");
                return Ok(report(step, StepStatus::Blocked, None, Some(detail), 0));
            }
        }
        if let Some(why) = stopped {
            return Ok(report(step, StepStatus::Unfinished, None, Some(why.to_string()), 0));
        }
        match &step.change {
            PlannedChange::WriteBack { fk_uuid, sor } => {
                let sor_id = match sor {
                    super::plan::UnitRef::SorId(s) => *s,
                    super::plan::UnitRef::CreatedBy(k) => match self.created.get(k) {
                        Some(s) => *s,
                        None => {
                            let detail = format!("waits for create {k}, which did not apply");
                            return Ok(report(step, StepStatus::Blocked, None, Some(detail), 0));
                        }
                    },
                };
                // FK-ORG showing another SOR-ID already: a person must sort that out, not an
                // overwrite. Read live, not from the planning snapshot: a SOR-ID set in FK-ORG
                // since then counts. Held back without recording, so the next run reads again.
                let change_json =
                    serde_json::json!({ "fk_uuid": fk_uuid.to_string(), "sor_id": sor_id.to_string() }).to_string();
                let fk = self.fk;
                let (shown, read_attempts) = counted(&self.opts.retry, |_| fk.shown_sor_ids(fk_uuid)).await;
                let shown = match shown {
                    Ok(shown) => shown,
                    Err(WriteError::Temporary(reason)) => {
                        return Ok(report(step, StepStatus::Unfinished, Some(sor_id), Some(reason), read_attempts))
                    }
                    Err(e) => {
                        // Permanent (e.g. no such unit): recorded and quarantined like a failed write.
                        if !in_flight {
                            if let Begun::Settled(done) = self.begin(step, &change_json, Some(sor_id), resend).await? {
                                return Ok(*done);
                            }
                        }
                        return self.finish(step, Err(e), read_attempts, Some(sor_id), "write").await;
                    }
                };
                if let Some(other) = shown.iter().find(|s| **s != sor_id.to_string()) {
                    let detail = format!(
                        "FK-ORG unit {fk_uuid} already shows SOR-ID {other}, not {sor_id}: not overwritten; correct \
                         FK-ORG or the link first"
                    );
                    return Ok(report(step, StepStatus::HeldBack, Some(sor_id), Some(detail), read_attempts));
                }
                if !in_flight {
                    if let Begun::Settled(done) = self.begin(step, &change_json, Some(sor_id), resend).await? {
                        return Ok(*done);
                    }
                }
                // Writing the same SOR-ID twice leaves one address, so a write-back left 'sending'
                // is simply sent again.
                let (result, attempts) = counted(&self.opts.retry, |_| fk.write_sor_id(fk_uuid, &sor_id)).await;
                let attempts = attempts + read_attempts;
                self.finish(step, result.map(|()| ChangeOutcome::Done), attempts, Some(sor_id), "write").await
            }
            PlannedChange::EndWriteBack { fk_uuid, sor_id } => {
                let change_json =
                    serde_json::json!({ "fk_uuid": fk_uuid.to_string(), "end_sor_id": sor_id.to_string() }).to_string();
                if !in_flight {
                    if let Begun::Settled(done) = self.begin(step, &change_json, Some(*sor_id), resend).await? {
                        return Ok(*done);
                    }
                }
                // Ending a relation that is ended already sends nothing, so it is simply sent again.
                let fk = self.fk;
                let (result, attempts) = counted(&self.opts.retry, |_| fk.end_sor_id(fk_uuid, sor_id)).await;
                self.finish(step, result.map(|()| ChangeOutcome::Done), attempts, Some(*sor_id), "write").await
            }
            change => {
                let Some(sor_change) = change.to_sor_change(&self.created) else {
                    let detail = "waits for a create that did not apply".to_string();
                    return Ok(report(step, StepStatus::Blocked, None, Some(detail), 0));
                };
                let change_json = serde_json::to_string(&sor_change).unwrap_or_default();
                let mut ask_first = in_flight;
                if !in_flight {
                    match self.begin(step, &change_json, change.sor_id(), resend).await? {
                        Begun::Settled(done) => return Ok(*done),
                        Begun::Ours => {}
                        Begun::InFlight => ask_first = true,
                    }
                }
                // A change that may have reached SOR (in flight from an earlier run, or any attempt
                // after a temporary failure: a timeout or a dropped connection may have applied it)
                // is looked up by its key before it is sent again.
                // A create answered without a SOR-ID was applied (or not) with an answer we cannot
                // use: temporary, so the next attempt asks SOR by key.
                let (writer, key, sor_change) = (self.writer, &step.key, &sor_change);
                let is_create = matches!(sor_change, SorChange::Create { .. });
                let usable = move |outcome: ChangeOutcome, found: bool| {
                    if is_create && outcome == ChangeOutcome::Done {
                        Err(WriteError::Temporary(format!("SOR answered create {key} without a SOR-ID")))
                    } else {
                        Ok((outcome, found))
                    }
                };
                let (result, attempts) = counted(&self.opts.retry, |n| async move {
                    if n > 0 || ask_first {
                        if let Some(outcome) = writer.lookup(key).await? {
                            return usable(outcome, true);
                        }
                    }
                    usable(writer.apply(key, sor_change).await?, false)
                })
                .await;
                let action = if matches!(result, Ok((_, true))) { "write_found" } else { "write" };
                self.finish(step, result.map(|(outcome, _)| outcome), attempts, change.sor_id(), action).await
            }
        }
    }

    /// Records the key ('sending') before the call.
    async fn begin(
        &mut self,
        step: &PlanStep,
        change_json: &str,
        sor_id: Option<SorId>,
        resend: bool,
    ) -> Result<Begun, StoreError> {
        let sor = sor_id.map(|s| s.to_string());
        let new = NewChange {
            key: &step.key.0,
            kommune: self.plan.kommune,
            proposal_id: step.proposal_id,
            plan_id: &self.plan.plan_id,
            op: step.change.op(),
            change_json,
            sor_id: sor.as_deref(),
            actor: &self.actor.user_name,
        };
        let (record, ours) = self.store.begin_change(&new, resend).await?;
        if ours {
            return Ok(Begun::Ours);
        }
        // Someone recorded the key first (another apply that got past the lock, or a race).
        Ok(match record.state {
            ChangeState::Sending => Begun::InFlight,
            ChangeState::Applied => {
                let sor_id = record.sor_id.as_deref().and_then(|s| SorId::parse(s).ok());
                if let (PlannedChange::Create { .. }, Some(id)) = (&step.change, sor_id) {
                    self.created.insert(step.key.clone(), id);
                }
                Begun::Settled(Box::new(report(step, StepStatus::AlreadyApplied, sor_id, None, 0)))
            }
            ChangeState::Failed => {
                Begun::Settled(Box::new(report(step, StepStatus::Quarantined, None, record.reason, 0)))
            }
        })
    }

    /// Records the answer with its audit entry; a create also records its new link.
    async fn finish(
        &mut self,
        step: &PlanStep,
        result: Result<ChangeOutcome, WriteError>,
        attempts: u32,
        sor_id: Option<SorId>,
        action: &str,
    ) -> Result<StepReport, StoreError> {
        let kommune = self.plan.kommune;
        let audit = |action: &str, after: serde_json::Value, detail: Option<String>| NewAuditEntry {
            actor: self.actor.user_name.clone(),
            automatic: false,
            action: action.to_string(),
            proposal_id: Some(step.proposal_id),
            key: Some(step.key.0.clone()),
            before: Some(step.before.to_string()),
            after: Some(after.to_string()),
            detail,
        };
        match result {
            Ok(outcome) => {
                let (sor_id, link) = match (&step.change, &outcome) {
                    (PlannedChange::Create { fk_uuid, .. }, ChangeOutcome::Created { sor_id }) => {
                        self.created.insert(step.key.clone(), *sor_id);
                        (Some(*sor_id), Some((fk_uuid.to_string(), sor_id.to_string())))
                    }
                    (PlannedChange::Create { .. }, ChangeOutcome::Done) => {
                        // Not reached (the send loop treats it as temporary); stays 'sending'.
                        let detail = format!("SOR answered create {} without a SOR-ID", step.key);
                        return Ok(report(step, StepStatus::Unfinished, None, Some(detail), attempts));
                    }
                    _ => (sor_id, None),
                };
                let outcome_json = serde_json::to_string(&outcome).unwrap_or_default();
                let mut after = step.after.clone();
                if let (Some(obj), Some(s)) = (after.as_object_mut(), sor_id) {
                    obj.insert("sor_id".into(), serde_json::Value::String(s.to_string()));
                }
                let sor_text = sor_id.map(|s| s.to_string());
                let detail = Some(format!("{} {}", step.change.op(), step.label));
                let finished = self
                    .store
                    .finish_change(
                        kommune,
                        &step.key.0,
                        ChangeEnd::Applied { outcome_json: &outcome_json, sor_id: sor_text.as_deref() },
                        attempts,
                        &audit(action, after, detail),
                        link.as_ref().map(|(f, s)| (f.as_str(), s.as_str())),
                    )
                    .await?;
                match finished {
                    ChangeFinished::Finished => {}
                    ChangeFinished::SettledElsewhere => return Ok(settled_elsewhere(step, attempts)),
                    ChangeFinished::LinkTaken { fk_uuid: holder_fk, sor_id: holder_sor } => {
                        // SOR handed out a SOR-ID that is linked already (e.g. SOR forgot what it
                        // had created): never a silent drop, never a second unit with one SOR-ID.
                        self.created.remove(&step.key);
                        let (fk, sor) = link.unwrap_or_default();
                        let clash = if holder_sor == sor {
                            format!("SOR-ID {sor} is already linked to FK-ORG unit {holder_fk}")
                        } else {
                            format!("FK-ORG unit {holder_fk} is already linked to SOR-ID {holder_sor}")
                        };
                        let reason = format!(
                            "SOR answered create {} for FK-ORG unit {fk} with SOR-ID {sor}, but {clash}: not linked \
                             and not written back; find out in SOR what unit {sor} is before applying again",
                            step.key
                        );
                        return self.quarantine(step, reason, attempts).await;
                    }
                }
                let status = if action == "write_found" { StepStatus::FoundApplied } else { StepStatus::Applied };
                Ok(report(step, status, sor_id, None, attempts))
            }
            Err(WriteError::Permanent(reason)) => self.quarantine(step, reason, attempts).await,
            Err(WriteError::Temporary(reason)) => {
                // The change may or may not have taken effect: it stays 'sending' and the next run
                // asks SOR before sending it again.
                Ok(report(step, StepStatus::Unfinished, None, Some(reason), attempts))
            }
        }
    }

    async fn quarantine(&self, step: &PlanStep, reason: String, attempts: u32) -> Result<StepReport, StoreError> {
        let audit = NewAuditEntry {
            actor: self.actor.user_name.clone(),
            automatic: false,
            action: "write_failed".to_string(),
            proposal_id: Some(step.proposal_id),
            key: Some(step.key.0.clone()),
            before: Some(step.before.to_string()),
            after: Some(step.before.to_string()),
            detail: Some(reason.clone()),
        };
        let finished = self
            .store
            .finish_change(
                self.plan.kommune,
                &step.key.0,
                ChangeEnd::Failed { reason: &reason },
                attempts,
                &audit,
                None,
            )
            .await?;
        if finished != ChangeFinished::Finished {
            return Ok(settled_elsewhere(step, attempts));
        }
        tracing::warn!(key = %step.key, %reason, "Change quarantined.");
        Ok(report(step, StepStatus::Quarantined, None, Some(reason), attempts))
    }
}
