//! Measuring link proposals against ground truth: precision, recall, F1, the mistakes by name,
//! how well confidence is calibrated, and a name-only baseline to compare with.

use std::collections::{HashMap, HashSet};

use super::text::{fold, words};
use crate::domain::{FkTree, FkUuid, SorId, SorTree};

/// Why a truth file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TruthError {
    #[error("the truth file is empty; expected a header fk_uuid;sor_id")]
    Empty,
    #[error("line 1: expected the header fk_uuid;sor_id, found {0:?}")]
    Header(String),
    #[error("line {line}: {message}")]
    Row { line: usize, message: String },
}

/// Reads `fk_uuid;sor_id` rows (header first; blank lines ignored).
pub fn parse_truth(text: &str) -> Result<Vec<(FkUuid, SorId)>, TruthError> {
    let mut lines = text.trim_start_matches('\u{feff}').lines().enumerate();
    let (_, header) = lines.find(|(_, l)| !l.trim().is_empty()).ok_or(TruthError::Empty)?;
    let h: Vec<String> = header.split([';', ',']).map(|c| c.trim().to_lowercase()).collect();
    if h.len() < 2 || h[0] != "fk_uuid" || h[1] != "sor_id" {
        return Err(TruthError::Header(header.to_string()));
    }
    let mut out = Vec::new();
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let mut cols = line.split([';', ',']).map(str::trim);
        let (Some(f), Some(s)) = (cols.next(), cols.next()) else {
            return Err(TruthError::Row { line: i + 1, message: format!("expected fk_uuid;sor_id, found {line:?}") });
        };
        let f = FkUuid::parse(f).map_err(|e| TruthError::Row { line: i + 1, message: e.to_string() })?;
        let s = SorId::parse(s).map_err(|e| TruthError::Row { line: i + 1, message: e.to_string() })?;
        out.push((f, s));
    }
    Ok(out)
}

/// Counts and rates of a set of proposed links against the truth.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Score {
    pub true_links: usize,
    pub false_links: usize,
    pub missed_links: usize,
}

impl Score {
    pub fn of(proposed: &[(FkUuid, SorId)], truth: &[(FkUuid, SorId)]) -> Self {
        let t: HashSet<&(FkUuid, SorId)> = truth.iter().collect();
        let p: HashSet<&(FkUuid, SorId)> = proposed.iter().collect();
        let tp = p.intersection(&t).count();
        Score { true_links: tp, false_links: p.len() - tp, missed_links: t.len() - tp }
    }
    pub fn add(&mut self, o: Score) {
        self.true_links += o.true_links;
        self.false_links += o.false_links;
        self.missed_links += o.missed_links;
    }
    pub fn precision(&self) -> f64 {
        ratio(self.true_links, self.true_links + self.false_links)
    }
    pub fn recall(&self) -> f64 {
        ratio(self.true_links, self.true_links + self.missed_links)
    }
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        1.0
    } else {
        a as f64 / b as f64
    }
}

/// A wrong or missing link, with names so a person can see what went wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct Mistake {
    /// "false link" or "missed link".
    pub kind: &'static str,
    pub fk_uuid: FkUuid,
    pub fk_name: String,
    pub sor_id: SorId,
    pub sor_name: String,
    /// For a false link, the right SOR unit (if any); for a missed link, what was proposed instead.
    pub other: Option<(SorId, String)>,
    pub confidence: Option<f64>,
}

/// One band of confidence: how many links were proposed in it and how many were right.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CalibrationBin {
    pub from: f64,
    pub to: f64,
    pub proposed: usize,
    pub right: usize,
}

/// The confidence bands calibration is reported in: below 0.5, 0.5-0.7, 0.7-0.9, 0.9-0.99,
/// 0.99-0.999 and at least 0.999 (the band the default policy decides without a person).
pub const CALIBRATION_BANDS: [f64; 7] = [0.0, 0.5, 0.7, 0.9, 0.99, 0.999, 1.0001];

