//! Eshopbox: the custom app refresh grant (JSON body) and protected APIs.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::config::{Config, Lifetimes};
use crate::conn::ConnHandle;
use crate::counters::{ApiTally, Counters, Grant, ProviderCounters, Tally};
use crate::credentials::Credentials;
use crate::emulator::{Emulator, SeededGrant};
use crate::provider::Provider;
use crate::signature::signatures_match;
use crate::state::{AccessRecord, RefreshRecord, Shared, State as SandboxState, TokenKind};
use crate::wire::{
    Params, api_call, bearer, check_api_token, is_form, is_json, random_alnum, rate_limited,
    token_gate, token_json,
};

const P: Provider = Provider::Eshopbox;

/// Eshopbox's [`Emulator`]: `<base>/eshopbox`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Eshopbox;

impl Emulator for Eshopbox {
    fn path_segment(&self) -> &'static str {
        "eshopbox"
    }

    fn title(&self) -> &'static str {
        "Eshopbox"
    }

    /// The refresh token lifetime and the code lifetime only matter when set
    /// explicitly: refresh tokens never expire by default, and there is no code.
    fn default_lifetimes(&self) -> Lifetimes {
        let secs = Duration::from_secs;
        Lifetimes::new(secs(86_400), secs(31_536_000), secs(300))
    }

    /// Eshopbox keeps the refresh token.
    fn rotates_by_default(&self) -> bool {
        false
    }

    /// A custom app's refresh token never expires.
    fn refresh_tokens_expire_by_default(&self) -> bool {
        false
    }

    fn routes(&self) -> Router<Arc<Shared>> {
        Router::new()
            .route("/api/v1/generateToken", post(generate_token))
            .route("/api/v1/me", get(me))
            .route("/api/v1/orders", get(orders))
    }

    fn seed(&self, shared: &Shared, state: &mut SandboxState, account: &str) -> SeededGrant {
        let refresh_token = new_refresh_token();
        insert_refresh_token(state, &shared.config, refresh_token.clone(), account);
        let access_token = issue_access_token(state, shared, account);
        SeededGrant {
            access_token,
            refresh_token,
        }
    }

    /// The custom app's pre-seeded refresh token, of the default account.
    fn prepare(&self, config: &Config, credentials: &Credentials, state: &mut SandboxState) {
        let refresh_token = credentials.eshopbox.refresh_token.clone();
        insert_refresh_token(state, config, refresh_token, crate::DEFAULT_ACCOUNT);
    }

    fn counters<'c>(&self, counters: &'c Counters) -> &'c ProviderCounters {
        &counters.eshopbox
    }

    fn counters_mut<'c>(&self, counters: &'c mut Counters) -> &'c mut ProviderCounters {
        &mut counters.eshopbox
    }
}

/// Registers a long-lived refresh token of the custom app for `account` (the
/// pre-seeded one, seeded accounts, rotation, `Sandbox::issue_eshopbox_refresh_token`).
pub(crate) fn insert_refresh_token(
    state: &mut SandboxState,
    config: &Config,
    refresh_token: String,
    account: &str,
) {
    let expires_at = config.refresh_expiry(P, state.now());
    state.insert_refresh(
        refresh_token,
        RefreshRecord {
            provider: P,
            client_id: String::new(),
            scopes: vec![
                "openid".to_owned(),
                "profile".to_owned(),
                "offline_access".to_owned(),
            ],
            expires_at,
            valid_until_ms: u64::MAX,
            account: account.to_owned(),
        },
    );
}

/// The scope every Eshopbox token carries.
const SCOPE: &str = "openid profile offline_access";

fn error(status: StatusCode, error: &str, description: &str) -> Response {
    token_json(
        status,
        &json!({ "error": error, "error_description": description }),
    )
}

fn unauthorized() -> Response {
    error(StatusCode::UNAUTHORIZED, "access_denied", "Unauthorized")
}

