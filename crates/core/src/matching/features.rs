//! What the matcher compares: a profile per unit (name tokens with IDF weights, address, phone,
//! email, EAN, state) and the feature levels of one FK-ORG/SOR pair.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::normalise::{name_tokens, street_key};
use super::synonyms::Vocabulary;
use super::text::{allowed_edits, edit_distance, fold};
use crate::domain::{normalise_phone, parse_fk_address, Address, FkTree, FkUnit, Phone, SorTree, SorUnit};

/// A word in at most this many names (both trees) is rare.
const RARE_DF: u32 = 3;

/// Number of pair features (see [`Feature`]).
pub const N_FEATURES: usize = 7;

/// The features of a pair, in the order of a level vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    Name = 0,
    Address = 1,
    Phone = 2,
    Email = 3,
    Ean = 4,
    Parent = 5,
    Children = 6,
}

impl Feature {
    pub const ALL: [Feature; N_FEATURES] = [
        Feature::Name,
        Feature::Address,
        Feature::Phone,
        Feature::Email,
        Feature::Ean,
        Feature::Parent,
        Feature::Children,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Feature::Name => "name",
            Feature::Address => "address",
            Feature::Phone => "phone",
            Feature::Email => "email",
            Feature::Ean => "ean",
            Feature::Parent => "parent",
            Feature::Children => "children",
        }
    }

    /// Human labels of the levels; the last level is "not comparable" and carries no weight.
    pub fn levels(self) -> &'static [&'static str] {
        match self {
            Feature::Name => &[
                "same, and no other unit is called so",
                "same, a name other units share",
                "very similar, sharing a rare word",
                "very similar",
                "similar",
                "partly similar",
                "different",
                "missing",
            ],
            Feature::Address => &[
                "same street, number and postcode",
                "same street and postcode",
                "same postcode",
                "different",
                "missing",
            ],
            Feature::Phone | Feature::Email | Feature::Ean => &["same", "different", "missing"],
            Feature::Parent => &[
                "parents are linked to each other",
                "the nearest linked ancestors are linked to each other (one register has a level the other lacks)",
                "parents are linked elsewhere",
                "parents not linked",
            ],
            Feature::Children => &[
                "most children linked to its children",
                "some children linked to its children",
                "children linked elsewhere",
                "no linked children",
            ],
        }
    }

    /// The level meaning "nothing to compare": its weight is zero.
    pub fn neutral_level(self) -> u8 {
        (self.levels().len() - 1) as u8
    }
}

/// Levels of one pair, indexed by [`Feature`].
pub type Levels = [u8; N_FEATURES];

/// An address reduced to comparable keys (interned street, house number, postcode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddrKey {
    pub street: u32,
    pub number: u32,
    pub postcode: u32,
}

/// The comparable form of one unit.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    /// Token ids, sorted and unique.
    pub tokens: Vec<u32>,
    /// Sum of the tokens' IDF weights.
    pub weight: f32,
    pub addrs: Vec<AddrKey>,
    pub phone: Option<u32>,
    pub email: Option<u32>,
    pub ean: Option<u64>,
    pub closed: bool,
    pub health: bool,
    /// How many units on the same side have exactly this normalised name.
    pub name_count: u32,
    /// The parent's name tokens, sorted: a word the other register's name carries as context
    /// ("Øst Team 2" for "Team 2" under "Hjemmepleje Øst") is not held against the pair.
    pub context: Vec<u32>,
}

/// Interned strings (tokens, streets, emails) shared by both sides of one run.
#[derive(Debug, Default)]
pub struct Interner {
    map: HashMap<String, u32>,
    pub strings: Vec<String>,
}

impl Interner {
    pub fn id(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.map.get(s) {
            return i;
        }
        let i = self.strings.len() as u32;
        self.map.insert(s.to_string(), i);
        self.strings.push(s.to_string());
        i
    }
}

/// Profiles of both trees plus the per-run token statistics.
#[derive(Debug, Default)]
pub struct Profiles {
    pub fk: Vec<Profile>,
    pub sor: Vec<Profile>,
    /// IDF weight per interned token id (0 for non-token strings).
    pub idf: Vec<f32>,
    /// Number of units (both trees) whose name has the token.
    pub df: Vec<u32>,
    /// Per interned id: the token is a designator (see [`Vocabulary::is_designator`]).
    pub designator: Vec<bool>,
    pub interner: Interner,
}

fn addr_key(a: &Address, interner: &mut Interner) -> Option<AddrKey> {
    let street = street_key(&a.street);
    if street.is_empty() && a.postcode.is_empty() {
        return None;
    }
    let number: String = a
        .building
        .as_deref()
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    Some(AddrKey {
        street: interner.id(&format!("street:{street}")),
        number: interner.id(&format!("no:{number}")),
        postcode: interner.id(&format!("pc:{}", a.postcode.trim())),
    })
}

