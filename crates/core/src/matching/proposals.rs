//! The proposals that follow from the links: create (an in-scope FK-ORG unit without counterpart,
//! of a kind the municipality registers in SOR), update (a linked pair differs in a way that
//! matters; FK-ORG is the source), close (the FK-ORG side is closed), move (the linked parents
//! disagree). Writing the SOR-ID back follows from the link itself (the plan makes it), so it is
//! no proposal of its own. Nothing is proposed for what the municipality does not maintain in SOR:
//! institution owners (IE) and health institutions (SI) are never updated, moved or closed.

use std::collections::HashMap;

use super::features::fk_phone;
use super::normalise::name_tokens;
use super::structure::Run;
use super::synonyms::Vocabulary;
use super::text::{fold, words};
use super::{Change, CloseProposal, CreateProposal, MatchOptions, MoveProposal, Proposal, UpdateProposal};
use crate::domain::parse_fk_address;
use crate::domain::{normalise_phone, Address, FkTree, FkUnit, Phone, SorKind, SorTree, SorUnit};

/// Every non-link proposal implied by the run's links.
pub fn follow_up(
    fk: &FkTree,
    sor: &SorTree,
    opts: &MatchOptions,
    vocab: &Vocabulary,
    run: &Run,
    registered: &Registered,
) -> Vec<Proposal> {
    let mut creates = Vec::new();
    let mut updates = Vec::new();
    let mut closes = Vec::new();
    let mut moves = Vec::new();
    let mut has_id_link = vec![false; fk.len()];
    for l in &run.id_links {
        has_id_link[l.f] = true;
    }
    for &f in fk.tree.preorder() {
        let u = &fk.units[f];
        let fk_closed = u.is_closed(opts.today);
        match run.link[f] {
            Some(s) => {
                let su = &sor.units[s as usize];
                // IEs and SIs are maintained by their owners and Sundhedsdatastyrelsen, not by
                // the municipality's SOR administrators.
                if su.kind != SorKind::OrganizationalUnit {
                    continue;
                }
                let sor_closed = su.is_closed_on(opts.today);
                if fk_closed && !sor_closed {
                    closes.push(Proposal::Close(CloseProposal {
                        sor_id: su.sor_id,
                        fk_uuid: u.uuid,
                        name: su.name.clone(),
                    }));
                    continue;
                }
                if fk_closed || sor_closed {
                    continue;
                }
                let changes = changes(u, su, vocab);
                if !changes.is_empty() {
                    updates.push(Proposal::Update(UpdateProposal { fk_uuid: u.uuid, sor_id: su.sor_id, changes }));
                }
                if let Some(pf) = fk.tree.parent(f) {
                    if let Some(ps) = run.link[pf] {
                        let ps = ps as usize;
                        let current = sor.tree.parent(s as usize);
                        // SOR may keep a level FK-ORG does not have: a unit already somewhere
                        // below its parent's counterpart stays where it is.
                        let below = sor.tree.ancestors(s as usize).any(|a| a == ps);
                        if !below && !sor.units[ps].is_closed_on(opts.today) {
                            moves.push(Proposal::Move(MoveProposal {
                                sor_id: su.sor_id,
                                fk_uuid: u.uuid,
                                new_parent_sor_id: sor.units[ps].sor_id,
                                old_parent_sor_id: current.map(|c| sor.units[c].sor_id),
                            }));
                        }
                    }
                }
            }
            None => {
                if fk_closed || !run.in_scope[f] || has_id_link[f] {
                    continue;
                }
                if registered.clearly_unwanted(f) {
                    continue;
                }
                let Some((pf, parent)) = placement(fk, sor, opts, run, registered, f) else { continue };
                let name = named_like_siblings(fk, sor, run, f).unwrap_or_else(|| u.enhedsnavn.trim().to_string());
                creates.push(Proposal::Create(CreateProposal {
                    fk_uuid: u.uuid,
                    parent_sor_id: sor.units[parent].sor_id,
                    name,
                    parent_fk_uuid: fk.units[pf].uuid,
                }));
            }
        }
    }
    // SOR units linked to an FK-ORG unit that is closed are covered above; a linked FK-ORG unit
    // that vanished needs the previous snapshot (the store), not these two files.
    let mut out = creates;
    out.extend(updates);
    out.extend(closes);
    out.extend(moves);
    out
}

/// The kind of an FK-ORG unit as its name says: its unit-type word ("plejecenter", "afsnit",
/// "gruppe", "koekken"), or its first word that is not a designator.
pub fn unit_kind(name: &str, vocab: &Vocabulary) -> String {
    let toks = name_tokens(name, vocab);
    toks.iter()
        .find(|t| vocab.is_health_like("", std::slice::from_ref(*t)))
        .or_else(|| toks.iter().find(|t| !vocab.is_designator(t)))
        .or(toks.first())
        .cloned()
        .unwrap_or_default()
}

