//! Blocking: candidate SOR units for each FK-ORG unit from inverted indexes over shared rare name
//! tokens, token prefixes/suffixes (for typos), address, phone, email and EAN. Posting lists that
//! are too long say nothing and are skipped, and each unit keeps a bounded number of candidates,
//! so the work grows with the size of the trees, never with their product.

use std::collections::HashMap;

use super::features::Profiles;

const KIND_TOKEN: u64 = 1;
const KIND_PREFIX: u64 = 2;
const KIND_SUFFIX: u64 = 3;
const KIND_ADDRESS: u64 = 4;
const KIND_PHONE: u64 = 5;
const KIND_EMAIL: u64 = 6;
const KIND_EAN: u64 = 7;

fn key(kind: u64, value: u64) -> u64 {
    (kind << 56) ^ (value & 0x00FF_FFFF_FFFF_FFFF)
}

fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A key with the evidence it carries (used to rank candidates when there are too many).
struct Key {
    key: u64,
    evidence: f32,
}

fn keys(p: &Profiles, profile: &super::features::Profile, out: &mut Vec<Key>) {
    out.clear();
    for &t in &profile.tokens {
        let idf = p.idf[t as usize];
        out.push(Key { key: key(KIND_TOKEN, t as u64), evidence: idf });
        let s = p.interner.strings[t as usize].as_bytes();
        if s.len() >= 6 {
            out.push(Key { key: key(KIND_PREFIX, fnv(&s[..4])), evidence: 0.5 * idf });
            out.push(Key { key: key(KIND_SUFFIX, fnv(&s[s.len() - 4..])), evidence: 0.5 * idf });
        }
    }
    for a in &profile.addrs {
        let v = ((a.street as u64) << 32) ^ ((a.number as u64) << 16) ^ a.postcode as u64;
        out.push(Key { key: key(KIND_ADDRESS, fnv(&v.to_le_bytes())), evidence: 3.0 });
    }
    if let Some(ph) = profile.phone {
        out.push(Key { key: key(KIND_PHONE, ph as u64), evidence: 3.0 });
    }
    if let Some(e) = profile.email {
        out.push(Key { key: key(KIND_EMAIL, e as u64), evidence: 3.0 });
    }
    if let Some(e) = profile.ean {
        out.push(Key { key: key(KIND_EAN, e), evidence: 20.0 });
    }
}

/// Posting lists longer than this are not used: a key shared by more SOR units says little, and a
/// fixed bound keeps the work per FK-ORG unit the same however large the municipality.
const MAX_POSTING: usize = 40;

/// A candidate needs at least this share of the best candidate's blocking evidence.
const RELATIVE_EVIDENCE_FLOOR: f32 = 0.4;

/// Inverted index over the SOR side.
pub struct SorIndex {
    postings: HashMap<u64, Vec<u32>>,
    /// Posting lists longer than this are not used (the key is too common to say anything).
    max_posting: usize,
}

impl SorIndex {
    pub fn build(p: &Profiles) -> Self {
        let mut postings: HashMap<u64, Vec<u32>> = HashMap::with_capacity(p.sor.len() * 6);
        let mut buf = Vec::new();
        for (i, prof) in p.sor.iter().enumerate() {
            keys(p, prof, &mut buf);
            for k in &buf {
                let list = postings.entry(k.key).or_default();
                if list.last() != Some(&(i as u32)) {
                    list.push(i as u32);
                }
            }
        }
        let max_posting = MAX_POSTING;
        SorIndex { postings, max_posting }
    }

    /// Candidate SOR units for every FK-ORG unit for which `wanted(f)` holds, at most
    /// `max_per_unit` each, strongest evidence first; `allowed(f, s)` filters pairs
    /// (closed vs open, units already linked by identifier).
    pub fn candidates(
        &self,
        p: &Profiles,
        max_per_unit: usize,
        wanted: impl Fn(usize) -> bool,
        allowed: impl Fn(usize, usize) -> bool,
    ) -> Vec<Vec<u32>> {
        let mut out = vec![Vec::new(); p.fk.len()];
        let mut evidence = vec![0.0f32; p.sor.len()];
        let mut touched: Vec<u32> = Vec::new();
        let mut buf = Vec::new();
        for (f, prof) in p.fk.iter().enumerate() {
            if !wanted(f) {
                continue;
            }
            keys(p, prof, &mut buf);
            for k in &buf {
                let Some(list) = self.postings.get(&k.key) else { continue };
                if list.len() > self.max_posting {
                    continue;
                }
                for &s in list {
                    if evidence[s as usize] == 0.0 {
                        touched.push(s);
                    }
                    evidence[s as usize] += k.evidence.max(1e-3);
                }
            }
            let mut cands: Vec<u32> = touched.iter().copied().filter(|&s| allowed(f, s as usize)).collect();
            // Candidates with much weaker evidence than the best one are dropped: in a large
            // municipality many units share one middling word with this one, and none of them is
            // likely its counterpart when another shares far more.
            let best = cands.iter().map(|&s| evidence[s as usize]).fold(0.0f32, f32::max);
            let floor = best * RELATIVE_EVIDENCE_FLOOR;
            cands.retain(|&s| evidence[s as usize] >= floor);
            if cands.len() > max_per_unit {
                cands.sort_by(|a, b| evidence[*b as usize].total_cmp(&evidence[*a as usize]));
                cands.truncate(max_per_unit);
            }
            for &s in &touched {
                evidence[s as usize] = 0.0;
            }
            touched.clear();
            out[f] = cands;
        }
        out
    }
}