fn phone_key(raw: Option<&str>) -> Option<u32> {
    match normalise_phone(raw) {
        Phone::Valid(d) => d.parse().ok(),
        _ => None,
    }
}

fn email_key(raw: Option<&str>, interner: &mut Interner) -> Option<u32> {
    let e = raw?.trim().to_lowercase();
    (!e.is_empty()).then(|| interner.id(&format!("email:{e}")))
}

/// The phone FK-ORG gives SOR: landline first, then mobile.
pub fn fk_phone(u: &FkUnit) -> Option<String> {
    for raw in [u.landline.as_deref(), u.mobile.as_deref()] {
        if let Phone::Valid(d) = normalise_phone(raw) {
            return Some(d);
        }
    }
    None
}

/// A candidate pair: FK-ORG unit index, SOR unit index, feature levels, name similarity.
#[derive(Debug, Clone)]
pub struct Pair {
    pub f: u32,
    pub s: u32,
    pub levels: Levels,
    pub sim: f32,
}

impl Profiles {
    /// Builds both sides' profiles and the IDF weights over both trees.
    pub fn build(fk: &FkTree, sor: &SorTree, vocab: &Vocabulary, today: NaiveDate) -> Self {
        let mut p = Profiles::default();
        let mut df: Vec<u32> = Vec::new();
        let mut corrections: HashMap<String, Option<String>> = HashMap::new();
        let mut tokens_for = |name: &str, interner: &mut Interner| -> (Vec<u32>, bool) {
            let mut toks = name_tokens(name, vocab);
            for t in toks.iter_mut() {
                let fixed = corrections.entry(t.clone()).or_insert_with(|| vocab.correct(t).map(str::to_string));
                if let Some(c) = fixed {
                    *t = c.clone();
                }
            }
            let health = vocab.is_health_like(&fold(name), &toks);
            let mut ids: Vec<u32> = toks.iter().map(|t| interner.id(t)).collect();
            ids.sort_unstable();
            ids.dedup();
            (ids, health)
        };
        for u in &fk.units {
            let (tokens, health) = tokens_for(&u.enhedsnavn, &mut p.interner);
            let addrs = u
                .postal_address
                .as_deref()
                .and_then(parse_fk_address)
                .and_then(|a| addr_key(&a, &mut p.interner))
                .into_iter()
                .collect();
            let phone = fk_phone(u).and_then(|d| d.parse().ok());
            let email = email_key(u.email.as_deref(), &mut p.interner);
            p.fk.push(Profile {
                tokens,
                weight: 0.0,
                addrs,
                phone,
                email,
                ean: u.ean.map(|e| e.to_string().parse().unwrap_or(0)),
                closed: u.is_closed(today),
                health,
                name_count: 1,
                context: Vec::new(),
            });
        }
        for u in &sor.units {
            let (tokens, health) = tokens_for(&u.name, &mut p.interner);
            p.sor.push(sor_profile(u, tokens, health, &mut p.interner, today));
        }
        for (profiles, tree) in [(&mut p.fk, &fk.tree), (&mut p.sor, &sor.tree)] {
            let contexts: Vec<Vec<u32>> = (0..profiles.len())
                .map(|i| tree.parent(i).map(|q| profiles[q].tokens.clone()).unwrap_or_default())
                .collect();
            for (prof, c) in profiles.iter_mut().zip(contexts) {
                prof.context = c;
            }
        }
        p.strip_context(fk, sor, vocab);
        for prof in p.fk.iter().chain(p.sor.iter()) {
            for &i in &prof.tokens {
                if df.len() <= i as usize {
                    df.resize(i as usize + 1, 0);
                }
                df[i as usize] += 1;
            }
        }
        let n = (fk.len() + sor.len()) as f32;
        p.idf = (0..p.interner.strings.len())
            .map(|i| {
                let d = df.get(i).copied().unwrap_or(0);
                if d == 0 {
                    0.0
                } else {
                    (1.0 + n / d as f32).ln()
                }
            })
            .collect();
        let idf = &p.idf;
        for prof in p.fk.iter_mut().chain(p.sor.iter_mut()) {
            prof.weight = prof.tokens.iter().map(|&t| idf[t as usize]).sum();
        }
        for side in [&mut p.fk, &mut p.sor] {
            let mut counts: HashMap<&[u32], u32> = HashMap::with_capacity(side.len());
            for prof in side.iter() {
                *counts.entry(prof.tokens.as_slice()).or_default() += 1;
            }
            let per_unit: Vec<u32> =
                side.iter().map(|prof| counts.get(prof.tokens.as_slice()).copied().unwrap_or(1)).collect();
            for (prof, c) in side.iter_mut().zip(per_unit) {
                prof.name_count = c;
            }
        }
        p.df = df;
        p.designator = p.interner.strings.iter().map(|t| vocab.is_designator(t)).collect();
        p
    }

