//! OrangeConnex: consent, query-string token endpoint, and protected SKU APIs.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use crate::SandboxBuilder;
use crate::config::{Lifetimes, OrangeConnexErrorStatus};
use crate::conn::ConnHandle;
use crate::consent::{
    Decision, Interaction, authorize_error_page, decide, redirect_code, redirect_error,
};
use crate::counters::{ApiTally, Counters, Grant, ProviderCounters, Refusal, Tally};
use crate::emulator::{Emulator, SeededGrant};
use crate::provider::Provider;
use crate::signature::signatures_match;
use crate::state::{
    AccessRecord, CodeRecord, RefreshRecord, Shared, State as SandboxState, TokenKind,
};
use crate::wire::{
    Params, api_call, bearer, check_api_token, header_str, is_json, random_hex, token_gate,
    token_json,
};

const P: Provider = Provider::OrangeConnex;

/// OrangeConnex's [`Emulator`]: `<base>/orangeconnex`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OrangeConnex;

impl Emulator for OrangeConnex {
    fn path_segment(&self) -> &'static str {
        "orangeconnex"
    }

    fn title(&self) -> &'static str {
        "OrangeConnex"
    }

    fn default_lifetimes(&self) -> Lifetimes {
        let secs = Duration::from_secs;
        Lifetimes::new(secs(3600), secs(31_536_000), secs(300))
    }

    /// Unconfirmed for the real OrangeConnex: off.
    fn rotates_by_default(&self) -> bool {
        false
    }

    fn routes(&self) -> Router<Arc<Shared>> {
        Router::new()
            .route("/oauth/authorize", get(authorize).post(authorize))
            .route("/oauth/token", post(token))
            .route("/openapi/3pp/sku/v3/list", get(sku_list))
            .route("/openapi/3pp/sku/v3/creation", post(sku_creation))
    }

    fn seed(&self, shared: &Shared, state: &mut SandboxState, account: &str) -> SeededGrant {
        let (access_token, refresh_token) = issue_user_tokens(state, shared, account.to_owned());
        SeededGrant {
            access_token,
            refresh_token,
        }
    }

    fn counters<'c>(&self, counters: &'c Counters) -> &'c ProviderCounters {
        &counters.orangeconnex
    }

    fn counters_mut<'c>(&self, counters: &'c mut Counters) -> &'c mut ProviderCounters {
        &mut counters.orangeconnex
    }
}

impl SandboxBuilder {
    /// Whether an OrangeConnex refresh returns a new refresh token and invalidates the
    /// old one (default `false`: the same refresh token is returned and stays valid;
    /// the real behaviour is unconfirmed).
    pub fn orangeconnex_rotates_refresh_tokens(self, rotate: bool) -> Self {
        self.provider_rotates_refresh_tokens(P, rotate)
    }
}

fn error(shared: &Shared, status: StatusCode, error: &str, description: &str) -> Response {
    let status = match shared.config.orangeconnex_error_status {
        OrangeConnexErrorStatus::AlwaysOk => StatusCode::OK,
        OrangeConnexErrorStatus::Conventional => status,
    };
    token_json(
        status,
        &json!({ "error": error, "error_description": description }),
    )
}

/// `GET /orangeconnex/oauth/authorize`
pub(crate) async fn authorize(
    State(shared): State<Arc<Shared>>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let interaction = Interaction::new(&method, &headers, query.as_deref(), &body);
    let params = Params::from_query(query.as_deref());
    let creds = &shared.credentials.orangeconnex;
    if params.get("client_id") != Some(creds.client_id.as_str()) {
        return authorize_error_page("invalid_client", "unknown client_id");
    }
    let Some(redirect_uri) = params.non_empty("redirect_uri") else {
        return authorize_error_page("invalid_request", "redirect_uri is required");
    };
    if redirect_uri != creds.redirect_uri {
        return authorize_error_page(
            "invalid_request",
            "redirect_uri does not match the one registered for the client",
        );
    }
    let state = params.non_empty("state");
    if params.get("response_type") != Some("code") {
        return redirect_error(
            redirect_uri,
            "unsupported_response_type",
            "response_type must be code",
            state,
        );
    }
    let Some(state) = state else {
        return redirect_error(redirect_uri, "invalid_request", "state is required", None);
    };
    let account = match decide(&shared, P, &interaction, &params, &[]) {
        Decision::Agree(account) => account,
        Decision::Decline => {
            return redirect_error(
                redirect_uri,
                "access_denied",
                "User denied access",
                Some(state),
            );
        }
        Decision::Page(page) => return page,
    };
    let mut st = shared.lock();
    let lifetime = shared.config.lifetimes(P).authorization_code;
    // Standard base64 of random bytes: the code carries `+`, `/` and `=`, so a client
    // that encodes or decodes it the wrong number of times fails.
    let code = STANDARD.encode(random_bytes(32));
    let record = CodeRecord {
        provider: P,
        client_id: creds.client_id.clone(),
        redirect_uri: redirect_uri.to_owned(),
        scopes: Vec::new(),
        uuid: None,
        expires_at: st.now() + lifetime,
        used: false,
        account,
    };
    st.insert_code(code.clone(), record);
    drop(st);
    redirect_code(redirect_uri, &[("code", &code), ("state", state)])
}

