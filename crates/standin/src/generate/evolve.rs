//! A second snapshot of a generated municipality some weeks later: renames, moves, closures, new
//! units, changed addresses and phones on the FK-ORG side (SOR as it was), with the list of
//! expected changes for incremental-sync tests. Pure.

use std::collections::HashMap;

use chrono::Duration;
use rand::seq::SliceRandom;
use rand::Rng;
use serde::Serialize;

use super::build::datetime;
use super::names::{self, pick};
use super::{rng_for, GeneratedMunicipality, GeneratorConfig, UnitKind, UnitMeta};
use crate::domain::{FkStatus, FkUnit, FkUuid, SorId};

/// What changed on an FK-ORG unit between the snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// `enhedsnavn` changed; from/to are the names.
    Rename,
    /// `overordnetEnhed` changed; from/to are the parents' uuids.
    Move,
    /// The unit became INAKTIV; from "AKTIV", to "INAKTIV".
    Close,
    /// A new unit; to is its name, from is absent.
    Create,
    /// The postal address text changed; from/to are the texts.
    Address,
    /// The landline ("Fastnet") changed; from/to are the numbers.
    Phone,
}

/// One change a sync should notice in the second snapshot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExpectedChange {
    pub kind: ChangeKind,
    pub fk_uuid: FkUuid,
    /// The SOR counterpart when the unit is linked (from the ground truth).
    pub sor_id: Option<SorId>,
    pub from: Option<String>,
    pub to: Option<String>,
}

fn count(rate: f64, n: usize) -> usize {
    let c = (rate * n as f64).round() as usize;
    if n >= 10 && rate > 0.0 {
        c.max(1)
    } else {
        c
    }
}

