//! eBay Identity OAuth2: consent, token endpoint, and a few protected APIs (REST with
//! `Authorization: Bearer`, Trading with `X-EBAY-API-IAF-TOKEN`).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use crate::config::Lifetimes;
use crate::conn::ConnHandle;
use crate::consent::{
    Decision, Interaction, authorize_error_page, decide, redirect_code, redirect_error,
};
use crate::counters::{ApiTally, Counters, Grant, ProviderCounters, Refusal, Tally};
use crate::emulator::{Emulator, SeededGrant};
use crate::provider::Provider;
use crate::state::{
    AccessRecord, CodeRecord, RefreshRecord, Shared, State as SandboxState, TokenKind,
};
use crate::wire::{
    Params, api_call, basic_auth, bearer, check_api_token, header_str, is_form, is_json,
    random_alnum, token_gate, token_json,
};

const P: Provider = Provider::Ebay;

/// eBay's [`Emulator`]: `<base>/ebay`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ebay;

/// The scopes of a seeded eBay grant (what a typical seller app asks for).
const SEED_SCOPES: &[&str] = &[
    "https://api.ebay.com/oauth/api_scope",
    "https://api.ebay.com/oauth/api_scope/sell.account",
    "https://api.ebay.com/oauth/api_scope/sell.inventory",
    "https://api.ebay.com/oauth/api_scope/sell.fulfillment",
];

impl Emulator for Ebay {
    fn path_segment(&self) -> &'static str {
        "ebay"
    }

    fn title(&self) -> &'static str {
        "eBay"
    }

    fn default_lifetimes(&self) -> Lifetimes {
        let secs = Duration::from_secs;
        Lifetimes::new(secs(7200), secs(47_304_000), secs(299))
    }

    /// eBay keeps the refresh token.
    fn rotates_by_default(&self) -> bool {
        false
    }

    fn routes(&self) -> Router<Arc<Shared>> {
        Router::new()
            .route("/oauth2/authorize", get(authorize).post(authorize))
            .route("/identity/v1/oauth2/token", post(token))
            .route("/sell/account/v1/privilege", get(privilege))
            .route("/sell/inventory/v1/inventory_item", get(inventory_items))
            .route(
                "/sell/inventory/v1/bulk_get_inventory_item",
                post(bulk_get_inventory_item),
            )
            .route("/ws/api.dll", post(trading))
    }

    fn seed(&self, shared: &Shared, state: &mut SandboxState, account: &str) -> SeededGrant {
        let scopes = SEED_SCOPES.iter().map(|s| (*s).to_owned()).collect();
        let (access_token, refresh_token) =
            issue_user_tokens(state, shared, account.to_owned(), scopes);
        SeededGrant {
            access_token,
            refresh_token,
        }
    }

    fn rate_limit_body(&self) -> serde_json::Value {
        json!({
            "errors": [{
                "errorId": 2001,
                "domain": "ACCESS",
                "category": "REQUEST",
                "message": "Too many requests.",
                "longMessage": "The request limit has been reached for the resource."
            }]
        })
    }

    fn counters<'c>(&self, counters: &'c Counters) -> &'c ProviderCounters {
        &counters.ebay
    }

    fn counters_mut<'c>(&self, counters: &'c mut Counters) -> &'c mut ProviderCounters {
        &mut counters.ebay
    }
}

/// The basic application scope.
const APP_SCOPE: &str = "https://api.ebay.com/oauth/api_scope";

/// Whether the client credentials grant accepts `scope`: the basic application scope and
/// the Buy API application scopes (`.../api_scope/buy.*`); user scopes (`sell.*`,
/// `commerce.identity...`) need a user's consent.
fn is_app_scope(scope: &str) -> bool {
    scope == APP_SCOPE
        || scope
            .strip_prefix(APP_SCOPE)
            .and_then(|rest| rest.strip_prefix("/buy."))
            .is_some_and(|rest| !rest.is_empty())
}

fn error(status: StatusCode, error: &str, description: &str) -> Response {
    token_json(
        status,
        &json!({ "error": error, "error_description": description }),
    )
}

fn invalid_grant_code() -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "the provided authorization grant code is invalid or was issued to another client",
    )
}

