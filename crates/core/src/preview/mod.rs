//! Consequence preview: what FK-ORG edits (or pending proposals) would do in SOR, as a tree diff.
//! Pure: no IO, no clock (`today` is passed in). The same functions serve the CLI and, later,
//! the web app's what-if page.
//!
//! - [`edits`]: the edits (create, close, move, rename) and the edits file format;
//! - [`diff`]: the simulation that turns edits or proposals into SOR changes and warnings;
//! - [`json`], [`render_text`], [`render_svg`]: the output formats.

pub mod diff;
pub mod edits;
pub mod json;
pub mod render_svg;
pub mod render_text;
mod view;

pub use diff::{preview, preview_proposals};
pub use edits::{parse_edits_json, Edit, EditsFileError};

use chrono::NaiveDate;

use crate::domain::{FkUuid, SorId};

/// What happens to a SOR unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Create,
    Update,
    Close,
    Move,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Close => "close",
            Action::Move => "move",
        }
    }
}

/// How many SOR changes of each kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub close: usize,
    pub moves: usize,
}

impl Summary {
    /// "1 to create, 0 to update, 3 to close, 1 to move".
    pub fn line(&self) -> String {
        self.text().english()
    }

    /// The line as a language-neutral message.
    pub fn text(&self) -> Text {
        Text::new("summary")
            .plain("create", self.create)
            .plain("update", self.update)
            .plain("close", self.close)
            .plain("moves", self.moves)
    }
}

/// A message as a language-neutral code and its arguments, so that every interface can show it
/// in its own language: [`Text::english`] fills the English templates ([`ENGLISH`]), the web app
/// fills its catalogue's ([`Text::render`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Text {
    pub code: &'static str,
    pub args: Vec<(&'static str, Arg)>,
}

/// An argument of a [`Text`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Arg {
    /// Shown as it is (numbers, SOR-IDs).
    Plain(String),
    /// A name, shown in quotes.
    Quoted(String),
    /// A day.
    Date(NaiveDate),
    /// Another message.
    Text(Text),
    /// Messages each put after "; " (empty when there are none).
    Tail(Vec<Text>),
    /// Messages joined by "; ".
    Join(Vec<Text>),
}

impl Text {
    pub fn new(code: &'static str) -> Text {
        Text { code, args: Vec::new() }
    }
    pub fn plain(mut self, key: &'static str, value: impl ToString) -> Text {
        self.args.push((key, Arg::Plain(value.to_string())));
        self
    }
    pub fn quoted(mut self, key: &'static str, value: impl ToString) -> Text {
        self.args.push((key, Arg::Quoted(value.to_string())));
        self
    }
    pub fn date(mut self, key: &'static str, value: NaiveDate) -> Text {
        self.args.push((key, Arg::Date(value)));
        self
    }
    pub fn text(mut self, key: &'static str, value: Text) -> Text {
        self.args.push((key, Arg::Text(value)));
        self
    }
    pub fn tail(mut self, key: &'static str, value: Vec<Text>) -> Text {
        self.args.push((key, Arg::Tail(value)));
        self
    }
    pub fn join(mut self, key: &'static str, value: Vec<Text>) -> Text {
        self.args.push((key, Arg::Join(value)));
        self
    }

    /// The message from `template(code)` (the code itself when it has none), `{key}` replaced
    /// by each argument; days formatted with `date_format` (chrono's).
    pub fn render(&self, template: &dyn Fn(&str) -> Option<&'static str>, date_format: &str) -> String {
        let t = template(self.code).unwrap_or(self.code);
        let mut out = String::with_capacity(t.len() + 32);
        let mut rest = t;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let Some(close) = after.find('}') else {
                out.push_str(&rest[open..]);
                rest = "";
                break;
            };
            let key = &after[..close];
            match self.args.iter().find(|(k, _)| *k == key) {
                Some((_, arg)) => match arg {
                    Arg::Plain(v) => out.push_str(v),
                    Arg::Quoted(v) => out.push_str(&format!("{v:?}")),
                    Arg::Date(d) => out.push_str(&d.format(date_format).to_string()),
                    Arg::Text(x) => out.push_str(&x.render(template, date_format)),
                    Arg::Tail(xs) => {
                        for x in xs {
                            out.push_str("; ");
                            out.push_str(&x.render(template, date_format));
                        }
                    }
                    Arg::Join(xs) => {
                        let parts: Vec<String> = xs.iter().map(|x| x.render(template, date_format)).collect();
                        out.push_str(&parts.join("; "));
                    }
                },
                None => {
                    out.push('{');
                    out.push_str(key);
                    out.push('}');
                }
            }
            rest = &after[close + 1..];
        }
        out.push_str(rest);
        out
    }

    /// The message in English.
    pub fn english(&self) -> String {
        self.render(&english_template, "%Y-%m-%d")
    }
}

