//! AliExpress (IOP): consent, signed token create/refresh, and signed business calls.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::json;

use crate::config::Lifetimes;
use crate::conn::ConnHandle;
use crate::consent::{
    Decision, Interaction, authorize_error_page, decide, redirect_code, redirect_error,
};
use crate::counters::{ApiTally, Counters, Grant, ProviderCounters, Tally};
use crate::emulator::{Emulator, SeededGrant};
use crate::provider::Provider;
use crate::signature::{aliexpress_sign, signatures_match};
use crate::state::{
    AccessRecord, CodeRecord, RefreshRecord, Shared, State as SandboxState, TokenKind,
};
use crate::wire::{
    Params, api_call, check_api_token, header_str, is_form, random_alnum, request_id, token_gate,
    token_json,
};

const P: Provider = Provider::AliExpress;

/// AliExpress's [`Emulator`]: `<base>/aliexpress`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AliExpress;

impl Emulator for AliExpress {
    fn path_segment(&self) -> &'static str {
        "aliexpress"
    }

    fn title(&self) -> &'static str {
        "AliExpress"
    }

    fn default_lifetimes(&self) -> Lifetimes {
        let secs = Duration::from_secs;
        Lifetimes::new(secs(2_592_000), secs(5_184_000), secs(300))
    }

    /// AliExpress rotates: a refresh returns a new refresh token, the old one dies.
    fn rotates_by_default(&self) -> bool {
        true
    }

    fn routes(&self) -> Router<Arc<Shared>> {
        Router::new()
            .route("/oauth/authorize", get(authorize).post(authorize))
            .route("/rest/auth/token/create", post(create).get(create))
            .route("/rest/auth/token/refresh", post(refresh).get(refresh))
            .route("/rest/order/get", post(order_get).get(order_get))
            .route("/sync", post(sync).get(sync))
    }

    fn seed(&self, shared: &Shared, state: &mut SandboxState, account: &str) -> SeededGrant {
        let lifetimes = shared.config.lifetimes(P);
        let (_, access_token, refresh_token) = grant(state, &lifetimes, account.to_owned());
        SeededGrant {
            access_token,
            refresh_token,
        }
    }

    fn rate_limit_body(&self) -> serde_json::Value {
        json!({
            "type": "ISP",
            "code": "ApiCallLimit",
            "message": "The request has exceeded the allowed call frequency",
            "request_id": request_id(),
        })
    }

    fn counters<'c>(&self, counters: &'c Counters) -> &'c ProviderCounters {
        &counters.aliexpress
    }

    fn counters_mut<'c>(&self, counters: &'c mut Counters) -> &'c mut ProviderCounters {
        &mut counters.aliexpress
    }
}

/// An error in the platform's vocabulary.
#[derive(Debug)]
struct AeError {
    code: &'static str,
    message: String,
}

impl AeError {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    fn missing(name: &str) -> Self {
        Self::new(
            "MissingParameter",
            format!(
                "The input parameter \"{name}\" that is mandatory for processing this request is not supplied"
            ),
        )
    }

    /// Shape A (`/rest`), HTTP 200.
    fn rest(self) -> Response {
        token_json(
            StatusCode::OK,
            &json!({
                "type": "ISV",
                "code": self.code,
                "message": self.message,
                "request_id": request_id(),
            }),
        )
    }

    /// Shape B (`/sync`), HTTP 200.
    fn sync(self) -> Response {
        crate::wire::json(
            StatusCode::OK,
            &json!({
                "error_response": {
                    "type": "ISV",
                    "code": self.code,
                    "msg": self.message,
                    "request_id": request_id(),
                }
            }),
        )
    }
}