    /// Removes context words from names, when something is left: the municipality's own name
    /// ("Afsnit B (København)") and the distinctive words of the parent's name
    /// ("Lærkeparken, afsnit B" under "Plejecenter Lærkeparken"). Unit-type words and designators
    /// of the parent stay: "Hjemmepleje Nord" keeps "hjemmepleje" under "Hjemmeplejen".
    fn strip_context(&mut self, fk: &FkTree, sor: &SorTree, vocab: &Vocabulary) {
        let kommune = self.interner.id("kommune");
        let mut municipality: Vec<u32> = Vec::new();
        for &r in fk.tree.roots() {
            municipality.extend(self.fk[r].tokens.iter().copied().filter(|&t| t != kommune));
        }
        for (i, u) in sor.units.iter().enumerate() {
            if u.kind == crate::domain::SorKind::InstitutionOwner {
                municipality.extend(self.sor[i].tokens.iter().copied().filter(|&t| t != kommune));
            }
        }
        let context_word = |t: u32| {
            let w = &self.interner.strings[t as usize];
            t != kommune && !vocab.is_designator(w) && vocab.longest_synonym(std::slice::from_ref(w)).is_none()
        };
        let strip = |profiles: &[Profile], tree: &crate::domain::Tree| -> Vec<Option<Vec<u32>>> {
            (0..profiles.len())
                .map(|i| {
                    let parent = tree.parent(i)?;
                    let own = &profiles[i].tokens;
                    let parent_tokens = &profiles[parent].tokens;
                    let kept: Vec<u32> = own
                        .iter()
                        .copied()
                        .filter(|t| {
                            let parent_context = parent_tokens.contains(t) && context_word(*t);
                            !(municipality.contains(t) || parent_context)
                        })
                        .collect();
                    (!kept.is_empty() && kept.len() < own.len()).then_some(kept)
                })
                .collect()
        };
        let fk_new = strip(&self.fk, &fk.tree);
        let sor_new = strip(&self.sor, &sor.tree);
        for (prof, new) in self.fk.iter_mut().zip(fk_new).chain(self.sor.iter_mut().zip(sor_new)) {
            if let Some(t) = new {
                prof.tokens = t;
            }
        }
    }

    /// Name similarity in 0..1: IDF-weighted overlap of the token sets (word order does not matter),
    /// with typo-tolerant matching of the tokens that do not agree exactly.
    pub fn name_similarity(&self, f: usize, s: usize) -> f32 {
        self.name_match(f, s).0
    }

    /// Name similarity and the smallest document frequency among the words that agree
    /// (exactly or with a typo); `u32::MAX` when none agree. Two names that each carry a designator
    /// the other lacks ("Afsnit A" / "Afsnit B") name different units: similarity 0.
    pub fn name_match(&self, f: usize, s: usize) -> (f32, u32) {
        let (a, b) = (&self.fk[f], &self.sor[s]);
        let total = a.weight + b.weight;
        let mut rarest = u32::MAX;
        if total <= 0.0 {
            return (0.0, rarest);
        }
        let (ta, tb) = (&a.tokens, &b.tokens);
        let mut matched = 0.0f32;
        let mut rest_a: [u32; 8] = [0; 8];
        let mut rest_b: [u32; 8] = [0; 8];
        let (mut na, mut nb) = (0usize, 0usize);
        let (mut i, mut j) = (0, 0);
        while i < ta.len() || j < tb.len() {
            if i < ta.len() && j < tb.len() && ta[i] == tb[j] {
                matched += 2.0 * self.idf[ta[i] as usize];
                rarest = rarest.min(self.df[ta[i] as usize]);
                i += 1;
                j += 1;
            } else if j >= tb.len() || (i < ta.len() && ta[i] < tb[j]) {
                if na < 8 {
                    rest_a[na] = ta[i];
                    na += 1;
                }
                i += 1;
            } else {
                if nb < 8 {
                    rest_b[nb] = tb[j];
                    nb += 1;
                }
                j += 1;
            }
        }
        // Words one name carries as context from the other unit's parent say nothing either way.
        let mut total = total;
        for (rest, n, other) in [(&mut rest_a, &mut na, b), (&mut rest_b, &mut nb, a)] {
            let mut kept = 0;
            for k in 0..*n {
                let t = rest[k];
                if other.context.binary_search(&t).is_ok() {
                    total -= self.idf[t as usize];
                } else {
                    rest[kept] = t;
                    kept += 1;
                }
            }
            *n = kept;
        }
        if total <= 0.0 {
            return (0.0, rarest);
        }
        if na > 0 && nb > 0 {
            let des_a = rest_a[..na].iter().any(|&t| self.designator[t as usize]);
            let des_b = rest_b[..nb].iter().any(|&t| self.designator[t as usize]);
            if des_a && des_b {
                return (0.0, rarest);
            }
            let mut used = [false; 8];
            for &x in &rest_a[..na] {
                let xs = self.interner.strings[x as usize].as_bytes();
                if xs.len() < 4 {
                    continue;
                }
                let mut best = (0.0f64, usize::MAX);
                for (k, &y) in rest_b[..nb].iter().enumerate() {
                    let ys = self.interner.strings[y as usize].as_bytes();
                    if used[k] || ys.len() < 4 {
                        continue;
                    }
                    let longest = xs.len().max(ys.len());
                    if let Some(d) = edit_distance(xs, ys, allowed_edits(xs.len().min(ys.len()))) {
                        let sim = 1.0 - d as f64 / longest as f64;
                        if sim > best.0 {
                            best = (sim, k);
                        }
                    }
                }
                if best.1 != usize::MAX {
                    used[best.1] = true;
                    let y = rest_b[best.1];
                    matched += best.0 as f32 * (self.idf[x as usize] + self.idf[y as usize]);
                    rarest = rarest.min(self.df[x as usize].max(self.df[y as usize]));
                }
            }
        }
        ((matched / total).min(1.0), rarest)
    }