/// The English template of a [`Text`] code.
pub fn english_template(code: &str) -> Option<&'static str> {
    ENGLISH.iter().find(|(c, _)| *c == code).map(|(_, t)| *t)
}

/// The English templates of the preview's messages: code, template.
pub const ENGLISH: &[(&str, &str)] = &[
    ("linked_to_missing", "FK-ORG unit {fk} is linked to SOR-ID {sor_id}, which is not in SOR"),
    ("linked_to_closed", "FK-ORG unit {fk} is linked to SOR unit {sor}, which is closed"),
    ("linked_to_closed_id", "FK-ORG unit {fk} is linked to SOR unit {sor} ({sor_id}), which is closed"),
    ("create_proposed", "FK-ORG unit {fk} has no SOR counterpart; its parent {parent} is linked to {sor}{placement}"),
    ("field_change", "{field}: {from} -> {to}"),
    ("fields_changed", "{changes}"),
    ("fk_closed", "FK-ORG unit {fk} is closed"),
    ("fk_other_parent", "FK-ORG unit {fk} has another parent than its SOR unit"),
    ("field_name", "name"),
    ("field_address", "address"),
    ("field_phone", "phone"),
    ("field_email", "email"),
    ("field_other", "other"),
    ("field_ean", "EAN"),
    ("field_postal_address", "postal address"),
    ("field_phone_number", "phone number"),
    ("names", "{names}"),
    ("names_and_more", "{names} and {more} more"),
    ("link_first", "link {fk} to its SOR unit first (or create it in SOR){ancestor}"),
    ("nearest_linked", "its nearest linked ancestor is {fk} (SOR {sor}, {sor_id})"),
    ("no_ancestor_linked", "none of its ancestors is linked either"),
    ("placement_institution", "health institution {sor}"),
    ("placement_owner", "owner {sor}"),
    ("created_under_closed", "{name} is created under {under}, which is closed"),
    ("cannot_place", "{name} cannot be placed in SOR: its FK-ORG parent {under} has no SOR counterpart; {advice}"),
    ("not_placed_until_linked", "created in FK-ORG under {under}; not placed in SOR until {under} is linked"),
    (
        "under_owner_create",
        "{name} would come directly under the institution owner {owner}: in SOR it must be a health institution there, not an organisational unit",
    ),
    ("created_under", "created in FK-ORG under {under}; in SOR under {sor}{placement}{values}"),
    ("own_value", "own {field} {value}"),
    ("inherits_value", "inherits {field} {value}"),
    ("already_closed", "FK-ORG unit {fk} is already closed"),
    ("closes_on", "FK-ORG unit {fk} closes on {date}"),
    ("closes_on_with", "FK-ORG unit {fk} closes on {date} with {top}"),
    ("nothing_closes", "FK-ORG unit {fk} and the units below it have no SOR counterpart: nothing closes in SOR"),
    ("below_closes", "below {top}, which closes"),
    (
        "own_ean_closes",
        "{sor} has its own EAN {ean}: messages addressed to it (e.g. discharge letters) will no longer be routed",
    ),
    (
        "counterpart_stays_open",
        "{sor} closes with {top}, but its FK-ORG counterpart {fk} stays open and would be left without a SOR unit",
    ),
    ("unlinked_closes_along", "{sor} has no FK-ORG counterpart and closes with {top}"),
    ("already_under", "{fk} is already under {under}"),
    ("nothing_moves", "{fk} has no SOR counterpart, so nothing moves in SOR; {advice}"),
    ("cannot_move_parent", "{fk} cannot be moved in SOR: its new FK-ORG parent {under} has no SOR counterpart; {advice}"),
    ("moved_in_fk", "moved in FK-ORG from {from} to {under}"),
    ("nothing_parent", "nothing"),
    ("already_under_sor", "{sor} is already under {under} in SOR"),
    ("cannot_move_below", "{sor} cannot move under {under} in SOR: that unit is below it there"),
    (
        "under_owner_move",
        "{sor} would come directly under the institution owner {owner}; SOR puts organisational units under a health institution",
    ),
    (
        "across_institutions",
        "{sor} moves from health institution {before} to {after}: SOR may not allow moving a unit between health institutions; it may have to be closed and created again with a new SOR-ID",
    ),
    (
        "across_owners",
        "{sor} moves from institution owner {before} to {after}: SOR may not allow moving a unit between institution owners; it may have to be closed and created again with a new SOR-ID",
    ),
    ("none_value", "none"),
    ("quoted", "{value}"),
    ("own_ean_moves", "{sor} has its own EAN {ean}: check that message routing follows the move{below}"),
    ("units_use_ean", " ({n} units below it use this EAN: {names})"),
    (
        "move_changes_inherited",
        "moving {sor} changes the inherited {field} from {before} to {after} for {n} unit(s): {names}",
    ),
    (
        "change_changes_inherited",
        "changing the {field} of {sor} also changes it for {n} unit(s) that inherit it: {names}",
    ),
    ("rename_unlinked", "{fk} has no SOR counterpart: renaming it changes nothing in SOR"),
    ("already_named", "{sor} already has that name in SOR"),
    ("renamed", "renamed in FK-ORG; SOR name {sor} becomes {name}"),
    ("more_rows", "… {n} more"),
    ("note_new", "new"),
    ("note_closes", "closes"),
    ("note_moves_under", "moves under {to}"),
    ("note_moved_here_from", "moved here from {from}"),
    ("note_moved_here", "moved here"),
    ("note_becomes", "becomes {name}"),
    ("note_new_in_sor", "new in SOR"),
    ("legend_new", "new"),
    ("legend_closed", "closed"),
    ("legend_changed", "changed"),
    ("legend_moved_from", "moved from"),
    ("legend_moved_to", "moved to"),
    ("summary", "{create} to create, {update} to update, {close} to close, {moves} to move"),
];

