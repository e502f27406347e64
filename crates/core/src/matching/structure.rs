//! The matching run: identifier links, candidate pairs, and rounds of model fitting, one-to-one
//! assignment and structural propagation (a child's link is supported when the parents are linked
//! to each other; a parent is supported by its children linked to the candidate's children),
//! repeated until the links are stable.

use std::collections::HashMap;

use super::assign::{assign, confidences};
use super::blocking::SorIndex;
use super::features::{Feature, Levels, Pair, Profiles};
use super::model::Model;
use super::synonyms::Vocabulary;
use super::{Alternative, Contribution, LinkBasis, LinkFlag, LinkProposal, MatchOptions, RunStats, Scope};
use crate::domain::{FkTree, SorId, SorTree};

const MAX_ROUNDS: usize = 6;
/// A round that changes at most one link in this many ends the rounds.
const STABLE_AT_MOST_ONE_CHANGE_IN: usize = 1000;
/// A matched link is never more certain than this: the model's independence assumptions make
/// extreme odds overconfident, and a recorded SOR-ID (0.9999) must rank above any match.
const MAX_MATCHED_CONFIDENCE: f64 = 0.999;
/// The most a link with a single kind of evidence may claim (see [`evidence_cap`]).
const THIN_EVIDENCE_CAP: f64 = 0.99;
/// The most a link on its name alone may claim.
const NAME_ONLY_CAP: f64 = 0.95;
const EM_ITERATIONS: usize = 40;
/// EM iterations with the one-to-one posterior as E-step, after the plain EM, per round.
const ONE_TO_ONE_ITERATIONS: usize = 12;
/// Most children of a linked parent's counterpart taken as candidates for a child.
const MAX_STRUCTURAL_CANDIDATES: usize = 80;
/// Most of those kept per child and round (the most alike first).
const MAX_STRUCTURAL_PER_UNIT: usize = 6;

/// A link that comes from a SOR-ID recorded on the FK-ORG unit.
#[derive(Debug, Clone)]
pub struct IdLink {
    pub f: usize,
    pub sor_id: SorId,
    pub s: Option<usize>,
    pub flags: Vec<LinkFlag>,
}

/// The state at the end of a run.
pub struct Run {
    pub profiles: Profiles,
    pub pairs: Vec<Pair>,
    pub by_fk: Vec<Vec<u32>>,
    pub model: Model,
    pub scores: Vec<f64>,
    pub conf: Vec<f64>,
    /// FK-ORG unit -> linked SOR unit (identifier and matched links).
    pub link: Vec<Option<u32>>,
    /// SOR unit -> linked FK-ORG unit.
    pub rev: Vec<Option<u32>>,
    /// FK-ORG unit -> the pair its matched link came from.
    pub link_pair: Vec<Option<u32>>,
    pub id_links: Vec<IdLink>,
    pub in_scope: Vec<bool>,
    pub stats: RunStats,
    /// The name vocabulary of the run (for explanations).
    pub vocab: Vocabulary,
}

/// Whether an FK-ORG unit and a SOR unit may be the same unit given which of them is closed: both
/// open, both closed, or closed in FK-ORG while SOR still has it open (the closure SOR must follow).
/// An open FK-ORG unit is not matched to a closed SOR unit.
fn may_pair(fk_closed: bool, sor_closed: bool) -> bool {
    fk_closed || !sor_closed
}

/// Per FK-ORG unit: inside the configured scope?
pub fn scope_mask(fk: &FkTree, scope: &Scope) -> Vec<bool> {
    let n = fk.len();
    let mark = |roots: &[crate::domain::FkUuid]| {
        let mut m = vec![false; n];
        for r in roots {
            if let Some(i) = fk.index_of(*r) {
                for d in fk.tree.descendants(i) {
                    m[d] = true;
                }
            }
        }
        m
    };
    let inc = if scope.include.is_empty() { vec![true; n] } else { mark(&scope.include) };
    let exc = mark(&scope.exclude);
    inc.iter().zip(&exc).map(|(i, e)| *i && !*e).collect()
}

