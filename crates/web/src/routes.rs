//! Every route of the web app, listed once in [`ROUTES`]: method, path, handler, who may call it,
//! page or JSON API (with the bodies it takes and answers), summary. The router
//! ([`crate::router`]) is built from it, the OpenAPI document ([`crate::openapi::document`]) is
//! generated from it, and the authorisation test derives its matrix from it.
//!
//! [`Route::who`] documents the rule; the handlers enforce it (`Signed::require`, and the
//! review library checks the role again), and the test checks that every route refuses exactly
//! the callers the table says.

use std::borrow::Cow;

use axum::routing::{on, MethodFilter, MethodRouter};
use schemars::{JsonSchema, Schema, SchemaGenerator};

use crate::cases::{CaseDecided, UndoView};
use crate::openapi::OpenApiDocument;
use crate::review::Role;
use crate::views::{
    AuditQuery, AuditView, BulkQuery, BulkView, ContactsView, HomeView, OverviewView, ProposalView, QueueQuery,
    QueueView, WavesView, WhatIfQuery, WhatIfView,
};
use crate::{api, pages, saml, AppState};

use api::{
    ActRequest, ActResponse, BulkRequest, BulkResponse, CaseRequest, DecideRequest, DecideResponse, LoginRequest,
    SessionView,
};
use Method::{Get, Post};

/// The HTTP methods the app serves (a GET route answers HEAD too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    /// `GET` or `POST`.
    pub fn as_str(self) -> &'static str {
        match self {
            Get => "GET",
            Post => "POST",
        }
    }

    fn filter(self) -> MethodFilter {
        match self {
            Get => MethodFilter::GET,
            Post => MethodFilter::POST,
        }
    }
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// Anyone, signed in or not.
    Anyone,
    /// Any signed-in user (what it shows is limited to the user's own municipalities).
    SignedIn,
    /// A signed-in user holding one of these roles for the municipality in the path
    /// (`{kommune}`); everyone else is refused (403), and without a session a page sends to the
    /// sign-in page and the API answers 401.
    RoleIn(&'static [Role]),
}

/// Any role for the municipality: it may read its pages.
pub const ANY_ROLE: Who = Who::RoleIn(&Role::ALL);
/// Organisation and SOR administrators of the municipality (what-if).
pub const ADMINS: Who = Who::RoleIn(&[Role::OrgAdmin, Role::SorAdmin]);
/// SOR administrators of the municipality: they decide.
pub const SOR_ADMIN: Who = Who::RoleIn(&[Role::SorAdmin]);

impl Who {
    /// In words, for the OpenAPI document: "SOR administrator of the municipality".
    pub fn describe(self) -> Cow<'static, str> {
        match self {
            Who::Anyone => "anyone".into(),
            Who::SignedIn => "signed in".into(),
            Who::RoleIn(roles) if roles.len() == Role::ALL.len() => "any role for the municipality".into(),
            Who::RoleIn(roles) => {
                let titles: Vec<&str> = roles.iter().map(|r| r.title()).collect();
                format!("{} of the municipality", titles.join(" or ")).into()
            }
        }
    }
}

/// The JSON Schema of a request or response body (or of a query's parameters), derived from its
/// Rust type.
#[derive(Debug, Clone, Copy)]
pub struct BodySchema {
    /// A reference to the type's schema (which the generator keeps among its definitions).
    pub reference: fn(&mut SchemaGenerator) -> Schema,
    /// The type's schema itself.
    pub root: fn(&mut SchemaGenerator) -> Schema,
}

/// The schema of `T`.
pub const fn schema<T: JsonSchema>() -> BodySchema {
    BodySchema { reference: SchemaGenerator::subschema_for::<T>, root: SchemaGenerator::root_schema_for::<T> }
}

/// What a JSON API route takes and answers.
#[derive(Debug, Clone, Copy)]
pub struct Api {
    /// The page it mirrors (None: the API's own, such as the session).
    pub mirrors: Option<&'static str>,
    /// The query parameters it reads.
    pub query: Option<BodySchema>,
    /// The JSON body it takes.
    pub request: Option<BodySchema>,
    /// The JSON body it answers with 200; None: 204 No Content.
    pub response: Option<BodySchema>,
}

/// A page or a JSON API route.
#[derive(Debug, Clone, Copy)]
pub enum Serves {
    /// A server-rendered page, a form's target (it answers with a redirect), a download or a
    /// static asset.
    Page,
    /// A JSON API route (described in the OpenAPI document).
    Api(Api),
}