/// The municipality some weeks later, and the changes made.
pub fn evolve(base: &GeneratedMunicipality, cfg: &GeneratorConfig) -> (GeneratedMunicipality, Vec<ExpectedChange>) {
    let mut rng = rng_for(cfg.seed, base.kommune.code, 3);
    let r = &cfg.evolve;
    let mut m = base.clone();
    let days = i64::from(r.weeks.max(1)) * 7;
    m.snapshot_date = base.snapshot_date + Duration::days(days);
    let truth: HashMap<FkUuid, SorId> = base.truth.iter().copied().collect();
    let index: HashMap<FkUuid, usize> = m.fk_units.iter().enumerate().map(|(i, u)| (u.uuid, i)).collect();
    let mut n_children = vec![0usize; m.fk_units.len()];
    for u in &m.fk_units {
        if let Some(p) = u.parent.and_then(|p| index.get(&p)) {
            n_children[*p] += 1;
        }
    }
    let movable = |meta: &UnitMeta| {
        meta.health
            && !matches!(
                meta.kind,
                UnitKind::Root | UnitKind::HealthDirectorate | UnitKind::Dental | UnitKind::HealthGroup
            )
    };
    let mut candidates: Vec<usize> =
        (1..m.fk_units.len()).filter(|&i| movable(&m.fk_meta[i]) && m.fk_units[i].status == FkStatus::Aktiv).collect();
    let n = candidates.len();
    candidates.shuffle(&mut rng);
    let mut touched = vec![false; m.fk_units.len()];
    let mut changes = Vec::new();
    let mut next = candidates.into_iter();

    // closures: leaves only, so that no open unit is left under a closed one
    let mut todo = count(r.close, n);
    for i in next.by_ref() {
        if todo == 0 {
            break;
        }
        if n_children[i] > 0 {
            continue;
        }
        let day = m.snapshot_date - Duration::days(rng.gen_range(1..days));
        let u = &mut m.fk_units[i];
        u.status = FkStatus::Inaktiv;
        u.valid_to = datetime(day);
        touched[i] = true;
        changes.push(change(ChangeKind::Close, u.uuid, &truth, Some("AKTIV".into()), Some("INAKTIV".into())));
        todo -= 1;
    }
    let rest: Vec<usize> = next.collect();

    for i in rest.iter().copied().filter(|&i| !touched[i]).take(count(r.rename, n)).collect::<Vec<_>>() {
        let old = m.fk_units[i].enhedsnavn.clone();
        let first = old.split(' ').next().unwrap_or("");
        let new = match names::synonyms_of(first) {
            Some(syn) if rng.gen_bool(0.6) => {
                format!("{}{}", pick(&mut rng, syn), &old[first.len()..])
            }
            _ => format!("{old} og {}{}", pick(&mut rng, names::PLACE_PREFIXES), pick(&mut rng, names::PLACE_SUFFIXES)),
        };
        let new = names::truncate_chars(&new, 60);
        m.fk_units[i].enhedsnavn = new.clone();
        touched[i] = true;
        changes.push(change(ChangeKind::Rename, m.fk_units[i].uuid, &truth, Some(old), Some(new)));
    }

    let mut moved = 0;
    for &i in &rest {
        if moved >= count(r.moves, n) {
            break;
        }
        if touched[i] {
            continue;
        }
        let Some(parent) = m.fk_units[i].parent.and_then(|p| index.get(&p).copied()) else { continue };
        let kind = m.fk_meta[parent].kind;
        let targets: Vec<usize> = (1..m.fk_units.len())
            .filter(|&t| {
                t != parent
                    && t != i
                    && m.fk_meta[t].kind == kind
                    && m.fk_units[t].status == FkStatus::Aktiv
                    && !is_ancestor(&m.fk_units, &index, i, t)
            })
            .collect();
        let Some(&t) = targets.choose(&mut rng) else { continue };
        let from = m.fk_units[parent].uuid;
        let to = m.fk_units[t].uuid;
        m.fk_units[i].parent = Some(to);
        touched[i] = true;
        changes.push(change(
            ChangeKind::Move,
            m.fk_units[i].uuid,
            &truth,
            Some(from.to_string()),
            Some(to.to_string()),
        ));
        moved += 1;
    }

    let addressed: Vec<usize> = rest
        .iter()
        .copied()
        .filter(|&i| !touched[i] && m.fk_units[i].postal_address.is_some())
        .take(count(r.address, n))
        .collect();
    for i in addressed {
        let old = m.fk_units[i].postal_address.clone();
        let postcode = base.kommune.postcode;
        let new =
            format!("{} {}, {postcode} {}", pick(&mut rng, names::STREETS), rng.gen_range(1..200), base.kommune.town);
        m.fk_units[i].postal_address = Some(new.clone());
        touched[i] = true;
        changes.push(change(ChangeKind::Address, m.fk_units[i].uuid, &truth, old, Some(new)));
    }

    let phoned: Vec<usize> = rest
        .iter()
        .copied()
        .filter(|&i| !touched[i] && m.fk_units[i].landline.is_some())
        .take(count(r.phone, n))
        .collect();
    for i in phoned {
        let old = m.fk_units[i].landline.clone();
        let prefix = pick(&mut rng, base.kommune.region().landline_prefixes());
        let new = format!("{prefix}{:06}", rng.gen_range(0..1_000_000));
        m.fk_units[i].landline = Some(new.clone());
        touched[i] = true;
        changes.push(change(ChangeKind::Phone, m.fk_units[i].uuid, &truth, old, Some(new)));
    }

    // new units under open health units that already have children
    let parents: Vec<usize> = (1..m.fk_units.len())
        .filter(|&i| m.fk_meta[i].health && n_children[i] > 0 && m.fk_units[i].status == FkStatus::Aktiv)
        .collect();
    for _ in 0..count(r.create, n) {
        let Some(&p) = parents.choose(&mut rng) else { break };
        let kind = m.fk_meta[p].kind;
        let (name, child_kind) = match kind {
            UnitKind::CareHome => (
                pick(&mut rng, &["Afsnit E", "Team Weekend", "Demensafsnittet", "Afsnit F"]).to_string(),
                UnitKind::CareSection,
            ),
            UnitKind::HomeCareDistrict => {
                (pick(&mut rng, &["Team Weekend", "Gruppe 5", "Gruppe 6"]).to_string(), UnitKind::HomeCareGroup)
            }
            UnitKind::HealthGroup => (
                format!(
                    "Plejecenter {}{}",
                    pick(&mut rng, names::PLACE_PREFIXES),
                    pick(&mut rng, names::PLACE_SUFFIXES)
                ),
                UnitKind::CareHome,
            ),
            other => (pick(&mut rng, &["Team Weekend", "Akutteam Nord", "Team Aften 2"]).to_string(), other),
        };
        let uuid = FkUuid::from_uuid(uuid::Builder::from_random_bytes(rng.gen()).into_uuid());
        let from_day = m.snapshot_date - Duration::days(rng.gen_range(1..days));
        let unit = FkUnit {
            valid_from: datetime(from_day),
            postal_address: m.fk_units[p].postal_address.clone(),
            ..FkUnit::new(uuid, name.clone(), Some(m.fk_units[p].uuid))
        };
        m.fk_units.push(unit);
        m.fk_meta.push(UnitMeta { kind: child_kind, health: true, wanted_in_sor: true });
        changes.push(ExpectedChange {
            kind: ChangeKind::Create,
            fk_uuid: uuid,
            sor_id: None,
            from: None,
            to: Some(name),
        });
    }
    (m, changes)
}

fn change(
    kind: ChangeKind,
    fk_uuid: FkUuid,
    truth: &HashMap<FkUuid, SorId>,
    from: Option<String>,
    to: Option<String>,
) -> ExpectedChange {
    ExpectedChange { kind, fk_uuid, sor_id: truth.get(&fk_uuid).copied(), from, to }
}

/// True when unit `a` is `t` or one of `t`'s ancestors.
fn is_ancestor(units: &[FkUnit], index: &HashMap<FkUuid, usize>, a: usize, t: usize) -> bool {
    let mut cur = Some(t);
    let mut steps = 0;
    while let Some(c) = cur {
        if c == a {
            return true;
        }
        steps += 1;
        if steps > units.len() {
            return true;
        }
        cur = units[c].parent.and_then(|p| index.get(&p).copied());
    }
    false
}
