//! Pieces shared by the authorize (consent) endpoints, and the callback page.

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::provider::Provider;
use crate::state::Shared;
use crate::wire::{Params, header_str, json, redirect, with_query};

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

// ---- the HTML consent pages ---------------------------------------------------

/// What an authorize request asks for beyond its OAuth parameters: how it came (a
/// browser's `GET`, a program's `GET`, or a form post from one of our pages).
#[derive(Debug)]
pub(crate) struct Interaction {
    post: bool,
    /// The request accepts HTML (`Accept: text/html`, as browsers send).
    html: bool,
    /// The raw query string: the authorize parameters, kept in the forms' `action`.
    query: String,
    form: Params,
}

impl Interaction {
    pub(crate) fn new(
        method: &Method,
        headers: &HeaderMap,
        query: Option<&str>,
        body: &[u8],
    ) -> Self {
        let post = method == Method::POST;
        let html = header_str(headers, header::ACCEPT.as_str())
            .is_some_and(|accept| accept.to_ascii_lowercase().contains("text/html"));
        Interaction {
            post,
            html,
            query: query.unwrap_or_default().to_owned(),
            form: if post {
                Params::parse(body)
            } else {
                Params::default()
            },
        }
    }
}

/// The answer to an authorize request whose client checked out.
#[derive(Debug)]
pub(crate) enum Decision {
    /// Redirect with a code for this seller account ("Agree", or the shortcut).
    Agree(String),
    /// Redirect with `error=access_denied` ("Decline", or the deny-consent switch).
    Decline,
    /// Answer in place with this page (the login form, the consent form, an error).
    Page(Response),
}

/// Decides how an authorize request is answered, once the provider checked the client,
/// the redirect target and the other parameters:
///
/// - a `GET` from a browser (`Accept: text/html`) without the sandbox's own
///   `sandbox_account` parameter gets the login page;
/// - a form post from the login page gets the consent page (a seller the sandbox knows,
///   and a password) or the login page again with an error;
/// - a form post from the consent page agrees or declines;
/// - anything else is the programmatic shortcut: consent is given at once for
///   `sandbox_account` (else the default account), unless the deny-consent switch is on.
pub(crate) fn decide(
    shared: &Shared,
    provider: Provider,
    interaction: &Interaction,
    params: &Params,
    scopes: &[String],
) -> Decision {
    let page = Page {
        provider,
        action: format!("?{}", interaction.query),
        client: params.get("client_id").unwrap_or_default(),
        scopes,
    };
    if !interaction.post {
        if interaction.html && params.get("sandbox_account").is_none() {
            return Decision::Page(page.login(StatusCode::OK, None, ""));
        }
        if shared.lock().deny_consent(provider) {
            return Decision::Decline;
        }
        return Decision::Agree(consenting_account(params));
    }
    let form = &interaction.form;
    let seller = form.get("seller").unwrap_or_default().trim();
    let known = !seller.is_empty() && shared.lock().knows_account(provider, seller);
    match form.get("step") {
        Some("login") => {
            if !known {
                let error = if seller.is_empty() {
                    "Enter the name of a sandbox seller account.".to_owned()
                } else {
                    format!(
                        "There is no sandbox seller named \u{201c}{seller}\u{201d}. Try {}.",
                        crate::DEFAULT_ACCOUNT
                    )
                };
                return Decision::Page(page.login(StatusCode::UNAUTHORIZED, Some(&error), seller));
            }
            if form.non_empty("password").is_none() {
                return Decision::Page(page.login(
                    StatusCode::UNAUTHORIZED,
                    Some("Enter a password (the sandbox accepts any)."),
                    seller,
                ));
            }
            Decision::Page(page.consent(StatusCode::OK, seller))
        }
        Some("consent") if known => match form.get("decision") {
            Some("agree") => Decision::Agree(seller.to_owned()),
            Some("decline") => Decision::Decline,
            _ => Decision::Page(page.consent(StatusCode::BAD_REQUEST, seller)),
        },
        Some("consent") => Decision::Page(page.login(
            StatusCode::UNAUTHORIZED,
            Some("Sign in again: the sandbox does not know this seller."),
            "",
        )),
        _ => Decision::Page(page.login(
            StatusCode::BAD_REQUEST,
            Some("The form was not understood: sign in again."),
            "",
        )),
    }
}

struct Page<'a> {
    provider: Provider,
    action: String,
    client: &'a str,
    scopes: &'a [String],
}