/// Runs the whole matching.
pub fn run(fk: &FkTree, sor: &SorTree, opts: &MatchOptions, vocab: &Vocabulary) -> Run {
    let profiles = Profiles::build(fk, sor, vocab, opts.today);
    let in_scope = scope_mask(fk, &opts.scope);
    let (nf, ns) = (fk.len(), sor.len());

    // 1. Identifiers first.
    let mut fixed_link: Vec<Option<u32>> = vec![None; nf];
    let mut fixed_rev: Vec<Option<u32>> = vec![None; ns];
    let mut fixed_fk = vec![false; nf];
    let mut id_links: Vec<IdLink> = Vec::new();
    for (f, u) in fk.units.iter().enumerate() {
        let Some(id) = u.sor_id else { continue };
        fixed_fk[f] = true;
        match sor.index_of(id) {
            Some(s) => {
                if let Some(other) = fixed_rev[s] {
                    if let Some(l) = id_links.iter_mut().find(|l| l.f == other as usize) {
                        if !l.flags.contains(&LinkFlag::SorIdOnSeveralUnits) {
                            l.flags.push(LinkFlag::SorIdOnSeveralUnits);
                        }
                    }
                    continue;
                }
                let mut flags = Vec::new();
                if profiles.sor[s].closed && !profiles.fk[f].closed {
                    flags.push(LinkFlag::SorUnitClosed);
                }
                fixed_link[f] = Some(s as u32);
                fixed_rev[s] = Some(f as u32);
                id_links.push(IdLink { f, sor_id: id, s: Some(s), flags });
            }
            None => id_links.push(IdLink { f, sor_id: id, s: None, flags: vec![LinkFlag::SorUnitNotFound] }),
        }
    }

    // 2. Blocking.
    let index = SorIndex::build(&profiles);
    let candidates = index.candidates(
        &profiles,
        opts.max_candidates_per_unit,
        |f| in_scope[f] && !fixed_fk[f],
        |f, s| {
            fixed_rev[s].is_none()
                && may_pair(profiles.fk[f].closed, profiles.sor[s].closed)
                && !opts.feedback.rejected.contains(&(fk.units[f].uuid, sor.units[s].sor_id))
        },
    );
    let mut pairs: Vec<Pair> = Vec::new();
    let mut by_fk: Vec<Vec<u32>> = vec![Vec::new(); nf];
    let mut pair_scorings = 0usize;
    for (f, cands) in candidates.iter().enumerate() {
        for &s in cands {
            let (levels, sim) = profiles.levels(f, s as usize);
            pair_scorings += 1;
            by_fk[f].push(pairs.len() as u32);
            pairs.push(Pair { f: f as u32, s, levels, sim });
        }
    }

    // 3. Rounds.
    let mut link = fixed_link.clone();
    let mut rev = fixed_rev.clone();
    let mut link_pair = vec![None; nf];
    let mut model = Model::prior([true; 7]);
    let mut scores = Vec::new();
    let mut conf = Vec::new();
    let mut rounds = 0;
    for round in 0..MAX_ROUNDS {
        rounds = round + 1;
        if round > 0 {
            // Children of a linked parent's counterpart become candidates (generic names such as
            // "Afsnit A" have no rare word to block on).
            for f in 0..nf {
                if !in_scope[f] || fixed_fk[f] {
                    continue;
                }
                let Some(pf) = fk.tree.parent(f) else { continue };
                // the parent's counterpart, or that of the nearest linked ancestor when SOR
                // leaves the parent's level out
                let Some(ps) = nearest_linked_ancestor(&fk.tree, pf, &link).and_then(|a| link[a]) else { continue };
                let mut found: Vec<(Levels, f32, usize)> = Vec::new();
                for &cs in sor.tree.children(ps as usize).iter().take(MAX_STRUCTURAL_CANDIDATES) {
                    if fixed_rev[cs].is_some()
                        || !may_pair(profiles.fk[f].closed, profiles.sor[cs].closed)
                        || opts.feedback.rejected.contains(&(fk.units[f].uuid, sor.units[cs].sor_id))
                    {
                        continue;
                    }
                    if by_fk[f].iter().any(|&i| pairs[i as usize].s as usize == cs) {
                        continue;
                    }
                    let (levels, sim) = profiles.levels(f, cs);
                    pair_scorings += 1;
                    // A sibling is a candidate only when something besides the place agrees.
                    let agrees = sim > 0.0
                        || levels[Feature::Address as usize] <= 1
                        || levels[Feature::Phone as usize] == 0
                        || levels[Feature::Email as usize] == 0
                        || levels[Feature::Ean as usize] == 0;
                    if agrees {
                        found.push((levels, sim, cs));
                    }
                }
                // The most alike siblings only, so a parent with many children does not make a
                // child's candidate list (and the run's cost) grow with the size of the tree.
                if found.len() > MAX_STRUCTURAL_PER_UNIT {
                    found.sort_by(|a, b| {
                        let agreeing = |l: &Levels| l.iter().filter(|&&x| x == 0).count();
                        b.1.total_cmp(&a.1).then(agreeing(&b.0).cmp(&agreeing(&a.0))).then(a.2.cmp(&b.2))
                    });
                    found.truncate(MAX_STRUCTURAL_PER_UNIT);
                }
                for (levels, sim, cs) in found {
                    by_fk[f].push(pairs.len() as u32);
                    pairs.push(Pair { f: f as u32, s: cs as u32, levels, sim });
                }
            }
        }
        for p in pairs.iter_mut() {
            let (parent, children) = structure_levels(fk, sor, p.f as usize, p.s as usize, &link, &rev);
            p.levels[Feature::Parent as usize] = parent;
            p.levels[Feature::Children as usize] = children;
        }
        let max_matches =
            distinct(pairs.iter().map(|p| p.f as usize), nf).min(distinct(pairs.iter().map(|p| p.s as usize), ns));
        model = Model::fit(pairs.iter().map(|p| p.levels), [true; 7], EM_ITERATIONS, max_matches);
        let fk_groups = parent_linked_groups(&fk.tree, &link);
        let sor_groups = parent_linked_groups(&sor.tree, &rev);
        (scores, conf) = score_pairs(&model, &pairs, &fk_groups, &sor_groups);
        pair_scorings += pairs.len();
        // Refine the model with the one-to-one posteriors as the E-step: a unit's candidates share
        // one chance of being its counterpart, so thirty look-alikes cannot all count as half a match.
        for _ in 0..ONE_TO_ONE_ITERATIONS {
            let mut agg: HashMap<Levels, (f64, f64)> = HashMap::new();
            for (p, c) in pairs.iter().zip(&conf) {
                let e = agg.entry(p.levels).or_default();
                e.0 += 1.0;
                e.1 += c;
            }
            let weighted: Vec<(Levels, f64, f64)> = agg.into_iter().map(|(l, (n, g))| (l, n, g)).collect();
            model = model.m_step(&weighted, max_matches).or_prior_if_inverted();
            (scores, conf) = score_pairs(&model, &pairs, &fk_groups, &sor_groups);
            pair_scorings += pairs.len();
        }
        let mut new_link = fixed_link.clone();
        let mut new_rev = fixed_rev.clone();
        let chosen = assign(&pairs, &conf, &scores, opts.min_confidence, &mut new_link, &mut new_rev);
        // Stable when (almost) no link changed: a large municipality always has a few units whose
        // link flips between equally good siblings, and waiting for them would make the number of
        // rounds, and so the cost per unit, grow with the size of the municipality.
        let changed = new_link.iter().zip(&link).filter(|(a, b)| a != b).count();
        let linked = new_link.iter().filter(|l| l.is_some()).count();
        let stable = changed * STABLE_AT_MOST_ONE_CHANGE_IN <= linked.max(1);
        link = new_link;
        rev = new_rev;
        link_pair = chosen;
        if stable && round > 0 {
            break;
        }
    }
    let stats = RunStats { candidate_pairs: pairs.len(), pair_scorings, rounds, lambda: model.lambda };
    Run {
        profiles,
        pairs,
        by_fk,
        model,
        scores,
        conf,
        link,
        rev,
        link_pair,
        id_links,
        in_scope,
        stats,
        vocab: vocab.clone(),
    }
}

