//! The JSON API: one endpoint per page, returning the same view data the page renders
//! (`super::views`). Mutating calls need the session cookie and the `X-CSRF-Token` header.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::auth::{self, ClientAddr, Signed, SESSION_COOKIE, SESSION_HOURS};
use super::pages::{approve_many, decide_one, parse_decision};
use super::views::{self, parse_kommune, Act, AuditQuery, BulkQuery, QueueQuery, WhatIfQuery};
use super::{AppState, WebError};

/// What the API answers when it refuses or fails: `{"error": "..."}` with the status.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ErrorBody {
    /// What went wrong, in English (internal details stay in the server log).
    pub error: String,
}

/// An error as JSON ([`ErrorBody`]) with the status.
#[derive(Debug)]
pub struct ApiError(pub WebError);

impl From<WebError> for ApiError {
    fn from(e: WebError) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        (status, Json(ErrorBody { error: self.0.public_message() })).into_response()
    }
}

/// The signed-in user for API calls (401 JSON instead of the sign-in page).
pub struct ApiSigned(pub Signed);

impl axum::extract::FromRequestParts<AppState> for ApiSigned {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ApiSigned(Signed::from_request_parts(parts, state).await?))
    }
}

type ApiResult<T> = Result<Json<T>, ApiError>;

pub async fn openapi() -> Json<serde_json::Value> {
    Json(super::openapi::document())
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct LoginRequest {
    pub user: String,
    pub password: String,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct SessionView {
    pub user: String,
    /// Send this as `X-CSRF-Token` on mutating calls.
    pub csrf: String,
    pub municipalities: Vec<views::MunicipalityRef>,
}

/// Signs in (JSON bodies cannot be sent cross-site without CORS, so no CSRF token is needed
/// before a session exists); sets the session cookie.
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(ip): ClientAddr,
    Json(req): Json<LoginRequest>,
) -> Result<Response, ApiError> {
    let (token, csrf) = auth::sign_in(&state, &req.user, &req.password, ip).await?;
    let cookie = auth::set_cookie(SESSION_COOKIE, &token, SESSION_HOURS * 3600, state.config().secure_cookies);
    let roles = state.store().roles_of(req.user.trim()).await.map_err(WebError::from)?;
    let signed = Signed {
        user: req.user.trim().to_string(),
        csrf: csrf.clone(),
        roles: roles.into_iter().filter_map(|(k, r)| crate::review::Role::parse(&r).map(|r| (k, r))).collect(),
        session_hash: String::new(),
    };
    let view = SessionView { user: signed.user.clone(), csrf, municipalities: views::home(&signed).municipalities };
    Ok(([(header::SET_COOKIE, cookie)], Json(view)).into_response())
}

pub async fn logout(
    State(state): State<AppState>,
    ApiSigned(signed): ApiSigned,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    signed.check_csrf_header(&headers)?;
    state.store().delete_web_session(&signed.session_hash).await.map_err(WebError::from)?;
    let cookie = auth::set_cookie(SESSION_COOKIE, "", 0, state.config().secure_cookies);
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}

pub async fn session(ApiSigned(signed): ApiSigned) -> ApiResult<SessionView> {
    let municipalities = views::home(&signed).municipalities;
    Ok(Json(SessionView { user: signed.user, csrf: signed.csrf, municipalities }))
}

pub async fn home(State(state): State<AppState>, ApiSigned(signed): ApiSigned) -> ApiResult<views::HomeView> {
    Ok(Json(views::named_home(&state, &signed).await?))
}

pub async fn overview(
    State(state): State<AppState>,
    ApiSigned(signed): ApiSigned,
    Path(k): Path<String>,
) -> ApiResult<views::OverviewView> {
    Ok(Json(views::overview(&state, &signed, parse_kommune(&k)?).await?))
}

pub async fn queue(
    State(state): State<AppState>,
    ApiSigned(signed): ApiSigned,
    Path(k): Path<String>,
    Query(q): Query<QueueQuery>,
) -> ApiResult<views::QueueView> {
    Ok(Json(views::queue(&state, &signed, parse_kommune(&k)?, q).await?))
}

pub async fn proposal(
    State(state): State<AppState>,
    ApiSigned(signed): ApiSigned,
    Path((k, id)): Path<(String, i64)>,
) -> ApiResult<views::ProposalView> {
    Ok(Json(views::proposal(&state, &signed, parse_kommune(&k)?, id).await?))
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct DecideRequest {
    /// `approve` or `reject`.
    pub decision: String,
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct DecideResponse {
    pub proposal_id: i64,
    pub decision_id: i64,
}

pub async fn decide(
    State(state): State<AppState>,
    ApiSigned(signed): ApiSigned,
    headers: HeaderMap,
    Path((k, id)): Path<(String, i64)>,
    Json(req): Json<DecideRequest>,
) -> ApiResult<DecideResponse> {
    signed.check_csrf_header(&headers)?;
    let kommune = parse_kommune(&k)?;
    let decision = parse_decision(&req.decision)?;
    let decision_id = decide_one(&state, &signed, kommune, id, decision, req.reason.as_deref()).await?;
    Ok(Json(DecideResponse { proposal_id: id, decision_id }))
}

pub async fn bulk_candidates(
    State(state): State<AppState>,
    ApiSigned(signed): ApiSigned,
    Path(k): Path<String>,
    Query(q): Query<BulkQuery>,
) -> ApiResult<views::BulkView> {
    Ok(Json(views::bulk(&state, &signed, parse_kommune(&k)?, &q).await?))
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct BulkRequest {
    /// The ids the confirmation showed (`GET .../bulk`).
    pub ids: Vec<i64>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct BulkResponse {
    pub approved: usize,
}

pub async fn bulk_approve(
    State(state): State<AppState>,
    ApiSigned(signed): ApiSigned,
    headers: HeaderMap,
    Path(k): Path<String>,
    Json(req): Json<BulkRequest>,
) -> ApiResult<BulkResponse> {
    signed.check_csrf_header(&headers)?;
    let approved = approve_many(&state, &signed, parse_kommune(&k)?, &req.ids).await?;
    Ok(Json(BulkResponse { approved }))
}

pub async fn whatif(
    State(state): State<AppState>,
    ApiSigned(signed): ApiSigned,
    Path(k): Path<String>,
    Query(q): Query<WhatIfQuery>,
) -> ApiResult<views::WhatIfView> {
    Ok(Json(views::whatif(&state, &signed, parse_kommune(&k)?, q).await?))
}

pub async fn contacts(
    State(state): State<AppState>,
    ApiSigned(signed): ApiSigned,
    Path(k): Path<String>,
) -> ApiResult<views::ContactsView> {
    Ok(Json(views::contacts(&state, &signed, parse_kommune(&k)?).await?))
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ActRequest {
    /// `choose_alternative` (with `sor_id`), `create_new` or `no_match`.
    pub action: String,
    pub sor_id: Option<String>,
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ActResponse {
    pub proposal_id: i64,
    /// The proposal (or, for no-match, the decision) the action recorded.
    pub recorded_id: i64,
}

pub async fn act(
    State(state): State<AppState>,
    ApiSigned(signed): ApiSigned,
    headers: HeaderMap,
    Path((k, id)): Path<(String, i64)>,
    Json(req): Json<ActRequest>,
) -> ApiResult<ActResponse> {
    signed.check_csrf_header(&headers)?;
    let kommune = parse_kommune(&k)?;
    let a = Act::parse(&req.action)?;
    let recorded_id = views::act(&state, &signed, kommune, id, a, req.sor_id.as_deref(), req.reason.as_deref()).await?;
    Ok(Json(ActResponse { proposal_id: id, recorded_id }))
}

pub async fn audit(
    State(state): State<AppState>,
    ApiSigned(signed): ApiSigned,
    Path(k): Path<String>,
    Query(q): Query<AuditQuery>,
) -> ApiResult<views::AuditView> {
    Ok(Json(views::audit(&state, &signed, parse_kommune(&k)?, q).await?))
}

pub async fn waves(State(state): State<AppState>, ApiSigned(signed): ApiSigned) -> ApiResult<views::WavesView> {
    Ok(Json(views::waves(&state, &signed, None).await?))
}

pub async fn wave_report(
    State(state): State<AppState>,
    ApiSigned(signed): ApiSigned,
    Path(k): Path<String>,
) -> ApiResult<views::WavesView> {
    Ok(Json(views::waves(&state, &signed, Some(parse_kommune(&k)?)).await?))
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CaseRequest {
    /// `approve`, `reject` ("not in SOR" for an undecided case), `new` or `alternative` (with `sor_id`).
    pub action: String,
    pub sor_id: Option<String>,
    pub reason: Option<String>,
}

/// Decides the case of pending proposal `id` with one key (see `cases::decide_case`).
pub async fn decide_case(
    State(state): State<AppState>,
    ApiSigned(signed): ApiSigned,
    headers: HeaderMap,
    Path((k, id)): Path<(String, i64)>,
    Json(req): Json<CaseRequest>,
) -> ApiResult<super::cases::CaseDecided> {
    signed.check_csrf_header(&headers)?;
    let kommune = parse_kommune(&k)?;
    let action = super::cases::CaseAction::parse(&req.action, req.sor_id.as_deref())?;
    Ok(Json(super::cases::decide_case(&state, &signed, kommune, id, action, req.reason.as_deref()).await?))
}

/// Undoes the caller's last decision in the municipality; 409 with the reason when it cannot be undone.
pub async fn undo(
    State(state): State<AppState>,
    ApiSigned(signed): ApiSigned,
    headers: HeaderMap,
    Path(k): Path<String>,
) -> ApiResult<super::cases::UndoView> {
    signed.check_csrf_header(&headers)?;
    let v = super::cases::undo(&state, &signed, parse_kommune(&k)?).await?;
    if !v.undone {
        return Err(WebError::Conflict(v.message).into());
    }
    Ok(Json(v))
}
