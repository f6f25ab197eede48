//! `POST …/paste/{provider}`: installing a pasted refresh token, for
//! providers without a consent step (Eshopbox custom apps).
//!
//! Cross-site request forgery is refused by the browser's own word about
//! where the form came from, without a token or a cookie (nothing to keep
//! server-side, so several instances need no shared store): the request must
//! be a form (`Content-Type: application/x-www-form-urlencoded`) with
//! `Sec-Fetch-Site: same-origin`, or, from a browser that does not send
//! `Sec-Fetch-Site`, with an `Origin` equal to the public base URL's origin.
//! A page cannot forge either header. (The pages' `Referrer-Policy:
//! no-referrer` makes browsers send `Origin: null` on form posts, which is
//! why `Sec-Fetch-Site` comes first; `null` alone is refused.)

use crate::access::Connected;
use crate::connect::{
    Inner, bad_request, connected_page, not_found, result_page, server_error, valid_account,
};
use axum::body::to_bytes;
use axum::extract::{Path, Request, State};
use axum::response::Response;
use http::{StatusCode, header};
use oauth_core::{AccessToken, RefreshToken, TokenSet};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

/// The largest form body read: an account and a refresh token fit many
/// times over.
pub(crate) const MAX_BODY: usize = 16 * 1024;

/// The longest refresh token accepted.
const MAX_REFRESH_TOKEN_LEN: usize = 8 * 1024;

/// Whether the request's headers show a form sent from a page of the same
/// origin (see the module documentation).
fn same_origin(headers: &http::HeaderMap, public_origin: &str) -> bool {
    let origin = headers.get(header::ORIGIN).map(|v| v.as_bytes());
    match headers.get("sec-fetch-site").map(|v| v.as_bytes()) {
        Some(site) => {
            site == b"same-origin"
                && origin.is_none_or(|o| o == b"null" || o == public_origin.as_bytes())
        }
        None => origin == Some(public_origin.as_bytes()),
    }
}

/// Whether the body is declared as an URL-encoded form.
fn is_form(headers: &http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(oauth_core::transport::classify::media_type)
        .is_some_and(|v| v == "application/x-www-form-urlencoded")
}

/// The form's `account` and `refresh_token`, refusing repeated fields.
struct Form {
    account: Option<String>,
    refresh_token: Option<String>,
}

fn read_form(body: &[u8]) -> Result<Form, ()> {
    let mut form = Form {
        account: None,
        refresh_token: None,
    };
    for (name, value) in url::form_urlencoded::parse(body) {
        let slot = match name.as_ref() {
            "account" => &mut form.account,
            "refresh_token" => &mut form.refresh_token,
            _ => continue,
        };
        if slot.is_some() {
            return Err(());
        }
        *slot = Some(value.into_owned());
    }
    Ok(form)
}

