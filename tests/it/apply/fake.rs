//! In-memory stand-ins for SOR and FK-ORG writers with injectable faults: temporary and permanent
//! failures, and "applied but the answer was lost". Both remember changes by key, as the real
//! registers must: a repeated key answers with the first outcome and changes nothing.
//!
//! [`FakeSor::strict`] turns that protection off: a repeated key is applied again (and counted in
//! `effects`), so a test that claims exactly-once at the engine level fails when the engine sends
//! a change twice instead of looking it up first.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Mutex;

use chrono::NaiveDate;
use sorsync::apply::port::{ChangeOutcome, FkWriteBack, IdempotencyKey, SorChange, SorWriter, WriteError};
use sorsync::domain::{FkUuid, SorId};

/// What the next call with a key runs into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Fails without applying.
    Temporary,
    /// Rejected.
    Permanent(String),
    /// Applies, then the answer is lost (a dropped connection).
    AppliedButLost,
    /// Applies a create, but answers "done" without the SOR-ID.
    AppliedWithoutId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeUnit {
    pub name: String,
    pub parent: Option<SorId>,
    pub fk_uuid: Option<FkUuid>,
    pub to_date: Option<NaiveDate>,
    pub fields: BTreeMap<String, Option<String>>,
}

#[derive(Debug, Default)]
struct SorState {
    next_number: u64,
    units: BTreeMap<SorId, FakeUnit>,
    by_key: HashMap<IdempotencyKey, ChangeOutcome>,
    faults: HashMap<IdempotencyKey, VecDeque<Fault>>,
    /// Every change that took effect, in order (a key twice here would be a double).
    effects: Vec<IdempotencyKey>,
    calls: usize,
    lookups: usize,
    /// Apply a repeated key again instead of answering with its first outcome.
    strict: bool,
}

/// SOR, in memory.
#[derive(Debug, Default)]
pub struct FakeSor {
    state: Mutex<SorState>,
}

impl FakeSor {
    /// SOR holding `units` (id, name, parent); new units get running numbers from 9000.
    pub fn with_units(units: &[(SorId, &str, Option<SorId>)]) -> FakeSor {
        let mut s = SorState { next_number: 9000, ..SorState::default() };
        for (id, name, parent) in units {
            s.units.insert(
                *id,
                FakeUnit {
                    name: name.to_string(),
                    parent: *parent,
                    fk_uuid: None,
                    to_date: None,
                    fields: BTreeMap::new(),
                },
            );
        }
        FakeSor { state: Mutex::new(s) }
    }

    /// The same SOR, but a repeated key is applied again (a double shows in `effects` and `units`).
    pub fn strict(self) -> FakeSor {
        self.state.lock().unwrap().strict = true;
        self
    }

    /// The next calls with `key` run into `faults`, in order.
    pub fn inject(&self, key: &IdempotencyKey, faults: Vec<Fault>) {
        self.state.lock().unwrap().faults.entry(key.clone()).or_default().extend(faults);
    }

    pub fn units(&self) -> BTreeMap<SorId, FakeUnit> {
        self.state.lock().unwrap().units.clone()
    }

    pub fn effects(&self) -> Vec<IdempotencyKey> {
        self.state.lock().unwrap().effects.clone()
    }

    pub fn calls(&self) -> usize {
        self.state.lock().unwrap().calls
    }

    pub fn lookups(&self) -> usize {
        self.state.lock().unwrap().lookups
    }
}

fn apply_change(s: &mut SorState, change: &SorChange) -> Result<ChangeOutcome, WriteError> {
    let known = |s: &SorState, id: &SorId| {
        if s.units.contains_key(id) {
            Ok(())
        } else {
            Err(WriteError::Permanent(format!("unknown SOR unit {id}")))
        }
    };
    match change {
        SorChange::Create { parent, name, fk_uuid, fields, .. } => {
            known(s, parent)?;
            s.next_number += 1;
            let id = SorId::from_running_number(s.next_number);
            let fields = fields.iter().map(|f| (f.field.clone(), f.value.clone())).collect();
            s.units.insert(
                id,
                FakeUnit { name: name.clone(), parent: Some(*parent), fk_uuid: Some(*fk_uuid), to_date: None, fields },
            );
            Ok(ChangeOutcome::Created { sor_id: id })
        }
        SorChange::Update { sor_id, fields } => {
            known(s, sor_id)?;
            let unit = s.units.get_mut(sor_id).expect("checked");
            for f in fields {
                if f.field == "name" {
                    unit.name = f.value.clone().unwrap_or_default();
                } else {
                    unit.fields.insert(f.field.clone(), f.value.clone());
                }
            }
            Ok(ChangeOutcome::Done)
        }
        SorChange::Move { sor_id, new_parent } => {
            known(s, sor_id)?;
            known(s, new_parent)?;
            s.units.get_mut(sor_id).expect("checked").parent = Some(*new_parent);
            Ok(ChangeOutcome::Done)
        }
        SorChange::Close { sor_id, to_date } => {
            known(s, sor_id)?;
            s.units.get_mut(sor_id).expect("checked").to_date = Some(*to_date);
            Ok(ChangeOutcome::Done)
        }
    }
}

