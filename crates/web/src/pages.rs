//! The server-rendered pages (maud templates: every value is escaped; the only raw markup is SVG
//! from the preview renderer, which escapes its own text).

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use serde::Deserialize;

use super::auth::{self, ClientAddr, Signed, SESSION_COOKIE, SESSION_HOURS};
use super::cases as views_cases;
use super::i18n::Lang;
use super::views::{self, parse_kommune, Act, AuditQuery, BulkQuery, QueueQuery, WhatIfQuery};
use super::{AppState, WebError};
use crate::review::{decide as review_decide, Actor, Decision};

const APP_JS: &str = include_str!("static/app.js");
const APP_CSS: &str = include_str!("static/app.css");

fn percent(l: Lang, share: f64) -> String {
    let s = format!("{:.1} %", share * 100.0);
    match l {
        Lang::Da => s.replace('.', ","),
        Lang::En => s,
    }
}

/// The frame of every page.
fn layout(l: Lang, title: &str, signed: Option<&Signed>, kommune: Option<&str>, body: Markup) -> Html<String> {
    let page = html! {
        (DOCTYPE)
        html lang=(l.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " – sorsync" }
                link rel="stylesheet" href="/static/app.css";
                script src="/static/app.js" defer {}
            }
            body {
                header {
                    a.brand href="/" { "sorsync" }
                    @if signed.is_some() { a href="/waves" { (l.t("waves")) } }
                    @if let Some(k) = kommune {
                        nav {
                            a href={ "/k/" (k) } { (l.t("overview")) }
                            a href={ "/k/" (k) "/queue" } { (l.t("queue")) }
                            a href={ "/k/" (k) "/whatif" } { (l.t("whatif")) }
                            a href={ "/k/" (k) "/contacts" } { (l.t("contacts")) }
                            a href={ "/k/" (k) "/audit" } { (l.t("audit")) }
                            a href={ "/k/" (k) "/wave" } { (l.t("wave_report")) }
                        }
                    }
                    span.right {
                        a href={ "/lang?set=" (if l == Lang::Da { "en" } else { "da" }) } { (l.t("language")) }
                        @if let Some(s) = signed {
                            " · " (l.t("signed_in_as")) " " strong { (s.user) } " "
                            form.inline method="post" action="/logout" {
                                input type="hidden" name="csrf" value=(s.csrf);
                                button type="submit" { (l.t("sign_out")) }
                            }
                        }
                    }
                }
                main { (body) }
            }
        }
    };
    Html(page.into_string())
}

/// What went wrong, put on an error response so that [`error_pages`] can show it in the page's
/// layout and language.
#[derive(Debug, Clone)]
pub struct ErrorShown {
    pub status: StatusCode,
    /// The catalogue key of the sentence a user sees (`err_not_found`, ...).
    pub key: &'static str,
    /// The message in English (internal details stay in the log).
    pub detail: String,
}

impl ErrorShown {
    pub fn of(e: &WebError) -> ErrorShown {
        let key = match e {
            WebError::SignIn => "err_sign_in",
            WebError::Forbidden(_) => "err_forbidden",
            WebError::Csrf => "err_csrf",
            WebError::NotFound(_) => "err_not_found",
            WebError::BadRequest(_) => "err_bad_request",
            WebError::Conflict(_) => "err_conflict",
            WebError::RateLimited => "err_rate_limited",
            WebError::BadLogin => "err_bad_login",
            WebError::Store(_) | WebError::Internal(_) => "err_internal",
        };
        ErrorShown { status: e.status(), key, detail: e.public_message() }
    }
}

/// Middleware: an error response of a page gets the whole layout (header, navigation, the
/// user's language), the error in that language, and a way back (the page it came from, with
/// its filter) and home.
pub async fn error_pages(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = request.uri().path().to_string();
    if path.starts_with("/api/") || path.starts_with("/static/") {
        return next.run(request).await;
    }
    let headers = request.headers().clone();
    let uri = request.uri().clone();
    let response = next.run(request).await;
    let Some(shown) = response.extensions().get::<ErrorShown>().cloned() else { return response };
    let (mut parts, ()) = axum::http::Request::builder().uri(uri).body(()).unwrap_or_default().into_parts();
    parts.headers = headers.clone();
    let l = Lang::from_request_parts(&mut parts, &state).await.unwrap_or_default();
    let signed = Signed::from_request_parts(&mut parts, &state).await.ok();
    let kommune = path
        .strip_prefix("/k/")
        .and_then(|rest| rest.split('/').next())
        .and_then(|k| parse_kommune(k).ok())
        .filter(|k| signed.as_ref().is_some_and(|s| !s.roles_for(*k).is_empty()));
    let referer = headers.get(header::REFERER).and_then(|v| v.to_str().ok()).and_then(|r| {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok())?;
        let after = r.split_once("://")?.1;
        after.strip_prefix(host).map(str::to_string)
    });
    let fallback = match kommune {
        Some(k) => format!("/k/{k}"),
        None => "/".to_string(),
    };
    let back = views::local_path(referer.as_deref().filter(|r| *r != path), fallback);
    let message = match l {
        Lang::En => shown.detail.clone(),
        Lang::Da => l.t(shown.key).to_string(),
    };
    let title = format!("{} {}", l.t("error"), shown.status.as_u16());
    let body = html! {
        h1 { (title) }
        p.error #error { (message) }
        p.nav { a #back href=(back) { "← " (l.t("back")) } " " a href="/" { (l.t("home")) } }
    };
    let kommune = kommune.map(|k| k.to_string());
    (shown.status, layout(l, &title, signed.as_ref(), kommune.as_deref(), body)).into_response()
}

/// An error page without layout (bilingual), for the rare response no page handler made.
pub fn error_page(status: StatusCode, message: &str) -> String {
    let page = html! {
        (DOCTYPE)
        html lang="da" {
            head { meta charset="utf-8"; title { "Fejl / Error " (status.as_u16()) } link rel="stylesheet" href="/static/app.css"; }
            body { main {
                h1 { "Fejl / Error " (status.as_u16()) }
                p.error { (message) }
                p { a href="/" { "Forside / Home" } }
            } }
        }
    };
    page.into_string()
}

pub async fn app_js() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "max-age=300")], APP_JS)
        .into_response()
}

pub async fn app_css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=300")], APP_CSS)
        .into_response()
}

#[derive(Debug, Deserialize)]
pub struct LangQuery {
    set: Option<String>,
    back: Option<String>,
}

