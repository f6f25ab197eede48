//! The loopback-only admin API under `/admin/`: counters, revocation of one account,
//! rejection of access tokens, seeding of accounts.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

use crate::conn::ConnHandle;
use crate::provider::{EMULATORS, Provider};
use crate::state::Shared;
use crate::wire::header_str;

/// Most accounts one `POST /admin/accounts` may seed.
pub(crate) const MAX_SEED_ACCOUNTS: usize = 10_000;
/// Longest account name accepted.
const MAX_ACCOUNT_LEN: usize = 256;

/// The tokens of one seeded account, as [`Sandbox::seed_account`](crate::Sandbox::seed_account)
/// and `POST /admin/accounts` return them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SeededTokens {
    /// The account the grant belongs to.
    pub account: String,
    /// A live access token of the account.
    pub access_token: String,
    /// A live refresh token of the account.
    pub refresh_token: String,
    /// The access token's lifetime in whole seconds.
    pub expires_in: u64,
    /// The refresh token's lifetime in whole seconds (`None`: it never expires, as
    /// Eshopbox's by default).
    pub refresh_token_expires_in: Option<u64>,
}

/// Whether a peer address is a loopback address (127.0.0.0/8, `::1`, or an IPv4-mapped
/// loopback address). Only such peers may use the admin API.
pub(crate) fn is_loopback_peer(peer: SocketAddr) -> bool {
    match peer.ip() {
        IpAddr::V4(ip) => ip.is_loopback(),
        IpAddr::V6(ip) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// Whether a `Host` header names the local machine (`127.0.0.1`, `localhost`, `[::1]`,
/// with any port), or is absent. A web page that rebinds its DNS name to 127.0.0.1
/// sends its own name: such requests are refused.
pub(crate) fn is_local_host_header(host: Option<&str>) -> bool {
    let Some(host) = host else {
        return true;
    };
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        host.rsplit_once(':').map_or(host, |(name, _)| name)
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<IpAddr>()
            .is_ok_and(|ip| is_loopback_peer(SocketAddr::new(ip, 0)))
}

fn problem(status: StatusCode, error: &str, description: &str) -> Response {
    crate::wire::json(
        status,
        &json!({ "error": error, "error_description": description }),
    )
}

fn bad_request(description: &str) -> Response {
    problem(StatusCode::BAD_REQUEST, "invalid_request", description)
}

/// Refuses requests from other machines (and DNS-rebound browser requests).
/// `Some(403 response)` for a request that is not from the local machine.
fn guard(conn: &ConnHandle, headers: &HeaderMap) -> Option<Response> {
    let local = is_loopback_peer(conn.peer())
        && is_local_host_header(header_str(headers, header::HOST.as_str()));
    (!local).then(|| {
        problem(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the sandbox's admin API only answers requests from the local machine",
        )
    })
}

/// The JSON object of a request body and its provider, or what is wrong.
fn parse_body(body: &Bytes) -> Result<(serde_json::Map<String, Value>, Provider), String> {
    let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(body) else {
        return Err("the body must be a JSON object".to_owned());
    };
    let provider = object
        .get("provider")
        .and_then(Value::as_str)
        .and_then(Provider::from_path_segment)
        .ok_or_else(unknown_provider)?;
    Ok((object, provider))
}

/// `` `provider` must be one of "ebay", "aliexpress", ... `` (every path segment, in
/// the list's order).
fn unknown_provider() -> String {
    let segments: Vec<String> = EMULATORS
        .iter()
        .map(|emulator| format!("\"{}\"", emulator.path_segment()))
        .collect();
    format!("`provider` must be one of {}", segments.join(", "))
}

fn valid_account(account: &str) -> bool {
    !account.is_empty()
        && account.len() <= MAX_ACCOUNT_LEN
        && !account.chars().any(char::is_control)
}

/// `GET /admin/counters`
pub(crate) async fn counters(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<ConnHandle>,
    headers: HeaderMap,
) -> Response {
    if let Some(response) = guard(&conn, &headers) {
        return response;
    }
    let counters = shared.lock().counters();
    match serde_json::to_value(counters) {
        Ok(value) => crate::wire::json(StatusCode::OK, &value),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// `POST /admin/reset-counters`
pub(crate) async fn reset_counters(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<ConnHandle>,
    headers: HeaderMap,
) -> Response {
    if let Some(response) = guard(&conn, &headers) {
        return response;
    }
    shared.lock().reset_counters();
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /admin/revoke` with `{"provider": "...", "account": "..."}` (without
/// `account`: every grant of the provider).
pub(crate) async fn revoke(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<ConnHandle>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(response) = guard(&conn, &headers) {
        return response;
    }
    let (object, provider) = match parse_body(&body) {
        Ok(parsed) => parsed,
        Err(problem) => return bad_request(&problem),
    };
    match object.get("account") {
        None | Some(Value::Null) => {
            shared.lock().revoke(provider);
            crate::wire::json(
                StatusCode::OK,
                &json!({ "provider": provider.path_segment(), "account": null }),
            )
        }
        Some(Value::String(account)) if valid_account(account) => {
            let (refresh, access) = shared.lock().revoke_account(provider, account);
            crate::wire::json(
                StatusCode::OK,
                &json!({
                    "provider": provider.path_segment(),
                    "account": account,
                    "revoked_refresh_tokens": refresh,
                    "revoked_access_tokens": access,
                }),
            )
        }
        Some(_) => bad_request("`account` must be a non-empty string"),
    }
}

/// `POST /admin/reject-access-tokens` with `{"provider": "...", "account": "..."}`
/// (without `account`: every access token of the provider): the live access tokens
/// are refused from now on; refresh tokens keep working. With `"persistent": true`
/// (an `account` required), the account's later access tokens are refused too.
pub(crate) async fn reject_access_tokens(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<ConnHandle>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(response) = guard(&conn, &headers) {
        return response;
    }
    let (object, provider) = match parse_body(&body) {
        Ok(parsed) => parsed,
        Err(problem) => return bad_request(&problem),
    };
    let account = match object.get("account") {
        None | Some(Value::Null) => None,
        Some(Value::String(account)) if valid_account(account) => Some(account.as_str()),
        Some(_) => return bad_request("`account` must be a non-empty string"),
    };
    let persistent = match object.get("persistent") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(persistent)) => *persistent,
        Some(_) => return bad_request("`persistent` must be a boolean"),
    };
    let rejected = match (persistent, account) {
        (false, account) => shared.lock().reject_access_tokens(provider, account),
        (true, Some(account)) => shared
            .lock()
            .reject_access_tokens_persistently(provider, account),
        (true, None) => return bad_request("`persistent` needs an `account`"),
    };
    let mut answer = json!({
        "provider": provider.path_segment(),
        "account": account,
        "rejected_access_tokens": rejected,
    });
    if persistent && let Some(answer) = answer.as_object_mut() {
        answer.insert("persistent".to_owned(), Value::Bool(true));
    }
    crate::wire::json(StatusCode::OK, &answer)
}

/// `POST /admin/accounts` with `{"provider": "...", "accounts": ["...", ...]}` (or
/// `"account": "..."`): issues a grant to each account without the consent dance.
pub(crate) async fn seed_accounts(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<ConnHandle>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(response) = guard(&conn, &headers) {
        return response;
    }
    let (object, provider) = match parse_body(&body) {
        Ok(parsed) => parsed,
        Err(problem) => return bad_request(&problem),
    };
    let accounts: Vec<&str> = match (object.get("accounts"), object.get("account")) {
        (Some(Value::Array(list)), None) => {
            let names: Option<Vec<&str>> = list.iter().map(Value::as_str).collect();
            match names {
                Some(names) => names,
                None => return bad_request("`accounts` must be an array of strings"),
            }
        }
        (None, Some(Value::String(account))) => vec![account.as_str()],
        _ => {
            return bad_request(
                "give either `account` (a string) or `accounts` (an array of strings)",
            );
        }
    };
    if accounts.is_empty() || accounts.len() > MAX_SEED_ACCOUNTS {
        return bad_request("between 1 and 10000 accounts per request");
    }
    if !accounts.iter().all(|account| valid_account(account)) {
        return bad_request(
            "an account is empty, too long (over 256 bytes) or has control characters",
        );
    }
    let seeded: Vec<SeededTokens> = accounts
        .iter()
        .map(|account| seed(&shared, provider, account))
        .collect();
    crate::wire::json(
        StatusCode::OK,
        &json!({ "provider": provider.path_segment(), "accounts": seeded }),
    )
}

/// Issues a grant (refresh token) and an access token to `account`, as a consent and
/// code exchange would, without counting a token request.
pub(crate) fn seed(shared: &Shared, provider: Provider, account: &str) -> SeededTokens {
    let lifetimes = shared.config.lifetimes(provider);
    let mut st = shared.lock();
    let grant = provider.emulator().seed(shared, &mut st, account);
    drop(st);
    SeededTokens {
        account: account.to_owned(),
        access_token: grant.access_token,
        refresh_token: grant.refresh_token,
        expires_in: lifetimes.access_token.as_secs(),
        refresh_token_expires_in: shared
            .config
            .refresh_tokens_expire(provider)
            .then_some(lifetimes.refresh_token.as_secs()),
    }
}

#[cfg(test)]
mod tests {
    use super::{is_local_host_header, is_loopback_peer, unknown_provider};
    use std::net::SocketAddr;

    fn addr(text: &str) -> SocketAddr {
        text.parse()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    #[test]
    fn an_unknown_provider_is_answered_with_every_path_segment() {
        assert_eq!(
            unknown_provider(),
            r#"`provider` must be one of "ebay", "aliexpress", "orangeconnex", "eshopbox""#
        );
    }

    #[test]
    fn only_loopback_peers_are_admitted() {
        assert!(is_loopback_peer(addr("127.0.0.1:5000")));
        assert!(is_loopback_peer(addr("127.1.2.3:5000")));
        assert!(is_loopback_peer(addr("[::1]:5000")));
        assert!(is_loopback_peer(addr("[::ffff:127.0.0.1]:5000")));
        assert!(!is_loopback_peer(addr("10.0.0.7:5000")));
        assert!(!is_loopback_peer(addr("192.168.1.20:5000")));
        assert!(!is_loopback_peer(addr("0.0.0.0:5000")));
        assert!(!is_loopback_peer(addr("[::ffff:10.0.0.7]:5000")));
        assert!(!is_loopback_peer(addr("[2001:db8::1]:5000")));
    }

    #[test]
    fn only_local_host_headers_are_admitted() {
        for host in [
            None,
            Some("127.0.0.1:8080"),
            Some("127.0.0.1"),
            Some("localhost:8080"),
            Some("LOCALHOST"),
            Some("[::1]:8080"),
        ] {
            assert!(is_local_host_header(host), "{host:?}");
        }
        for host in [
            Some("evil.example:8080"),
            Some("evil.example"),
            Some("10.0.0.7:8080"),
            Some("[2001:db8::1]:80"),
            Some(""),
        ] {
            assert!(!is_local_host_header(host), "{host:?}");
        }
    }
}