/// The request's fields, from a JSON object (or, like Auth0, a form body).
fn fields(headers: &HeaderMap, body: &Bytes) -> Option<Vec<(String, String)>> {
    if is_form(headers) {
        return Some(Params::parse(body).0);
    }
    let declared_other = headers.get(header::CONTENT_TYPE).is_some() && !is_json(headers);
    if declared_other {
        return None;
    }
    let value: Value = serde_json::from_slice(body).ok()?;
    let object = value.as_object()?;
    Some(
        object
            .iter()
            .filter_map(|(name, value)| value.as_str().map(|text| (name.clone(), text.to_owned())))
            .collect(),
    )
}

/// `POST /eshopbox/api/v1/generateToken`
pub(crate) async fn generate_token(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<ConnHandle>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(response) = token_gate(&shared, P, &conn).await {
        return response;
    }
    let mut tally = Tally::default();
    let response = generate_token_inner(&shared, &headers, &body, &mut tally);
    shared.lock().record(P, &tally);
    response
}

fn generate_token_inner(
    shared: &Shared,
    headers: &HeaderMap,
    body: &Bytes,
    tally: &mut Tally,
) -> Response {
    let limited = shared
        .config
        .eshopbox_rate_limit
        .and_then(|(max, window)| shared.lock().eshopbox_rate_limited(max, window));
    if let Some(retry_after) = limited {
        return rate_limited(P, retry_after);
    }
    let Some(fields) = fields(headers, body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The request body must be a JSON object",
        );
    };
    let params = Params(fields);
    let creds = &shared.credentials.eshopbox;
    let client_ok = params.get("client_id") == Some(creds.client_id.as_str())
        && params
            .get("client_secret")
            .is_some_and(|secret| signatures_match(&creds.client_secret, secret));
    if !client_ok {
        return unauthorized();
    }
    match params.non_empty("grant_type") {
        None => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Missing required parameter: grant_type",
            );
        }
        Some("refresh_token") => {}
        Some(_) => {
            return error(
                StatusCode::FORBIDDEN,
                "unsupported_grant_type",
                "Unsupported grant type",
            );
        }
    }
    let Some(refresh) = params.non_empty("refresh_token") else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing required parameter: refresh_token",
        );
    };
    let lifetimes = shared.config.lifetimes(P);
    let mut st = shared.lock();
    let record = match st.live_refresh(P, refresh) {
        Ok(record) => record,
        Err(refusal) => {
            tally.refused(&refusal);
            return error(
                StatusCode::FORBIDDEN,
                "invalid_grant",
                "Unknown or invalid refresh token.",
            );
        }
    };
    tally.granted(Grant::RefreshToken, Some(&record.account));
    let access = issue_access_token(&mut st, shared, &record.account);
    let id_token = id_token(&st, shared);
    let mut body = json!({
        "access_token": access,
        "id_token": id_token,
        "scope": SCOPE,
        "expires_in": lifetimes.access_token.as_secs(),
        "token_type": "Bearer",
    });
    if shared.config.rotates(P) {
        // Rotation (not Eshopbox's behaviour, a sandbox option, as Auth0's refresh
        // token rotation does it): a new refresh token, the old one spent.
        st.spend_refresh(refresh);
        let new = new_refresh_token();
        insert_refresh_token(&mut st, &shared.config, new.clone(), &record.account);
        if let Some(fields) = body.as_object_mut() {
            fields.insert("refresh_token".to_owned(), json!(new));
        }
    }
    drop(st);
    token_json(StatusCode::OK, &body)
}

/// A new refresh token value.
pub(crate) fn new_refresh_token() -> String {
    format!("sandbox-eshopbox-refresh-token-{}", random_alnum(24))
}

/// Issues an access token (a JWT-shaped bearer token) for `account`.
pub(crate) fn issue_access_token(st: &mut SandboxState, shared: &Shared, account: &str) -> String {
    let lifetime = shared.config.lifetimes(P).access_token;
    let creds = &shared.credentials.eshopbox;
    let issued_at = st.epoch_ms() / 1000;
    let expires_at = issued_at.saturating_add(lifetime.as_secs());
    let access = jwt(&json!({
        "iss": format!("{}/eshopbox/", shared.base_url),
        "sub": format!("{}@clients", creds.client_id),
        "aud": "https://sandbox.myeshopbox.com",
        "iat": issued_at,
        "exp": expires_at,
        "scope": SCOPE,
        "jti": random_alnum(16),
    }));
    let now = st.now();
    st.insert_access(
        access.clone(),
        AccessRecord {
            provider: P,
            kind: TokenKind::User,
            expires_at: now + lifetime,
            account: Some(account.to_owned()),
        },
    );
    access
}