/// `GET /aliexpress/oauth/authorize`
pub(crate) async fn authorize(
    State(shared): State<Arc<Shared>>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let interaction = Interaction::new(&method, &headers, query.as_deref(), &body);
    let params = Params::from_query(query.as_deref());
    let creds = &shared.credentials.aliexpress;
    if params.get("client_id") != Some(creds.app_key.as_str()) {
        return authorize_error_page("invalid_client", "unknown client_id (app key)");
    }
    if params.get("redirect_uri") != Some(creds.redirect_uri.as_str()) {
        return authorize_error_page(
            "invalid_request",
            "redirect_uri does not match the callback registered for the app",
        );
    }
    let target = creds.redirect_uri.as_str();
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
    let account = match decide(&shared, P, &interaction, &params, &[]) {
        Decision::Agree(account) => account,
        Decision::Decline => {
            return redirect_error(
                target,
                "access_denied",
                "the user denied the authorization",
                Some(state),
            );
        }
        Decision::Page(page) => return page,
    };
    let mut st = shared.lock();
    let lifetime = shared.config.lifetimes(P).authorization_code;
    let code = format!("3_{}_{}", creds.app_key, random_alnum(26));
    let record = CodeRecord {
        provider: P,
        client_id: creds.app_key.clone(),
        redirect_uri: creds.redirect_uri.clone(),
        scopes: Vec::new(),
        uuid: params.non_empty("uuid").map(str::to_owned),
        expires_at: st.now() + lifetime,
        used: false,
        account,
    };
    st.insert_code(code.clone(), record);
    drop(st);
    redirect_code(target, &[("code", &code), ("state", state)])
}

/// Collects the parameters of a signed request: query string plus form body (the body
/// is read as a form unless it declares another content type).
fn collect(query: Option<&str>, headers: &HeaderMap, body: &Bytes) -> Result<Params, AeError> {
    let mut params = Params::from_query(query);
    let declares_other = header_str(headers, "content-type").is_some() && !is_form(headers);
    if !body.is_empty() && !declares_other {
        params.extend(Params::parse(body));
    }
    if let Some(name) = params.duplicate() {
        return Err(AeError::new(
            "InvalidParameter",
            format!("The parameter \"{name}\" is given more than once"),
        ));
    }
    Ok(params)
}

/// Checks app key, signature method, timestamp and signature.
fn verify(shared: &Shared, params: &Params, api_path: Option<&str>) -> Result<(), AeError> {
    let creds = &shared.credentials.aliexpress;
    let app_key = params
        .non_empty("app_key")
        .ok_or_else(|| AeError::missing("app_key"))?;
    if app_key != creds.app_key {
        return Err(AeError::new(
            "InvalidAppKey",
            "The app key is invalid or does not exist",
        ));
    }
    let method = params
        .non_empty("sign_method")
        .ok_or_else(|| AeError::missing("sign_method"))?;
    if method != "sha256" {
        return Err(AeError::new(
            "InvalidSignMethod",
            "The signature method is not supported; use sha256",
        ));
    }
    let timestamp = params
        .non_empty("timestamp")
        .ok_or_else(|| AeError::missing("timestamp"))?;
    let timestamp: u64 = timestamp.parse().map_err(|_| {
        AeError::new(
            "InvalidTimestamp",
            "The timestamp must be Unix time in milliseconds",
        )
    })?;
    if let Some(tolerance) = shared.config.timestamp_tolerance {
        // Real time, not the sandbox's advanced clock: the client's clock is real.
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|since| since.as_millis())
            .unwrap_or_default();
        let skew = now.abs_diff(u128::from(timestamp));
        if skew > tolerance.as_millis() {
            return Err(AeError::new(
                "InvalidTimestamp",
                "The request timestamp is outside the allowed time window; check the clock",
            ));
        }
    }
    let sign = params
        .non_empty("sign")
        .ok_or_else(|| AeError::missing("sign"))?;
    let expected = aliexpress_sign(
        &creds.app_secret,
        api_path,
        params.0.iter().map(|(n, v)| (n.as_str(), v.as_str())),
    );
    if !signatures_match(&expected, sign) {
        return Err(AeError::new(
            "IncompleteSignature",
            "The request signature does not conform to platform standards",
        ));
    }
    Ok(())
}

/// `POST|GET /aliexpress/rest/auth/token/create`
pub(crate) async fn create(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<ConnHandle>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    token_endpoint(
        &shared,
        &conn,
        query.as_deref(),
        &headers,
        &body,
        create_inner,
    )
    .await
}