impl SorWriter for FakeSor {
    async fn apply(&self, key: &IdempotencyKey, change: &SorChange) -> Result<ChangeOutcome, WriteError> {
        let mut s = self.state.lock().unwrap();
        s.calls += 1;
        let fault = s.faults.get_mut(key).and_then(VecDeque::pop_front);
        match fault {
            Some(Fault::Temporary) => return Err(WriteError::Temporary("timed out".into())),
            Some(Fault::Permanent(reason)) => return Err(WriteError::Permanent(reason)),
            Some(Fault::AppliedButLost) | Some(Fault::AppliedWithoutId) | None => {}
        }
        let outcome = match s.by_key.get(key) {
            Some(first) if !s.strict => first.clone(),
            _ => {
                let outcome = apply_change(&mut s, change)?;
                s.by_key.entry(key.clone()).or_insert_with(|| outcome.clone());
                s.effects.push(key.clone());
                outcome
            }
        };
        if fault == Some(Fault::AppliedButLost) {
            return Err(WriteError::Temporary("connection dropped".into()));
        }
        if fault == Some(Fault::AppliedWithoutId) {
            return Ok(ChangeOutcome::Done);
        }
        Ok(outcome)
    }

    async fn lookup(&self, key: &IdempotencyKey) -> Result<Option<ChangeOutcome>, WriteError> {
        let mut s = self.state.lock().unwrap();
        s.lookups += 1;
        Ok(s.by_key.get(key).cloned())
    }
}

/// FK-ORG's SOR-ID addresses, in memory.
#[derive(Debug, Default)]
pub struct FakeFk {
    addresses: Mutex<BTreeMap<FkUuid, BTreeSet<SorId>>>,
    faults: Mutex<HashMap<FkUuid, VecDeque<Fault>>>,
    pub calls: Mutex<usize>,
}

impl FakeFk {
    pub fn inject(&self, unit: FkUuid, faults: Vec<Fault>) {
        self.faults.lock().unwrap().entry(unit).or_default().extend(faults);
    }

    pub fn sor_ids(&self) -> BTreeMap<FkUuid, BTreeSet<SorId>> {
        self.addresses.lock().unwrap().clone()
    }

    /// FK-ORG shows `sor_id` on `unit` (set there by someone else).
    pub fn show(&self, unit: FkUuid, sor_id: SorId) {
        self.addresses.lock().unwrap().entry(unit).or_default().insert(sor_id);
    }
}

impl FkWriteBack for FakeFk {
    async fn shown_sor_ids(&self, fk_uuid: &FkUuid) -> Result<Vec<String>, WriteError> {
        let addresses = self.addresses.lock().unwrap();
        Ok(addresses.get(fk_uuid).into_iter().flatten().map(ToString::to_string).collect())
    }

    async fn write_sor_id(&self, fk_uuid: &FkUuid, sor_id: &SorId) -> Result<(), WriteError> {
        *self.calls.lock().unwrap() += 1;
        let fault = self.faults.lock().unwrap().get_mut(fk_uuid).and_then(VecDeque::pop_front);
        match fault {
            Some(Fault::Temporary) => return Err(WriteError::Temporary("timed out".into())),
            Some(Fault::Permanent(reason)) => return Err(WriteError::Permanent(reason)),
            Some(Fault::AppliedButLost) | Some(Fault::AppliedWithoutId) | None => {}
        }
        let mut addresses = self.addresses.lock().unwrap();
        let shown = addresses.entry(*fk_uuid).or_default();
        if shown.iter().any(|s| s != sor_id) {
            return Err(WriteError::Permanent(format!("unit {fk_uuid} shows another SOR-ID")));
        }
        shown.insert(*sor_id);
        drop(addresses);
        if fault == Some(Fault::AppliedButLost) {
            return Err(WriteError::Temporary("connection dropped".into()));
        }
        Ok(())
    }

    async fn end_sor_id(&self, fk_uuid: &FkUuid, sor_id: &SorId) -> Result<(), WriteError> {
        *self.calls.lock().unwrap() += 1;
        if let Some(shown) = self.addresses.lock().unwrap().get_mut(fk_uuid) {
            shown.remove(sor_id);
        }
        Ok(())
    }
}