/// Colours: text #1a1a1a on #ffffff (17:1), the primary button #ffffff on #0b57a4
/// (7.2:1), the error #a1001a on #fdecef (7.9:1), muted text #4a4a4a on #ffffff (8.9:1).
const STYLE: &str = "body{margin:0;font-family:system-ui,sans-serif;color:#1a1a1a;\
background:#ffffff;line-height:1.5}main{max-width:32rem;margin:2rem auto;padding:0 1rem}\
h1{font-size:1.5rem}label{display:block;font-weight:600;margin-top:1rem}\
input{display:block;width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem;\
color:#1a1a1a;background:#ffffff;border:2px solid #4a4a4a;border-radius:4px}\
.actions{margin-top:1.5rem;display:flex;gap:1rem}\
button{font-size:1rem;padding:.6rem 1.4rem;border-radius:4px;cursor:pointer;\
border:2px solid #0b57a4}\
.primary{color:#ffffff;background:#0b57a4}.secondary{color:#0b57a4;background:#ffffff}\
button:focus-visible,input:focus-visible{outline:3px solid #1a1a1a;outline-offset:2px}\
.error{color:#a1001a;background:#fdecef;border:1px solid #a1001a;padding:.5rem 1rem;\
border-radius:4px}.muted{color:#4a4a4a}";

impl Page<'_> {
    fn html(&self, status: StatusCode, title: &str, main: &str) -> Response {
        let provider = self.provider;
        let body = format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title} \u{2013} {provider} sandbox</title><style>{STYLE}</style></head>\
             <body><main>{main}<p class=\"muted\">{provider} sandbox: no real account is \
             involved.</p></main></body></html>\n",
            title = escape(title),
        );
        (
            status,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            body,
        )
            .into_response()
    }

    fn login(&self, status: StatusCode, error: Option<&str>, seller: &str) -> Response {
        let provider = self.provider;
        let (error_html, described) = match error {
            Some(text) => (
                format!(
                    "<p class=\"error\" id=\"login-error\" role=\"alert\">{}</p>",
                    escape(text)
                ),
                " aria-describedby=\"login-error\" aria-invalid=\"true\"",
            ),
            None => (String::new(), ""),
        };
        let main = format!(
            "<h1>Sign in to {provider}</h1>{error_html}\
             <p>Sign in with a seller account to continue to <strong>{client}</strong>.</p>\
             <form method=\"post\" action=\"{action}\">\
             <input type=\"hidden\" name=\"step\" value=\"login\">\
             <label for=\"seller\">Seller name</label>\
             <input id=\"seller\" name=\"seller\" type=\"text\" autocomplete=\"username\" \
             required value=\"{seller}\"{described}>\
             <label for=\"password\">Password</label>\
             <input id=\"password\" name=\"password\" type=\"password\" \
             autocomplete=\"current-password\" required>\
             <div class=\"actions\"><button type=\"submit\" class=\"primary\">Sign in</button></div>\
             </form><p class=\"muted\">Test seller: {default}; any password.</p>",
            client = escape(self.client),
            action = escape(&self.action),
            seller = escape(seller),
            default = crate::DEFAULT_ACCOUNT,
        );
        self.html(status, &format!("Sign in to {provider}"), &main)
    }

    fn consent(&self, status: StatusCode, seller: &str) -> Response {
        let provider = self.provider;
        let scopes = if self.scopes.is_empty() {
            String::new()
        } else {
            let items: String = self
                .scopes
                .iter()
                .map(|s| format!("<li>{}</li>", escape(s)))
                .collect();
            format!("<h2>It asks for</h2><ul>{items}</ul>")
        };
        let main = format!(
            "<h1>Allow {client} to access your {provider} account?</h1>\
             <p>Signed in as <strong>{seller}</strong>.</p>{scopes}\
             <form method=\"post\" action=\"{action}\">\
             <input type=\"hidden\" name=\"step\" value=\"consent\">\
             <input type=\"hidden\" name=\"seller\" value=\"{seller}\">\
             <div class=\"actions\">\
             <button type=\"submit\" name=\"decision\" value=\"agree\" class=\"primary\">Agree</button>\
             <button type=\"submit\" name=\"decision\" value=\"decline\" class=\"secondary\">Decline</button>\
             </div></form>",
            client = escape(self.client),
            seller = escape(seller),
            action = escape(&self.action),
        );
        self.html(status, &format!("Allow access to {provider}"), &main)
    }
}

/// Text for HTML content and double-quoted attributes.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(escape("a&b<c>\"d'"), "a&amp;b&lt;c&gt;&quot;d&#39;");
    }
}