fn random_bytes(len: usize) -> Vec<u8> {
    let mut bytes: Vec<u8> = (0..len).map(|_| fastrand::u8(..)).collect();
    // Make sure the encoding always starts with `+` and has `/` in its first group; a
    // length that is not a multiple of 3 adds `=` padding.
    if let Some(first) = bytes.first_mut() {
        *first = 0xfb;
    }
    if let Some(third) = bytes.get_mut(2) {
        *third = 0xff;
    }
    bytes
}

/// `POST /orangeconnex/oauth/token?client_id=...&grant_type=...`: every parameter in
/// the query string; the body is ignored.
pub(crate) async fn token(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<ConnHandle>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    if let Some(response) = token_gate(&shared, P, &conn).await {
        return response;
    }
    let mut tally = Tally::default();
    let response = token_inner(&shared, query.as_deref(), &headers, &mut tally);
    shared.lock().record(P, &tally);
    response
}

fn token_inner(
    shared: &Shared,
    query: Option<&str>,
    headers: &HeaderMap,
    tally: &mut Tally,
) -> Response {
    let params = Params::from_query(query);
    let creds = &shared.credentials.orangeconnex;
    let Some(client_id) = params.non_empty("client_id") else {
        return error(
            shared,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing client_id",
        );
    };
    if client_id != creds.client_id {
        return error(
            shared,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Bad client credentials",
        );
    }
    let wrong_key = match (&creds.client_key, header_str(headers, "clientkey")) {
        (Some(expected), Some(given)) => !signatures_match(expected, given),
        _ => false,
    };
    if wrong_key {
        return error(
            shared,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Bad client credentials",
        );
    }
    match params.non_empty("grant_type") {
        None => error(
            shared,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing grant type",
        ),
        Some("authorization_code") => authorization_code(shared, &params, tally),
        Some("refresh_token") => refresh(shared, &params, tally),
        Some(_) => error(
            shared,
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Unsupported grant type",
        ),
    }
}

fn authorization_code(shared: &Shared, params: &Params, tally: &mut Tally) -> Response {
    let Some(code) = params.non_empty("code") else {
        return error(
            shared,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "An authorization code must be supplied.",
        );
    };
    let Some(redirect_uri) = params.non_empty("redirect_uri") else {
        return error(
            shared,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Redirect URI mismatch.",
        );
    };
    let lifetimes = shared.config.lifetimes(P);
    let mut st = shared.lock();
    let Ok(record) = st.redeem_code(P, code) else {
        return error(
            shared,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Invalid authorization code",
        );
    };
    if record.redirect_uri != redirect_uri {
        tally.refused_for(&record.account);
        return error(
            shared,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Redirect URI mismatch.",
        );
    }
    tally.granted(Grant::AuthorizationCode, Some(&record.account));
    let (access, refresh) = issue_user_tokens(&mut st, shared, record.account);
    drop(st);
    success(&access, lifetimes.access_token.as_secs(), &refresh)
}

/// Issues an access token and a refresh token for `account` (the code exchange, and
/// the sandbox's seeding of accounts).
pub(crate) fn issue_user_tokens(
    st: &mut SandboxState,
    shared: &Shared,
    account: String,
) -> (String, String) {
    let lifetimes = shared.config.lifetimes(P);
    let now = st.now();
    let access = random_uuid();
    let refresh = random_uuid();
    st.insert_access(
        access.clone(),
        AccessRecord {
            provider: P,
            kind: TokenKind::User,
            expires_at: now + lifetimes.access_token,
            account: Some(account.clone()),
        },
    );
    st.insert_refresh(
        refresh.clone(),
        RefreshRecord {
            provider: P,
            client_id: shared.credentials.orangeconnex.client_id.clone(),
            scopes: Vec::new(),
            expires_at: Some(now + lifetimes.refresh_token),
            valid_until_ms: 0,
            account,
        },
    );
    (access, refresh)
}

