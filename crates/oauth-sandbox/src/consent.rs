//! Pieces shared by the authorize (consent) endpoints, and the callback page.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::provider::Provider;
use crate::wire::{Params, json, redirect, with_query};

/// The seller account that consents: the sandbox's own `sandbox_account` parameter of
/// the authorize URL (no real provider has it; clients do not send it), else
/// [`DEFAULT_ACCOUNT`](crate::DEFAULT_ACCOUNT).
pub(crate) fn consenting_account(params: &Params) -> String {
    params
        .non_empty("sandbox_account")
        .unwrap_or(crate::DEFAULT_ACCOUNT)
        .to_owned()
}

/// An authorize request that cannot be redirected back (unknown client, redirect URI
/// not registered): answered in place, as RFC 6749 section 4.1.2.1 requires.
pub(crate) fn authorize_error_page(error: &str, description: &str) -> Response {
    json(
        StatusCode::BAD_REQUEST,
        &serde_json::json!({ "error": error, "error_description": description }),
    )
}

/// Redirects to the client's registered target with `error`, `error_description` and
/// `state` (when there is one).
pub(crate) fn redirect_error(
    target: &str,
    error: &str,
    description: &str,
    state: Option<&str>,
) -> Response {
    let mut pairs = vec![("error", error), ("error_description", description)];
    if let Some(state) = state {
        pairs.push(("state", state));
    }
    match with_query(target, &pairs) {
        Some(location) => redirect(&location),
        None => authorize_error_page(
            "invalid_request",
            "the registered redirect target is not a URL",
        ),
    }
}

/// Redirects to the client's registered target with the issued code.
pub(crate) fn redirect_code(target: &str, pairs: &[(&str, &str)]) -> Response {
    match with_query(target, pairs) {
        Some(location) => redirect(&location),
        None => authorize_error_page(
            "invalid_request",
            "the registered redirect target is not a URL",
        ),
    }
}

/// `GET /callback/{provider}`: where a followed consent redirect lands.
pub(crate) async fn callback_page(Path(provider): Path<String>) -> Response {
    let Some(provider) = Provider::from_path_segment(&provider) else {
        return (StatusCode::NOT_FOUND, "unknown provider").into_response();
    };
    let body = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{provider} sandbox</title></head>\
         <body><h1>{provider} sandbox</h1><p>The authorization is complete: you may close this \
         window.</p></body></html>\n"
    );
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}
