//! `sorsync inspect sor FILE`: reads a SOR export (XML or SOR2 CSV), checks it, and prints the
//! tree with inherited values, as indented text or as JSON (a contract other tools read).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use serde::Serialize;

use super::Context;
use crate::domain::{Address, Effective, SorKind, SorTree, SorUnit};
use crate::sources::read_sor_file;

#[derive(Debug, Args)]
pub struct InspectSorArgs {
    /// The SOR file: XML export (1.0.0, or the national 2.0.0 file) or SOR2 CSV export.
    pub file: PathBuf,
    /// Output: an indented tree (text) or JSON with inherited values filled in.
    #[arg(long, value_enum, default_value_t = SorFormat::Text)]
    pub format: SorFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SorFormat {
    Text,
    Json,
}

pub fn run(args: InspectSorArgs, _ctx: &Context) -> anyhow::Result<ExitCode> {
    let tree = read_sor_file(&args.file).context("the SOR file cannot be used")?;
    let out = match args.format {
        SorFormat::Text => render_text(&tree),
        SorFormat::Json => {
            let mut s = serde_json::to_string_pretty(&SorFileDto::from_tree(&tree))?;
            s.push('\n');
            s
        }
    };
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

/// The indented tree: one line per unit, with EAN, phone and postal address marked when inherited.
fn render_text(tree: &SorTree) -> String {
    let mut out = String::new();
    let mut counts = [0usize; 3];
    for &i in tree.tree.preorder() {
        let u = &tree.units[i];
        counts[match u.kind {
            SorKind::InstitutionOwner => 0,
            SorKind::HealthInstitution => 1,
            SorKind::OrganizationalUnit => 2,
        }] += 1;
        let indent = super::inspect::indent(tree.tree.depth(i));
        let _ = write!(out, "{indent}{} {} {}", u.kind.code(), u.sor_id, u.name);
        let mut details = Vec::new();
        if let Some(ean) = shown(&u.effective.ean, |e| e.to_string()) {
            details.push(format!("EAN {ean}"));
        }
        if let Some(phone) = shown(&u.effective.phone, String::clone) {
            details.push(format!("phone {phone}"));
        }
        if let Some(addr) = shown(&u.effective.postal, one_line_address) {
            details.push(addr);
        }
        if let Some(to) = u.to_date {
            details.push(format!("closed {to}"));
        }
        if !details.is_empty() {
            let _ = write!(out, "  [{}]", details.join("; "));
        }
        out.push('\n');
    }
    let _ = writeln!(out, "{} units: {} IE, {} SI, {} OE", tree.len(), counts[0], counts[1], counts[2]);
    out
}

fn shown<T>(value: &Effective<T>, render: impl Fn(&T) -> String) -> Option<String> {
    let v = value.value.as_ref()?;
    let mark = if value.inherited { " (inherited)" } else { "" };
    Some(format!("{}{mark}", render(v)))
}

fn one_line_address(a: &Address) -> String {
    let building = a.building.as_deref().map(|b| format!(" {b}")).unwrap_or_default();
    format!("{}{building}, {} {}", a.street, a.postcode, a.district)
}

/// `{"units": [...]}`: the JSON contract of `inspect sor`.
#[derive(Debug, Serialize)]
struct SorFileDto {
    units: Vec<SorUnitDto>,
}

#[derive(Debug, Serialize)]
struct SorUnitDto {
    sor_id: String,
    kind: &'static str,
    name: String,
    parent_sor_id: Option<String>,
    unit_type: Option<String>,
    ean: Option<String>,
    ean_inherited: bool,
    postal_address: Option<AddressDto>,
    address_inherited: bool,
    phone: Option<String>,
    email: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

#[derive(Debug, Serialize)]
struct AddressDto {
    street: String,
    building: Option<String>,
    postcode: String,
    district: String,
}

impl SorFileDto {
    fn from_tree(tree: &SorTree) -> Self {
        SorFileDto { units: tree.tree.preorder().iter().map(|&i| SorUnitDto::from_unit(&tree.units[i])).collect() }
    }
}

impl SorUnitDto {
    fn from_unit(u: &SorUnit) -> Self {
        let eff = &u.effective;
        SorUnitDto {
            sor_id: u.sor_id.to_string(),
            kind: u.kind.code(),
            name: u.name.clone(),
            parent_sor_id: u.parent.map(|p| p.to_string()),
            unit_type: u.unit_type.clone(),
            ean: eff.ean.value.map(|e| e.to_string()),
            ean_inherited: eff.ean.inherited,
            postal_address: eff.postal.value.as_ref().map(|a| AddressDto {
                street: a.street.clone(),
                building: a.building.clone(),
                postcode: a.postcode.clone(),
                district: a.district.clone(),
            }),
            address_inherited: eff.postal.inherited,
            phone: eff.phone.value.clone(),
            email: eff.email.value.clone(),
            from: u.from_date.map(|d| d.format("%Y-%m-%d").to_string()),
            to: u.to_date.map(|d| d.format("%Y-%m-%d").to_string()),
        }
    }
}