/// How axum routes a handler for a method (a closure naming the handler).
pub type Handler = fn(MethodFilter) -> MethodRouter<AppState>;

/// One route of the app.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: Method,
    /// axum's (and OpenAPI's) syntax: `/k/{kommune}/proposals/{id}`.
    pub path: &'static str,
    pub who: Who,
    pub serves: Serves,
    pub summary: &'static str,
    handler: Handler,
}

impl Route {
    /// The JSON API's description of the route; None for a page.
    pub fn api(&self) -> Option<&Api> {
        match &self.serves {
            Serves::Api(api) => Some(api),
            Serves::Page => None,
        }
    }

    /// Whether the route changes something and so needs the session's CSRF token (a form field,
    /// or the `X-CSRF-Token` header on the API); the sign-in routes have their own protection.
    pub fn needs_csrf(&self) -> bool {
        self.method == Post && self.who != Who::Anyone
    }

    /// The route for axum.
    pub fn method_router(&self) -> MethodRouter<AppState> {
        (self.handler)(self.method.filter())
    }

    const fn mirrors(mut self, page: &'static str) -> Route {
        if let Serves::Api(api) = &mut self.serves {
            api.mirrors = Some(page);
        }
        self
    }

    const fn query(mut self, query: BodySchema) -> Route {
        if let Serves::Api(api) = &mut self.serves {
            api.query = Some(query);
        }
        self
    }

    const fn takes(mut self, request: BodySchema) -> Route {
        if let Serves::Api(api) = &mut self.serves {
            api.request = Some(request);
        }
        self
    }

    const fn answers(mut self, response: BodySchema) -> Route {
        if let Serves::Api(api) = &mut self.serves {
            api.response = Some(response);
        }
        self
    }
}

const fn page(method: Method, path: &'static str, who: Who, handler: Handler, summary: &'static str) -> Route {
    Route { method, path, who, serves: Serves::Page, summary, handler }
}

/// A JSON API route answering 204 No Content until [`Route::answers`] names its body.
const fn api(method: Method, path: &'static str, who: Who, handler: Handler, summary: &'static str) -> Route {
    let api = Api { mirrors: None, query: None, request: None, response: None };
    Route { method, path, who, serves: Serves::Api(api), summary, handler }
}

