//! The simulation behind the preview: applies FK-ORG edits (or pending proposals) to a copy of
//! both trees' structure and records each SOR change with its reason, plus the warnings.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::{Action, Change, Edit, FkMark, Preview, PreviewError, Summary, Text, Warning, WarningKind};
use crate::domain::{Address, FkTree, FkUuid, SorId, SorKind, SorTree, SorUnit};
use crate::matching::Proposal;

/// Most unit names listed in one warning before "and N more".
const MAX_LISTED: usize = 8;

/// What `edits` (applied in order) would do in SOR, given the current `links` (FK-ORG unit to
/// SOR unit). Links whose FK-ORG unit is not in `fk` are ignored; links to SOR units that are
/// missing or closed are reported as broken when an edit touches them.
pub fn preview(
    fk: &FkTree,
    sor: &SorTree,
    links: &[(FkUuid, SorId)],
    edits: &[Edit],
    today: NaiveDate,
) -> Result<Preview, PreviewError> {
    let mut sim = Sim::new(fk, sor, links, today);
    for (i, edit) in edits.iter().enumerate() {
        let number = i + 1;
        let find =
            |uuid: FkUuid| fk.index_of(uuid).ok_or(PreviewError::UnknownFkUnit { number, action: edit.action(), uuid });
        match edit {
            Edit::Create { name, under, address, phone } => {
                let u = find(*under)?;
                sim.create(name, u, address.as_deref(), phone.as_deref());
            }
            Edit::Close { unit, date } => {
                let f = find(*unit)?;
                sim.close_fk(f, *date);
            }
            Edit::Move { unit, under } => {
                let f = find(*unit)?;
                let u = find(*under)?;
                if sim.fk_in_subtree(u, f) {
                    return Err(PreviewError::MoveUnderItself {
                        number,
                        name: fk.units[f].enhedsnavn.clone(),
                        under: fk.units[u].enhedsnavn.clone(),
                    });
                }
                sim.move_fk(f, u);
            }
            Edit::Rename { unit, name } => {
                let f = find(*unit)?;
                sim.rename(f, name);
            }
        }
    }
    Ok(sim.finish())
}