pub(crate) async fn paste(
    State(inner): State<Arc<Inner>>,
    Path(provider): Path<String>,
    request: Request,
) -> Response {
    let Some(setup) = inner.setup(&provider).filter(|s| !s.needs_consent) else {
        return not_found("No such provider.");
    };
    let (parts, body) = request.into_parts();
    if !same_origin(&parts.headers, &inner.public_origin) {
        tracing::info!(
            provider = setup.name,
            "oauth-connect: refresh token form refused (not sent from the status page)"
        );
        return result_page(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "cross-site-request",
            "This form was not sent from the status page: nothing was installed.",
        );
    }
    if !is_form(&parts.headers) {
        return result_page(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Connection refused",
            "invalid-request",
            "Send the status page's form (application/x-www-form-urlencoded).",
        );
    }
    let Ok(body) = to_bytes(body, MAX_BODY).await else {
        return result_page(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Connection refused",
            "invalid-request",
            "The form is too large.",
        );
    };
    let Ok(form) = read_form(&body) else {
        return bad_request("invalid-request", "A field is repeated.");
    };
    drop(body);
    let account = match form.account {
        Some(a) if valid_account(&a) => a,
        _ => return bad_request("invalid-account", "Give the account to connect."),
    };
    let refresh_token = match form.refresh_token.as_deref().map(str::trim) {
        Some(t)
            if !t.is_empty()
                && t.len() <= MAX_REFRESH_TOKEN_LEN
                && !t.chars().any(char::is_control) =>
        {
            RefreshToken::new(t)
        }
        _ => {
            return bad_request(
                "invalid-token",
                "Paste the refresh token (one line of text): nothing was installed.",
            );
        }
    };
    drop(form.refresh_token);
    if let Err(refused) =
        crate::connect::may_connect(&inner, setup, &parts, &account, "refresh token install").await
    {
        return refused;
    }
    // Just the refresh token, with an access token that has already
    // expired: one refresh validates it and gives the set to install.
    let pasted = TokenSet::new(AccessToken::new(String::new()), UNIX_EPOCH)
        .with_refresh_token(refresh_token, None);
    let tokens = match setup.client.refresh(&pasted).await {
        Ok(tokens) => tokens,
        Err(e) => {
            let class = e.class();
            tracing::warn!(
                provider = setup.name,
                account,
                class,
                "oauth-connect: the pasted refresh token did not give tokens"
            );
            return if e.requires_reauthorization() {
                result_page(
                    StatusCode::BAD_REQUEST,
                    "Connection refused",
                    "token-refused",
                    &format!(
                        "The provider refused this refresh token ({class}): nothing was installed. \
                         Check that it is the app's current refresh token."
                    ),
                )
            } else {
                result_page(
                    StatusCode::BAD_GATEWAY,
                    "Connection failed",
                    "refresh-failed",
                    &format!(
                        "The provider did not give tokens ({class}): nothing was installed. Try again later."
                    ),
                )
            };
        }
    };
    let connected = Connected {
        provider: setup.name.to_owned(),
        account: account.clone(),
        access_token_expires_at: tokens.expires_at,
        refresh_token_expires_at: tokens.refresh_token_expires_at,
    };
    if let Err(e) = setup.sink.install(&account, tokens).await {
        tracing::warn!(
            provider = setup.name,
            account,
            class = e.class(),
            "oauth-connect: the tokens could not be installed"
        );
        return server_error("The tokens could not be saved. Start again later.");
    }
    inner
        .tracker
        .connected(setup.name, &account, inner.clock.now());
    tracing::info!(
        provider = setup.name,
        account,
        "oauth-connect: account connected (pasted refresh token)"
    );
    if let Some(hook) = &inner.on_connected {
        hook(&connected);
    }
    connected_page(setup.name, &account, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> http::HeaderMap {
        let mut map = http::HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn same_origin_rules() {
        let origin = "https://shop.example";
        for ok in [
            &[("sec-fetch-site", "same-origin")][..],
            &[("sec-fetch-site", "same-origin"), ("origin", "null")],
            &[
                ("sec-fetch-site", "same-origin"),
                ("origin", "https://shop.example"),
            ],
            &[("origin", "https://shop.example")],
        ] {
            assert!(same_origin(&headers(ok), origin), "{ok:?}");
        }
        for refused in [
            &[][..],
            &[("origin", "null")],
            &[("origin", "https://evil.example")],
            &[("origin", "https://shop.example.evil.example")],
            &[("sec-fetch-site", "same-site")],
            &[("sec-fetch-site", "cross-site")],
            &[("sec-fetch-site", "none")],
            &[
                ("sec-fetch-site", "cross-site"),
                ("origin", "https://shop.example"),
            ],
            &[
                ("sec-fetch-site", "same-origin"),
                ("origin", "https://evil.example"),
            ],
        ] {
            assert!(!same_origin(&headers(refused), origin), "{refused:?}");
        }
    }

    #[test]
    fn form_content_types() {
        assert!(is_form(&headers(&[(
            "content-type",
            "application/x-www-form-urlencoded"
        )])));
        assert!(is_form(&headers(&[(
            "content-type",
            "Application/X-WWW-Form-Urlencoded; charset=UTF-8"
        )])));
        assert!(!is_form(&headers(&[("content-type", "text/plain")])));
        assert!(!is_form(&headers(&[(
            "content-type",
            "multipart/form-data"
        )])));
        assert!(!is_form(&headers(&[])));
    }

    #[test]
    fn repeated_fields_are_refused() {
        assert!(read_form(b"account=a&account=b&refresh_token=x").is_err());
        let form = read_form(b"account=a+b&refresh_token=x%2By&other=1").unwrap_or_else(|()| {
            unreachable!("a valid form");
        });
        assert_eq!(form.account.as_deref(), Some("a b"));
        assert_eq!(form.refresh_token.as_deref(), Some("x+y"));
    }
}