pub async fn set_lang(headers: HeaderMap, Query(q): Query<LangQuery>) -> Response {
    let lang = q.set.as_deref().and_then(Lang::parse).unwrap_or_default();
    let referer = headers.get(header::REFERER).and_then(|v| v.to_str().ok()).and_then(|r| {
        // Only the path of a referer to this app.
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok())?;
        let after = r.split_once("://")?.1;
        after.strip_prefix(host).map(str::to_string)
    });
    let back = views::local_path(q.back.as_deref().or(referer.as_deref()), "/".into());
    let cookie = format!("lang={}; Path=/; SameSite=Lax; Max-Age=31536000", lang.code());
    (StatusCode::SEE_OTHER, [(header::SET_COOKIE, cookie), (header::LOCATION, back)]).into_response()
}

pub async fn login_form(State(state): State<AppState>, l: Lang) -> Response {
    login_page(&state, l, None, StatusCode::OK)
}

fn login_page(state: &AppState, l: Lang, problem: Option<&str>, status: StatusCode) -> Response {
    let token = auth::issue_login_token(state.server_key());
    let saml = state.config().saml.is_some();
    let local = state.local_accounts_enabled();
    let body = html! {
        h1 { (l.t("sign_in")) }
        @if let Some(p) = problem { p.error { (p) } }
        @if saml {
            p { a.button href="/saml/login" { (l.t("sign_in_saml")) } }
        }
        @if local {
            form.login method="post" action="/login" {
                input type="hidden" name="csrf" value=(token);
                label { span { (l.t("user_name")) } input name="user" autocomplete="username" required autofocus; }
                label { span { (l.t("password")) } input name="password" type="password" autocomplete="current-password" required; }
                button type="submit" { (l.t("sign_in")) }
            }
        }
    };
    let secure = state.config().secure_cookies;
    let cookie = auth::set_cookie(auth::login_cookie_name(secure), &token, auth::LOGIN_TOKEN_SECONDS, secure);
    (status, [(header::SET_COOKIE, cookie)], layout(l, l.t("sign_in"), None, None, body)).into_response()
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    user: String,
    password: String,
    csrf: Option<String>,
}

pub async fn login(
    State(state): State<AppState>,
    l: Lang,
    ClientAddr(ip): ClientAddr,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    // Double-submit: the form's token must equal the cookie set with the form.
    let expected = auth::cookie(&headers, auth::login_cookie_name(state.config().secure_cookies));
    let csrf_ok = auth::login_token_ok(state.server_key(), expected, f.csrf.as_deref());
    if !csrf_ok {
        return WebError::Csrf.into_response();
    }
    match auth::sign_in(&state, &f.user, &f.password, ip).await {
        Ok((token, _csrf)) => {
            let max_age = SESSION_HOURS * 3600;
            let cookie = auth::set_cookie(SESSION_COOKIE, &token, max_age, state.config().secure_cookies);
            (StatusCode::SEE_OTHER, [(header::SET_COOKIE, cookie), (header::LOCATION, "/".to_string())]).into_response()
        }
        Err(e @ (WebError::BadLogin | WebError::RateLimited)) => {
            login_page(&state, l, Some(l.t(ErrorShown::of(&e).key)), e.status())
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    csrf: Option<String>,
}

pub async fn logout(
    State(state): State<AppState>,
    signed: Signed,
    Form(f): Form<CsrfForm>,
) -> Result<Response, WebError> {
    signed.check_csrf(f.csrf.as_deref())?;
    state.store().delete_web_session(&signed.session_hash).await?;
    let cookie = auth::set_cookie(SESSION_COOKIE, "", 0, state.config().secure_cookies);
    Ok((StatusCode::SEE_OTHER, [(header::SET_COOKIE, cookie), (header::LOCATION, "/login".to_string())])
        .into_response())
}

pub async fn home(State(state): State<AppState>, signed: Signed, l: Lang) -> Result<Html<String>, WebError> {
    let v = views::named_home(&state, &signed).await?;
    let body = html! {
        h1 { (l.t("your_municipalities")) }
        @if v.municipalities.is_empty() { p { (l.t("no_municipalities")) } }
        ul.municipalities {
            @for m in &v.municipalities {
                li {
                    a href={ "/k/" (m.kommune) } {
                        @match &m.name { Some(n) => { (n) " (" (m.kommune) ")" }, None => { (l.t("municipality")) " " (m.kommune) } }
                    }
                    " – " (roles_text(l, &m.roles))
                }
            }
        }
    };
    Ok(layout(l, l.t("app_title"), Some(&signed), None, body))
}

/// Roles in words, joined.
fn roles_text(l: Lang, roles: &[String]) -> String {
    roles.iter().map(|r| l.role(r)).collect::<Vec<_>>().join(", ")
}

pub async fn overview(
    State(state): State<AppState>,
    signed: Signed,
    l: Lang,
    Path(k): Path<String>,
) -> Result<Html<String>, WebError> {
    let kommune = parse_kommune(&k)?;
    let v = views::overview(&state, &signed, kommune).await?;
    let body = html! {
        h1 { (l.t("municipality")) " " (v.kommune) @if let Some(n) = &v.name { " – " (n) } }
        p { (l.t("roles")) ": " (roles_text(l, &v.roles)) }
        @if v.fk_units == 0 { p { (l.t("no_data")) } }
        table.facts {
            tr { th { (l.t("fk_units")) } td { (v.fk_units) } }
            tr { th { (l.t("sor_units")) } td { (v.sor_units) } }
            tr { th { (l.t("links")) } td { (v.links) } }
            tr { th { (l.t("coverage")) } td { (percent(l, v.coverage)) } }
        }
        p.progress { (v.reviewed) " " (l.t("of")) " " (v.total) " " (l.t("reviewed_of")) }
        h2 { (l.t("open_by_kind")) }
        @if v.pending_by_kind.is_empty() { p { (l.t("none")) } }
        ul {
            @for c in &v.pending_by_kind {
                li { a href={ "/k/" (v.kommune) "/queue?kind=" (c.kind) } { (l.kind(&c.kind)) } ": " (c.count) }
            }
        }
        h2 { (l.t("last_runs")) }
        @if v.runs.is_empty() { p { (l.t("none")) } }
        table {
            tr { th { (l.t("recorded_at")) } th { (l.t("fk_snapshot")) } th { (l.t("sor_snapshot")) } th { (l.t("proposals")) } }
            @for r in &v.runs {
                tr { td { (l.when(&r.recorded_at)) } td { (r.fk_snapshot_id) } td { (r.sor_snapshot_id) } td { (r.proposals) } }
            }
        }
    };
    Ok(layout(l, l.t("overview"), Some(&signed), Some(&v.kommune), body))
}

fn confidence_text(l: Lang, c: Option<f64>) -> String {
    match c {
        Some(c) => number(l, &format!("{c:.2}")),
        None => "–".into(),
    }
}

/// A number as the language writes it (Danish: decimal comma).
fn number(l: Lang, s: &str) -> String {
    match l {
        Lang::Da => s.replace('.', ","),
        Lang::En => s.to_string(),
    }
}

fn field_text(l: Lang, field: &str) -> &'static str {
    match field {
        "name" => l.t("name"),
        "address" => l.t("address"),
        "phone" => l.t("phone"),
        "email" => l.t("email"),
        "parent" => l.t("field_parent"),
        "closed" => l.t("field_closed"),
        "sor_id" => l.t("field_sor_id"),
        _ => l.t("ean"),
    }
}

/// What the case is (or is proposed to be) and what follows from it.
fn case_summary(l: Lang, it: &views_cases::CaseItem) -> Markup {
    html! {
        @if let Some(c) = &it.correspondence {
            div.correspondence {
                @match c.kind.as_str() {
                    "create" => { (l.t("new_under")) " " strong { (c.parent_name.clone().or(c.parent_sor_id.clone()).unwrap_or_default()) } }
                    "linked" => { (l.t("is_linked_to")) " " strong { (c.sor_name.clone().unwrap_or_default()) } }
                    _ => { (l.t("linked_to")) " " strong { (c.sor_name.clone().unwrap_or_default()) } " (" (l.t("confidence").to_lowercase()) " " (confidence_text(l, c.confidence)) ")" }
                }
            }
        }
        @if !it.alternatives.is_empty() {
            div.alternatives { small { (l.t("alternatives")) ": "
                @for (n, a) in it.alternatives.iter().enumerate() {
                    @if n > 0 { ", " }
                    (n + 1) " " (a.name.clone().unwrap_or_else(|| a.sor_id.clone())) " (" (number(l, &format!("{:.2}", a.confidence))) ")"
                }
            } }
        }
        @if !it.follow_ups.is_empty() {
            ul.follow-ups {
                @for f in &it.follow_ups {
                    @for c in &f.changes {
                        li { (field_text(l, &c.field)) ": " span.from { (c.from.clone().unwrap_or_else(|| "–".into())) } " → " span.to { (c.to.clone().unwrap_or_else(|| "–".into())) } }
                    }
                    @if f.changes.is_empty() { li { (l.kind(&f.kind)) } }
                }
            }
        }
    }
}

/// The buttons the keys press: a approve, r reject / not in SOR, n new, 1..3 a runner-up.
fn case_keys(l: Lang, signed: &Signed, kommune: &str, it: &views_cases::CaseItem, back: &str) -> Markup {
    let undecided = it.stage == "correspondence";
    html! {
        form.inline.decide method="post" action={ "/k/" (kommune) "/cases/" (it.id) "/decide" } {
            input type="hidden" name="csrf" value=(signed.csrf);
            input type="hidden" name="back" value=(back);
            button.approve type="submit" name="action" value="approve" title="a" { (l.t("approve")) }
            " "
            button.reject type="submit" name="action" value="reject" title="r" {
                @if undecided { (l.t("not_in_sor")) } @else { (l.t("reject")) }
            }
            @if undecided && it.kind == "link" {
                " " button.create-new type="submit" name="action" value="new" title="n" { (l.t("new_key")) }
            }
        }
        @if undecided {
            @for (n, a) in it.alternatives.iter().enumerate() {
                " "
                form.inline method="post" action={ "/k/" (kommune) "/cases/" (it.id) "/decide" } {
                    input type="hidden" name="csrf" value=(signed.csrf);
                    input type="hidden" name="back" value=(back);
                    input type="hidden" name="sor_id" value=(a.sor_id);
                    button.pick type="submit" name="action" value="alternative" data-n=(n + 1) title=(n + 1) { (n + 1) ": " (a.name.clone().unwrap_or_else(|| a.sor_id.clone())) }
                }
            }
        }
    }
}

/// Problems with a form's input, in words, beside the form.
fn problems(l: Lang, problems: &[views::FormProblem]) -> Markup {
    html! {
        @for p in problems {
            p.error.form-problem {
                (l.text(&p.key).unwrap_or(l.t("err_bad_request")))
                @if let Some(v) = &p.value { " (" (v) ")" }
            }
        }
    }
}

/// The undo form (key u).
fn undo_form(l: Lang, signed: &Signed, kommune: &str, back: &str) -> Markup {
    html! {
        form.inline #undo method="post" action={ "/k/" (kommune) "/undo" } {
            input type="hidden" name="csrf" value=(signed.csrf);
            input type="hidden" name="back" value=(back);
            button.undo type="submit" title="u" { (l.t("undo_last")) }
        }
    }
}

