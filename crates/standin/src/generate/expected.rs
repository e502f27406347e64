//! A careful SOR administrator's expected decision for every unit of a generated municipality
//! (`expected.csv`): every FK-ORG unit in the file, and every open SOR unit nothing in FK-ORG
//! corresponds to. It follows from the generator's ground truth alone.

use std::collections::HashMap;
use std::io::{self, Write};

use super::GeneratedMunicipality;
use crate::domain::{FkStatus, FkUuid, SorId};

/// The decision for one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The FK-ORG unit is the same unit as this SOR unit.
    Link(SorId),
    /// A health unit SOR lacks: create it under this SOR unit (the counterpart of the nearest
    /// FK-ORG ancestor that has one).
    New { parent: SorId },
    /// No SOR unit and none wanted (administration, kitchens, levels SOR leaves out, closed units).
    NotInSor,
    /// An open SOR unit nothing in FK-ORG corresponds to, kept.
    SorOnlyKeep,
}

impl Decision {
    pub fn key(self) -> &'static str {
        match self {
            Decision::Link(_) => "link",
            Decision::New { .. } => "new",
            Decision::NotInSor => "not_in_sor",
            Decision::SorOnlyKeep => "sor_only_keep",
        }
    }
}

/// One row: the case (FK-ORG uuid, or SOR-ID for a SOR-only unit) and its decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    Fk(FkUuid),
    SorOnly(SorId),
}

/// The expected decisions, FK-ORG units in file order, then SOR-only units in file order.
/// SOR units already closed on the snapshot date get no row (nothing to decide).
pub fn expected_decisions(m: &GeneratedMunicipality) -> Vec<(Case, Decision)> {
    let truth: HashMap<FkUuid, SorId> = m.truth.iter().copied().collect();
    let index: HashMap<FkUuid, usize> = m.fk_units.iter().enumerate().map(|(i, u)| (u.uuid, i)).collect();
    let mut out = Vec::with_capacity(m.fk_units.len() + m.sor_units.len() / 4);
    for (i, u) in m.fk_units.iter().enumerate() {
        let decision = if let Some(&s) = truth.get(&u.uuid) {
            Decision::Link(s)
        } else if m.fk_meta[i].wanted_in_sor && u.status == FkStatus::Aktiv {
            // the nearest ancestor with a counterpart
            let mut parent = u.parent.and_then(|p| index.get(&p).copied());
            let mut found = None;
            while let Some(p) = parent {
                if let Some(&s) = truth.get(&m.fk_units[p].uuid) {
                    found = Some(s);
                    break;
                }
                parent = m.fk_units[p].parent.and_then(|q| index.get(&q).copied());
            }
            match found {
                Some(parent) => Decision::New { parent },
                None => Decision::NotInSor,
            }
        } else {
            Decision::NotInSor
        };
        out.push((Case::Fk(u.uuid), decision));
    }
    let linked: std::collections::HashSet<SorId> = m.truth.iter().map(|(_, s)| *s).collect();
    for s in &m.sor_units {
        if !linked.contains(&s.sor_id) && !s.is_closed_on(m.snapshot_date) {
            out.push((Case::SorOnly(s.sor_id), Decision::SorOnlyKeep));
        }
    }
    out
}

/// Writes `case;decision;sor_id;parent_sor_id` rows with a header.
pub fn write_expected<W: Write>(w: &mut W, rows: &[(Case, Decision)]) -> io::Result<()> {
    w.write_all(b"case;decision;sor_id;parent_sor_id\n")?;
    for (case, d) in rows {
        let case_id = match case {
            Case::Fk(u) => u.to_string(),
            Case::SorOnly(s) => s.to_string(),
        };
        let (sor_id, parent) = match (d, case) {
            (Decision::Link(s), _) => (s.to_string(), String::new()),
            (Decision::New { parent }, _) => (String::new(), parent.to_string()),
            (Decision::SorOnlyKeep, Case::SorOnly(s)) => (s.to_string(), String::new()),
            _ => (String::new(), String::new()),
        };
        writeln!(w, "{case_id};{};{sor_id};{parent}", d.key())?;
    }
    Ok(())
}
