//! The OpenAPI 3 document of the JSON API, written by hand next to the routes: [`API_ROUTES`]
//! lists every API route with the page it mirrors; a test requests each one.

use serde_json::{json, Value};

/// One API route: method, path (OpenAPI `{param}` syntax, as axum's), the page it mirrors, summary,
/// who may call it.
#[derive(Debug, Clone, Copy)]
pub struct ApiRoute {
    pub method: &'static str,
    pub path: &'static str,
    pub page: Option<&'static str>,
    pub summary: &'static str,
    pub who: &'static str,
}

pub const API_ROUTES: &[ApiRoute] = &[
    ApiRoute { method: "get", path: "/api/openapi.json", page: None, summary: "This document", who: "anyone" },
    ApiRoute { method: "post", path: "/api/login", page: Some("/login"), summary: "Sign in with {user, password}; sets the session cookie and returns the CSRF token", who: "anyone (rate limited: 5 failures per user name, 20 per address, in 15 minutes)" },
    ApiRoute { method: "post", path: "/api/logout", page: Some("/logout"), summary: "Sign out", who: "signed in; X-CSRF-Token" },
    ApiRoute { method: "get", path: "/api/session", page: None, summary: "The signed-in user, CSRF token and municipalities", who: "signed in" },
    ApiRoute { method: "get", path: "/api/kommuner", page: Some("/"), summary: "The municipalities the user holds roles for", who: "signed in" },
    ApiRoute { method: "get", path: "/api/k/{kommune}", page: Some("/k/{kommune}"), summary: "Municipality overview: counts, coverage, open proposals by kind, last runs", who: "any role for the municipality" },
    ApiRoute { method: "get", path: "/api/k/{kommune}/queue", page: Some("/k/{kommune}/queue"), summary: "Review queue of cases (one per unit): undecided correspondence first, then closures, moves, names, the rest; 50 per page; filters kind, band (high|medium|low), subtree (FK-ORG uuid), page (beyond the last: the last), cursor", who: "any role for the municipality" },
    ApiRoute { method: "get", path: "/api/k/{kommune}/proposals/{id}", page: Some("/k/{kommune}/proposals/{id}"), summary: "Proposal detail: both units side by side, explanation, alternatives, consequence preview (SVG)", who: "any role for the municipality" },
    ApiRoute { method: "post", path: "/api/k/{kommune}/proposals/{id}/decide", page: Some("/k/{kommune}/proposals/{id}/decide"), summary: "Approve or reject: {decision: approve|reject, reason?}", who: "SOR administrator of the municipality; X-CSRF-Token" },
    ApiRoute { method: "post", path: "/api/k/{kommune}/proposals/{id}/act", page: Some("/k/{kommune}/proposals/{id}/act"), summary: "Pick an alternative, create new, or no match: {action: choose_alternative|create_new|no_match, sor_id?, reason?}", who: "SOR administrator of the municipality; X-CSRF-Token" },
    ApiRoute { method: "post", path: "/api/k/{kommune}/cases/{id}/decide", page: Some("/k/{kommune}/cases/{id}/decide"), summary: "Decide the case of pending proposal id with one key: {action: approve|reject|new|alternative, sor_id?, reason?}; an undecided case by its link or create (reject: not in SOR), a decided one by its follow-ups", who: "SOR administrator of the municipality; X-CSRF-Token" },
    ApiRoute { method: "post", path: "/api/k/{kommune}/undo", page: Some("/k/{kommune}/undo"), summary: "Undo the caller's own last decision in the municipality while nothing was sent for it (409 with the reason otherwise)", who: "SOR administrator of the municipality; X-CSRF-Token" },
    ApiRoute { method: "get", path: "/api/k/{kommune}/audit", page: Some("/k/{kommune}/audit"), summary: "Audit log, newest first (at most 500); filters actor, action, from, to (YYYY-MM-DD)", who: "any role for the municipality" },
    ApiRoute { method: "get", path: "/api/waves", page: Some("/waves"), summary: "Waves dashboard: the stored wave plan's municipalities the user holds a role for (readiness, coverage, proposals, runs); report null without a plan", who: "signed in" },
    ApiRoute { method: "get", path: "/api/k/{kommune}/wave", page: Some("/k/{kommune}/wave"), summary: "The municipality's wave report", who: "any role for the municipality" },
    ApiRoute { method: "get", path: "/api/k/{kommune}/bulk", page: Some("/k/{kommune}/bulk"), summary: "Pending links with confidence >= threshold (the bulk confirmation: how many and which)", who: "SOR administrator of the municipality" },
    ApiRoute { method: "post", path: "/api/k/{kommune}/bulk", page: Some("/k/{kommune}/bulk"), summary: "Approve the listed proposals: {ids: [...]}", who: "SOR administrator of the municipality; X-CSRF-Token" },
    ApiRoute { method: "get", path: "/api/k/{kommune}/whatif", page: Some("/k/{kommune}/whatif"), summary: "What-if: search units (q, uq), preview close/create/move/rename of unit (under, name, date)", who: "organisation or SOR administrator of the municipality" },
    ApiRoute { method: "get", path: "/api/k/{kommune}/contacts", page: Some("/k/{kommune}/contacts"), summary: "Contact-number report", who: "any role for the municipality" },
];

fn parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| {
            let schema = if name == "id" {
                json!({"type": "integer"})
            } else {
                json!({"type": "string", "pattern": "^[0-9]{3}$"})
            };
            json!({"name": name, "in": "path", "required": true, "schema": schema})
        })
        .collect()
}

/// The OpenAPI 3.0 document.
pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for r in API_ROUTES {
        let entry = paths.entry(r.path.to_string()).or_insert_with(|| json!({}));
        let mut op = json!({
            "summary": r.summary,
            "description": format!("Who: {}.{}", r.who, r.page.map(|p| format!(" Mirrors the page {p}.")).unwrap_or_default()),
            "parameters": parameters(r.path),
            "responses": {
                "200": {"description": "OK (JSON)"},
                "401": {"description": "Not signed in"},
                "403": {"description": "Refused: role, municipality or CSRF token"},
                "404": {"description": "Not found"}
            }
        });
        if r.method == "post" {
            op["requestBody"] = json!({"content": {"application/json": {"schema": {"type": "object"}}}});
        }
        if let Some(map) = entry.as_object_mut() {
            map.insert(r.method.to_string(), op);
        }
    }
    json!({
        "openapi": "3.0.3",
        "info": {"title": "sorsync web API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Mirrors the web app's pages. Session cookie from POST /api/login; mutating calls need the X-CSRF-Token header."},
        "components": {"securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": super::auth::SESSION_COOKIE}}},
        "security": [{"session": []}],
        "paths": Value::Object(paths)
    })
}