/// `GET /ebay/oauth2/authorize`
pub(crate) async fn authorize(
    State(shared): State<Arc<Shared>>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let interaction = Interaction::new(&method, &headers, query.as_deref(), &body);
    let params = Params::from_query(query.as_deref());
    let creds = &shared.credentials.ebay;
    if params.get("client_id") != Some(creds.client_id.as_str()) {
        return authorize_error_page("invalid_client", "unknown client_id");
    }
    if params.get("redirect_uri") != Some(creds.ru_name.as_str()) {
        return authorize_error_page(
            "invalid_request",
            "redirect_uri must be the application's RuName",
        );
    }
    let target = creds.accept_url.as_str();
    let state = params.non_empty("state");
    if params.get("response_type") != Some("code") {
        return redirect_error(
            target,
            "unsupported_response_type",
            "response_type must be code",
            state,
        );
    }
    let Some(state) = state else {
        return redirect_error(
            target,
            "invalid_request",
            "state is required by the sandbox",
            None,
        );
    };
    let scopes: Vec<String> = params
        .get("scope")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    if scopes.is_empty() {
        return redirect_error(target, "invalid_scope", "scope is required", Some(state));
    }
    let account = match decide(&shared, P, &interaction, &params, &scopes) {
        Decision::Agree(account) => account,
        Decision::Decline => {
            return redirect_error(
                target,
                "access_denied",
                "the user denied the consent request",
                Some(state),
            );
        }
        Decision::Page(page) => return page,
    };
    let mut st = shared.lock();
    let lifetime = shared.config.lifetimes(P).authorization_code;
    let code = format!("v^1.1#i^1#f^0#r^1#I^3#p^3#t^Ul41XzA6{}", random_alnum(64));
    let record = CodeRecord {
        provider: P,
        client_id: creds.client_id.clone(),
        redirect_uri: creds.ru_name.clone(),
        scopes,
        uuid: None,
        expires_at: st.now() + lifetime,
        used: false,
        account,
    };
    st.insert_code(code.clone(), record);
    drop(st);
    let expires_in = lifetime.as_secs().to_string();
    redirect_code(
        target,
        &[
            ("state", state),
            ("code", &code),
            ("expires_in", &expires_in),
        ],
    )
}

/// `POST /ebay/identity/v1/oauth2/token`
pub(crate) async fn token(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<ConnHandle>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(response) = token_gate(&shared, P, &conn).await {
        return response;
    }
    let mut tally = Tally::default();
    let response = token_inner(&shared, &headers, &body, &mut tally);
    shared.lock().record(P, &tally);
    response
}

fn token_inner(shared: &Shared, headers: &HeaderMap, body: &Bytes, tally: &mut Tally) -> Response {
    let creds = &shared.credentials.ebay;
    let authenticated = basic_auth(headers).is_some_and(|(id, secret)| {
        id == creds.client_id && crate::signature::signatures_match(&creds.client_secret, &secret)
    });
    if !authenticated {
        return error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        );
    }
    if !is_form(headers) {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the request body must be application/x-www-form-urlencoded",
        );
    }
    let params = Params::parse(body);
    match params.non_empty("grant_type") {
        None => error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "request is missing a required parameter: grant_type",
        ),
        Some("authorization_code") => authorization_code(shared, &params, tally),
        Some("refresh_token") => refresh(shared, &params, tally),
        Some("client_credentials") => client_credentials(shared, &params, tally),
        Some(_) => error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant type in request is not supported by the authorization server",
        ),
    }
}

fn authorization_code(shared: &Shared, params: &Params, tally: &mut Tally) -> Response {
    let Some(code) = params.non_empty("code") else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "request is missing a required parameter: code",
        );
    };
    let Some(redirect_uri) = params.non_empty("redirect_uri") else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "request is missing a required parameter: redirect_uri",
        );
    };
    let lifetimes = shared.config.lifetimes(P);
    let mut st = shared.lock();
    let record = match st.redeem_code(P, code) {
        Ok(record) => record,
        Err(_) => return invalid_grant_code(),
    };
    if record.redirect_uri != redirect_uri || record.client_id != shared.credentials.ebay.client_id
    {
        tally.refused_for(&record.account);
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the redirect_uri does not match the RuName used for consent",
        );
    }
    tally.granted(Grant::AuthorizationCode, Some(&record.account));
    let (access, refresh) = issue_user_tokens(&mut st, shared, record.account, record.scopes);
    drop(st);
    token_json(
        StatusCode::OK,
        &json!({
            "access_token": access,
            "expires_in": lifetimes.access_token.as_secs(),
            "refresh_token": refresh,
            "refresh_token_expires_in": lifetimes.refresh_token.as_secs(),
            "token_type": "User Access Token",
        }),
    )
}