/// Every route, pages first, then the JSON API.
pub const ROUTES: &[Route] = &[
    page(Get, "/", Who::SignedIn, |m| on(m, pages::home), "The municipalities the user holds roles for"),
    page(Get, "/login", Who::Anyone, |m| on(m, pages::login_form), "The sign-in form (local accounts or SAML)"),
    page(Post, "/login", Who::Anyone, |m| on(m, pages::login), "Sign in (double-submit token; rate limited)"),
    page(Post, "/logout", Who::SignedIn, |m| on(m, pages::logout), "Sign out"),
    page(Get, "/saml/metadata", Who::Anyone, |m| on(m, saml::metadata), "The SAML service provider's metadata"),
    page(Get, "/saml/login", Who::Anyone, |m| on(m, saml::login), "Sign in through Adgangsstyring (SAML)"),
    page(Post, "/saml/acs", Who::Anyone, |m| on(m, saml::acs), "The SAML assertion consumer service"),
    page(Get, "/saml/logout", Who::Anyone, |m| on(m, saml::logout_from_idp), "Single logout started by the IdP"),
    page(Post, "/saml/logout", Who::SignedIn, |m| on(m, saml::logout), "Sign out here and at the IdP"),
    page(Get, "/lang", Who::Anyone, |m| on(m, pages::set_lang), "Choose the language (da|en) and go back"),
    page(Get, "/k/{kommune}", ANY_ROLE, |m| on(m, pages::overview), "Municipality overview"),
    page(Get, "/k/{kommune}/queue", ANY_ROLE, |m| on(m, pages::queue), "Review queue of cases"),
    page(Get, "/k/{kommune}/proposals/{id}", ANY_ROLE, |m| on(m, pages::proposal), "Proposal detail"),
    page(Post, "/k/{kommune}/proposals/{id}/decide", SOR_ADMIN, |m| on(m, pages::decide), "Approve or reject"),
    page(Post, "/k/{kommune}/proposals/{id}/act", SOR_ADMIN, |m| on(m, pages::act), "Alternative, new or no match"),
    page(Post, "/k/{kommune}/cases/{id}/decide", SOR_ADMIN, |m| on(m, pages::decide_case), "Decide a case"),
    page(Post, "/k/{kommune}/undo", SOR_ADMIN, |m| on(m, pages::undo), "Undo the user's last decision"),
    page(Get, "/k/{kommune}/bulk", SOR_ADMIN, |m| on(m, pages::bulk_confirm), "Bulk approval: confirm"),
    page(Post, "/k/{kommune}/bulk", SOR_ADMIN, |m| on(m, pages::bulk_approve), "Bulk approval: approve"),
    page(Get, "/k/{kommune}/audit", ANY_ROLE, |m| on(m, pages::audit), "Audit log"),
    page(Get, "/k/{kommune}/wave", ANY_ROLE, |m| on(m, pages::wave_report), "The municipality's wave report"),
    page(Get, "/waves", Who::SignedIn, |m| on(m, pages::waves), "Waves dashboard"),
    page(Get, "/k/{kommune}/whatif", ADMINS, |m| on(m, pages::whatif), "What-if"),
    page(Get, "/k/{kommune}/contacts", ANY_ROLE, |m| on(m, pages::contacts), "Contact-number report"),
    page(Get, "/k/{kommune}/contacts.csv", ANY_ROLE, |m| on(m, pages::contacts_csv), "Contact report (CSV)"),
    page(Get, "/k/{kommune}/contacts.xlsx", ANY_ROLE, |m| on(m, pages::contacts_xlsx), "Contact report (Excel)"),
    page(Get, "/static/app.js", Who::Anyone, |m| on(m, pages::app_js), "The pages' script"),
    page(Get, "/static/app.css", Who::Anyone, |m| on(m, pages::app_css), "The pages' style sheet"),
    api(Get, "/api/openapi.json", Who::Anyone, |m| on(m, api::openapi), "This document")
        .answers(schema::<OpenApiDocument>()),
    api(
        Post,
        "/api/login",
        Who::Anyone,
        |m| on(m, api::login),
        "Sign in; sets the session cookie and returns the CSRF token (rate limited: 5 failures per user name, \
         20 per address, in 15 minutes)",
    )
    .mirrors("/login")
    .takes(schema::<LoginRequest>())
    .answers(schema::<SessionView>()),
    api(Post, "/api/logout", Who::SignedIn, |m| on(m, api::logout), "Sign out").mirrors("/logout"),
    api(
        Get,
        "/api/session",
        Who::SignedIn,
        |m| on(m, api::session),
        "The signed-in user, CSRF token and municipalities",
    )
    .answers(schema::<SessionView>()),
    api(Get, "/api/kommuner", Who::SignedIn, |m| on(m, api::home), "The municipalities the user holds roles for")
        .mirrors("/")
        .answers(schema::<HomeView>()),
    api(
        Get,
        "/api/k/{kommune}",
        ANY_ROLE,
        |m| on(m, api::overview),
        "Municipality overview: counts, coverage, open proposals by kind, last runs",
    )
    .mirrors("/k/{kommune}")
    .answers(schema::<OverviewView>()),
    api(
        Get,
        "/api/k/{kommune}/queue",
        ANY_ROLE,
        |m| on(m, api::queue),
        "Review queue of cases (one per unit): undecided correspondence first, then closures, moves, names, the \
         rest; 50 per page (beyond the last: the last)",
    )
    .mirrors("/k/{kommune}/queue")
    .query(schema::<QueueQuery>())
    .answers(schema::<QueueView>()),
    api(
        Get,
        "/api/k/{kommune}/proposals/{id}",
        ANY_ROLE,
        |m| on(m, api::proposal),
        "Proposal detail: both units side by side, explanation, alternatives, consequence preview (SVG)",
    )
    .mirrors("/k/{kommune}/proposals/{id}")
    .answers(schema::<ProposalView>()),
    api(Post, "/api/k/{kommune}/proposals/{id}/decide", SOR_ADMIN, |m| on(m, api::decide), "Approve or reject")
        .mirrors("/k/{kommune}/proposals/{id}/decide")
        .takes(schema::<DecideRequest>())
        .answers(schema::<DecideResponse>()),
    api(
        Post,
        "/api/k/{kommune}/proposals/{id}/act",
        SOR_ADMIN,
        |m| on(m, api::act),
        "Pick an alternative, create new, or no match",
    )
    .mirrors("/k/{kommune}/proposals/{id}/act")
    .takes(schema::<ActRequest>())
    .answers(schema::<ActResponse>()),
    api(
        Post,
        "/api/k/{kommune}/cases/{id}/decide",
        SOR_ADMIN,
        |m| on(m, api::decide_case),
        "Decide the case of pending proposal id with one key; an undecided case by its link or create (reject: \
         not in SOR), a decided one by its follow-ups",
    )
    .mirrors("/k/{kommune}/cases/{id}/decide")
    .takes(schema::<CaseRequest>())
    .answers(schema::<CaseDecided>()),
    api(
        Post,
        "/api/k/{kommune}/undo",
        SOR_ADMIN,
        |m| on(m, api::undo),
        "Undo the caller's own last decision in the municipality while nothing was sent for it (409 with the \
         reason otherwise)",
    )
    .mirrors("/k/{kommune}/undo")
    .answers(schema::<UndoView>()),
    api(
        Get,
        "/api/k/{kommune}/bulk",
        SOR_ADMIN,
        |m| on(m, api::bulk_candidates),
        "Pending links with confidence >= threshold (the bulk confirmation: how many and which)",
    )
    .mirrors("/k/{kommune}/bulk")
    .query(schema::<BulkQuery>())
    .answers(schema::<BulkView>()),
    api(Post, "/api/k/{kommune}/bulk", SOR_ADMIN, |m| on(m, api::bulk_approve), "Approve the listed proposals")
        .mirrors("/k/{kommune}/bulk")
        .takes(schema::<BulkRequest>())
        .answers(schema::<BulkResponse>()),
    api(Get, "/api/k/{kommune}/audit", ANY_ROLE, |m| on(m, api::audit), "Audit log, newest first, 100 per page")
        .mirrors("/k/{kommune}/audit")
        .query(schema::<AuditQuery>())
        .answers(schema::<AuditView>()),
    api(Get, "/api/k/{kommune}/wave", ANY_ROLE, |m| on(m, api::wave_report), "The municipality's wave report")
        .mirrors("/k/{kommune}/wave")
        .answers(schema::<WavesView>()),
    api(
        Get,
        "/api/waves",
        Who::SignedIn,
        |m| on(m, api::waves),
        "Waves dashboard: the stored wave plan's municipalities the user holds a role for (readiness, coverage, \
         proposals, runs); report null without a plan",
    )
    .mirrors("/waves")
    .answers(schema::<WavesView>()),
    api(
        Get,
        "/api/k/{kommune}/whatif",
        ADMINS,
        |m| on(m, api::whatif),
        "What-if: search units (q, uq), preview close/create/move/rename of unit (under, name, date)",
    )
    .mirrors("/k/{kommune}/whatif")
    .query(schema::<WhatIfQuery>())
    .answers(schema::<WhatIfView>()),
    api(Get, "/api/k/{kommune}/contacts", ANY_ROLE, |m| on(m, api::contacts), "Contact-number report")
        .mirrors("/k/{kommune}/contacts")
        .answers(schema::<ContactsView>()),
];