/// Which kinds of FK-ORG unit (and under which kind of parent) this municipality registers in
/// SOR, learned from its links: the share of in-scope, open units of a kind that are linked,
/// with a prior from whether the name is health-related. Decisions recorded earlier count too
/// (a unit decided "new" as registered, one decided "not in SOR" as not).
pub struct Registered {
    kind: Vec<String>,
    parent_kind: Vec<String>,
    health: Vec<bool>,
    /// Per unit: counted in the evidence, and whether as registered (a unit is no evidence about itself).
    counted: Vec<Option<bool>>,
    by_pair: HashMap<(String, String), (u32, u32)>,
    by_kind: HashMap<String, (u32, u32)>,
}

impl Registered {
    /// Units of a kind seen fewer times than this under one kind of parent are judged by the kind alone.
    const MIN_PAIR_EVIDENCE: u32 = 3;

    pub fn learn(fk: &FkTree, opts: &MatchOptions, vocab: &Vocabulary, run: &Run) -> Registered {
        // A unit-type word names the kind; else the name's word most units share ("Afsnit" in
        // "Solgården Afsnit A"), since kinds repeat across a municipality and proper names do not.
        let tokens: Vec<Vec<String>> = fk.units.iter().map(|u| name_tokens(&u.enhedsnavn, vocab)).collect();
        let mut df: HashMap<&str, u32> = HashMap::new();
        for toks in &tokens {
            let mut seen: Vec<&str> = toks.iter().map(String::as_str).collect();
            seen.sort_unstable();
            seen.dedup();
            for t in seen {
                *df.entry(t).or_insert(0) += 1;
            }
        }
        let kind: Vec<String> = tokens
            .iter()
            .zip(&fk.units)
            .map(|(toks, u)| {
                let typed = toks.iter().find(|t| vocab.is_health_like("", std::slice::from_ref(*t)));
                let common = toks
                    .iter()
                    .filter(|t| !vocab.is_designator(t))
                    .max_by_key(|t| (df.get(t.as_str()).copied().unwrap_or(0), std::cmp::Reverse(t.len())));
                typed.or(common).cloned().unwrap_or_else(|| unit_kind(&u.enhedsnavn, vocab))
            })
            .collect();
        let parent_kind: Vec<String> =
            (0..fk.len()).map(|f| fk.tree.parent(f).map(|p| kind[p].clone()).unwrap_or_default()).collect();
        let health: Vec<bool> = (0..fk.len())
            .map(|f| run.profiles.fk[f].health || vocab.is_health_like(&fold(&fk.units[f].enhedsnavn), &[]))
            .collect();
        let mut by_pair: HashMap<(String, String), (u32, u32)> = HashMap::new();
        let mut by_kind: HashMap<String, (u32, u32)> = HashMap::new();
        let mut counted = vec![None; fk.len()];
        for f in 0..fk.len() {
            if !run.in_scope[f] || fk.units[f].is_closed(opts.today) {
                continue;
            }
            let uuid = fk.units[f].uuid;
            let registered = if opts.feedback.created.contains(&uuid) {
                true
            } else if opts.feedback.not_in_sor.contains(&uuid) {
                false
            } else {
                run.link[f].is_some()
            };
            counted[f] = Some(registered);
            let r = u32::from(registered);
            let e = by_pair.entry((parent_kind[f].clone(), kind[f].clone())).or_insert((0, 0));
            e.0 += r;
            e.1 += 1;
            let e = by_kind.entry(kind[f].clone()).or_insert((0, 0));
            e.0 += r;
            e.1 += 1;
        }
        Registered { kind, parent_kind, health, counted, by_pair, by_kind }
    }

    /// The share of units like `f` that the municipality registers in SOR (smoothed).
    pub fn share(&self, f: usize) -> f64 {
        let prior = if self.health[f] { 0.6 } else { 0.02 };
        const WEIGHT: f64 = 2.0;
        let without_self = |(l, t): (u32, u32)| match self.counted[f] {
            Some(r) => (l.saturating_sub(u32::from(r)), t.saturating_sub(1)),
            None => (l, t),
        };
        let pair = self.by_pair.get(&(self.parent_kind[f].clone(), self.kind[f].clone())).copied().map(without_self);
        let (linked, total) = match pair {
            Some((l, t)) if t >= Self::MIN_PAIR_EVIDENCE => (l, t),
            _ => self.by_kind.get(&self.kind[f]).copied().map(without_self).unwrap_or((0, 0)),
        };
        (f64::from(linked) + prior * WEIGHT) / (f64::from(total) + WEIGHT)
    }