/// What a set of pending proposals would do in SOR: create, update, close and move map to SOR
/// changes; a link to a missing or closed SOR unit is a broken link; write-backs change FK-ORG
/// only and are left out.
pub fn preview_proposals(
    fk: &FkTree,
    sor: &SorTree,
    links: &[(FkUuid, SorId)],
    proposals: &[Proposal],
    today: NaiveDate,
) -> Result<Preview, PreviewError> {
    let mut sim = Sim::new(fk, sor, links, today);
    for (i, p) in proposals.iter().enumerate() {
        let number = i + 1;
        let find = |sor_id: SorId| {
            sor.index_of(sor_id).ok_or(PreviewError::UnknownSorUnit { number, kind: p.kind().as_str(), sor_id })
        };
        match p {
            Proposal::Link(l) => match sor.index_of(l.sor_id) {
                None => sim.warn(
                    WarningKind::BrokenLink,
                    Some(l.sor_id),
                    Text::new("linked_to_missing").quoted("fk", &l.fk_name).plain("sor_id", l.sor_id),
                ),
                Some(s) if sor.units[s].is_closed_on(today) => sim.warn(
                    WarningKind::BrokenLink,
                    Some(l.sor_id),
                    Text::new("linked_to_closed").quoted("fk", &l.fk_name).quoted("sor", &sor.units[s].name),
                ),
                Some(_) => {}
            },
            Proposal::Create(c) => {
                let ps = find(c.parent_sor_id)?;
                let fk_parent = fk.get(c.parent_fk_uuid).map(|u| u.enhedsnavn.as_str()).unwrap_or("?");
                let because = Text::new("create_proposed")
                    .quoted("fk", &c.name)
                    .quoted("parent", fk_parent)
                    .quoted("sor", &sor.units[ps].name)
                    .tail("placement", sim.placement(ps));
                sim.fk_marks.push(FkMark {
                    action: Action::Create,
                    fk_uuid: Some(c.fk_uuid),
                    parent: Some(c.parent_fk_uuid),
                    name: c.name.clone(),
                });
                sim.push(Action::Create, None, c.name.clone(), Some(ps), None, Some(c.fk_uuid), because);
            }
            Proposal::Update(u) => {
                let s = find(u.sor_id)?;
                let mut name = sor.units[s].name.clone();
                let mut parts = Vec::new();
                for ch in &u.changes {
                    if ch.field == "name" {
                        if let Some(n) = &ch.to {
                            name = n.clone();
                        }
                    }
                    parts.push(
                        Text::new("field_change")
                            .text("field", field_text(ch.field))
                            .quoted("from", ch.from.as_deref().unwrap_or(""))
                            .quoted("to", ch.to.as_deref().unwrap_or("")),
                    );
                    match ch.field {
                        "address" => sim.warn_inheritors(s, Field::Postal),
                        "phone" => sim.warn_inheritors(s, Field::Phone),
                        _ => {}
                    }
                }
                sim.fk_marks.push(FkMark {
                    action: Action::Update,
                    fk_uuid: Some(u.fk_uuid),
                    parent: None,
                    name: name.clone(),
                });
                let parent = sim.sor_parent[s];
                sim.push(
                    Action::Update,
                    Some(u.sor_id),
                    name,
                    parent,
                    None,
                    Some(u.fk_uuid),
                    Text::new("fields_changed").join("changes", parts),
                );
            }
            Proposal::Close(c) => {
                let s = find(c.sor_id)?;
                let fk_name = fk.get(c.fk_uuid).map(|u| u.enhedsnavn.clone()).unwrap_or_else(|| c.name.clone());
                sim.fk_marks.push(FkMark {
                    action: Action::Close,
                    fk_uuid: Some(c.fk_uuid),
                    parent: None,
                    name: fk_name.clone(),
                });
                sim.close_sor_subtree(s, Text::new("fk_closed").quoted("fk", &fk_name));
            }
            Proposal::Move(m) => {
                let s = find(m.sor_id)?;
                let p = find(m.new_parent_sor_id)?;
                let fk_name = fk.get(m.fk_uuid).map(|u| u.enhedsnavn.clone()).unwrap_or_default();
                sim.fk_marks.push(FkMark {
                    action: Action::Move,
                    fk_uuid: Some(m.fk_uuid),
                    parent: None,
                    name: fk_name.clone(),
                });
                sim.move_sor(s, p, Text::new("fk_other_parent").quoted("fk", &fk_name));
            }
            Proposal::WriteBack(_) => {}
        }
    }
    Ok(sim.finish())
}

/// An inheritable SOR value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Ean,
    Postal,
    Phone,
}

impl Field {
    fn has_own(self, u: &SorUnit) -> bool {
        match self {
            Field::Ean => u.own.ean.is_some() && !u.own.ean_inherited_indicator,
            Field::Postal => u.own.postal.is_some(),
            Field::Phone => u.own.phone.is_some(),
        }
    }
    fn effective(self, u: &SorUnit) -> Option<String> {
        match self {
            Field::Ean => u.effective.ean.value.map(|e| e.to_string()),
            Field::Postal => u.effective.postal.value.as_ref().map(show_address),
            Field::Phone => u.effective.phone.value.clone(),
        }
    }
    fn label(self) -> Text {
        Text::new(match self {
            Field::Ean => "field_ean",
            Field::Postal => "field_postal_address",
            Field::Phone => "field_phone_number",
        })
    }
}

fn show_address(a: &Address) -> String {
    let mut s = a.street.clone();
    if let Some(b) = &a.building {
        s.push(' ');
        s.push_str(b);
    }
    format!("{s}, {} {}", a.postcode, a.district)
}

/// "A, B and 3 more".
fn list_names(names: &[&str]) -> Text {
    let shown: Vec<String> = names.iter().take(MAX_LISTED).map(|n| format!("{n:?}")).collect();
    let s = shown.join(", ");
    if names.len() > MAX_LISTED {
        Text::new("names_and_more").plain("names", s).plain("more", names.len() - MAX_LISTED)
    } else {
        Text::new("names").plain("names", s)
    }
}

/// A proposal's field name as a message.
fn field_text(field: &str) -> Text {
    Text::new(match field {
        "name" => "field_name",
        "address" => "field_address",
        "phone" => "field_phone",
        "email" => "field_email",
        _ => "field_other",
    })
}