/// Scores (log2 odds) and one-to-one confidences of all pairs under `model`.
fn score_pairs(model: &Model, pairs: &[Pair], fk_groups: &[u8], sor_groups: &[u8]) -> (Vec<f64>, Vec<f64>) {
    let scores: Vec<f64> = pairs.iter().map(|p| model.score(&p.levels)).collect();
    let llr: Vec<f64> = scores.iter().map(|s| s - model.prior_weight()).collect();
    let lr: Vec<f64> = llr.iter().map(|s| s.clamp(-60.0, 60.0).exp2()).collect();
    let pi_fk = fit_match_rates(pairs.iter().map(|p| p.f as usize), &lr, fk_groups);
    let pi_sor = fit_match_rates(pairs.iter().map(|p| p.s as usize), &lr, sor_groups);
    let conf = confidences(pairs, &llr, &pi_fk, &pi_sor);
    (scores, conf)
}

/// Per unit: 1 when its parent is linked, else 0 (a child of a linked unit is far more likely
/// to have a counterpart, so the two groups get their own match rate).
fn parent_linked_groups(tree: &crate::domain::Tree, link: &[Option<u32>]) -> Vec<u8> {
    (0..tree.len()).map(|i| tree.parent(i).is_some_and(|p| link[p].is_some()) as u8).collect()
}

