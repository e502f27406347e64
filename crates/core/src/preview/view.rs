//! Which rows of a tree a rendering shows: the affected units, their ancestors and the units
//! added under them, with every unaffected branch collapsed into one "… N more" row.

use std::collections::{HashMap, HashSet};

use super::{Action, Preview, Text};

/// How a message is put into words (the language's templates).
pub type Say<'a> = &'a dyn Fn(&Text) -> String;
use crate::domain::{FkTree, FkUuid, SorId, SorTree, Tree};

/// How a row is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    Context,
    Create,
    Update,
    Close,
    /// The unit at its old place.
    MoveFrom,
    /// The unit at its new place.
    MoveTo,
    /// A collapsed branch.
    More,
}

impl Marker {
    pub fn text(self) -> &'static str {
        match self {
            Marker::Context | Marker::More => "  ",
            Marker::Create => "+ ",
            Marker::Update => "~ ",
            Marker::Close => "- ",
            Marker::MoveFrom | Marker::MoveTo => "->",
        }
    }
}

/// The unit a row stands for, so that link lines can join rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKey {
    Fk(FkUuid),
    Sor(SorId),
    None,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub depth: usize,
    pub marker: Marker,
    pub name: String,
    pub id: Option<String>,
    pub note: String,
    pub key: RowKey,
}

/// A row added under a node (a new unit, or a unit moved there).
#[derive(Debug, Clone)]
struct Extra {
    marker: Marker,
    name: String,
    id: Option<String>,
    note: String,
    key: RowKey,
}

/// Marks and extras on one tree, by node index.
#[derive(Default)]
struct Marks {
    on: HashMap<usize, Vec<(Marker, String)>>,
    under: HashMap<usize, Vec<Extra>>,
    context: HashSet<usize>,
}

/// `open`: how many levels below the affected branches are drawn too (0: each unaffected branch
/// is one "… N more" row).
fn rows(
    tree: &Tree,
    label: &dyn Fn(usize) -> (String, String, RowKey),
    marks: &Marks,
    say: Say,
    open: usize,
) -> Vec<Row> {
    let mut shown = vec![false; tree.len()];
    let seeds = marks.on.keys().chain(marks.under.keys()).chain(marks.context.iter());
    for &n in seeds {
        if n < shown.len() {
            shown[n] = true;
            for a in tree.ancestors(n) {
                shown[a] = true;
            }
        }
    }
    for _ in 0..open {
        let now: Vec<usize> = (0..tree.len()).filter(|&n| shown[n]).collect();
        if now.len() == tree.len() {
            break;
        }
        for n in now {
            for &c in tree.children(n) {
                shown[c] = true;
            }
        }
    }
    let mut out = Vec::new();
    let mut hidden_roots = 0;
    for &r in tree.roots() {
        if shown[r] {
            emit(tree, r, label, marks, &shown, &mut out, say);
        } else {
            hidden_roots += 1;
        }
    }
    if hidden_roots > 0 && !out.is_empty() {
        out.push(more_row(0, hidden_roots, say));
    }
    out
}

fn more_row(depth: usize, n: usize, say: Say) -> Row {
    let name = say(&Text::new("more_rows").plain("n", n));
    Row { depth, marker: Marker::More, name, id: None, note: String::new(), key: RowKey::None }
}

fn emit(
    tree: &Tree,
    n: usize,
    label: &dyn Fn(usize) -> (String, String, RowKey),
    marks: &Marks,
    shown: &[bool],
    out: &mut Vec<Row>,
    say: Say,
) {
    let depth = tree.depth(n) as usize;
    let (name, id, key) = label(n);
    let (marker, note) = match marks.on.get(&n) {
        Some(list) => {
            // The strongest mark decides the colour; every note is kept.
            let marker = [Marker::Close, Marker::MoveFrom, Marker::Update, Marker::Create]
                .into_iter()
                .find(|m| list.iter().any(|(x, _)| x == m))
                .unwrap_or(Marker::Context);
            (marker, list.iter().map(|(_, t)| t.as_str()).collect::<Vec<_>>().join("; "))
        }
        None => (Marker::Context, String::new()),
    };
    out.push(Row { depth, marker, name, id: Some(id), note, key });
    let mut hidden = 0;
    for &c in tree.children(n) {
        if shown[c] {
            emit(tree, c, label, marks, shown, out, say);
        } else {
            hidden += 1;
        }
    }
    for e in marks.under.get(&n).into_iter().flatten() {
        out.push(Row {
            depth: depth + 1,
            marker: e.marker,
            name: e.name.clone(),
            id: e.id.clone(),
            note: e.note.clone(),
            key: e.key,
        });
    }
    if hidden > 0 {
        out.push(more_row(depth + 1, hidden, say));
    }
}