fn create_inner(
    shared: &Shared,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &Bytes,
    tally: &mut Tally,
) -> Result<Response, AeError> {
    let params = collect(query, headers, body)?;
    verify(shared, &params, Some("/auth/token/create"))?;
    let code = params
        .non_empty("code")
        .ok_or_else(|| AeError::missing("code"))?;
    let lifetimes = shared.config.lifetimes(P);
    let mut st = shared.lock();
    let invalid_code = || {
        AeError::new(
            "InvalidCode",
            "The authorization code is invalid or has expired",
        )
    };
    let record = st.redeem_code(P, code).map_err(|_| invalid_code())?;
    if record
        .uuid
        .as_deref()
        .is_some_and(|uuid| params.get("uuid") != Some(uuid))
    {
        tally.refused_for(&record.account);
        return Err(invalid_code());
    }
    tally.granted(Grant::AuthorizationCode, Some(&record.account));
    let (response, _, _) = grant(&mut st, &lifetimes, record.account);
    Ok(response)
}

/// A new grant for `account`: its first access and refresh tokens (the code exchange,
/// and the sandbox's seeding of accounts). Returns the response and the two tokens.
pub(crate) fn grant(
    st: &mut SandboxState,
    lifetimes: &Lifetimes,
    account: String,
) -> (Response, String, String) {
    let now = st.now();
    let now_ms = st.epoch_ms();
    let valid_until_ms = now_ms.saturating_add(millis(lifetimes.refresh_token));
    let record = RefreshRecord {
        provider: P,
        client_id: String::new(),
        scopes: Vec::new(),
        expires_at: Some(now + lifetimes.refresh_token),
        valid_until_ms,
        account,
    };
    let refresh = refresh_token();
    let (response, access) = issue(st, lifetimes, record, now_ms, &refresh, true);
    (response, access, refresh)
}

/// Issues an access token, and answers with it and `refresh` (a new refresh token
/// carrying `record` when `new_refresh`; its expiry is the one of the first grant:
/// rotation does not extend it).
fn issue(
    st: &mut SandboxState,
    lifetimes: &Lifetimes,
    record: RefreshRecord,
    now_ms: u64,
    refresh: &str,
    new_refresh: bool,
) -> (Response, String) {
    let now = st.now();
    let access = access_token();
    let valid_until_ms = record.valid_until_ms;
    let account = record.account.clone();
    st.insert_access(
        access.clone(),
        AccessRecord {
            provider: P,
            kind: TokenKind::User,
            expires_at: now + lifetimes.access_token,
            account: Some(account.clone()),
        },
    );
    if new_refresh {
        st.insert_refresh(refresh.to_owned(), record);
    }
    let response = token_body(
        &access,
        refresh,
        lifetimes.access_token.as_secs(),
        now_ms.saturating_add(millis(lifetimes.access_token)),
        valid_until_ms.saturating_sub(now_ms) / 1000,
        valid_until_ms,
        &account,
    );
    (response, access)
}

/// `POST|GET /aliexpress/rest/auth/token/refresh`
pub(crate) async fn refresh(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<ConnHandle>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    token_endpoint(
        &shared,
        &conn,
        query.as_deref(),
        &headers,
        &body,
        refresh_inner,
    )
    .await
}

type TokenHandler =
    fn(&Shared, Option<&str>, &HeaderMap, &Bytes, &mut Tally) -> Result<Response, AeError>;

/// The token endpoints' common part: the fault gate, then the handler, its
/// errors in the `/rest` shape (HTTP 200 with `code`).
async fn token_endpoint(
    shared: &Arc<Shared>,
    conn: &ConnHandle,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &Bytes,
    handler: TokenHandler,
) -> Response {
    if let Some(response) = token_gate(shared, P, conn).await {
        return response;
    }
    let mut tally = Tally::default();
    let response = match handler(shared, query, headers, body, &mut tally) {
        Ok(response) => response,
        Err(error) => error.rest(),
    };
    shared.lock().record(P, &tally);
    response
}