/// The chance that a unit has a counterpart among its candidates, per group, by maximum likelihood
/// (EM on the one-to-one mixture: a unit's expected number of matches is
/// `(pi/n) sum L / ((1 - pi) + (pi/n) sum L)`), Laplace-smoothed. `side` gives each pair's unit.
fn fit_match_rates(side: impl Iterator<Item = usize>, lr: &[f64], groups: &[u8]) -> Vec<f64> {
    let n_units = groups.len();
    let mut sum = vec![0.0f64; n_units];
    let mut count = vec![0u32; n_units];
    for (u, l) in side.zip(lr) {
        sum[u] += l;
        if *l >= 1.0 {
            count[u] += 1;
        }
    }
    let has_candidates: Vec<bool> = sum.iter().map(|&s| s > 0.0).collect();
    let mut pi = [0.5f64; 2];
    for _ in 0..30 {
        let mut expected = [0.0f64; 2];
        let mut total = [0.0f64; 2];
        for u in 0..n_units {
            if !has_candidates[u] {
                continue;
            }
            let g = groups[u] as usize;
            let each = pi[g] / count[u].max(1) as f64;
            expected[g] += each * sum[u] / ((1.0 - pi[g]) + each * sum[u]);
            total[g] += 1.0;
        }
        let next = [0, 1].map(|g| ((expected[g] + 1.0) / (total[g] + 2.0)).clamp(0.02, 0.98));
        let delta = (next[0] - pi[0]).abs() + (next[1] - pi[1]).abs();
        pi = next;
        if delta < 1e-5 {
            break;
        }
    }
    groups.iter().map(|&g| pi[g as usize]).collect()
}

fn distinct(items: impl Iterator<Item = usize>, n: usize) -> usize {
    let mut seen = vec![false; n];
    let mut count = 0;
    for i in items {
        if !seen[i] {
            seen[i] = true;
            count += 1;
        }
    }
    count
}

/// How many levels up a pair's parents are searched for linked ancestors.
const MAX_ANCESTOR_STEPS: usize = 4;

/// `start` or its nearest ancestor that is linked (within a few levels).
fn nearest_linked_ancestor(tree: &crate::domain::Tree, start: usize, link: &[Option<u32>]) -> Option<usize> {
    let mut at = Some(start);
    for _ in 0..MAX_ANCESTOR_STEPS {
        let i = at?;
        if link[i].is_some() {
            return Some(i);
        }
        at = tree.parent(i);
    }
    None
}

/// Parent and children levels of pair (f, s) given the current links.
pub fn structure_levels(
    fk: &FkTree,
    sor: &SorTree,
    f: usize,
    s: usize,
    link: &[Option<u32>],
    rev: &[Option<u32>],
) -> (u8, u8) {
    let parent = match (fk.tree.parent(f), sor.tree.parent(s)) {
        (Some(pf), Some(ps)) => match (link[pf], rev[ps]) {
            (Some(x), _) if x as usize == ps => 0,
            _ => {
                // One register may have a level the other lacks (SOR leaves out a grouping unit,
                // or adds one): then the nearest linked ancestors are linked to each other.
                let fa = nearest_linked_ancestor(&fk.tree, pf, link);
                let sa = nearest_linked_ancestor(&sor.tree, ps, rev);
                match (fa, sa) {
                    (Some(fa), Some(sa)) if link[fa] == Some(sa as u32) => 1,
                    _ if link[pf].is_some() || rev[ps].is_some() => 2,
                    _ => 3,
                }
            }
        },
        _ => 3,
    };
    let mut linked = 0usize;
    let mut into = 0usize;
    for &cf in fk.tree.children(f) {
        if let Some(cs) = link[cf] {
            linked += 1;
            if sor.tree.parent(cs as usize) == Some(s) {
                into += 1;
            }
        }
    }
    let n_sor_children = sor.tree.children(s).len();
    let children = if linked == 0 {
        3
    } else if into == 0 {
        2
    } else if 2 * into >= linked.min(n_sor_children).max(1) {
        0
    } else {
        1
    };
    (parent, children)
}