pub async fn queue(
    State(state): State<AppState>,
    signed: Signed,
    l: Lang,
    Path(k): Path<String>,
    Query(q): Query<QueueQuery>,
) -> Result<Html<String>, WebError> {
    let kommune = parse_kommune(&k)?;
    let v = views::queue(&state, &signed, kommune, q).await?;
    let back = format!("/k/{}/queue?{}", v.kommune, v.filter.with_cursor(v.page, v.cursor));
    let selected = |a: &Option<String>, b: &str| a.as_deref() == Some(b);
    let body = html! {
        h1 { (l.t("queue")) }
        p.progress #progress { (v.reviewed) " " (l.t("of")) " " (v.total) " " (l.t("reviewed_of")) }
        @if let Some(n) = v.filter.approved { p.notice { (l.t("approved_n")) ": " (n) } }
        form.filters method="get" action={ "/k/" (v.kommune) "/queue" } {
            label { (l.t("kind")) " "
                select name="kind" {
                    option value="" { (l.t("all")) }
                    @for kind in views::KINDS { option value=(kind) selected[selected(&v.filter.kind, kind)] { (l.kind(kind)) } }
                }
            }
            label { (l.t("band")) " "
                select name="band" {
                    option value="" { (l.t("all")) }
                    option value="high" selected[selected(&v.filter.band, "high")] { (l.t("band_high")) }
                    option value="medium" selected[selected(&v.filter.band, "medium")] { (l.t("band_medium")) }
                    option value="low" selected[selected(&v.filter.band, "low")] { (l.t("band_low")) }
                }
            }
            label { (l.t("subtree_name")) " " input name="subtree" value=(v.subtree_unit.as_ref().map(|u| u.name.clone()).or(v.filter.subtree.clone()).unwrap_or_default()) size="30"; }
            button type="submit" { (l.t("filter")) }
        }
        (problems(l, &v.problems))
        @if !v.subtree_matches.is_empty() {
            ul.matches {
                @for m in &v.subtree_matches {
                    li { a href={ "?" (views::QueueQuery { subtree: Some(m.uuid.clone()), page: None, ..v.filter.clone() }.with_page(1)) } { (m.name) } " " small { (m.path) } }
                }
            }
        }
        @if v.clamped { p.notice #clamped { (l.t("page_beyond")) } }
        @if v.can_decide {
            form.bulk method="get" action={ "/k/" (v.kommune) "/bulk" } {
                label { (l.t("bulk_approve")) " " input name="threshold" type="number" min="0.5" max="1" step="0.01" value="0.95"; }
                button type="submit" #bulk-button { (l.t("approve")) "…" }
            }
        }
        p.help { @if v.can_decide { (l.t("keyboard_help")) } @else { (l.t("keyboard_help_read")) } }
        @if let Some(n) = &v.filter.notice { p.notice #notice { (l.text(n).unwrap_or("")) } }
        @if v.can_decide { (undo_form(l, &signed, &v.kommune, &back)) }
        @if v.items.is_empty() { p { (l.t("queue_empty")) } }
        table.queue #queue data-cursor=(v.cursor) {
            tr { th { (l.t("case")) } th { (l.t("proposed")) } th {} }
            @for (i, it) in v.items.iter().enumerate() {
                tr.item.current[i == v.cursor] data-id=(it.id) data-case=(it.case) data-open={ "/k/" (v.kommune) "/proposals/" (it.id) "?from=" (views::url_encode(&v.filter.with_cursor(v.page, i))) } {
                    td.paths {
                        div { small { (l.t("in_fkorg")) ": " } (it.fk_path.clone().or(it.fk_name.clone()).unwrap_or_else(|| "–".into())) }
                        div { small { (l.t("in_sor")) ": " } (it.sor_path.clone().unwrap_or_else(|| "–".into())) @if let Some(s) = &it.sor_id { " " small { (s) } } }
                    }
                    td.proposal { (case_summary(l, it)) }
                    td.actions {
                        a.open href={ "/k/" (v.kommune) "/proposals/" (it.id) "?from=" (views::url_encode(&v.filter.with_cursor(v.page, i))) } { (l.t("open")) }
                        @if v.can_decide {
                            " " (case_keys(l, &signed, &v.kommune, it, &format!("/k/{}/queue?{}", v.kommune, v.filter.with_cursor(v.page, i))))
                        }
                    }
                }
            }
        }
        p.pages {
            (l.t("page")) " " (v.page) " " (l.t("of")) " " (v.pages) " (" (v.matching) ") "
            @if v.page > 1 { a href={ "?" (v.filter.with_page(v.page - 1)) } { (l.t("previous")) } " " }
            @if v.page < v.pages { a href={ "?" (v.filter.with_page(v.page + 1)) } { (l.t("next")) } }
        }
    };
    Ok(layout(l, l.t("queue"), Some(&signed), Some(&v.kommune), body))
}

/// Where the proposal page was opened from: the queue's query string (filter, page, cursor).
#[derive(Debug, Deserialize)]
pub struct FromQuery {
    from: Option<String>,
}

/// Warnings in the page's language: the kind in words, then the message.
fn warnings_list(l: Lang, warnings: &[views::WarningView]) -> Markup {
    html! {
        ul.warnings {
            @for w in warnings {
                li {
                    strong { (l.text(&format!("warn_{}", w.kind)).unwrap_or(&w.kind)) } ": "
                    @match &w.text {
                        Some(t) => { (l.say(t)) },
                        None => { (l.text(&w.kind).unwrap_or(&w.message)) },
                    }
                }
            }
        }
    }
}

pub async fn proposal(
    State(state): State<AppState>,
    signed: Signed,
    l: Lang,
    Path((k, id)): Path<(String, i64)>,
    Query(from): Query<FromQuery>,
) -> Result<Html<String>, WebError> {
    let kommune = parse_kommune(&k)?;
    let v = views::proposal_in(&state, &signed, kommune, id, l).await?;
    // Back to the queue as it was (filter, page, marked row).
    let from = from.from.filter(|f| !f.contains(['#', '\r', '\n']));
    let queue_back = match &from {
        Some(f) => format!("/k/{}/queue?{f}", v.kommune),
        None => format!("/k/{}/queue", v.kommune),
    };
    let unit_name = v.fk_name.clone().or(v.sor_name.clone());
    let is_sor_admin = signed.roles_for(kommune).contains(&crate::review::Role::SorAdmin);
    let body = html! {
        h1 { (l.t("proposal")) " " (v.id) ": " (l.kind(&v.kind)) @if let Some(n) = &unit_name { " – " (n) } }
        p { (l.t("status")) ": " strong { (l.status(&v.status)) } @if v.confidence.is_some() { " · " (l.t("confidence")) ": " (confidence_text(l, v.confidence)) } }
        table.sidebyside {
            tr { th { (l.t("field")) } th { (l.t("fk_unit")) } th { (l.t("sor_unit")) } }
            @for f in &v.fields {
                tr.differs[f.differs] {
                    th { (field_text(l, &f.field)) }
                    td { (f.fk.clone().unwrap_or_default()) }
                    td { (f.sor.clone().unwrap_or_default()) }
                }
            }
            tr.parents { th { (l.t("parent")) } td { (v.fk_parent.clone().unwrap_or_default()) } td { (v.sor_parent.clone().unwrap_or_default()) } }
            tr { th { "ID" } td { (v.fk_uuid.clone().unwrap_or_default()) } td { (v.sor_id.clone().unwrap_or_default()) } }
        }
        @let next = v.next_id.map(|n| format!("/k/{}/proposals/{n}", v.kommune)).unwrap_or_else(|| queue_back.clone());
        @let case_shown = v.case.is_some() && is_sor_admin;
        div #case-keys {
            @if let Some(c) = &v.case {
                @if is_sor_admin {
                    h2 { (l.t("case")) }
                    (case_summary(l, c))
                    p.keys { (case_keys(l, &signed, &v.kommune, c, &next)) }
                }
            }
            p.nav {
                @if let Some(p) = v.previous_id { a #prev href={ "/k/" (v.kommune) "/proposals/" (p) } { "← " (l.t("previous")) } " " }
                a #next href=(next) { (l.t("next")) " →" }
                " "
                @if is_sor_admin {
                    (undo_form(l, &signed, &v.kommune, &format!("/k/{}/proposals/{}", v.kommune, v.id)))
                }
            }
            p.help { @if is_sor_admin { (l.t("keyboard_help")) } @else { (l.t("keyboard_help_read")) } }
        }
        // The case's keys decide it; the proposal's own buttons only where no case is shown.
        @if v.can_decide && !case_shown {
            form.decide method="post" action={ "/k/" (v.kommune) "/proposals/" (v.id) "/decide" } {
                input type="hidden" name="csrf" value=(signed.csrf);
                input type="hidden" name="back" value=(queue_back);
                label { (l.t("reason")) " " input name="reason" size="40"; }
                " " button.approve type="submit" name="decision" value="approve" { (l.t("approve")) }
                " " button.reject type="submit" name="decision" value="reject" { (l.t("reject")) }
            }
        } @else if v.status != "pending" {
            p { (l.t("not_pending")) }
        }
        @if !v.reasons.is_empty() {
            h2 { (l.t("why_link")) }
            table.explain {
                @for r in &v.reasons {
                    tr class=(r.strength) {
                        td {
                            (l.text(&r.phrase).unwrap_or(""))
                            @if let Some((a, b)) = &r.same_kind { "; " (a) " " (l.t("and")) " " (b) " " (l.t("same_kind_of_unit")) }
                        }
                        td.points {
                            @if let Some(p) = r.points {
                                span.bar style=(format!("width:{:.0}px", p * 2.0)) {} " +" (format!("{p:.0}")) " " (l.t("points"))
                            } @else { (l.text(&r.strength).unwrap_or("")) }
                        }
                    }
                }
                tr.total { th { (l.t("adds_up_to")) } th { (format!("{:.0} %", v.confidence.unwrap_or(0.0) * 100.0)) } }
            }
        }
        @if !v.alternatives.is_empty() {
            h2 { (l.t("alternatives")) }
            ul.alternatives { @for a in &v.alternatives { li {
                (a.name.clone().unwrap_or_default()) " " small { (a.sor_id) } " – " (number(l, &format!("{:.2}", a.confidence)))
                @if v.can_decide && v.kind == "link" && !case_shown {
                    " "
                    form.inline method="post" action={ "/k/" (v.kommune) "/proposals/" (v.id) "/act" } {
                        input type="hidden" name="csrf" value=(signed.csrf);
                        input type="hidden" name="action" value="choose_alternative";
                        input type="hidden" name="sor_id" value=(a.sor_id);
                        button.pick type="submit" { (l.t("pick_this")) }
                    }
                }
            } } }
        }
        @if v.can_decide && v.kind == "link" && !case_shown {
            p.acts {
                form.inline method="post" action={ "/k/" (v.kommune) "/proposals/" (v.id) "/act" } {
                    input type="hidden" name="csrf" value=(signed.csrf);
                    input type="hidden" name="action" value="create_new";
                    button.create-new type="submit" { (l.t("create_new")) }
                }
                " "
                form.inline method="post" action={ "/k/" (v.kommune) "/proposals/" (v.id) "/act" } {
                    input type="hidden" name="csrf" value=(signed.csrf);
                    input type="hidden" name="action" value="no_match";
                    button.no-match type="submit" { (l.t("no_match")) }
                }
            }
        }
        @if !v.changes.is_empty() {
            h2 { (l.t("changes")) }
            table { @for c in &v.changes { tr { th { (field_text(l, &c.field)) } td.from { (c.from.clone().unwrap_or_default()) } td { "→" } td.to { (c.to.clone().unwrap_or_default()) } } } }
        }
        @if v.preview_summary.is_some() {
            h2 { (l.t("consequences")) }
            p { @match &v.preview_counts { Some(c) => { (l.say(&c.text())) }, None => { (v.preview_summary.clone().unwrap_or_default()) } } }
            @if !v.warnings.is_empty() {
                h3 { (l.t("warnings")) }
                (warnings_list(l, &v.warnings))
            }
            @if let Some(svg) = &v.preview_svg { div.drawing #preview { (PreEscaped(svg)) } }
        }
        p { a #back href=(queue_back) { "← " (l.t("back")) } }
    };
    Ok(layout(l, l.t("proposal"), Some(&signed), Some(&v.kommune), body))
}

#[derive(Debug, Deserialize)]
pub struct DecideForm {
    csrf: Option<String>,
    decision: String,
    reason: Option<String>,
    back: Option<String>,
}

pub fn parse_decision(s: &str) -> Result<Decision, WebError> {
    match s {
        "approve" => Ok(Decision::Approve),
        "reject" => Ok(Decision::Reject),
        other => Err(WebError::BadRequest(format!("unknown decision {other:?}: approve or reject"))),
    }
}

/// Approves or rejects through `crate::review::decide` (which checks the role again).
pub async fn decide_one(
    state: &AppState,
    signed: &Signed,
    kommune: crate::domain::KommuneKode,
    id: i64,
    decision: Decision,
    reason: Option<&str>,
) -> Result<i64, WebError> {
    signed.require(kommune, &[crate::review::Role::SorAdmin])?;
    match state.store().proposal(id).await {
        Ok(p) if p.kommune == kommune => {}
        Ok(_) | Err(crate::store::StoreError::NoSuchProposal(_)) => {
            return Err(WebError::NotFound(format!("proposal {id} of municipality {kommune}")))
        }
        Err(e) => return Err(e.into()),
    }
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    Ok(review_decide(state.store(), &Actor::new(signed.user.clone()), id, decision, reason).await?)
}

pub async fn decide(
    State(state): State<AppState>,
    signed: Signed,
    Path((k, id)): Path<(String, i64)>,
    Form(f): Form<DecideForm>,
) -> Result<Response, WebError> {
    signed.check_csrf(f.csrf.as_deref())?;
    let kommune = parse_kommune(&k)?;
    let decision = parse_decision(&f.decision)?;
    decide_one(&state, &signed, kommune, id, decision, f.reason.as_deref()).await?;
    let back = views::local_path(f.back.as_deref(), format!("/k/{kommune}/queue"));
    Ok(Redirect::to(&back).into_response())
}

#[derive(Debug, Deserialize)]
pub struct CaseForm {
    csrf: Option<String>,
    action: String,
    sor_id: Option<String>,
    reason: Option<String>,
    back: Option<String>,
}

/// One key decides the case and goes back to the queue (same filter, page and cursor: the row
/// under the cursor is now the next case) or, from the detail page, to the next case.
pub async fn decide_case(
    State(state): State<AppState>,
    signed: Signed,
    Path((k, id)): Path<(String, i64)>,
    Form(f): Form<CaseForm>,
) -> Result<Response, WebError> {
    signed.check_csrf(f.csrf.as_deref())?;
    let kommune = parse_kommune(&k)?;
    let action = views_cases::CaseAction::parse(&f.action, f.sor_id.as_deref())?;
    views_cases::decide_case(&state, &signed, kommune, id, action, f.reason.as_deref()).await?;
    let back = views::local_path(f.back.as_deref(), format!("/k/{kommune}/queue"));
    Ok(Redirect::to(&back).into_response())
}

#[derive(Debug, Deserialize)]
pub struct UndoForm {
    csrf: Option<String>,
    back: Option<String>,
}

/// Undoes the user's last decision and goes back with the outcome as a notice.
pub async fn undo(
    State(state): State<AppState>,
    signed: Signed,
    Path(k): Path<String>,
    Form(f): Form<UndoForm>,
) -> Result<Response, WebError> {
    signed.check_csrf(f.csrf.as_deref())?;
    let kommune = parse_kommune(&k)?;
    let v = views_cases::undo(&state, &signed, kommune).await?;
    let back = views::local_path(f.back.as_deref(), format!("/k/{kommune}/queue"));
    let back = match back.split_once('?') {
        Some((path, query)) => {
            let kept: Vec<&str> = query.split('&').filter(|p| !p.starts_with("notice=")).collect();
            format!("{path}?{}&notice={}", kept.join("&"), v.outcome)
        }
        None => format!("{back}?notice={}", v.outcome),
    };
    Ok(Redirect::to(&back).into_response())
}

pub async fn bulk_confirm(
    State(state): State<AppState>,
    signed: Signed,
    l: Lang,
    Path(k): Path<String>,
    Query(q): Query<BulkQuery>,
) -> Result<Html<String>, WebError> {
    let kommune = parse_kommune(&k)?;
    let v = views::bulk(&state, &signed, kommune, &q).await?;
    let ids: Vec<String> = v.items.iter().map(|i| i.id.to_string()).collect();
    let body = html! {
        h1 { (l.t("bulk_confirm_title")) }
        p #bulk-count { (l.t("bulk_count")) ": " strong { (v.count) } " (" (l.t("confidence")) " ≥ " (number(l, &format!("{:.2}", v.threshold))) ")" }
        h2 { (l.t("bulk_will_approve")) }
        table {
            tr { th { "#" } th { (l.t("fk_unit")) } th { (l.t("sor_unit")) } th { (l.t("confidence")) } }
            @for it in &v.items {
                tr { td { (it.id) } td { (it.fk_name.clone().unwrap_or_default()) } td { (it.sor_name.clone().unwrap_or_default()) } td { (confidence_text(l, it.confidence)) } }
            }
        }
        form method="post" action={ "/k/" (v.kommune) "/bulk" } {
            input type="hidden" name="csrf" value=(signed.csrf);
            input type="hidden" name="ids" value=(ids.join(","));
            button.approve #bulk-confirm type="submit" disabled[v.count == 0] { (l.t("confirm")) " (" (v.count) ")" }
            " " a href={ "/k/" (v.kommune) "/queue" } { (l.t("cancel")) }
        }
    };
    Ok(layout(l, l.t("bulk_confirm_title"), Some(&signed), Some(&v.kommune), body))
}

#[derive(Debug, Deserialize)]
pub struct BulkForm {
    csrf: Option<String>,
    /// Comma-separated proposal ids: exactly those the confirmation showed.
    ids: String,
}

/// Approves the listed proposals one by one through the library; returns how many were approved
/// (one already decided meanwhile is skipped).
pub async fn approve_many(
    state: &AppState,
    signed: &Signed,
    kommune: crate::domain::KommuneKode,
    ids: &[i64],
) -> Result<usize, WebError> {
    signed.require(kommune, &[crate::review::Role::SorAdmin])?;
    if ids.len() > views::BULK_MAX {
        return Err(WebError::BadRequest(format!("at most {} proposals at a time", views::BULK_MAX)));
    }
    let mut approved = 0;
    for &id in ids {
        match decide_one(state, signed, kommune, id, Decision::Approve, Some("bulk approval")).await {
            Ok(_) => approved += 1,
            Err(WebError::Conflict(_)) | Err(WebError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    tracing::info!(user = %signed.user, kommune = %kommune, approved, "Bulk approval.");
    Ok(approved)
}

pub fn parse_ids(s: &str) -> Result<Vec<i64>, WebError> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<i64>().map_err(|_| WebError::BadRequest(format!("{p:?} is not a proposal id"))))
        .collect()
}

pub async fn bulk_approve(
    State(state): State<AppState>,
    signed: Signed,
    Path(k): Path<String>,
    Form(f): Form<BulkForm>,
) -> Result<Response, WebError> {
    signed.check_csrf(f.csrf.as_deref())?;
    let kommune = parse_kommune(&k)?;
    let ids = parse_ids(&f.ids)?;
    let n = approve_many(&state, &signed, kommune, &ids).await?;
    Ok(Redirect::to(&format!("/k/{kommune}/queue?approved={n}")).into_response())
}

pub async fn whatif(
    State(state): State<AppState>,
    signed: Signed,
    l: Lang,
    Path(k): Path<String>,
    Query(q): Query<WhatIfQuery>,
) -> Result<Html<String>, WebError> {
    let kommune = parse_kommune(&k)?;
    let v = views::whatif_in(&state, &signed, kommune, q, l).await?;
    let base = format!("/k/{}/whatif", v.kommune);
    let action = v.query.action.clone().filter(|a| !a.is_empty()).unwrap_or_else(|| "close".into());
    // Which fields each action uses (app.js shows only those when the action changes).
    let shown = |field: &str| match field {
        "name" => action == "rename" || action == "create",
        "date" => action == "close",
        _ => action == "create" || action == "move",
    };
    let body = html! {
        h1 { (l.t("whatif")) }
        form method="get" action=(base) {
            label { (l.t("search_unit")) " " input name="q" #whatif-q value=(v.query.q.clone().unwrap_or_default()); }
            " " button type="submit" { (l.t("search")) }
        }
        @if !v.matches.is_empty() {
            ul.matches {
                @for m in &v.matches {
                    li { a href={ (base) "?unit=" (m.uuid) } { (m.name) } " " small { (m.path) } }
                }
            }
        }
        (problems(l, &v.problems))
        @if let Some(u) = &v.unit {
            h2 { (l.t("chosen_unit")) ": " (u.name) }
            p { small { (u.path) } }
            form.whatif method="get" action=(base) {
                input type="hidden" name="unit" value=(u.uuid);
                label { (l.t("action")) " "
                    select name="action" #whatif-action {
                        option value="close" selected[action == "close"] { (l.t("act_close")) }
                        option value="rename" selected[action == "rename"] { (l.t("act_rename")) }
                        option value="create" selected[action == "create"] { (l.t("act_create")) }
                        option value="move" selected[action == "move"] { (l.t("act_move")) }
                    }
                }
                label.for-action data-actions="rename create" hidden[!shown("name")] { (l.t("new_name")) " " input name="name" value=(v.query.name.clone().unwrap_or_default()); }
                label.for-action data-actions="close" hidden[!shown("date")] {
                    (l.t("date")) " " input name="date" type="date" value=(v.query.date.clone().unwrap_or_default());
                    " " small { (l.t("date_today")) }
                }
                label.for-action data-actions="create move" hidden[!shown("under")] { (l.t("under")) " " input name="uq" value=(v.query.uq.clone().or(v.under.as_ref().map(|p| p.name.clone())).unwrap_or_default()); }
                @if let Some(p) = &v.under { p.for-action data-actions="create move" hidden[!shown("under")] { (l.t("under_chosen")) ": " strong { (p.name) } } }
                " " button type="submit" #whatif-show { (l.t("show_preview")) }
            }
            @if !v.under_matches.is_empty() {
                ul.matches {
                    @for m in &v.under_matches {
                        li { a href={ (base) "?unit=" (u.uuid) "&action=" (views::url_encode(&action)) "&name=" (views::url_encode(&v.query.name.clone().unwrap_or_default())) "&under=" (m.uuid) } { (m.name) } " " small { (m.path) } }
                    }
                }
            }
        }
        @if let Some(c) = &v.counts {
            h2 { (l.t("consequences")) }
            p #whatif-summary { (l.say(&c.text())) }
            @if let Some(d) = v.date_used { p { (l.t("date")) ": " (l.day(d)) } }
            @if v.change_items.iter().any(|c| !c.placed) { p.notice #nothing-in-sor { (l.t("nothing_in_sor")) } }
            @if !v.change_items.is_empty() {
                ul.changes {
                    @for c in &v.change_items {
                        li class=(c.action) {
                            strong { (l.text(&format!("act_sor_{}", c.action)).unwrap_or(&c.action)) } ": " (c.name)
                            @if let Some(id) = &c.sor_id { " " small { "[" (id) "]" } }
                            @if c.action == "move" {
                                br;
                                span.from { (l.t("old_place")) ": " (c.old_parent.clone().unwrap_or_else(|| "–".into())) }
                                " → "
                                span.to { (l.t("new_place")) ": " (c.new_parent.clone().unwrap_or_else(|| "–".into())) }
                            }
                            br;
                            small { @if let Some(t) = &c.because_text { (l.say(t)) } @else { (c.because) } }
                        }
                    }
                }
            }
            @if !v.warnings.is_empty() {
                h3 { (l.t("warnings")) }
                (warnings_list(l, &v.warnings))
            }
            @if let Some(svg) = &v.svg {
                @let open = v.query.open.unwrap_or(0).min(views::MAX_OPEN);
                p.drawing-levels {
                    @if open < views::MAX_OPEN { a #open-more href={ (base) "?" (v.query.with_open(open + 1)) } { "⊕ " (l.t("open_more")) } }
                    @if open > 0 { " · " a href={ (base) "?" (v.query.with_open(open - 1)) } { "⊖ " (l.t("open_less")) } }
                }
                div.drawing #whatif-drawing { (PreEscaped(svg)) }
            }
        }
    };
    Ok(layout(l, l.t("whatif"), Some(&signed), Some(&v.kommune), body))
}

pub async fn contacts(
    State(state): State<AppState>,
    signed: Signed,
    l: Lang,
    Path(k): Path<String>,
) -> Result<Html<String>, WebError> {
    let kommune = parse_kommune(&k)?;
    let v = views::contacts(&state, &signed, kommune).await?;
    let body = html! {
        h1 { (l.t("contacts")) ": " (v.name) }
        p.downloads {
            a #contacts-csv href={ "/k/" (v.kommune) "/contacts.csv" } { (l.t("download_csv")) }
            " · "
            a #contacts-xlsx href={ "/k/" (v.kommune) "/contacts.xlsx" } { (l.t("download_xlsx")) }
        }
        table.facts {
            tr { th { (l.t("role_holders")) } td { (v.role_holders) } }
            tr { th { (l.t("missing_both")) } td { (v.missing_both) " (" (percent(l, v.share_missing)) ")" } }
            tr { th { (l.t("units_in_scope")) } td { (v.units_in_scope) } }
            tr { th { (l.t("units_without_phone")) } td { (v.units_without_phone.len()) } }
        }
        h2 { (l.t("missing_both")) }
        @if v.missing.is_empty() { p { (l.t("none")) } } @else {
            table.contacts {
                tr { th { (l.t("name")) } th { (l.t("user_name")) } th { (l.t("role")) } th { (l.t("path")) } }
                @for p in &v.missing {
                    tr { td { (p.name.clone().unwrap_or_default()) } td { (p.user_name) } td { (p.roles.join("; ")) } td { (p.units.join("; ")) } }
                }
            }
        }
        h2 { (l.t("units_without_phone")) }
        @if v.units_without_phone.is_empty() { p #no-units-without-phone { (l.t("no_units_without_phone")) } } @else {
            ul { @for u in v.units_without_phone.iter().take(500) { li { (u.name) " " small { (u.path) } } } }
        }
    };
    Ok(layout(l, l.t("contacts"), Some(&signed), Some(&v.kommune), body))
}

/// The contact report as a CSV download (the report's own CSV: one row per person).
pub async fn contacts_csv(
    State(state): State<AppState>,
    signed: Signed,
    Path(k): Path<String>,
) -> Result<Response, WebError> {
    let kommune = parse_kommune(&k)?;
    let r = views::contact_report(&state, &signed, kommune).await?;
    let bytes = crate::contacts::render::people_csv(std::slice::from_ref(&r));
    let disposition = format!("attachment; filename=\"kontaktdata-{kommune}.csv\"");
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, disposition)],
        bytes,
    )
        .into_response())
}

/// The contact report as an Excel workbook.
pub async fn contacts_xlsx(
    State(state): State<AppState>,
    signed: Signed,
    Path(k): Path<String>,
) -> Result<Response, WebError> {
    let kommune = parse_kommune(&k)?;
    let r = views::contact_report(&state, &signed, kommune).await?;
    let bytes = crate::contacts::xlsx::workbook_bytes(std::slice::from_ref(&r))
        .map_err(|e| WebError::Internal(format!("contacts workbook: {e}")))?;
    let disposition = format!("attachment; filename=\"kontaktdata-{kommune}.xlsx\"");
    Ok((
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
pub struct ActForm {
    csrf: Option<String>,
    action: String,
    sor_id: Option<String>,
    reason: Option<String>,
}

/// Pick an alternative, create new, or no match: through the review library.
pub async fn act(
    State(state): State<AppState>,
    signed: Signed,
    Path((k, id)): Path<(String, i64)>,
    Form(f): Form<ActForm>,
) -> Result<Response, WebError> {
    signed.check_csrf(f.csrf.as_deref())?;
    let kommune = parse_kommune(&k)?;
    let a = Act::parse(&f.action)?;
    views::act(&state, &signed, kommune, id, a, f.sor_id.as_deref(), f.reason.as_deref()).await?;
    Ok(Redirect::to(&format!("/k/{kommune}/queue")).into_response())
}

pub async fn audit(
    State(state): State<AppState>,
    signed: Signed,
    l: Lang,
    Path(k): Path<String>,
    Query(q): Query<AuditQuery>,
) -> Result<Html<String>, WebError> {
    let kommune = parse_kommune(&k)?;
    let v = views::audit(&state, &signed, kommune, q).await?;
    let chosen = v.filter.action.clone().unwrap_or_default();
    let state_text = |s: &str| audit_state(l, s);
    let body = html! {
        h1 { (l.t("audit")) }
        form.filters method="get" action={ "/k/" (v.kommune) "/audit" } {
            label { (l.t("actor")) " " input name="actor" value=(v.filter.actor.clone().unwrap_or_default()); }
            label { (l.t("action")) " "
                select name="action" {
                    option value="" { (l.t("all")) }
                    @for a in &v.actions { option value=(a) selected[*a == chosen] { (l.text(&format!("audit_{a}")).unwrap_or(a)) } }
                }
            }
            label { (l.t("from")) " " input name="from" type="date" value=(v.filter.from.clone().unwrap_or_default()); }
            label { (l.t("to")) " " input name="to" type="date" value=(v.filter.to.clone().unwrap_or_default()); }
            button type="submit" { (l.t("filter")) }
        }
        (problems(l, &v.problems))
        p { (v.matching) " " (l.t("entries")) }
        table.audit {
            tr { th { (l.t("recorded_at")) } th { (l.t("actor")) } th { (l.t("action")) } th { (l.t("proposal")) } th { (l.t("unit")) } th { (l.t("before")) } th { (l.t("after")) } th { (l.t("detail")) } }
            @for e in &v.entries {
                tr {
                    td.when { (l.when(&e.at)) }
                    td { (e.actor) @if e.automatic { " " small { "(" (l.t("auto")) ")" } } }
                    td { (l.text(&format!("audit_{}", e.action)).unwrap_or(&e.action)) }
                    td { @if let Some(p) = e.proposal_id { a href={ "/k/" (v.kommune) "/proposals/" (p) } { (p) } @if let Some(k) = &e.kind { " " small { (l.kind(k)) } } } }
                    td { (e.unit.clone().unwrap_or_default()) }
                    td.from { (e.before.as_deref().map(state_text).unwrap_or_default()) }
                    td.to { (e.after.as_deref().map(state_text).unwrap_or_default()) }
                    td { (e.detail.as_deref().map(|d| audit_detail(l, d)).unwrap_or_default()) }
                }
            }
        }
        p.pages {
            (l.t("page")) " " (v.page) " " (l.t("of")) " " (v.pages) " "
            @if v.page > 1 { a href={ "?" (v.filter.with_page(v.page - 1)) } { (l.t("previous")) } " " }
            @if v.page < v.pages { a #audit-next href={ "?" (v.filter.with_page(v.page + 1)) } { (l.t("next")) } }
        }
    };
    Ok(layout(l, l.t("audit"), Some(&signed), Some(&v.kommune), body))
}

/// An audit entry's detail: fixed texts from the catalogue, a leading proposal kind
/// (`write_back Afsnit A`) in words; anything else (a person's reason) as written.
fn audit_detail(l: Lang, d: &str) -> String {
    if let Some(t) = l.text(&format!("detail_{}", d.replace(' ', "_"))) {
        return t.to_string();
    }
    // A role granted or revoked: `{"user": .., "role": ..}`.
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(d) {
        if let (Some(user), Some(role)) = (v["user"].as_str(), v["role"].as_str()) {
            return format!("{}: {user}", l.role(role));
        }
    }
    let (first, rest) = d.split_once(' ').unwrap_or((d, ""));
    if views::KINDS.contains(&first) {
        return format!("{} {rest}", l.kind(first)).trim_end().to_string();
    }
    d.to_string()
}

/// A state in the audit log in words: a recorded proposal or change (JSON) by its status or
/// state, a plain state by the catalogue.
fn audit_state(l: Lang, s: &str) -> String {
    let word = |w: &str| l.text(&format!("state_{w}")).map(str::to_string).unwrap_or_else(|| w.to_string());
    match serde_json::from_str::<serde_json::Value>(s) {
        Ok(v) => match v.get("status").or_else(|| v.get("state")).and_then(|x| x.as_str()) {
            Some(st) => word(st),
            None => String::new(),
        },
        Err(_) => word(s),
    }
}

fn waves_body(l: Lang, v: &views::WavesView) -> Markup {
    html! {
        @match &v.report {
            None => p { (l.t("no_wave_plan")) },
            Some(r) => {
                @for w in &r.waves {
                    h2 { (l.t("wave")) " " (w.wave) }
                    p.wave-totals { (w.totals.municipalities) " " (if w.totals.municipalities == 1 { l.t("one_municipality") } else { l.t("municipalities_n") }) " · " (l.t("coverage")) " " (percent(l, w.totals.coverage)) " · "
                        (l.t("proposals")) " " (w.totals.pending) " · " (l.t("applied")) " " (w.totals.applied_changes) }
                    table.waves {
                        tr { th { (l.t("municipality")) } th { (l.t("status")) } th { (l.t("readiness")) } th { (l.t("missing_readiness")) }
                             th { (l.t("units_in_scope")) } th { (l.t("links")) } th { (l.t("coverage")) }
                             th { (l.t("proposals")) } th { (l.t("applied")) } th { (l.t("last_runs")) } }
                        @for m in &w.municipalities {
                            tr {
                                td { a href={ "/k/" (m.kommune) } { (m.name) " (" (m.kommune) ")" } }
                                td { (l.text(&format!("wstatus_{}", m.status)).unwrap_or(&m.status)) }
                                td.readiness { (m.readiness.score()) }
                                td { (m.readiness.missing.iter().map(|i| l.text(&format!("ready_{}", i.key())).unwrap_or(i.key())).collect::<Vec<_>>().join(", ")) }
                                td { (m.units_in_scope) }
                                td { (m.linked) }
                                td { (percent(l, m.coverage)) }
                                td { (m.pending) }
                                td { (m.applied_changes) }
                                td { @if let Some(r) = &m.last_run { (l.text(&format!("outcome_{}", r.outcome)).unwrap_or(&r.outcome)) " " small { (l.when(&r.started_at)) } } }
                            }
                            @if !m.errors.is_empty() {
                                tr { td colspan="10" { ul.warnings { @for e in &m.errors { li { (e) } } } } }
                            }
                        }
                    }
                }
            }
        }
    }
}

pub async fn waves(State(state): State<AppState>, signed: Signed, l: Lang) -> Result<Html<String>, WebError> {
    let v = views::waves(&state, &signed, None).await?;
    let body = html! { h1 { (l.t("waves")) } (waves_body(l, &v)) };
    Ok(layout(l, l.t("waves"), Some(&signed), None, body))
}

pub async fn wave_report(
    State(state): State<AppState>,
    signed: Signed,
    l: Lang,
    Path(k): Path<String>,
) -> Result<Html<String>, WebError> {
    let kommune = parse_kommune(&k)?;
    let v = views::waves(&state, &signed, Some(kommune)).await?;
    let body = html! { h1 { (l.t("wave_report")) " – " (kommune) } (waves_body(l, &v)) };
    Ok(layout(l, l.t("wave_report"), Some(&signed), Some(&kommune.to_string()), body))
}