/// One change to one SOR unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub action: Action,
    /// The SOR unit; `None` for a unit still to be created.
    pub sor_id: Option<SorId>,
    /// The unit's name after the change.
    pub name: String,
    /// Where the unit is (for a move: where it was; for a create: where it goes, `None` when it
    /// cannot be placed because the FK-ORG parent has no SOR counterpart).
    pub parent_sor_id: Option<SorId>,
    /// For a move: the new parent.
    pub new_parent_sor_id: Option<SorId>,
    /// The FK-ORG unit behind the change (`None` for a unit created by an edit: it has no uuid yet).
    pub fk_uuid: Option<FkUuid>,
    /// Why, in the administrator's words (English; [`Change::because_text`] for other languages).
    pub because: String,
    /// Why, as a language-neutral code with its arguments.
    pub because_text: Text,
}

/// Something a person should look at before making the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WarningKind {
    /// The FK-ORG parent (or new parent) has no SOR counterpart: the unit cannot be placed.
    ParentNotLinked,
    /// The edited FK-ORG unit has no SOR counterpart: nothing changes in SOR.
    UnitNotLinked,
    /// A link points at a SOR unit that is missing or closed.
    BrokenLink,
    /// The unit has its own EAN number: message routing stops or changes.
    OwnEan,
    /// Units that inherit an address, EAN or phone would get another value.
    InheritedValues,
    /// A move between health institutions (or owners), which SOR may not allow.
    AcrossInstitutions,
    /// The SOR levels would not fit (an organisational unit directly under an owner, a cycle).
    Structure,
    /// A SOR unit closes with its parent while its FK-ORG counterpart stays open.
    CounterpartStaysOpen,
    /// A SOR unit without an FK-ORG counterpart closes with its parent.
    UnlinkedClosesAlong,
    /// The edit does nothing (already closed, already there, same name).
    NoEffect,
}

impl WarningKind {
    pub fn key(self) -> &'static str {
        match self {
            WarningKind::ParentNotLinked => "parent_not_linked",
            WarningKind::UnitNotLinked => "unit_not_linked",
            WarningKind::BrokenLink => "broken_link",
            WarningKind::OwnEan => "own_ean",
            WarningKind::InheritedValues => "inherited_values",
            WarningKind::AcrossInstitutions => "across_institutions",
            WarningKind::Structure => "structure",
            WarningKind::CounterpartStaysOpen => "counterpart_stays_open",
            WarningKind::UnlinkedClosesAlong => "unlinked_closes_along",
            WarningKind::NoEffect => "no_effect",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub kind: WarningKind,
    pub sor_id: Option<SorId>,
    /// The message in English ([`Warning::text`] for other languages).
    pub message: String,
    /// The message as a language-neutral code with its arguments.
    pub text: Text,
}

/// What an edit does on the FK-ORG side, for the side-by-side drawing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FkMark {
    pub action: Action,
    /// The unit; `None` for a unit an edit creates.
    pub fk_uuid: Option<FkUuid>,
    /// For a create: the parent. For a move: the new parent.
    pub parent: Option<FkUuid>,
    pub name: String,
}

/// The consequences of a set of edits in SOR.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preview {
    pub summary: Summary,
    pub changes: Vec<Change>,
    pub warnings: Vec<Warning>,
    /// The FK-ORG side of the edits (not part of the JSON contract; used by the drawing).
    pub fk_marks: Vec<FkMark>,
}

/// An edit or proposal the preview cannot work with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PreviewError {
    #[error("edit {number} ({action}): FK-ORG unit {uuid} is not in the FK-ORG tree")]
    UnknownFkUnit { number: usize, action: &'static str, uuid: FkUuid },
    #[error("edit {number} (move): cannot move {name:?} under itself or its own descendant {under:?}")]
    MoveUnderItself { number: usize, name: String, under: String },
    #[error("proposal {number} ({kind}): SOR unit {sor_id} is not in the SOR tree")]
    UnknownSorUnit { number: usize, kind: &'static str, sor_id: SorId },
}