/// Issues a user access token and a refresh token for `account` (the code exchange,
/// and the sandbox's seeding of accounts).
pub(crate) fn issue_user_tokens(
    st: &mut SandboxState,
    shared: &Shared,
    account: String,
    scopes: Vec<String>,
) -> (String, String) {
    let lifetimes = shared.config.lifetimes(P);
    let now = st.now();
    let access = user_access_token();
    let refresh = refresh_token();
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
            client_id: shared.credentials.ebay.client_id.clone(),
            scopes,
            expires_at: Some(now + lifetimes.refresh_token),
            valid_until_ms: 0,
            account,
        },
    );
    (access, refresh)
}

fn refresh_token() -> String {
    format!("v^1.1#i^1#p^3#I^3#r^1#f^0#t^Ul4xMF8{}", random_alnum(96))
}

fn refresh(shared: &Shared, params: &Params, tally: &mut Tally) -> Response {
    let Some(token) = params.non_empty("refresh_token") else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "request is missing a required parameter: refresh_token",
        );
    };
    let lifetimes = shared.config.lifetimes(P);
    let mut st = shared.lock();
    let record = st.live_refresh(P, token).and_then(|record| {
        if record.client_id == shared.credentials.ebay.client_id {
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
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "the provided authorization refresh token is invalid or was issued to another client",
            );
        }
    };
    if let Some(requested) = params.non_empty("scope") {
        let all_granted = requested
            .split_whitespace()
            .all(|scope| record.scopes.iter().any(|granted| granted == scope));
        if !all_granted {
            tally.refused_for(&record.account);
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                "the requested scope is invalid, unknown, malformed, or exceeds the scope granted by the resource owner",
            );
        }
    }
    tally.granted(Grant::RefreshToken, Some(&record.account));
    let access = user_access_token();
    let now = st.now();
    st.insert_access(
        access.clone(),
        AccessRecord {
            provider: P,
            kind: TokenKind::User,
            expires_at: now + lifetimes.access_token,
            account: Some(record.account.clone()),
        },
    );
    let mut body = json!({
        "access_token": access,
        "expires_in": lifetimes.access_token.as_secs(),
        "token_type": "User Access Token",
    });
    if shared.config.rotates(P) {
        // Rotation (not eBay's behaviour, a sandbox option): a new refresh token with
        // a fresh lifetime; the old one is spent.
        st.spend_refresh(token);
        let new = refresh_token();
        st.insert_refresh(
            new.clone(),
            RefreshRecord {
                expires_at: Some(now + lifetimes.refresh_token),
                ..record
            },
        );
        if let Some(fields) = body.as_object_mut() {
            fields.insert("refresh_token".to_owned(), json!(new));
            fields.insert(
                "refresh_token_expires_in".to_owned(),
                json!(lifetimes.refresh_token.as_secs()),
            );
        }
    }
    // Without rotation, the refresh token and its expiry stay what they were.
    drop(st);
    token_json(StatusCode::OK, &body)
}

fn client_credentials(shared: &Shared, params: &Params, tally: &mut Tally) -> Response {
    let Some(scope) = params.non_empty("scope") else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "request is missing a required parameter: scope",
        );
    };
    let valid = scope.split_whitespace().all(is_app_scope);
    if !valid || scope.trim().is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "the requested scope is invalid, unknown, malformed, or exceeds the scope granted to the client",
        );
    }
    let lifetime = shared.config.lifetimes(P).access_token;
    let access = format!(
        "v^1.1#i^1#p^1#I^3#r^0#f^0#t^H4sIAAAAAAAA{}",
        random_alnum(96)
    );
    let mut st = shared.lock();
    let expires_at = st.now() + lifetime;
    st.insert_access(
        access.clone(),
        AccessRecord {
            provider: P,
            kind: TokenKind::Application,
            expires_at,
            account: None,
        },
    );
    drop(st);
    tally.granted(Grant::ClientCredentials, None);
    token_json(
        StatusCode::OK,
        &json!({
            "access_token": access,
            "expires_in": lifetime.as_secs(),
            "token_type": "Application Access Token",
        }),
    )
}

fn user_access_token() -> String {
    format!(
        "v^1.1#i^1#p^3#r^1#I^3#f^0#t^H4sIAAAAAAAA{}",
        random_alnum(120)
    )
}

/// One error of eBay's REST APIs, in their `{"errors": [...]}` body.
fn rest_errors(status: StatusCode, error: &serde_json::Value) -> Response {
    crate::wire::json(status, &json!({ "errors": [error] }))
}