impl Run {
    /// The confidence a matched link is proposed with (pair index `pi`): the model's one-to-one
    /// posterior, held down where the evidence is thin (see [`evidence_cap`]).
    pub fn link_confidence(&self, pi: usize) -> f64 {
        let cap = evidence_cap(&self.pairs[pi].levels).map_or(MAX_MATCHED_CONFIDENCE, |c| c.0);
        self.conf[pi].min(cap)
    }

    /// The link proposals: identifier links, then matched links, most confident first.
    pub fn link_proposals(&self, fk: &FkTree, sor: &SorTree, opts: &MatchOptions) -> Vec<LinkProposal> {
        let mut out = Vec::new();
        for l in &self.id_links {
            let confidence = if l.flags.contains(&LinkFlag::SorUnitNotFound) {
                0.5
            } else if l.flags.contains(&LinkFlag::SorUnitClosed) {
                0.9
            } else {
                0.9999
            };
            out.push(LinkProposal {
                fk_uuid: fk.units[l.f].uuid,
                sor_id: l.sor_id,
                confidence,
                basis: LinkBasis::SorIdOnUnit,
                flags: l.flags.clone(),
                explanation: vec![Contribution {
                    feature: "sor_id_recorded".into(),
                    value: l.sor_id.to_string(),
                    weight: confidence,
                }],
                alternatives: Vec::new(),
                fk_name: fk.units[l.f].enhedsnavn.clone(),
                sor_name: l.s.map(|s| sor.units[s].name.clone()),
            });
        }
        let mut matched = Vec::new();
        for (f, pi) in self.link_pair.iter().enumerate() {
            let Some(pi) = pi else { continue };
            let p = &self.pairs[*pi as usize];
            let s = p.s as usize;
            let confidence = self.link_confidence(*pi as usize);
            let names = (fk.units[f].enhedsnavn.as_str(), sor.units[s].name.as_str());
            let explanation = explain(&self.model, p, confidence, names, &self.vocab);
            let mut alts: Vec<(f64, u32)> = self.by_fk[f]
                .iter()
                .filter(|&&i| i != *pi && self.conf[i as usize] >= 0.005)
                .map(|&i| (self.conf[i as usize], self.pairs[i as usize].s))
                .collect();
            alts.sort_by(|a, b| b.0.total_cmp(&a.0));
            alts.truncate(opts.max_alternatives);
            matched.push(LinkProposal {
                fk_uuid: fk.units[f].uuid,
                sor_id: sor.units[s].sor_id,
                confidence: round4(confidence),
                basis: LinkBasis::Matched,
                flags: Vec::new(),
                explanation,
                alternatives: alts
                    .into_iter()
                    .map(|(c, s)| Alternative { sor_id: sor.units[s as usize].sor_id, confidence: round4(c) })
                    .collect(),
                fk_name: fk.units[f].enhedsnavn.clone(),
                sor_name: Some(sor.units[s].name.clone()),
            });
        }
        matched.sort_by(|a, b| b.confidence.total_cmp(&a.confidence).then(a.fk_uuid.cmp(&b.fk_uuid)));
        out.extend(matched);
        out
    }
}

/// Kinds of independent evidence that agree on a pair: the name (the same or nearly the same,
/// with a word few units share), contact details (address, phone, e-mail or EAN), structure
/// (parents linked to each other, or children linked into the candidate).
fn agreeing_kinds(l: &Levels) -> (bool, bool, bool) {
    let name = l[Feature::Name as usize] == 0 || l[Feature::Name as usize] == 2;
    let contact = l[Feature::Address as usize] == 0
        || l[Feature::Phone as usize] == 0
        || l[Feature::Email as usize] == 0
        || l[Feature::Ean as usize] == 0;
    let structure = l[Feature::Parent as usize] <= 1 || l[Feature::Children as usize] == 0;
    (name, contact, structure)
}