/// The routes of [`ROUTES`] with their handlers (without state and layers).
pub fn router() -> axum::Router<AppState> {
    ROUTES.iter().fold(axum::Router::new(), |router, r| router.route(r.path, r.method_router()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_and_path_is_listed_once_and_the_router_takes_them_all() {
        let mut seen = std::collections::HashSet::new();
        for r in ROUTES {
            assert!(seen.insert((r.method, r.path)), "{} {} is listed twice", r.method.as_str(), r.path);
        }
        // Building panics on a path axum cannot route or a method listed twice for one path.
        let _ = router();
    }

    #[test]
    fn api_routes_are_under_api_and_mirror_pages_of_the_table() {
        for r in ROUTES {
            assert_eq!(r.path.starts_with("/api/"), r.api().is_some(), "{}", r.path);
            if let Some(page) = r.api().and_then(|a| a.mirrors) {
                assert!(
                    ROUTES.iter().any(|p| p.path == page && p.api().is_none()),
                    "{} mirrors no page {page}",
                    r.path
                );
            }
        }
    }

    #[test]
    fn a_route_for_a_municipality_names_it_in_its_path() {
        for r in ROUTES {
            let in_path = r.path.contains("{kommune}");
            assert_eq!(in_path, matches!(r.who, Who::RoleIn(_)), "{} {}", r.method.as_str(), r.path);
        }
    }

    #[test]
    fn who_is_said_in_words() {
        assert_eq!(SOR_ADMIN.describe(), "SOR administrator of the municipality");
        assert_eq!(ADMINS.describe(), "organisation administrator or SOR administrator of the municipality");
        assert_eq!(ANY_ROLE.describe(), "any role for the municipality");
    }
}