fn refresh(shared: &Shared, params: &Params, tally: &mut Tally) -> Response {
    let Some(old) = params.non_empty("refresh_token") else {
        return error(
            shared,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing refresh token",
        );
    };
    let lifetimes = shared.config.lifetimes(P);
    let mut st = shared.lock();
    let record = st.live_refresh(P, old).and_then(|record| {
        if record.client_id == shared.credentials.orangeconnex.client_id {
            Ok(record)
        } else {
            Err(Refusal::Unknown)
        }
    });
    let record = match record {
        Ok(record) => record,
        Err(refusal) => {
            tally.refused(&refusal);
            return error(
                shared,
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "Invalid refresh token",
            );
        }
    };
    tally.granted(Grant::RefreshToken, Some(&record.account));
    let now = st.now();
    let access = random_uuid();
    st.insert_access(
        access.clone(),
        AccessRecord {
            provider: P,
            kind: TokenKind::User,
            expires_at: now + lifetimes.access_token,
            account: Some(record.account.clone()),
        },
    );
    let refresh = if shared.config.rotates(P) {
        // Rotation (off by default): a new refresh token with a fresh lifetime; the
        // old one stops working at once.
        st.spend_refresh(old);
        let new = random_uuid();
        st.insert_refresh(
            new.clone(),
            RefreshRecord {
                expires_at: Some(now + lifetimes.refresh_token),
                ..record
            },
        );
        new
    } else {
        old.to_owned()
    };
    drop(st);
    success(&access, lifetimes.access_token.as_secs(), &refresh)
}

fn success(access: &str, expires_in: u64, refresh: &str) -> Response {
    token_json(
        StatusCode::OK,
        &json!({
            "access_token": access,
            "expires_in": expires_in,
            "refresh_token": refresh,
            "token_type": "bearer",
        }),
    )
}

fn random_uuid() -> String {
    format!(
        "{}-{}-4{}-a{}-{}",
        random_hex(8),
        random_hex(4),
        random_hex(3),
        random_hex(3),
        random_hex(12)
    )
}

/// The answer of the open API, `{"success", "code", "message", ...}`, with `status`.
fn api_answer(status: StatusCode, message: &str) -> Response {
    crate::wire::json(
        status,
        &json!({ "success": false, "code": status.as_str(), "message": message }),
    )
}

/// The open API's gate: a `clientKey` header matching the registered key (when the
/// client has one), then `Access-Token: Bearer <token>`, a live access token.
/// `Some(answer)` when either fails: `401` with `"Invalid clientKey"` (not a token
/// rejection) or `"Invalid or expired access token"`.
fn api_gate(shared: &Shared, headers: &HeaderMap, tally: &mut ApiTally) -> Option<Response> {
    let key_ok = match &shared.credentials.orangeconnex.client_key {
        Some(expected) => {
            header_str(headers, "clientkey").is_some_and(|given| signatures_match(expected, given))
        }
        None => true,
    };
    if !key_ok {
        return Some(api_answer(StatusCode::UNAUTHORIZED, "Invalid clientKey"));
    }
    let token = bearer(headers, "access-token");
    if !check_api_token(shared, P, token, &[TokenKind::User], tally) {
        return Some(api_answer(
            StatusCode::UNAUTHORIZED,
            "Invalid or expired access token",
        ));
    }
    None
}

/// `GET /orangeconnex/openapi/3pp/sku/v3/list`: `Access-Token: Bearer <token>` plus
/// `clientKey` (when the client is registered with one).
pub(crate) async fn sku_list(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    api_call(&shared, P, |tally| {
        if let Some(refused) = api_gate(&shared, &headers, tally) {
            return refused;
        }
        crate::wire::json(
            StatusCode::OK,
            &json!({
                "success": true,
                "code": "200",
                "message": "success",
                "data": {
                    "total": 1,
                    "list": [{
                        "mfSkuId": "OC0000000001",
                        "sellerSkuId": "SANDBOX-SKU-1",
                        "name": "Sandbox item"
                    }]
                }
            }),
        )
    })
}

/// `POST /orangeconnex/openapi/3pp/sku/v3/creation` with a JSON object that has a
/// non-empty `sellerSkuId` (other fields are not checked): the same headers as
/// [`sku_list`]; answers the new SKU's `mfSkuId`, `400` for a body it cannot read.
pub(crate) async fn sku_creation(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    api_call(&shared, P, |tally| {
        if let Some(refused) = api_gate(&shared, &headers, tally) {
            return refused;
        }
        let seller_sku = is_json(&headers)
            .then(|| serde_json::from_slice::<serde_json::Value>(&body).ok())
            .flatten()
            .and_then(|value| {
                value
                    .get("sellerSkuId")?
                    .as_str()
                    .filter(|sku| !sku.is_empty() && sku.len() <= 64)
                    .map(str::to_owned)
            });
        let Some(seller_sku) = seller_sku else {
            return api_answer(
                StatusCode::BAD_REQUEST,
                "The body must be a JSON object with a non-empty sellerSkuId",
            );
        };
        crate::wire::json(
            StatusCode::OK,
            &json!({
                "success": true,
                "code": "200",
                "message": "success",
                "data": {
                    "mfSkuId": format!("OC{}", random_hex(10).to_ascii_uppercase()),
                    "sellerSkuId": seller_sku
                }
            }),
        )
    })
}
