//! `sorsync inspect fkorg FILE`: read and check an FK-ORG GraphQL response file, print it as an
//! indented tree or as JSON (a contract other tools read; its DTOs live here, not in the domain).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use serde::Serialize;

use super::Context;
use crate::domain::{FkTree, FkUnit, FkUser};
use crate::sources::read_fkorg_file;

#[derive(Debug, Args)]
pub struct InspectFkorgArgs {
    /// The FK-ORG file: one GraphQL response `{"data": {...}}` or a JSON array of page responses
    /// holding `organisationEnhedListe` (units) and optionally `brugerListe` (users).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// `text`: an indented tree for people. `json`: units and users for other tools.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

pub fn run(args: InspectFkorgArgs, _ctx: &Context) -> anyhow::Result<ExitCode> {
    let tree = read_fkorg_file(&args.file)?;
    let out = match args.format {
        OutputFormat::Text => render_text(&tree),
        OutputFormat::Json => {
            let mut s = serde_json::to_string_pretty(&InspectJson::from_tree(&tree)).context("writing JSON")?;
            s.push('\n');
            s
        }
    };
    std::io::stdout().lock().write_all(out.as_bytes()).context("writing to stdout")?;
    Ok(ExitCode::SUCCESS)
}

/// The indented tree: one unit per line with its identifiers, then a line about the users.
fn render_text(tree: &FkTree) -> String {
    let mut out = String::new();
    let cvr = tree.cvr.map(|c| c.to_string()).unwrap_or_else(|| "unknown".to_string());
    out.push_str(&format!("FK-ORG, CVR {cvr}: {} units, {} users\n", tree.units.len(), tree.users.len()));
    for &i in tree.tree.preorder() {
        let u = &tree.units[i];
        let indent = super::inspect::indent(tree.tree.depth(i));
        let mut details = vec![u.uuid.to_string()];
        if u.status != crate::domain::FkStatus::Aktiv {
            details.push(u.status.as_str().to_string());
        }
        if let Some(id) = u.sor_id {
            details.push(format!("SOR {id}"));
        }
        if let Some(ean) = u.ean {
            details.push(format!("EAN {ean}"));
        }
        if let Some(p) = u.p_number {
            details.push(format!("P {p}"));
        }
        if let Some(to) = u.valid_to {
            details.push(format!("until {}", to.format("%Y-%m-%d")));
        }
        out.push_str(&format!("{indent}{} [{}]\n", u.enhedsnavn, details.join(", ")));
    }
    if !tree.users.is_empty() {
        let memberships: usize = tree.users.iter().map(|u| u.memberships.len()).sum();
        out.push_str(&format!("users: {} with {memberships} memberships\n", tree.users.len()));
    }
    out
}

#[derive(Serialize)]
struct InspectJson {
    units: Vec<UnitJson>,
    users: Vec<UserJson>,
}

#[derive(Serialize)]
struct UnitJson {
    uuid: String,
    name: String,
    user_key: Option<String>,
    parent_uuid: Option<String>,
    status: &'static str,
    from: Option<String>,
    to: Option<String>,
    sor_id: Option<String>,
    ean: Option<String>,
    p_number: Option<String>,
    postal_address: Option<String>,
    /// The unit's mobile-role phone address.
    phone: Option<String>,
    landline: Option<String>,
    email: Option<String>,
}

#[derive(Serialize)]
struct UserJson {
    uuid: String,
    user_name: String,
    name: Option<String>,
    email: Option<String>,
    mobile: Option<String>,
    landline: Option<String>,
    memberships: Vec<MembershipJson>,
}

#[derive(Serialize)]
struct MembershipJson {
    unit_uuid: Option<String>,
    title: Option<String>,
    /// The function type's UUID (e.g. "Arbejder i", manager).
    function_type: Option<String>,
}

impl InspectJson {
    /// Units in tree order (root first, parents before children), users in file order.
    fn from_tree(tree: &FkTree) -> Self {
        InspectJson {
            units: tree.tree.preorder().iter().map(|&i| UnitJson::from_unit(&tree.units[i])).collect(),
            users: tree.users.iter().map(UserJson::from_user).collect(),
        }
    }
}

impl UnitJson {
    fn from_unit(u: &FkUnit) -> Self {
        UnitJson {
            uuid: u.uuid.to_string(),
            name: u.enhedsnavn.clone(),
            user_key: u.brugervendt_noegle.clone(),
            parent_uuid: u.parent.map(|p| p.to_string()),
            status: u.status.as_str(),
            from: u.valid_from.map(|d| d.to_rfc3339()),
            to: u.valid_to.map(|d| d.to_rfc3339()),
            sor_id: u.sor_id.map(|s| s.to_string()),
            ean: u.ean.map(|e| e.to_string()),
            p_number: u.p_number.map(|p| p.to_string()),
            postal_address: u.postal_address.clone(),
            phone: u.mobile.clone(),
            landline: u.landline.clone(),
            email: u.email.clone(),
        }
    }
}

impl UserJson {
    fn from_user(u: &FkUser) -> Self {
        UserJson {
            uuid: u.uuid.to_string(),
            user_name: u.brugernavn.clone(),
            name: u.person_name.clone(),
            email: u.email.clone(),
            mobile: u.mobile.clone(),
            landline: u.landline.clone(),
            memberships: u
                .memberships
                .iter()
                .map(|m| MembershipJson {
                    unit_uuid: m.unit.map(|x| x.to_string()),
                    title: m.title.clone(),
                    function_type: m.function_type.map(|x| x.to_string()),
                })
                .collect(),
        }
    }
}