/// Working copy of both trees' structure while edits are applied.
struct Sim<'a> {
    fk: &'a FkTree,
    sor: &'a SorTree,
    /// FK-ORG index -> SOR-ID it is linked to (the SOR unit may be missing).
    link: Vec<Option<SorId>>,
    /// SOR index -> FK-ORG index linked to it.
    rev: HashMap<usize, usize>,
    fk_parent: Vec<Option<usize>>,
    fk_children: Vec<Vec<usize>>,
    fk_closed: Vec<bool>,
    sor_parent: Vec<Option<usize>>,
    sor_children: Vec<Vec<usize>>,
    sor_closed: Vec<bool>,
    changes: Vec<Change>,
    warnings: Vec<Warning>,
    fk_marks: Vec<FkMark>,
    today: NaiveDate,
}

impl<'a> Sim<'a> {
    fn new(fk: &'a FkTree, sor: &'a SorTree, links: &[(FkUuid, SorId)], today: NaiveDate) -> Self {
        let mut link = vec![None; fk.len()];
        let mut rev = HashMap::with_capacity(links.len());
        for &(f, s) in links {
            if let Some(fi) = fk.index_of(f) {
                link[fi] = Some(s);
                if let Some(si) = sor.index_of(s) {
                    rev.insert(si, fi);
                }
            }
        }
        Sim {
            fk,
            sor,
            link,
            rev,
            fk_parent: (0..fk.len()).map(|i| fk.tree.parent(i)).collect(),
            fk_children: (0..fk.len()).map(|i| fk.tree.children(i).to_vec()).collect(),
            fk_closed: fk.units.iter().map(|u| u.is_closed(today)).collect(),
            sor_parent: (0..sor.len()).map(|i| sor.tree.parent(i)).collect(),
            sor_children: (0..sor.len()).map(|i| sor.tree.children(i).to_vec()).collect(),
            sor_closed: sor.units.iter().map(|u| u.is_closed_on(today)).collect(),
            changes: Vec::new(),
            warnings: Vec::new(),
            fk_marks: Vec::new(),
            today,
        }
    }

    fn finish(self) -> Preview {
        let mut summary = Summary::default();
        for c in &self.changes {
            match c.action {
                Action::Create => summary.create += 1,
                Action::Update => summary.update += 1,
                Action::Close => summary.close += 1,
                Action::Move => summary.moves += 1,
            }
        }
        Preview { summary, changes: self.changes, warnings: self.warnings, fk_marks: self.fk_marks }
    }