/// The SOR side: rows, plus the new units that cannot be placed (their FK-ORG parent is unlinked).
pub fn sor_rows(sor: &SorTree, preview: &Preview, context: &[SorId], say: Say, open: usize) -> (Vec<Row>, Vec<String>) {
    let mut marks = Marks::default();
    let mut unplaced = Vec::new();
    let name_of = |id: Option<SorId>| {
        id.and_then(|i| sor.get(i)).map(|u| format!("{:?} [{}]", u.name, u.sor_id)).unwrap_or_else(|| "?".into())
    };
    for c in &preview.changes {
        let at = c.sor_id.and_then(|i| sor.index_of(i));
        match c.action {
            Action::Create => match c.parent_sor_id.and_then(|i| sor.index_of(i)) {
                Some(p) => marks.under.entry(p).or_default().push(Extra {
                    marker: Marker::Create,
                    name: c.name.clone(),
                    id: None,
                    note: say(&Text::new("note_new")),
                    key: RowKey::None,
                }),
                None => unplaced.push(format!("+ {}  ({})", c.name, say(&c.because_text))),
            },
            Action::Close => {
                if let Some(s) = at {
                    marks.on.entry(s).or_default().push((Marker::Close, say(&Text::new("note_closes"))));
                }
            }
            Action::Update => {
                if let Some(s) = at {
                    marks.on.entry(s).or_default().push((Marker::Update, say(&c.because_text)));
                }
            }
            Action::Move => {
                if let Some(s) = at {
                    marks.on.entry(s).or_default().push((
                        Marker::MoveFrom,
                        say(&Text::new("note_moves_under").plain("to", name_of(c.new_parent_sor_id))),
                    ));
                }
                if let Some(p) = c.new_parent_sor_id.and_then(|i| sor.index_of(i)) {
                    marks.under.entry(p).or_default().push(Extra {
                        marker: Marker::MoveTo,
                        name: c.name.clone(),
                        id: c.sor_id.map(|i| i.to_string()),
                        note: say(&Text::new("note_moved_here_from").plain("from", name_of(c.parent_sor_id))),
                        key: RowKey::None,
                    });
                }
            }
        }
    }
    marks.context.extend(context.iter().filter_map(|&i| sor.index_of(i)));
    let label = |i: usize| {
        let u = &sor.units[i];
        (u.name.clone(), u.sor_id.to_string(), RowKey::Sor(u.sor_id))
    };
    (rows(&sor.tree, &label, &marks, say, open), unplaced)
}

/// The FK-ORG side of the drawing.
pub fn fk_rows(fk: &FkTree, preview: &Preview, context: &[FkUuid], say: Say, open: usize) -> Vec<Row> {
    let mut marks = Marks::default();
    let name_of = |id: Option<FkUuid>| id.and_then(|i| fk.get(i)).map(|u| u.enhedsnavn.clone()).unwrap_or_default();
    for m in &preview.fk_marks {
        let at = m.fk_uuid.and_then(|i| fk.index_of(i));
        match (m.action, at) {
            (Action::Create, None) => {
                if let Some(p) = m.parent.and_then(|i| fk.index_of(i)) {
                    marks.under.entry(p).or_default().push(Extra {
                        marker: Marker::Create,
                        name: m.name.clone(),
                        id: None,
                        note: say(&Text::new("note_new")),
                        key: RowKey::None,
                    });
                }
            }
            (Action::Move, Some(f)) => {
                marks
                    .on
                    .entry(f)
                    .or_default()
                    .push((Marker::MoveFrom, say(&Text::new("note_moves_under").quoted("to", name_of(m.parent)))));
                if let Some(p) = m.parent.and_then(|i| fk.index_of(i)) {
                    marks.under.entry(p).or_default().push(Extra {
                        marker: Marker::MoveTo,
                        name: m.name.clone(),
                        id: None,
                        note: say(&Text::new("note_moved_here")),
                        key: RowKey::None,
                    });
                }
            }
            (Action::Update, Some(f)) => {
                marks
                    .on
                    .entry(f)
                    .or_default()
                    .push((Marker::Update, say(&Text::new("note_becomes").quoted("name", &m.name))));
            }
            (Action::Close, Some(f)) => {
                marks.on.entry(f).or_default().push((Marker::Close, say(&Text::new("note_closes"))))
            }
            (Action::Create, Some(f)) => {
                marks.on.entry(f).or_default().push((Marker::Create, say(&Text::new("note_new_in_sor"))))
            }
            (_, None) => {}
        }
    }
    marks.context.extend(context.iter().filter_map(|&i| fk.index_of(i)));
    let label = |i: usize| {
        let u = &fk.units[i];
        (u.enhedsnavn.clone(), u.uuid.to_string(), RowKey::Fk(u.uuid))
    };
    rows(&fk.tree, &label, &marks, say, open)
}
