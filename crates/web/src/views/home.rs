//! The start page: the signed-in user's municipalities and roles.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::auth::Signed;
use crate::domain::KommuneKode;
use crate::{AppState, WebError};

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct MunicipalityRef {
    pub kommune: String,
    /// The municipality's name (from the wave plan, else its FK-ORG root unit), when known.
    pub name: Option<String>,
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct HomeView {
    pub user: String,
    pub municipalities: Vec<MunicipalityRef>,
}

/// The signed-in user's municipalities and roles (without names; [`named_home`] adds them).
pub fn home(signed: &Signed) -> HomeView {
    let mut municipalities: Vec<MunicipalityRef> = Vec::new();
    for (k, r) in &signed.roles {
        let code = k.to_string();
        match municipalities.iter_mut().find(|m| m.kommune == code) {
            Some(m) => m.roles.push(r.as_str().to_string()),
            None => {
                municipalities.push(MunicipalityRef { kommune: code, name: None, roles: vec![r.as_str().to_string()] })
            }
        }
    }
    HomeView { user: signed.user.clone(), municipalities }
}

/// [`home`] with the municipalities' names.
pub async fn named_home(state: &AppState, signed: &Signed) -> Result<HomeView, WebError> {
    let mut municipalities: Vec<MunicipalityRef> = Vec::new();
    for (k, r) in &signed.roles {
        let code = k.to_string();
        match municipalities.iter_mut().find(|m| m.kommune == code) {
            Some(m) => m.roles.push(r.as_str().to_string()),
            None => {
                municipalities.push(MunicipalityRef { kommune: code, name: None, roles: vec![r.as_str().to_string()] })
            }
        }
    }
    let kommuner: Vec<KommuneKode> =
        municipalities.iter().filter_map(|m| KommuneKode::parse(&m.kommune).ok()).collect();
    let names = municipality_names(state, &kommuner).await?;
    for m in &mut municipalities {
        m.name = KommuneKode::parse(&m.kommune).ok().and_then(|k| names.get(&k).cloned());
    }
    Ok(HomeView { user: signed.user.clone(), municipalities })
}

/// The names of `kommuner`: from the stored wave plan, else (for a few) the root unit of the
/// latest FK-ORG snapshot ("Faxe Kommune" -> "Faxe").
pub async fn municipality_names(
    state: &AppState,
    kommuner: &[KommuneKode],
) -> Result<std::collections::HashMap<KommuneKode, String>, WebError> {
    let mut names = std::collections::HashMap::new();
    if let Ok(plan) = crate::waves::runner::stored_plan(state.store()).await {
        for m in plan.waves.iter().flat_map(|w| &w.municipalities) {
            names.insert(m.kommune, m.name.clone());
        }
    }
    if kommuner.len() <= 12 {
        for &k in kommuner {
            if names.contains_key(&k) {
                continue;
            }
            if let Some((fk, _)) = state.latest_trees(k).await? {
                if let Some(root) = fk.units.first() {
                    let name = root.enhedsnavn.trim();
                    names.insert(k, name.strip_suffix(" Kommune").unwrap_or(name).to_string());
                }
            }
        }
    }
    Ok(names)
}