    /// The kind of FK-ORG unit `f` (see [`unit_kind`]).
    pub fn kind_of(&self, f: usize) -> &str {
        &self.kind[f]
    }

    /// True when the municipality clearly does not register units like `f`: at most
    /// [`Registered::CLEARLY_UNWANTED`] of such units are in its SOR. Such a unit is "not in SOR"
    /// by the sync policy. Any other unit without a counterpart is proposed for creation, and a
    /// person decides (create it, or "not in SOR"): a kind the municipality registers only now
    /// and then is a person's call, not the policy's (on the generated sets this took the wrong
    /// automatic decisions from 1.6 to 0.3 per 1,000 units on the rough profile, for 0.3 more
    /// decisions per 100 units).
    pub fn clearly_unwanted(&self, f: usize) -> bool {
        self.share(f) <= Self::CLEARLY_UNWANTED
    }

    /// The share of registered units at or below which a kind is clearly not registered.
    pub const CLEARLY_UNWANTED: f64 = 0.15;
}

/// The name a new SOR unit for FK-ORG unit `f` gets when the municipality names such units in SOR
/// with context: if most of `f`'s linked siblings are called "<context><their FK-ORG name>" in SOR
/// with the same context ("Kastanjelyst, " before "Afsnit A"), `f` is named the same way.
fn named_like_siblings(fk: &FkTree, sor: &SorTree, run: &Run, f: usize) -> Option<String> {
    let pf = fk.tree.parent(f)?;
    let name = fk.units[f].enhedsnavn.trim();
    let mut prefixes: HashMap<String, usize> = HashMap::new();
    let mut linked = 0usize;
    for &g in fk.tree.children(pf) {
        let Some(s) = run.link[g].filter(|_| g != f) else { continue };
        linked += 1;
        let (fk_name, sor_name) = (fk.units[g].enhedsnavn.trim(), sor.units[s as usize].name.trim());
        let Some(cut) = sor_name.len().checked_sub(fk_name.len()).filter(|&c| c > 0) else { continue };
        if !sor_name.is_char_boundary(cut) || sor_name[cut..].to_lowercase() != fk_name.to_lowercase() {
            continue;
        }
        *prefixes.entry(sor_name[..cut].to_string()).or_insert(0) += 1;
    }
    let (prefix, n) = prefixes.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))?;
    (2 * n > linked).then(|| format!("{prefix}{name}"))
}

/// Where a new SOR unit for FK-ORG unit `f` goes: (the FK-ORG parent, the SOR parent). Under the
/// counterpart of its FK-ORG parent; when the parent has none (an administrative level SOR does
/// not have), where the counterparts of its siblings of the same kind sit; else under the
/// counterpart of its nearest linked ancestor, if that is a health institution or unit. None when
/// SOR has no place for it.
fn placement(
    fk: &FkTree,
    sor: &SorTree,
    opts: &MatchOptions,
    run: &Run,
    registered: &Registered,
    f: usize,
) -> Option<(usize, usize)> {
    let pf = fk.tree.parent(f)?;
    let open = |s: usize| !sor.units[s].is_closed_on(opts.today) && sor.units[s].kind != SorKind::InstitutionOwner;
    if let Some(ps) = run.link[pf] {
        let ps = ps as usize;
        return open(ps).then_some((pf, ps));
    }
    let mut votes: HashMap<usize, u32> = HashMap::new();
    for &sib in fk.tree.children(pf) {
        if sib == f || registered.kind[sib] != registered.kind[f] {
            continue;
        }
        if let Some(s) = run.link[sib] {
            if let Some(p) = sor.tree.parent(s as usize).filter(|&p| open(p)) {
                *votes.entry(p).or_insert(0) += 1;
            }
        }
    }
    if let Some((&p, _)) = votes.iter().max_by_key(|(p, n)| (**n, std::cmp::Reverse(**p))) {
        return Some((pf, p));
    }
    let ancestor = fk.tree.ancestors(f).find_map(|a| run.link[a])? as usize;
    open(ancestor).then_some((pf, ancestor))
}