/// eBay's REST answer to a missing, invalid, expired or revoked access token: `401`,
/// error 1001, and `WWW-Authenticate`.
fn invalid_access_token() -> Response {
    let mut response = rest_errors(
        StatusCode::UNAUTHORIZED,
        &json!({
            "errorId": 1001,
            "domain": "OAuth",
            "category": "REQUEST",
            "message": "Invalid access token",
            "longMessage": "Invalid access token. Check the value of the Authorization HTTP request header."
        }),
    );
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"ebay\", error=\"invalid_token\""),
    );
    response
}

/// The REST gate: `Authorization: Bearer <token>` must be a live access token of one
/// of `kinds`. `Some(answer)` when it is not: `401` (error 1001) for a missing or
/// invalid token, `403` (error 1100) for a live application token on an API that needs
/// a user's.
fn rest_gate(
    shared: &Shared,
    headers: &HeaderMap,
    kinds: &[TokenKind],
    tally: &mut ApiTally,
) -> Option<Response> {
    let token = bearer(headers, header::AUTHORIZATION.as_str());
    if check_api_token(shared, P, token, kinds, tally) {
        return None;
    }
    let application = token.is_some_and(|token| {
        shared
            .lock()
            .access_valid(P, token, &[TokenKind::Application])
    });
    if application && !kinds.contains(&TokenKind::Application) {
        // A valid token without the right: not a token rejection, refreshing cannot help.
        tally.token_rejected = false;
        return Some(rest_errors(
            StatusCode::FORBIDDEN,
            &json!({
                "errorId": 1100,
                "domain": "ACCESS",
                "category": "REQUEST",
                "message": "Access denied",
                "longMessage": "Insufficient permissions to fulfill the request."
            }),
        ));
    }
    Some(invalid_access_token())
}

/// `GET /ebay/sell/account/v1/privilege`: needs a valid user or application token.
pub(crate) async fn privilege(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    api_call(&shared, P, |tally| {
        if let Some(refused) = rest_gate(
            &shared,
            &headers,
            &[TokenKind::User, TokenKind::Application],
            tally,
        ) {
            return refused;
        }
        crate::wire::json(
            StatusCode::OK,
            &json!({
                "sellerRegistrationCompleted": true,
                "sellingLimit": {
                    "amount": { "currency": "USD", "value": "25000.0" },
                    "quantity": 1000
                }
            }),
        )
    })
}

/// The SKUs of the sandbox's inventory, the same for every account.
const SKUS: &[(&str, &str, u32)] = &[
    ("SANDBOX-SKU-1", "Sandbox item one", 10),
    ("SANDBOX-SKU-2", "Sandbox item two", 3),
    ("SANDBOX-SKU-3", "Sandbox item three", 0),
];

/// An `InventoryItemWithSkuLocaleGroupid` of the Inventory API.
fn inventory_item(sku: &str, title: &str, quantity: u32) -> serde_json::Value {
    json!({
        "sku": sku,
        "locale": "en_US",
        "product": { "title": title, "aspects": { "Brand": ["Sandbox"] } },
        "condition": "NEW",
        "availability": { "shipToLocationAvailability": { "quantity": quantity } },
        "groupIds": []
    })
}

/// eBay's `400` for a request it cannot read (error 2004).
fn invalid_request(long_message: &str) -> Response {
    rest_errors(
        StatusCode::BAD_REQUEST,
        &json!({
            "errorId": 2004,
            "domain": "ACCESS",
            "category": "REQUEST",
            "message": "Invalid request",
            "longMessage": long_message
        }),
    )
}

/// `GET /ebay/sell/inventory/v1/inventory_item?limit=..&offset=..`: a user token only
/// (an application token gets `403`, error 1100); `limit` 1 to 200 (default 25),
/// `offset` from 0.
pub(crate) async fn inventory_items(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    api_call(&shared, P, |tally| {
        if let Some(refused) = rest_gate(&shared, &headers, &[TokenKind::User], tally) {
            return refused;
        }
        let params = Params::from_query(query.as_deref());
        let number = |name: &str, default: usize| -> Option<usize> {
            params
                .get(name)
                .map_or(Some(default), |text| text.parse().ok())
        };
        let (Some(limit @ 1..=200), Some(offset)) = (number("limit", 25), number("offset", 0))
        else {
            return invalid_request(
                "The value of limit must be from 1 to 200 and offset must be 0 or more.",
            );
        };
        let items: Vec<serde_json::Value> = SKUS
            .iter()
            .skip(offset)
            .take(limit)
            .map(|(sku, title, quantity)| inventory_item(sku, title, *quantity))
            .collect();
        crate::wire::json(
            StatusCode::OK,
            &json!({
                "href": format!("{}/ebay/sell/inventory/v1/inventory_item?limit={limit}&offset={offset}", shared.base_url),
                "inventoryItems": items,
                "limit": limit,
                "size": items.len(),
                "total": SKUS.len(),
            }),
        )
    })
}

