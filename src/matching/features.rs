//! What the matcher compares: a profile per unit (name tokens with IDF weights, address, phone,
//! email, EAN, state) and the feature levels of one FK-ORG/SOR pair.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::normalise::{fold, jaro_winkler, name_tokens, words};
use super::synonyms::Vocabulary;
use crate::domain::{normalise_phone, Address, FkStatus, FkTree, FkUnit, Phone, SorTree, SorUnit};

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
            Feature::Name => &["same", "very similar", "similar", "partly similar", "different", "missing"],
            Feature::Address => &[
                "same street, number and postcode",
                "same street and postcode",
                "same postcode",
                "different",
                "missing",
            ],
            Feature::Phone | Feature::Email | Feature::Ean => &["same", "different", "missing"],
            Feature::Parent => {
                &["parents are linked to each other", "parents are linked elsewhere", "parents not linked"]
            }
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
    pub interner: Interner,
}

/// Parses FK-ORG's free-text postal address, e.g. "Halfdansgade 10, 2. tv, 2300 København S".
pub fn parse_fk_address(text: &str) -> Option<Address> {
    let parts: Vec<&str> = text.split(',').map(str::trim).filter(|p| !p.is_empty()).collect();
    let first = parts.first()?;
    let ws: Vec<&str> = first.split_whitespace().collect();
    let num_at = ws.iter().position(|w| w.starts_with(|c: char| c.is_ascii_digit()));
    let (street, building) = match num_at {
        Some(k) if k > 0 => {
            let mut b = ws[k].to_string();
            if let Some(letter) = ws.get(k + 1).filter(|w| w.len() == 1 && w.chars().all(char::is_alphabetic)) {
                b.push_str(letter);
            }
            (ws[..k].join(" "), Some(b))
        }
        _ => (ws.join(" "), None),
    };
    let postal = parts.iter().skip(1).rev().find_map(|p| {
        let mut it = p.split_whitespace();
        let code = it.next()?;
        (code.len() == 4 && code.bytes().all(|b| b.is_ascii_digit()))
            .then(|| (code.to_string(), it.collect::<Vec<_>>().join(" ")))
    });
    let (postcode, district) = postal.unwrap_or_default();
    Some(Address { street, building, floor: None, suite: None, postcode, district })
}

fn addr_key(a: &Address, interner: &mut Interner) -> Option<AddrKey> {
    let street: String = words(&fold(&a.street)).collect::<Vec<_>>().join(" ");
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

/// True when an FK-ORG unit is closed on `today` (INAKTIV, or its validity ended).
pub fn fk_is_closed(u: &FkUnit, today: NaiveDate) -> bool {
    u.status == FkStatus::Inaktiv || u.valid_to.is_some_and(|t| t.date_naive() <= today)
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

impl Profiles {
    /// Builds both sides' profiles and the IDF weights over both trees.
    pub fn build(fk: &FkTree, sor: &SorTree, vocab: &Vocabulary, today: NaiveDate) -> Self {
        let mut p = Profiles::default();
        let mut df: Vec<u32> = Vec::new();
        let tokens_for = |name: &str, interner: &mut Interner, df: &mut Vec<u32>| -> (Vec<u32>, bool) {
            let toks = name_tokens(name, vocab);
            let health = vocab.is_health_like(&fold(name), &toks);
            let mut ids: Vec<u32> = toks.iter().map(|t| interner.id(t)).collect();
            ids.sort_unstable();
            ids.dedup();
            for &i in &ids {
                if df.len() <= i as usize {
                    df.resize(i as usize + 1, 0);
                }
                df[i as usize] += 1;
            }
            (ids, health)
        };
        for u in &fk.units {
            let (tokens, health) = tokens_for(&u.enhedsnavn, &mut p.interner, &mut df);
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
                closed: fk_is_closed(u, today),
                health,
            });
        }
        for u in &sor.units {
            let (tokens, health) = tokens_for(&u.name, &mut p.interner, &mut df);
            p.sor.push(sor_profile(u, tokens, health, &mut p.interner, today));
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
        p
    }

    /// Name similarity in 0..1: IDF-weighted overlap of the token sets (word order does not matter),
    /// with typo-tolerant matching of the tokens that do not agree exactly.
    pub fn name_similarity(&self, f: usize, s: usize) -> f32 {
        let (a, b) = (&self.fk[f], &self.sor[s]);
        let total = a.weight + b.weight;
        if total <= 0.0 {
            return 0.0;
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
        if na > 0 && nb > 0 {
            let mut used = [false; 8];
            for &x in &rest_a[..na] {
                let xs = self.interner.strings[x as usize].as_bytes();
                if xs.len() < 4 {
                    continue;
                }
                let mut best = (0.0f64, usize::MAX);
                for (k, &y) in rest_b[..nb].iter().enumerate() {
                    let ys = self.interner.strings[y as usize].as_bytes();
                    if used[k] || ys.len() < 4 || xs.len().abs_diff(ys.len()) > 3 {
                        continue;
                    }
                    let sim = jaro_winkler(xs, ys);
                    if sim > best.0 {
                        best = (sim, k);
                    }
                }
                if best.0 >= 0.88 {
                    used[best.1] = true;
                    let y = rest_b[best.1];
                    matched += best.0 as f32 * (self.idf[x as usize] + self.idf[y as usize]);
                }
            }
        }
        (matched / total).min(1.0)
    }

    /// The level of every non-structural feature of a pair (structure levels are set neutral).
    pub fn levels(&self, f: usize, s: usize) -> (Levels, f32) {
        let (a, b) = (&self.fk[f], &self.sor[s]);
        let sim = self.name_similarity(f, s);
        let name = if sim >= 0.999 {
            0
        } else if sim >= 0.85 {
            1
        } else if sim >= 0.65 {
            2
        } else if sim >= 0.4 {
            3
        } else {
            4
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fk_free_text_addresses_parse_into_street_number_and_postcode() {
        let a = parse_fk_address("Halfdansgade 10 B, 2. tv, 2300 København S").unwrap();
        assert_eq!(a.street, "Halfdansgade");
        assert_eq!(a.building.as_deref(), Some("10B"));
        assert_eq!(a.postcode, "2300");
        assert_eq!(a.district, "København S");
    }
}