/// True when SOR's name says the same as FK-ORG's, or says it with context: compared after
/// folding case, æ/ae, abbreviations and unit-type synonyms ("Plejehjemmet" = "Plejecenter"),
/// dropping small words and the municipality's name, and allowing one typo in a long word. A SOR
/// name that is FK-ORG's name plus its parent's or the municipality's name ("Kastanjelyst, Afsnit
/// A" for "Afsnit A", "Faxe Kommunale Tandpleje" for "Den Kommunale Tandpleje") is kept: renaming
/// it would strip the context SOR's readers need.
pub fn same_name(fk_name: &str, sor_name: &str, vocab: &Vocabulary) -> bool {
    if fk_name.split_whitespace().eq(sor_name.split_whitespace()) {
        return true;
    }
    let fk_toks = name_tokens(fk_name, vocab);
    let sor_toks = name_tokens(sor_name, vocab);
    let close = |a: &str, b: &str| {
        a == b || (a.len() >= 5 && b.len() >= 5 && super::text::edit_distance(a.as_bytes(), b.as_bytes(), 1).is_some())
    };
    !fk_toks.is_empty() && fk_toks.iter().all(|t| sor_toks.iter().any(|s| close(t, s)))
}

/// A street name in one comparable form: folded, and the usual abbreviations of the last part
/// written out the same way ("Stationsv." = "Stationsvej", "Hovedg." = "Hovedgade", "Al." = "Allé").
pub fn street_key(street: &str) -> String {
    const SUFFIXES: [(&str, &str); 7] = [
        ("vej", "v"),
        ("gade", "g"),
        ("alle", "al"),
        ("plads", "pl"),
        ("straede", "str"),
        ("boulevard", "boul"),
        ("vaenge", "vg"),
    ];
    let folded = fold(street);
    let mut out: Vec<String> = Vec::new();
    for w in words(&folded) {
        let short = SUFFIXES.iter().find_map(|(long, short)| w.strip_suffix(long).map(|stem| format!("{stem}{short}")));
        out.push(short.unwrap_or_else(|| w.to_string()));
    }
    out.join(" ")
}

fn format_address(a: &Address) -> String {
    let mut s = a.street.clone();
    if let Some(b) = &a.building {
        s.push(' ');
        s.push_str(b);
    }
    if let Some(fl) = &a.floor {
        s.push_str(", ");
        s.push_str(fl);
        if let Some(su) = &a.suite {
            s.push(' ');
            s.push_str(su);
        }
    }
    format!("{s}, {} {}", a.postcode, a.district).trim().to_string()
}

/// Same street (abbreviations written out), same number, and the same postcode where both have one.
pub fn same_address(a: &Address, b: &Address) -> bool {
    let street = |x: &Address| street_key(&x.street);
    let number = |x: &Address| {
        x.building
            .as_deref()
            .unwrap_or("")
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    let postcode_agrees =
        a.postcode.trim().is_empty() || b.postcode.trim().is_empty() || a.postcode.trim() == b.postcode.trim();
    street(a) == street(b) && number(a) == number(b) && postcode_agrees
}

/// Fields where SOR differs from FK-ORG in a way that matters; FK-ORG's value is the one to set.
/// A field FK-ORG leaves empty is not cleared in SOR.
fn changes(u: &FkUnit, s: &SorUnit, vocab: &Vocabulary) -> Vec<Change> {
    let mut out = Vec::new();
    if !same_name(&u.enhedsnavn, &s.name, vocab) {
        out.push(Change { field: "name", from: Some(s.name.clone()), to: Some(u.enhedsnavn.trim().to_string()) });
    }
    if let Some(text) = u.postal_address.as_deref().filter(|t| !t.trim().is_empty()) {
        let sor_addr = s.effective.postal.value.as_ref();
        let differs = match (parse_fk_address(text), sor_addr) {
            (Some(a), Some(b)) => !same_address(&a, b),
            (_, None) => true,
            (None, Some(_)) => false,
        };
        if differs {
            // SOR takes "street number, postcode town": FK-ORG's free text in that form when it
            // can be read, else as typed (SOR will refuse it, and the reason is shown).
            let to = parse_fk_address(text)
                .filter(|a| !a.postcode.is_empty())
                .map_or_else(|| text.trim().to_string(), |a| format_address(&a));
            out.push(Change { field: "address", from: sor_addr.map(format_address), to: Some(to) });
        }
    }
    if let Some(phone) = fk_phone(u) {
        let sor_phone = s.effective.phone.value.as_deref();
        let same = matches!(normalise_phone(sor_phone), Phone::Valid(d) if d == phone);
        if !same {
            out.push(Change { field: "phone", from: sor_phone.map(str::to_string), to: Some(phone) });
        }
    }
    if let Some(email) = u.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
        let sor_email = s.effective.email.value.as_deref();
        if sor_email.map(|e| e.trim().to_lowercase()) != Some(email.to_lowercase()) {
            out.push(Change { field: "email", from: sor_email.map(str::to_string), to: Some(email.to_string()) });
        }
    }
    out
}