fn refresh_inner(
    shared: &Shared,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &Bytes,
    tally: &mut Tally,
) -> Result<Response, AeError> {
    let params = collect(query, headers, body)?;
    verify(shared, &params, Some("/auth/token/refresh"))?;
    let old = params
        .non_empty("refresh_token")
        .ok_or_else(|| AeError::missing("refresh_token"))?;
    let lifetimes = shared.config.lifetimes(P);
    let mut st = shared.lock();
    let record = st.live_refresh(P, old).map_err(|refusal| {
        tally.refused(&refusal);
        AeError::new(
            "IllegalRefreshToken",
            "The specified refresh token is invalid or expired",
        )
    })?;
    tally.granted(Grant::RefreshToken, Some(&record.account));
    let now_ms = st.epoch_ms();
    if shared.config.rotates(P) {
        // Rotation (AliExpress's behaviour, the default): the old refresh token is
        // single use; the new one keeps the original expiry.
        st.spend_refresh(old);
        let new = refresh_token();
        Ok(issue(&mut st, &lifetimes, record, now_ms, &new, true).0)
    } else {
        Ok(issue(&mut st, &lifetimes, record, now_ms, old, false).0)
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn access_token() -> String {
    format!("50000{}", random_alnum(58))
}

fn refresh_token() -> String {
    format!("50001{}", random_alnum(58))
}

/// The numeric seller id AliExpress returns for an account: the historical
/// `2637908814` for the default account, a stable 10-digit number for others.
fn seller_id(account: &str) -> String {
    if account == crate::DEFAULT_ACCOUNT {
        return "2637908814".to_owned();
    }
    // FNV-1a: stable across runs and platforms.
    let hash = account.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    (1_000_000_000 + hash % 9_000_000_000).to_string()
}

fn token_body(
    access: &str,
    refresh: &str,
    expires_in: u64,
    expire_time: u64,
    refresh_expires_in: u64,
    refresh_token_valid_time: u64,
    account: &str,
) -> Response {
    let seller_id = seller_id(account);
    token_json(
        StatusCode::OK,
        &json!({
            "refresh_token_valid_time": refresh_token_valid_time,
            "havana_id": "3000021188814",
            "expire_time": expire_time,
            "locale": "en_US",
            "user_nick": account,
            "access_token": access,
            "refresh_token": refresh,
            "user_id": seller_id,
            "account_platform": "seller_center",
            "refresh_expires_in": refresh_expires_in,
            "expires_in": expires_in,
            "sp": "ae",
            "seller_id": seller_id,
            "account": "seller@sandbox.invalid",
            "code": "0",
            "request_id": request_id(),
        }),
    )
}

/// A business API the sandbox serves on `/sync`: its `method` and how it answers for
/// the token's account. The body is wrapped in `<method with '_' for '.'>_response`.
struct BusinessApi {
    method: &'static str,
    answer: fn(&Params, &str) -> serde_json::Value,
}

/// Every business API on `/sync`.
const BUSINESS_APIS: &[BusinessApi] = &[
    BusinessApi {
        method: "aliexpress.solution.seller.info.query",
        answer: seller_info,
    },
    BusinessApi {
        method: "aliexpress.solution.order.get",
        answer: order_list,
    },
    BusinessApi {
        method: "aliexpress.solution.product.list.get",
        answer: product_list,
    },
];

fn seller_info(_: &Params, account: &str) -> serde_json::Value {
    json!({
        "success": true,
        "error_code": null,
        "error_message": null,
        "login_id": account,
        "seller_id": seller_id(account),
        "ae_seller_level": "3"
    })
}

/// `aliexpress.solution.order.get`: the seller's orders (one page; `param0` is not
/// interpreted).
fn order_list(_: &Params, account: &str) -> serde_json::Value {
    json!({
        "success": true,
        "error_code": null,
        "error_message": null,
        "current_page": 1,
        "total_page": 1,
        "total_count": 1,
        "page_size": 20,
        "target_list": {
            "order_dto": [{
                "order_id": 8_000_000_000_000_001_u64,
                "order_status": "WAIT_SELLER_SEND_GOODS",
                "biz_type": "AE_COMMON",
                "gmt_create": "2024-01-01 00:00:00",
                "seller_login_id": account,
                "seller_operator_login_id": account,
                "buyer_login_id": "sandbox_buyer",
                "product_list": {
                    "order_product_dto": [{
                        "product_id": 1_005_000_000_000_001_u64,
                        "product_name": "Sandbox item one",
                        "product_count": 1,
                        "sku_code": "SANDBOX-SKU-1"
                    }]
                }
            }]
        }
    })
}

/// `aliexpress.solution.product.list.get`: the seller's products (one page;
/// `aeop_a_e_product_list_query` is not interpreted).
fn product_list(_: &Params, _account: &str) -> serde_json::Value {
    json!({
        "success": true,
        "current_page": 1,
        "total_page": 1,
        "product_count": 2,
        "aeop_a_e_product_display_d_t_o_list": {
            "item_display_dto": [
                {
                    "product_id": 1_005_000_000_000_001_u64,
                    "subject": "Sandbox item one",
                    "product_min_price": "9.99",
                    "product_max_price": "9.99",
                    "currency_code": "USD",
                    "ws_display": "onSelling",
                    "gmt_create": "2024-01-01 00:00:00"
                },
                {
                    "product_id": 1_005_000_000_000_002_u64,
                    "subject": "Sandbox item two",
                    "product_min_price": "19.99",
                    "product_max_price": "24.99",
                    "currency_code": "USD",
                    "ws_display": "onSelling",
                    "gmt_create": "2024-01-02 00:00:00"
                }
            ]
        }
    })
}

/// `GET|POST /aliexpress/sync?method=<api>&...`: a business interface (signature
/// without a path prefix over every parameter, token in `session` or `access_token`).
/// Errors come with HTTP 200 in the `error_response` shape.
pub(crate) async fn sync(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    api_call(&shared, P, |tally| {
        match sync_inner(&shared, query.as_deref(), &headers, &body, tally) {
            Ok(response) => response,
            Err(error) => error.sync(),
        }
    })
}

fn sync_inner(
    shared: &Shared,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &Bytes,
    tally: &mut ApiTally,
) -> Result<Response, AeError> {
    let params = collect(query, headers, body)?;
    let method = params
        .non_empty("method")
        .ok_or_else(|| AeError::missing("method"))?;
    let Some(api) = BUSINESS_APIS.iter().find(|api| api.method == method) else {
        let served: Vec<&str> = BUSINESS_APIS.iter().map(|api| api.method).collect();
        return Err(AeError::new(
            "InvalidApiName",
            format!("The sandbox serves only {} on /sync", served.join(", ")),
        ));
    };
    verify(shared, &params, None)?;
    let token = params
        .non_empty("session")
        .or_else(|| params.non_empty("access_token"))
        .ok_or_else(|| AeError::missing("session"))?;
    if !check_api_token(shared, P, Some(token), &[TokenKind::User], tally) {
        return Err(illegal_access_token());
    }
    let account = tally.account.clone().unwrap_or_default();
    let name = format!("{}_response", api.method.replace('.', "_"));
    Ok(crate::wire::json(
        StatusCode::OK,
        &json!({
            name: {
                "result": (api.answer)(&params, &account),
                "request_id": request_id(),
            }
        }),
    ))
}

fn illegal_access_token() -> AeError {
    AeError::new(
        "IllegalAccessToken",
        "The specified access token is invalid or expired",
    )
}

/// `GET|POST /aliexpress/rest/order/get`: a system interface (signature with the path
/// prefix, token in `access_token`).
pub(crate) async fn order_get(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    api_call(&shared, P, |tally| {
        match order_get_inner(&shared, query.as_deref(), &headers, &body, tally) {
            Ok(response) => response,
            Err(error) => error.rest(),
        }
    })
}

fn order_get_inner(
    shared: &Shared,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &Bytes,
    tally: &mut ApiTally,
) -> Result<Response, AeError> {
    let params = collect(query, headers, body)?;
    verify(shared, &params, Some("/order/get"))?;
    let token = params
        .non_empty("access_token")
        .ok_or_else(|| AeError::missing("access_token"))?;
    if !check_api_token(shared, P, Some(token), &[TokenKind::User], tally) {
        return Err(illegal_access_token());
    }
    let order_id = params.non_empty("order_id").unwrap_or("0");
    let order_id: String = order_id
        .chars()
        .filter(char::is_ascii_digit)
        .take(32)
        .collect();
    Ok(crate::wire::json(
        StatusCode::OK,
        &json!({
            "code": "0",
            "result": {
                "order_id": order_id,
                "order_status": "WAIT_SELLER_SEND_GOODS",
                "seller_id": "2637908814"
            },
            "request_id": request_id(),
        }),
    ))
}