    /// The level of every non-structural feature of a pair (structure levels are set neutral).
    pub fn levels(&self, f: usize, s: usize) -> (Levels, f32) {
        let (a, b) = (&self.fk[f], &self.sor[s]);
        let (sim, rarest) = self.name_match(f, s);
        // Term-frequency adjustment: a same name that no other unit carries says more than
        // "Afsnit A", which many units carry.
        let name = if sim >= 0.999 {
            // A common name ("Team 2") that the other register writes with the parent's name
            // as context ("Vest Team 2") is as specific as that other, unique, name.
            let carries_context = |x: &Profile, y: &Profile| {
                x.name_count <= 1
                    && x.tokens.iter().any(|t| y.tokens.binary_search(t).is_err() && y.context.binary_search(t).is_ok())
            };
            if (a.name_count <= 1 && b.name_count <= 1) || carries_context(b, a) || carries_context(a, b) {
                0
            } else {
                1
            }
        } else if sim >= 0.85 {
            if rarest <= RARE_DF {
                2
            } else {
                3
            }
        } else if sim >= 0.65 {
            4
        } else if sim >= 0.4 {
            5
        } else {
            6
        };
        let address = match (a.addrs.first(), b.addrs.is_empty()) {
            (Some(x), false) => b
                .addrs
                .iter()
                .map(|y| {
                    if x.postcode != y.postcode {
                        3
                    } else if x.street != y.street {
                        2
                    } else if x.number != y.number {
                        1
                    } else {
                        0
                    }
                })
                .min()
                .unwrap_or(4),
            _ => 4,
        };
        let eq3 = |x: Option<u64>, y: Option<u64>| match (x, y) {
            (Some(x), Some(y)) if x == y => 0,
            (Some(_), Some(_)) => 1,
            _ => 2,
        };
        (
            [
                name,
                address,
                eq3(a.phone.map(u64::from), b.phone.map(u64::from)),
                eq3(a.email.map(u64::from), b.email.map(u64::from)),
                eq3(a.ean, b.ean),
                Feature::Parent.neutral_level(),
                Feature::Children.neutral_level(),
            ],
            sim,
        )
    }
}

fn sor_profile(u: &SorUnit, tokens: Vec<u32>, health: bool, interner: &mut Interner, today: NaiveDate) -> Profile {
    let mut addrs = Vec::new();
    for a in [&u.effective.postal.value, &u.effective.visiting.value].into_iter().flatten() {
        if let Some(k) = addr_key(a, interner) {
            if !addrs.contains(&k) {
                addrs.push(k);
            }
        }
    }
    let ean = if u.own.ean_inherited_indicator { None } else { u.own.ean };
    Profile {
        tokens,
        weight: 0.0,
        addrs,
        phone: phone_key(u.effective.phone.value.as_deref()),
        email: email_key(u.effective.email.value.as_deref(), interner),
        ean: ean.map(|e| e.to_string().parse().unwrap_or(0)),
        closed: u.is_closed_on(today),
        health,
        name_count: 1,
        context: Vec::new(),
    }
}
