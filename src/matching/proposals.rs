//! The proposals that follow from the links: create (in-scope FK-ORG unit without counterpart under
//! a linked parent), update (a linked pair differs; FK-ORG is the source), close (the FK-ORG side is
//! closed), move (the linked parents disagree) and write back (FK-ORG lacks the SOR-ID).

use super::features::{fk_is_closed, fk_phone, parse_fk_address};
use super::normalise::{fold, words};
use super::structure::Run;
use super::synonyms::Vocabulary;
use super::{
    Change, CloseProposal, CreateProposal, MatchOptions, MoveProposal, Proposal, UpdateProposal, WriteBackProposal,
};
use crate::domain::{normalise_phone, Address, FkTree, FkUnit, Phone, SorKind, SorTree, SorUnit};

/// Every non-link proposal implied by the run's links.
pub fn follow_up(fk: &FkTree, sor: &SorTree, opts: &MatchOptions, vocab: &Vocabulary, run: &Run) -> Vec<Proposal> {
    let mut creates = Vec::new();
    let mut updates = Vec::new();
    let mut closes = Vec::new();
    let mut moves = Vec::new();
    let mut write_backs = Vec::new();
    let mut has_id_link = vec![false; fk.len()];
    for l in &run.id_links {
        has_id_link[l.f] = true;
    }
    for &f in fk.tree.preorder() {
        let u = &fk.units[f];
        let fk_closed = fk_is_closed(u, opts.today);
        match run.link[f] {
            Some(s) => {
                let su = &sor.units[s as usize];
                let sor_closed = su.is_closed_on(opts.today);
                if u.sor_id != Some(su.sor_id) {
                    write_backs.push(Proposal::WriteBack(WriteBackProposal { fk_uuid: u.uuid, sor_id: su.sor_id }));
                }
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
                let changes = changes(u, su);
                if !changes.is_empty() {
                    updates.push(Proposal::Update(UpdateProposal { fk_uuid: u.uuid, sor_id: su.sor_id, changes }));
                }
                if let Some(pf) = fk.tree.parent(f) {
                    if let Some(ps) = run.link[pf] {
                        let current = sor.tree.parent(s as usize);
                        if current != Some(ps as usize) && !sor.units[ps as usize].is_closed_on(opts.today) {
                            moves.push(Proposal::Move(MoveProposal {
                                sor_id: su.sor_id,
                                fk_uuid: u.uuid,
                                new_parent_sor_id: sor.units[ps as usize].sor_id,
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
                let Some(pf) = fk.tree.parent(f) else { continue };
                let Some(ps) = run.link[pf] else { continue };
                let parent = &sor.units[ps as usize];
                if parent.is_closed_on(opts.today) {
                    continue;
                }
                let health = vocab.is_health_like(&fold(&u.enhedsnavn), &[]) || run.profiles.fk[f].health;
                if health || parent.kind == SorKind::OrganizationalUnit {
                    creates.push(Proposal::Create(CreateProposal {
                        fk_uuid: u.uuid,
                        parent_sor_id: parent.sor_id,
                        name: u.enhedsnavn.clone(),
                        parent_fk_uuid: fk.units[pf].uuid,
                    }));
                }
            }
        }
    }
    // SOR units linked to an FK-ORG unit that is closed are covered above; a linked FK-ORG unit
    // that vanished needs the previous snapshot (the store), not these two files.
    let mut out = creates;
    out.extend(updates);
    out.extend(closes);
    out.extend(moves);
    out.extend(write_backs);
    out
}

fn same_text(a: &str, b: &str) -> bool {
    a.split_whitespace().eq(b.split_whitespace())
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

fn same_address(a: &Address, b: &Address) -> bool {
    let street = |x: &Address| words(&fold(&x.street)).collect::<Vec<_>>().join(" ");
    let number = |x: &Address| {
        x.building
            .as_deref()
            .unwrap_or("")
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    street(a) == street(b) && number(a) == number(b) && a.postcode.trim() == b.postcode.trim()
}

/// Fields where SOR differs from FK-ORG; FK-ORG's value is the one to set. A field FK-ORG leaves
/// empty is not cleared in SOR.
fn changes(u: &FkUnit, s: &SorUnit) -> Vec<Change> {
    let mut out = Vec::new();
    if !same_text(&u.enhedsnavn, &s.name) {
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