    fn warn(&mut self, kind: WarningKind, sor_id: Option<SorId>, text: Text) {
        let w = Warning { kind, sor_id, message: text.english(), text };
        if !self.warnings.contains(&w) {
            self.warnings.push(w);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        action: Action,
        sor_id: Option<SorId>,
        name: String,
        parent: Option<usize>,
        new_parent: Option<usize>,
        fk_uuid: Option<FkUuid>,
        because_text: Text,
    ) {
        let id = |i: Option<usize>| i.map(|i| self.sor.units[i].sor_id);
        let change = Change {
            action,
            sor_id,
            name,
            parent_sor_id: id(parent),
            new_parent_sor_id: id(new_parent),
            fk_uuid,
            because: because_text.english(),
            because_text,
        };
        self.changes.push(change);
    }

    fn fk_name(&self, f: usize) -> &'a str {
        &self.fk.units[f].enhedsnavn
    }
    fn sor_name(&self, s: usize) -> &'a str {
        &self.sor.units[s].name
    }

    /// The open SOR unit linked to FK-ORG unit `f`; a link to a missing or closed unit is
    /// reported once as broken and counts as no link.
    fn counterpart(&mut self, f: usize) -> Option<usize> {
        let sor_id = self.link[f]?;
        let name = self.fk_name(f);
        match self.sor.index_of(sor_id) {
            None => {
                self.warn(
                    WarningKind::BrokenLink,
                    Some(sor_id),
                    Text::new("linked_to_missing").quoted("fk", name).plain("sor_id", sor_id),
                );
                None
            }
            Some(s) if self.sor.units[s].is_closed_on(self.today) => {
                let sor_name = self.sor_name(s);
                self.warn(
                    WarningKind::BrokenLink,
                    Some(sor_id),
                    Text::new("linked_to_closed_id").quoted("fk", name).quoted("sor", sor_name).plain("sor_id", sor_id),
                );
                None
            }
            Some(s) if self.sor_closed[s] => None,
            Some(s) => Some(s),
        }
    }

    /// The nearest FK-ORG ancestor of `f` (not `f`) with an open SOR counterpart.
    fn nearest_linked_ancestor(&mut self, f: usize) -> Option<(usize, usize)> {
        let mut cur = self.fk_parent[f];
        while let Some(a) = cur {
            if let Some(s) = self.counterpart(a) {
                return Some((a, s));
            }
            cur = self.fk_parent[a];
        }
        None
    }

    /// "link X first" advice for an FK-ORG unit without counterpart.
    fn link_first(&mut self, f: usize) -> Text {
        let name = self.fk_name(f);
        let ancestor = match self.nearest_linked_ancestor(f) {
            Some((a, sa)) => Text::new("nearest_linked")
                .quoted("fk", self.fk_name(a))
                .quoted("sor", self.sor_name(sa))
                .plain("sor_id", self.sor.units[sa].sor_id),
            None => Text::new("no_ancestor_linked"),
        };
        Text::new("link_first").quoted("fk", name).tail("ancestor", vec![ancestor])
    }

    fn fk_in_subtree(&self, node: usize, root: usize) -> bool {
        let mut cur = Some(node);
        while let Some(c) = cur {
            if c == root {
                return true;
            }
            cur = self.fk_parent[c];
        }
        false
    }
    fn sor_in_subtree(&self, node: usize, root: usize) -> bool {
        let mut cur = Some(node);
        while let Some(c) = cur {
            if c == root {
                return true;
            }
            cur = self.sor_parent[c];
        }
        false
    }

    /// `root` and its descendants in the working FK-ORG tree, parents first.
    fn fk_subtree(&self, root: usize) -> Vec<usize> {
        subtree(&self.fk_children, root)
    }
    fn sor_subtree(&self, root: usize) -> Vec<usize> {
        subtree(&self.sor_children, root)
    }

    /// The first unit of `kind` at or above SOR unit `s`.
    fn sor_level(&self, s: usize, kind: SorKind) -> Option<usize> {
        let mut cur = Some(s);
        while let Some(c) = cur {
            if self.sor.units[c].kind == kind {
                return Some(c);
            }
            cur = self.sor_parent[c];
        }
        None
    }

    /// ", health institution X, owner Y" for a unit placed under SOR unit `parent`.
    fn placement(&self, parent: usize) -> Vec<Text> {
        let mut s = Vec::new();
        if let Some(si) = self.sor_level(parent, SorKind::HealthInstitution) {
            s.push(Text::new("placement_institution").quoted("sor", self.sor_name(si)));
        }
        if let Some(ie) = self.sor_level(parent, SorKind::InstitutionOwner) {
            s.push(Text::new("placement_owner").quoted("sor", self.sor_name(ie)));
        }
        s
    }

    fn create(&mut self, name: &str, under: usize, address: Option<&str>, phone: Option<&str>) {
        let under_uuid = self.fk.units[under].uuid;
        self.fk_marks.push(FkMark {
            action: Action::Create,
            fk_uuid: None,
            parent: Some(under_uuid),
            name: name.to_string(),
        });
        let under_name = self.fk_name(under);
        if self.fk_closed[under] {
            self.warn(
                WarningKind::Structure,
                None,
                Text::new("created_under_closed").quoted("name", name).quoted("under", under_name),
            );
        }
        let Some(ps) = self.counterpart(under) else {
            let advice = self.link_first(under);
            self.warn(
                WarningKind::ParentNotLinked,
                None,
                Text::new("cannot_place").quoted("name", name).quoted("under", under_name).text("advice", advice),
            );
            self.push(
                Action::Create,
                None,
                name.to_string(),
                None,
                None,
                None,
                Text::new("not_placed_until_linked").quoted("under", under_name),
            );
            return;
        };
        let parent = &self.sor.units[ps];
        if parent.kind == SorKind::InstitutionOwner {
            self.warn(
                WarningKind::Structure,
                Some(parent.sor_id),
                Text::new("under_owner_create").quoted("name", name).quoted("owner", &parent.name),
            );
        }
        let inherited = |label: &'static str, own: Option<&str>, eff: Option<String>| match (own, eff) {
            (Some(v), _) => Some(Text::new("own_value").text("field", Text::new(label)).quoted("value", v)),
            (None, Some(v)) => Some(Text::new("inherits_value").text("field", Text::new(label)).quoted("value", v)),
            (None, None) => None,
        };
        let values: Vec<Text> = [
            inherited("field_address", address, Field::Postal.effective(parent)),
            inherited("field_phone", phone, Field::Phone.effective(parent)),
            inherited("field_ean", None, Field::Ean.effective(parent)),
        ]
        .into_iter()
        .flatten()
        .collect();
        let because = Text::new("created_under")
            .quoted("under", under_name)
            .quoted("sor", &parent.name)
            .tail("placement", self.placement(ps))
            .tail("values", values);
        self.push(Action::Create, None, name.to_string(), Some(ps), None, None, because);
    }

    fn close_fk(&mut self, f: usize, date: NaiveDate) {
        let name = self.fk_name(f);
        if self.fk_closed[f] {
            let sor_id = self.link[f];
            self.warn(WarningKind::NoEffect, sor_id, Text::new("already_closed").quoted("fk", name));
            return;
        }
        let closing: Vec<usize> = self.fk_subtree(f).into_iter().filter(|&d| !self.fk_closed[d]).collect();
        for &d in &closing {
            self.fk_closed[d] = true;
            self.fk_marks.push(FkMark {
                action: Action::Close,
                fk_uuid: Some(self.fk.units[d].uuid),
                parent: None,
                name: self.fk_name(d).to_string(),
            });
        }
        let mut any_linked = false;
        for &d in &closing {
            if let Some(s) = self.counterpart(d) {
                any_linked = true;
                let because = if d == f {
                    Text::new("closes_on").quoted("fk", name).date("date", date)
                } else {
                    Text::new("closes_on_with").quoted("fk", self.fk_name(d)).date("date", date).quoted("top", name)
                };
                self.close_sor_subtree(s, because);
            }
        }
        if !any_linked {
            let sor_id = self.link[f];
            self.warn(WarningKind::UnitNotLinked, sor_id, Text::new("nothing_closes").quoted("fk", name));
        }
    }

    /// Closes SOR unit `s` and every open SOR unit below it.
    fn close_sor_subtree(&mut self, s: usize, because: Text) {
        let top = self.sor_name(s);
        for d in self.sor_subtree(s) {
            if self.sor_closed[d] {
                continue;
            }
            self.sor_closed[d] = true;
            let u = &self.sor.units[d];
            let fk_of = self.rev.get(&d).copied();
            let why = if d == s { because.clone() } else { Text::new("below_closes").quoted("top", top) };
            self.push(
                Action::Close,
                Some(u.sor_id),
                u.name.clone(),
                self.sor_parent[d],
                None,
                fk_of.map(|f| self.fk.units[f].uuid),
                why,
            );
            if Field::Ean.has_own(u) {
                if let Some(ean) = u.own.ean {
                    self.warn(
                        WarningKind::OwnEan,
                        Some(u.sor_id),
                        Text::new("own_ean_closes").quoted("sor", &u.name).plain("ean", ean),
                    );
                }
            }
            if d != s {
                match fk_of {
                    Some(f) if !self.fk_closed[f] => self.warn(
                        WarningKind::CounterpartStaysOpen,
                        Some(u.sor_id),
                        Text::new("counterpart_stays_open")
                            .quoted("sor", &u.name)
                            .quoted("top", top)
                            .quoted("fk", self.fk_name(f)),
                    ),
                    Some(_) => {}
                    None => self.warn(
                        WarningKind::UnlinkedClosesAlong,
                        Some(u.sor_id),
                        Text::new("unlinked_closes_along").quoted("sor", &u.name).quoted("top", top),
                    ),
                }
            }
        }
    }

    fn move_fk(&mut self, f: usize, under: usize) {
        let name = self.fk_name(f);
        let under_name = self.fk_name(under);
        self.fk_marks.push(FkMark {
            action: Action::Move,
            fk_uuid: Some(self.fk.units[f].uuid),
            parent: Some(self.fk.units[under].uuid),
            name: name.to_string(),
        });
        if self.fk_parent[f] == Some(under) {
            let sor_id = self.link[f];
            self.warn(
                WarningKind::NoEffect,
                sor_id,
                Text::new("already_under").quoted("fk", name).quoted("under", under_name),
            );
            return;
        }
        let old_fk_parent = match self.fk_parent[f] {
            Some(p) => Text::new("quoted").quoted("value", self.fk_name(p)),
            None => Text::new("nothing_parent"),
        };
        reparent(&mut self.fk_parent, &mut self.fk_children, f, under);
        let Some(s) = self.counterpart(f) else {
            let advice = self.link_first(f);
            let sor_id = self.link[f];
            self.warn(
                WarningKind::UnitNotLinked,
                sor_id,
                Text::new("nothing_moves").quoted("fk", name).text("advice", advice),
            );
            return;
        };
        let Some(p) = self.counterpart(under) else {
            let advice = self.link_first(under);
            let sor_id = self.sor.units[s].sor_id;
            self.warn(
                WarningKind::ParentNotLinked,
                Some(sor_id),
                Text::new("cannot_move_parent").quoted("fk", name).quoted("under", under_name).text("advice", advice),
            );
            return;
        };
        self.move_sor(s, p, Text::new("moved_in_fk").text("from", old_fk_parent).quoted("under", under_name));
    }

    /// Moves SOR unit `s` under `p`, with the warnings a move can raise.
    fn move_sor(&mut self, s: usize, p: usize, because: Text) {
        let u = &self.sor.units[s];
        if self.sor_parent[s] == Some(p) {
            self.warn(
                WarningKind::NoEffect,
                Some(u.sor_id),
                Text::new("already_under_sor").quoted("sor", &u.name).quoted("under", self.sor_name(p)),
            );
            return;
        }
        if self.sor_in_subtree(p, s) {
            self.warn(
                WarningKind::Structure,
                Some(u.sor_id),
                Text::new("cannot_move_below").quoted("sor", &u.name).quoted("under", self.sor_name(p)),
            );
            return;
        }
        let old_parent = self.sor_parent[s];
        let new_parent = &self.sor.units[p];
        if u.kind == SorKind::OrganizationalUnit && new_parent.kind == SorKind::InstitutionOwner {
            self.warn(
                WarningKind::Structure,
                Some(u.sor_id),
                Text::new("under_owner_move").quoted("sor", &u.name).quoted("owner", &new_parent.name),
            );
        }
        // Health institution and owner before and after.
        for (kind, code) in
            [(SorKind::HealthInstitution, "across_institutions"), (SorKind::InstitutionOwner, "across_owners")]
        {
            if u.kind == kind || (kind == SorKind::HealthInstitution && u.kind == SorKind::InstitutionOwner) {
                continue;
            }
            let before = old_parent.and_then(|op| self.sor_level(op, kind));
            let after = self.sor_level(p, kind);
            if before != after {
                let show = |i: Option<usize>| match i {
                    Some(i) => Text::new("quoted").quoted("value", self.sor_name(i)),
                    None => Text::new("none_value"),
                };
                self.warn(
                    WarningKind::AcrossInstitutions,
                    Some(u.sor_id),
                    Text::new(code).quoted("sor", &u.name).text("before", show(before)).text("after", show(after)),
                );
                break;
            }
        }
        if Field::Ean.has_own(u) {
            if let Some(ean) = u.own.ean {
                let below: Vec<&str> = self
                    .sor_subtree(s)
                    .into_iter()
                    .skip(1)
                    .filter(|&d| !self.sor_closed[d] && !Field::Ean.has_own(&self.sor.units[d]))
                    .map(|d| self.sor_name(d))
                    .collect();
                let below_text = if below.is_empty() {
                    Text::new("names").plain("names", "")
                } else {
                    Text::new("units_use_ean").plain("n", below.len()).text("names", list_names(&below))
                };
                let msg = Text::new("own_ean_moves").quoted("sor", &u.name).plain("ean", ean).text("below", below_text);
                self.warn(WarningKind::OwnEan, Some(u.sor_id), msg);
            }
        }
        for field in [Field::Ean, Field::Postal, Field::Phone] {
            if field.has_own(u) {
                continue;
            }
            let before = old_parent.and_then(|op| field.effective(&self.sor.units[op]));
            let after = field.effective(new_parent);
            if before == after {
                continue;
            }
            let affected = self.inheritors(s, field, true);
            let names: Vec<&str> = affected.iter().map(|&d| self.sor_name(d)).collect();
            self.warn(
                WarningKind::InheritedValues,
                Some(u.sor_id),
                Text::new("move_changes_inherited")
                    .quoted("sor", &u.name)
                    .text("field", field.label())
                    .text("before", value_text(before))
                    .text("after", value_text(after))
                    .plain("n", names.len())
                    .text("names", list_names(&names)),
            );
        }
        let fk_of = self.rev.get(&s).map(|&f| self.fk.units[f].uuid);
        reparent(&mut self.sor_parent, &mut self.sor_children, s, p);
        self.push(Action::Move, Some(u.sor_id), u.name.clone(), old_parent, Some(p), fk_of, because);
    }

    /// Open units at or below `s` whose `field` comes from above through `s`. With
    /// `include_self`, `s` itself counts (it inherits too); otherwise only its descendants.
    fn inheritors(&self, s: usize, field: Field, include_self: bool) -> Vec<usize> {
        // `s` passes the value on either way: its own (an update) or the one from above (a move).
        let mut carries = HashMap::new();
        carries.insert(s, true);
        let mut out = Vec::new();
        for d in self.sor_subtree(s) {
            if d == s {
                if include_self {
                    out.push(d);
                }
                continue;
            }
            let parent_carries = self.sor_parent[d].and_then(|p| carries.get(&p).copied()).unwrap_or(false);
            let unit = &self.sor.units[d];
            let inherits = parent_carries && !field.has_own(unit) && !self.sor_closed[d];
            carries.insert(d, inherits);
            if inherits {
                out.push(d);
            }
        }
        out
    }

    /// Warns that changing `field` on `s` changes it for the units that inherit it from `s`.
    fn warn_inheritors(&mut self, s: usize, field: Field) {
        let affected = self.inheritors(s, field, false);
        if affected.is_empty() {
            return;
        }
        let names: Vec<&str> = affected.iter().map(|&d| self.sor_name(d)).collect();
        let u = &self.sor.units[s];
        self.warn(
            WarningKind::InheritedValues,
            Some(u.sor_id),
            Text::new("change_changes_inherited")
                .text("field", field.label())
                .quoted("sor", &u.name)
                .plain("n", names.len())
                .text("names", list_names(&names)),
        );
    }

    fn rename(&mut self, f: usize, name: &str) {
        let old = self.fk_name(f);
        self.fk_marks.push(FkMark {
            action: Action::Update,
            fk_uuid: Some(self.fk.units[f].uuid),
            parent: None,
            name: name.to_string(),
        });
        let Some(s) = self.counterpart(f) else {
            let sor_id = self.link[f];
            self.warn(WarningKind::UnitNotLinked, sor_id, Text::new("rename_unlinked").quoted("fk", old));
            return;
        };
        let u = &self.sor.units[s];
        if u.name.split_whitespace().eq(name.split_whitespace()) {
            self.warn(WarningKind::NoEffect, Some(u.sor_id), Text::new("already_named").quoted("sor", &u.name));
            return;
        }
        let fk_uuid = self.fk.units[f].uuid;
        self.push(
            Action::Update,
            Some(u.sor_id),
            name.to_string(),
            self.sor_parent[s],
            None,
            Some(fk_uuid),
            Text::new("renamed").quoted("sor", &u.name).quoted("name", name),
        );
    }
}

/// A value in quotes, or "none".
fn value_text(v: Option<String>) -> Text {
    match v {
        Some(v) => Text::new("quoted").quoted("value", v),
        None => Text::new("none_value"),
    }
}

/// `root` and its descendants, parents first.
fn subtree(children: &[Vec<usize>], root: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(n) = stack.pop() {
        out.push(n);
        stack.extend(children[n].iter().rev());
    }
    out
}

/// Moves `node` under `new_parent` in a parent array and its children lists.
fn reparent(parent: &mut [Option<usize>], children: &mut [Vec<usize>], node: usize, new_parent: usize) {
    if let Some(old) = parent[node] {
        children[old].retain(|&c| c != node);
    }
    children[new_parent].push(node);
    parent[node] = Some(new_parent);
}