/// Mistakes and calibration of `proposed` (with confidences) against `truth`.
pub fn mistakes_and_calibration(
    fk: &FkTree,
    sor: &SorTree,
    proposed: &[(FkUuid, SorId, f64)],
    truth: &[(FkUuid, SorId)],
) -> (Vec<Mistake>, Vec<CalibrationBin>) {
    let truth_by_fk: HashMap<FkUuid, SorId> = truth.iter().copied().collect();
    let truth_set: HashSet<(FkUuid, SorId)> = truth.iter().copied().collect();
    let prop_by_fk: HashMap<FkUuid, (SorId, f64)> = proposed.iter().map(|&(f, s, c)| (f, (s, c))).collect();
    let fk_name = |f: FkUuid| fk.get(f).map(|u| u.enhedsnavn.clone()).unwrap_or_else(|| "(not in FK-ORG file)".into());
    let sor_name = |s: SorId| sor.get(s).map(|u| u.name.clone()).unwrap_or_else(|| "(not in SOR file)".into());
    let mut mistakes = Vec::new();
    let edges = CALIBRATION_BANDS;
    let mut bins: Vec<CalibrationBin> =
        edges.windows(2).map(|w| CalibrationBin { from: w[0], to: w[1].min(1.0), ..Default::default() }).collect();
    for &(f, s, c) in proposed {
        let right = truth_set.contains(&(f, s));
        if let Some(b) = bins.iter_mut().find(|b| c >= b.from && (c < b.to || b.to >= 1.0)) {
            b.proposed += 1;
            b.right += right as usize;
        }
        if !right {
            mistakes.push(Mistake {
                kind: "false link",
                fk_uuid: f,
                fk_name: fk_name(f),
                sor_id: s,
                sor_name: sor_name(s),
                other: truth_by_fk.get(&f).map(|&t| (t, sor_name(t))),
                confidence: Some(c),
            });
        }
    }
    for &(f, s) in truth {
        let got = prop_by_fk.get(&f);
        if got.map(|g| g.0) != Some(s) {
            mistakes.push(Mistake {
                kind: "missed link",
                fk_uuid: f,
                fk_name: fk_name(f),
                sor_id: s,
                sor_name: sor_name(s),
                other: got.map(|g| (g.0, sor_name(g.0))),
                confidence: got.map(|g| g.1),
            });
        }
    }
    (mistakes, bins)
}

/// A name-only baseline to compare the matcher with: plain lowercase words, Jaccard overlap,
/// one-to-one by best overlap first, kept at 0.5 or more. No synonyms, weights, identifiers or structure.
pub fn name_only_baseline(fk: &FkTree, sor: &SorTree) -> Vec<(FkUuid, SorId)> {
    let plain = |s: &str| -> Vec<String> {
        let mut w: Vec<String> = words(&fold(s)).map(str::to_string).collect();
        w.sort();
        w.dedup();
        w
    };
    let sor_words: Vec<Vec<String>> = sor.units.iter().map(|u| plain(&u.name)).collect();
    let mut index: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, ws) in sor_words.iter().enumerate() {
        for w in ws {
            index.entry(w.as_str()).or_default().push(i);
        }
    }
    let mut scored: Vec<(f64, usize, usize)> = Vec::new();
    let mut seen: HashSet<usize> = HashSet::new();
    for (f, u) in fk.units.iter().enumerate() {
        let fw = plain(&u.enhedsnavn);
        seen.clear();
        for w in &fw {
            for &s in index.get(w.as_str()).map(Vec::as_slice).unwrap_or(&[]).iter().take(500) {
                if !seen.insert(s) {
                    continue;
                }
                let inter = fw.iter().filter(|x| sor_words[s].binary_search(x).is_ok()).count();
                let union = fw.len() + sor_words[s].len() - inter;
                let j = inter as f64 / union.max(1) as f64;
                if j >= 0.5 {
                    scored.push((j, f, s));
                }
            }
        }
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut used_f = vec![false; fk.len()];
    let mut used_s = vec![false; sor.len()];
    let mut out = Vec::new();
    for (_, f, s) in scored {
        if used_f[f] || used_s[s] {
            continue;
        }
        used_f[f] = true;
        used_s[s] = true;
        out.push((fk.units[f].uuid, sor.units[s].sor_id));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truth_files_need_the_header_and_valid_ids() {
        let ok = "fk_uuid;sor_id\n3f2c1a4e-0000-4000-8000-000000000001;347801000016001\n";
        assert_eq!(parse_truth(ok).unwrap().len(), 1);
        assert!(matches!(parse_truth("a;b\n"), Err(TruthError::Header(_))));
        let bad = "fk_uuid;sor_id\n3f2c1a4e-0000-4000-8000-000000000001;347801000016002\n";
        assert!(matches!(parse_truth(bad), Err(TruthError::Row { line: 2, .. })));
    }

    #[test]
    fn f1_counts_false_and_missed_links() {
        let f = |n: u128| FkUuid::from_uuid(uuid::Uuid::from_u128(n));
        let s = SorId::from_running_number;
        let truth = vec![(f(1), s(1)), (f(2), s(2))];
        let score = Score::of(&[(f(1), s(1)), (f(2), s(3))], &truth);
        assert_eq!((score.true_links, score.false_links, score.missed_links), (1, 1, 1));
        assert!((score.f1() - 0.5).abs() < 1e-9);
    }
}