/// The most a link may claim when its evidence is thin, and why. The model multiplies the
/// features' odds as if they were independent, which they are not (a shared name, a shared
/// parent and an inherited address often go together), so on data it was not fitted on its
/// highest odds are too high. A link is certain (>= 0.99) only where two independent kinds of
/// evidence agree and none contradicts; one kind alone caps it.
pub fn evidence_cap(l: &Levels) -> Option<(f64, &'static str)> {
    let (name, contact, structure) = agreeing_kinds(l);
    let contradicted = l[Feature::Ean as usize] == 1 || l[Feature::Parent as usize] == 2;
    let kinds = usize::from(name) + usize::from(contact) + usize::from(structure);
    if contradicted {
        return Some((THIN_EVIDENCE_CAP, "something that should agree differs (parent or EAN)"));
    }
    match kinds {
        0 | 1 if !contact && !structure => Some((NAME_ONLY_CAP, "only the name agrees")),
        0 | 1 => Some((THIN_EVIDENCE_CAP, "only one kind of evidence agrees")),
        _ => None,
    }
}

/// The explanation of a matched link in a SOR administrator's terms: one contribution per feature
/// that says something (see [`Contribution`] for the keys), each weighted by its share of the
/// confidence, so that the weights add up to the confidence.
fn explain(model: &Model, p: &Pair, confidence: f64, names: (&str, &str), vocab: &Vocabulary) -> Vec<Contribution> {
    let mut out: Vec<(String, String, f64)> = Vec::new();
    for feat in Feature::ALL {
        let level = p.levels[feat as usize];
        if level == feat.neutral_level() {
            continue;
        }
        let w = model.weights[feat as usize][level as usize];
        let key = match (feat, level) {
            (Feature::Name, 0) => "same_name",
            (Feature::Name, 1) => "same_common_name",
            (Feature::Name, 2 | 3) => "very_similar_name",
            (Feature::Name, 4) => "similar_name",
            (Feature::Name, 5) => "partly_similar_name",
            (Feature::Name, _) => "different_name",
            (Feature::Address, 0) => "same_address",
            (Feature::Address, 1) => "same_street",
            (Feature::Address, 2) => "same_postcode",
            (Feature::Address, _) => "different_address",
            (Feature::Phone, 0) => "same_phone",
            (Feature::Phone, _) => "different_phone",
            (Feature::Email, 0) => "same_email",
            (Feature::Email, _) => "different_email",
            (Feature::Ean, 0) => "same_ean",
            (Feature::Ean, _) => "different_ean",
            (Feature::Parent, 0) => "parents_linked",
            (Feature::Parent, 1) => "ancestors_linked",
            (Feature::Parent, _) => "parents_linked_elsewhere",
            (Feature::Children, 0) => "children_linked",
            (Feature::Children, 1) => "some_children_linked",
            (Feature::Children, _) => "children_linked_elsewhere",
        };
        let value = match feat {
            Feature::Name => format!("{} / {}", names.0, names.1),
            _ => feat.levels()[level as usize].to_string(),
        };
        out.push((key.to_string(), value, w));
    }
    if let Some((a, b)) = vocab.same_kind_words(names.0, names.1) {
        out.push(("same_kind_of_unit".to_string(), format!("{a} and {b}"), 0.0));
    }
    if let Some((cap, why)) = evidence_cap(&p.levels) {
        if confidence >= cap - 1e-9 {
            out.push(("little_evidence".to_string(), why.to_string(), 0.0));
        }
    }
    let total: f64 = out.iter().map(|c| c.2).sum();
    let n = out.len().max(1) as f64;
    out.into_iter()
        .map(|(feature, value, w)| {
            let share = if total > 0.0 { w / total } else { 1.0 / n };
            Contribution { feature, value, weight: round4(confidence * share) }
        })
        .collect()
}

fn round4(x: f64) -> f64 {
    (x * 10000.0).round() / 10000.0
}