/// `POST /ebay/sell/inventory/v1/bulk_get_inventory_item` with
/// `{"requests": [{"sku": "..."}, ...]}` (1 to 25): a user token only; one response
/// per SKU, `statusCode` 200 with the item or 404 with error 25710.
pub(crate) async fn bulk_get_inventory_item(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    api_call(&shared, P, |tally| {
        if let Some(refused) = rest_gate(&shared, &headers, &[TokenKind::User], tally) {
            return refused;
        }
        if !is_json(&headers) {
            return invalid_request("The request body must be application/json.");
        }
        let requests: Option<Vec<String>> = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|value| value.get("requests")?.as_array().cloned())
            .and_then(|list| {
                list.iter()
                    .map(|request| request.get("sku")?.as_str().map(str::to_owned))
                    .collect()
            });
        let Some(requests) = requests.filter(|list| (1..=25).contains(&list.len())) else {
            return invalid_request(
                "The request must be {\"requests\": [{\"sku\": \"...\"}, ...]} with 1 to 25 SKUs.",
            );
        };
        let responses: Vec<serde_json::Value> = requests
            .iter()
            .map(|wanted| {
                match SKUS.iter().find(|(sku, _, _)| sku == wanted) {
                    Some((sku, title, quantity)) => json!({
                        "statusCode": 200,
                        "sku": sku,
                        "inventoryItem": inventory_item(sku, title, *quantity),
                    }),
                    None => json!({
                        "statusCode": 404,
                        "sku": wanted,
                        "errors": [{
                            "errorId": 25710,
                            "domain": "API_INVENTORY",
                            "category": "REQUEST",
                            "message": "We didn't find the resource/entity you are requesting. Please verify the request"
                        }],
                    }),
                }
            })
            .collect();
        crate::wire::json(StatusCode::OK, &json!({ "responses": responses }))
    })
}

/// `POST /ebay/ws/api.dll`: the Trading API, authenticated by `X-EBAY-API-IAF-TOKEN`
/// (a user token). Like the real one, it answers HTTP 200 with `<Ack>Failure</Ack>`
/// and error 21916984 on a bad token.
pub(crate) async fn trading(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    api_call(&shared, P, |tally| trading_inner(&shared, &headers, tally))
}

fn trading_inner(shared: &Shared, headers: &HeaderMap, tally: &mut ApiTally) -> Response {
    let call = header_str(headers, "x-ebay-api-call-name")
        .filter(|name| !name.is_empty() && name.len() <= 64)
        .filter(|name| name.bytes().all(|b| b.is_ascii_alphanumeric()))
        .unwrap_or("GeteBayOfficialTime");
    let token = header_str(headers, "x-ebay-api-iaf-token")
        .map(str::trim)
        .filter(|token| !token.is_empty());
    let valid = check_api_token(shared, P, token, &[TokenKind::User], tally);
    let body = if valid {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{call}Response xmlns=\"urn:ebay:apis:eBLBaseComponents\">\
             <Timestamp>2024-01-01T00:00:00.000Z</Timestamp><Ack>Success</Ack><Version>1271</Version>\
             <Build>E1271_CORE_API_SANDBOX</Build></{call}Response>\n"
        )
    } else {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{call}Response xmlns=\"urn:ebay:apis:eBLBaseComponents\">\
             <Timestamp>2024-01-01T00:00:00.000Z</Timestamp><Ack>Failure</Ack><Errors>\
             <ShortMessage>Invalid IAF token.</ShortMessage><LongMessage>IAF token supplied is invalid.</LongMessage>\
             <ErrorCode>21916984</ErrorCode><SeverityCode>Error</SeverityCode><ErrorClassification>RequestError</ErrorClassification>\
             </Errors><Version>1271</Version><Build>E1271_CORE_API_SANDBOX</Build></{call}Response>\n"
        )
    };
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/xml;charset=utf-8"),
        )],
        body,
    )
        .into_response()
}