fn id_token(st: &SandboxState, shared: &Shared) -> String {
    let lifetime = shared.config.lifetimes(P).access_token;
    let issued_at = st.epoch_ms() / 1000;
    jwt(&json!({
        "iss": format!("{}/eshopbox/", shared.base_url),
        "sub": "auth0|sandbox-workspace-admin",
        "aud": shared.credentials.eshopbox.client_id,
        "iat": issued_at,
        "exp": issued_at.saturating_add(lifetime.as_secs()),
        "name": "Sandbox Workspace Admin",
    }))
}

/// A JWT-shaped token (the signature is random: nobody can verify it, like a real
/// token whose key you do not have).
fn jwt(claims: &Value) -> String {
    let header = json!({ "alg": "RS256", "typ": "JWT", "kid": "sandbox" });
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(random_alnum(64))
    )
}

/// The API's gate: `Authorization: Bearer <token>`, a live access token. `Some(401
/// answer)` when it is not (`{"statusCode": 401, "error": "Unauthorized", ...}`).
fn api_gate(shared: &Shared, headers: &HeaderMap, tally: &mut ApiTally) -> Option<Response> {
    let token = bearer(headers, header::AUTHORIZATION.as_str());
    if check_api_token(shared, P, token, &[TokenKind::User], tally) {
        return None;
    }
    Some(crate::wire::json(
        StatusCode::UNAUTHORIZED,
        &json!({ "statusCode": 401, "error": "Unauthorized", "message": "Invalid token" }),
    ))
}

/// `GET /eshopbox/api/v1/me`: `Authorization: Bearer <token>`.
pub(crate) async fn me(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    api_call(&shared, P, |tally| {
        if let Some(refused) = api_gate(&shared, &headers, tally) {
            return refused;
        }
        crate::wire::json(
            StatusCode::OK,
            &json!({
                "workspace": "sandbox",
                "name": "Sandbox Workspace",
                "email": "admin@sandbox.invalid"
            }),
        )
    })
}

/// `GET /eshopbox/api/v1/orders?page=..&perPage=..`: `Authorization: Bearer <token>`;
/// one order of the token's account (`page` from 1, `perPage` 1 to 100; `400` else).
pub(crate) async fn orders(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    api_call(&shared, P, |tally| {
        if let Some(refused) = api_gate(&shared, &headers, tally) {
            return refused;
        }
        let params = Params::from_query(query.as_deref());
        let number = |name: &str, default: u32| -> Option<u32> {
            params
                .get(name)
                .map_or(Some(default), |text| text.parse().ok())
        };
        let (Some(page @ 1..), Some(per_page @ 1..=100)) =
            (number("page", 1), number("perPage", 20))
        else {
            return crate::wire::json(
                StatusCode::BAD_REQUEST,
                &json!({
                    "statusCode": 400,
                    "error": "Bad Request",
                    "message": "page must be 1 or more and perPage from 1 to 100"
                }),
            );
        };
        let account = tally.account.clone().unwrap_or_default();
        let items: Vec<Value> = (page == 1)
            .then(|| {
                json!({
                    "customerOrderNumber": "SANDBOX-ORDER-1",
                    "channelOrderNumber": "SANDBOX-CH-1",
                    "orderStatus": "CREATED",
                    "orderDate": "2024-01-01T00:00:00.000Z",
                    "account": account,
                    "items": [{ "sku": "SANDBOX-SKU-1", "quantity": 1 }]
                })
            })
            .into_iter()
            .collect();
        crate::wire::json(
            StatusCode::OK,
            &json!({
                "page": page,
                "perPage": per_page,
                "total": 1,
                "data": items,
            }),
        )
    })
}
