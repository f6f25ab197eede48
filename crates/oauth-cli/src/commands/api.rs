//! `oauth <provider> api`: one call to the provider's API with the account's token, in
//! the spirit of `gh api`.
//!
//! The token comes from `--store` as for `token` ([`super::valid_token`]: refreshed and
//! saved first when due); the call goes through `oauth-middleware`, which attaches the
//! token the provider's way, and when the provider rejects it, refreshes once (saved)
//! and retries once. The answer's body goes to stdout (pretty JSON on a terminal, the
//! exact bytes otherwise); an answer that is an error exits with [`EXIT_API_ERROR`].
//!
//! Generic over the registry: the request is a method and a path under the provider's
//! API base (`client.endpoints().api()`, or `--api-base-url`, or the custom
//! `--base-url`); a provider's [`Extras`] may read the target otherwise (AliExpress: a
//! business API name, `/sync?method=...`) or attach the token otherwise (eBay's
//! `--trading`).
//!
//! Nothing secret is printed: not the token (request headers are never shown; a body or
//! response header that echoes a token or a secret setting is masked), not the URL
//! (AliExpress's carries the token and the signature; transport errors are shown
//! without it).

use std::io::{IsTerminal, Read, Write};
use std::sync::Arc;
use std::time::Duration;

use clap::{ArgMatches, Args, FromArgMatches};
use oauth_core::http_types::{HeaderMap, Method};
use oauth_core::provider::registry::AnyClient;
use oauth_core::redact::{MASK, scrub_secrets};
use oauth_core::url::Url;
use oauth_core::{EndpointUrl, Environment, Error, RawResponse, RefreshGrant};
use reqwest::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use serde_json::{Value, json};

use super::registry::Extras;
use super::{Context, Origin, drain, provider_error, valid_token};
use crate::error::{CliError, EXIT_API_ERROR, EXIT_FAILURE, EXIT_REAUTHORIZE};
use crate::output::out;
use crate::settings::{ProviderCli, ProviderSettings, Purpose};

/// The largest answer `api` reads (a larger one is an error, nothing printed).
pub const MAX_ANSWER_BYTES: usize = 64 * 1024 * 1024;
/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the whole call may take (each attempt).
const CALL_TIMEOUT: Duration = Duration::from_secs(120);

/// Headers that carry a token or a client key: `api` attaches them itself.
const ATTACHED_HEADERS: &[&str] = &[
    "authorization",
    "access-token",
    "clientkey",
    oauth_all::ebay::TRADING_TOKEN_HEADER,
];

/// Arguments of `api`.
#[derive(Debug, Clone, Args)]
pub struct ApiArgs {
    /// The HTTP method (optional: GET, or POST with --data) and the path under the
    /// provider's API base, with or without a query (`/sell/account/v1/privilege`).
    #[arg(value_name = "METHOD|PATH")]
    pub first: String,
    /// The path, after a method.
    #[arg(value_name = "PATH", hide_short_help = true)]
    pub second: Option<String>,
    /// A request header `NAME:VALUE` (repeatable). The token's own header is attached
    /// by `oauth`: giving it is an error.
    #[arg(short = 'H', long = "header", value_name = "NAME:VALUE")]
    pub headers: Vec<String>,
    /// The request body: the text itself, `@FILE` for a file's bytes, `@-` for stdin.
    /// Sent as `application/json` when it is JSON, `text/xml` when it starts with `<`,
    /// unless a --header gives the Content-Type.
    #[arg(
        short = 'd',
        long,
        value_name = "DATA|@FILE|@-",
        allow_hyphen_values = true
    )]
    pub data: Option<String>,
    /// A query parameter `NAME=VALUE` (repeatable), added to the path's own.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// Print the status line and the response headers before the body (never the
    /// request's).
    #[arg(short = 'i', long)]
    pub include: bool,
    /// The API's base URL instead of the provider's (its host for the environment, or
    /// --base-url): HTTPS, or plain HTTP on loopback only.
    #[arg(long, value_name = "URL")]
    pub api_base_url: Option<String>,
}

/// The `api` subcommand of a provider, with the provider's own flags.
pub fn command(extras: Option<&dyn Extras>) -> clap::Command {
    let command = ApiArgs::augment_args(clap::Command::new("api"))
        .about(
            "Call the provider's API with the account's token (refreshed and saved first \
             when needed; refreshed and retried once when the provider rejects it). Prints \
             the answer's body; exit code 5 when the API answered an error.",
        )
        .after_help(
            "Examples:\n  oauth ebay api GET /sell/account/v1/privilege --store tokens.json\n  \
             oauth ebay api POST /ws/api.dll --trading --header \
             X-EBAY-API-CALL-NAME:GeteBayOfficialTime --data @req.xml\n  \
             oauth orangeconnex api POST /openapi/3pp/sku/v3/creation --data @body.json\n  \
             oauth aliexpress api aliexpress.solution.order.get --param k=v\n  \
             oauth eshopbox api GET /api/v1/me\n\n\
             Nothing secret is printed: not the token, not the request's headers, not the \
             signed URL.",
        );
    match extras {
        Some(extras) => {
            let command = match extras.api_target_help() {
                Some(help) => command
                    .mut_arg("first", |arg| arg.help(help).value_name("METHOD|API"))
                    .mut_arg("second", |arg| arg.value_name("API")),
                None => command,
            };
            extras.api_args(command)
        }
        None => command,
    }
}

/// What the command line asks for, checked.
struct Call {
    method: Method,
    target: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    params: Vec<(String, String)>,
    body: Option<Vec<u8>>,
}

impl ApiArgs {
    fn call(&self) -> Result<Call, CliError> {
        let body = self.data.as_deref().map(read_data).transpose()?;
        let (method, target) = match &self.second {
            None => (None, self.first.clone()),
            Some(target) => (Some(method_of(&self.first)?), target.clone()),
        };
        let method = method.unwrap_or(if body.is_some() {
            Method::POST
        } else {
            Method::GET
        });
        Ok(Call {
            method,
            target,
            headers: self
                .headers
                .iter()
                .enumerate()
                .map(|(index, header)| header_of(index, header))
                .collect::<Result<_, _>>()?,
            params: params_of(&self.params)?,
            body,
        })
    }
}

fn method_of(text: &str) -> Result<Method, CliError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(CliError::usage(
            "the HTTP method must be a word such as GET or POST (give the path after it)",
        ));
    }
    Method::from_bytes(text.to_ascii_uppercase().as_bytes())
        .map_err(|_| CliError::usage("invalid HTTP method"))
}

fn header_of(index: usize, text: &str) -> Result<(HeaderName, HeaderValue), CliError> {
    // The value is never echoed: it could be a token.
    let Some((name, value)) = text.split_once(':') else {
        return Err(CliError::usage(format!(
            "--header expects NAME:VALUE; --header number {} has no `:`",
            index + 1
        )));
    };
    let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
        CliError::usage(format!(
            "--header number {}: invalid header name",
            index + 1
        ))
    })?;
    if ATTACHED_HEADERS.contains(&name.as_str()) {
        return Err(CliError::usage(format!(
            "--header {name}: oauth attaches the token (and OrangeConnex's clientKey) itself; \
             leave it out"
        )));
    }
    let value = HeaderValue::from_str(value.trim()).map_err(|_| {
        CliError::usage(format!(
            "--header {name}: invalid header value (control characters?)"
        ))
    })?;
    Ok((name, value))
}

fn params_of(given: &[String]) -> Result<Vec<(String, String)>, CliError> {
    given
        .iter()
        .enumerate()
        .map(|(index, pair)| match pair.split_once('=') {
            Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
            Some(_) => Err(CliError::usage(format!(
                "--param number {} has an empty name",
                index + 1
            ))),
            // Not echoed: it could be a token pasted without its name.
            None => Err(CliError::usage(format!(
                "--param expects NAME=VALUE; --param number {} has no `=`",
                index + 1
            ))),
        })
        .collect()
}

/// `--data`: the text, `@FILE` or `@-` (stdin).
fn read_data(data: &str) -> Result<Vec<u8>, CliError> {
    match data.strip_prefix('@') {
        Some("-") => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .map_err(|e| CliError::failure(format!("cannot read --data from stdin: {e}")))?;
            Ok(bytes)
        }
        Some(path) => std::fs::read(path).map_err(|e| {
            CliError::usage(format!("cannot read the --data file {path}: {e}"))
                .with_kind("data_file")
        }),
        None => Ok(data.as_bytes().to_vec()),
    }
}

/// The Content-Type a body gets when no --header gives one.
fn content_type_of(body: &[u8]) -> Option<&'static str> {
    let start = body.iter().position(|b| !b.is_ascii_whitespace())?;
    if serde_json::from_slice::<Value>(body).is_ok() {
        Some("application/json")
    } else if body.get(start) == Some(&b'<') {
        Some("text/xml")
    } else {
        None
    }
}

/// The base every API path goes under: `--api-base-url`, the provider's API base in the
/// environment, or the custom `--base-url`.
fn api_base(
    provider: ProviderCli,
    client: &AnyClient,
    given: Option<&str>,
) -> Result<Url, CliError> {
    if let Some(given) = given {
        if given.trim().is_empty() {
            return Err(CliError::configuration(
                "--api-base-url is empty: give the API's base URL, or leave it out",
            ));
        }
        return EndpointUrl::parse(given.trim())
            .map(|url| url.as_url().clone())
            .map_err(|e| CliError::configuration(format!("invalid --api-base-url: {e}")));
    }
    if let Some(api) = client.endpoints().api() {
        return Ok(api.clone());
    }
    if let Environment::Custom(base) = client.environment() {
        return Ok(base.as_url().clone());
    }
    Err(CliError::configuration(format!(
        "the {} API's host is not known for this environment: give it with --api-base-url",
        provider.title()
    )))
}

/// `path` under `base`: a path (with an optional query) that stays on the base's host.
///
/// # Errors
/// A usage error for anything but a path: a full URL would send the token elsewhere.
pub fn join_path(base: &Url, path: &str) -> Result<Url, CliError> {
    if !path.starts_with('/') || path.starts_with("//") {
        return Err(CliError::usage(
            "the API path must start with `/` (a path under the provider's API base, not a \
             URL: the token goes to the provider's host only)",
        ));
    }
    if path
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '#')
    {
        return Err(CliError::usage(
            "the API path must not contain spaces, control characters or `#`",
        ));
    }
    let joined = format!("{}{path}", base.as_str().trim_end_matches('/'));
    let url = Url::parse(&joined).map_err(|_| CliError::usage("the API path is not valid"))?;
    let same_origin = url.scheme() == base.scheme()
        && url.host_str() == base.host_str()
        && url.port_or_known_default() == base.port_or_known_default();
    if !same_origin {
        return Err(CliError::usage(
            "the API path leaves the provider's API host",
        ));
    }
    Ok(url)
}

/// Texts that must not reach stdout or stderr: tokens and secret settings.
#[derive(Default)]
struct Secrets(Vec<String>);

impl Secrets {
    fn add(&mut self, secret: &str) {
        // Short values would mask ordinary words; no token or secret is that short.
        if secret.len() >= 6 && !self.0.iter().any(|s| s == secret) {
            self.0.push(secret.to_owned());
        }
    }

    /// `bytes` with every secret replaced by [`MASK`], in every form a server may echo
    /// it in (raw, form-, percent- and JSON-encoded, `\/`-escaped): through
    /// [`scrub_secrets`] when the bytes are text, byte by byte otherwise.
    fn mask(&self, bytes: &[u8]) -> Vec<u8> {
        if let Ok(text) = std::str::from_utf8(bytes) {
            return self.mask_text(text).into_bytes();
        }
        let mut out = bytes.to_vec();
        let mut variants: Vec<String> = self.0.iter().flat_map(|s| variants_of(s)).collect();
        variants.sort_by_key(|v| std::cmp::Reverse(v.len()));
        for variant in &variants {
            out = replace_all(&out, variant.as_bytes(), MASK.as_bytes());
        }
        out
    }

    /// `text` with every secret replaced by [`MASK`], in every form.
    fn mask_text(&self, text: &str) -> String {
        let secrets: Vec<&str> = self.0.iter().map(String::as_str).collect();
        scrub_secrets(text, &secrets)
    }
}

/// The forms of `secret` masked in a body that is not UTF-8 (those [`scrub_secrets`]
/// masks in text): raw, form- and percent-encoded, JSON-escaped, `\/`-escaped.
fn variants_of(secret: &str) -> Vec<String> {
    let form: String =
        oauth_core::url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    let json = serde_json::to_string(secret).unwrap_or_default();
    let json = json.trim_matches('"').to_owned();
    let slashes = json.replace('/', "\\/");
    let mut variants: Vec<String> = Vec::new();
    for candidate in [
        secret.to_owned(),
        form,
        oauth_core::encode_component(secret),
        json,
        slashes,
    ] {
        if candidate.len() >= 6 && !variants.contains(&candidate) {
            variants.push(candidate);
        }
    }
    variants
}

fn replace_all(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return haystack.to_vec();
    }
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = haystack;
    while !rest.is_empty() {
        if rest.starts_with(needle) {
            out.extend_from_slice(with);
            rest = rest.get(needle.len()..).unwrap_or_default();
        } else if let Some((first, tail)) = rest.split_first() {
            out.push(*first);
            rest = tail;
        }
    }
    out
}

/// Runs `oauth <provider> api`.
///
/// # Errors
/// A usage or configuration error, no valid token, a call that could not be made, a
/// token rejected again after a refresh (exit code 3), or an answer that is an error
/// ([`EXIT_API_ERROR`], after its body was printed).
pub async fn run(
    ctx: &Context,
    provider: ProviderCli,
    extras: Option<&dyn Extras>,
    settings: &ProviderSettings,
    matches: &ArgMatches,
    origin: Origin,
) -> Result<(), CliError> {
    let args = ApiArgs::from_arg_matches(matches).map_err(|e| CliError::usage(e.to_string()))?;
    let call = args.call()?;
    let client = settings.client(Purpose::Tokens)?;
    let base = api_base(provider, &client, args.api_base_url.as_deref())?;
    let mut url = match extras.and_then(|e| e.api_target(&base, &call.target)) {
        Some(url) => url?,
        None => join_path(&base, &call.target)?,
    };
    if !call.params.is_empty() {
        let mut query = url.query_pairs_mut();
        for (name, value) in &call.params {
            query.append_pair(name, value);
        }
    }
    let attachment = extras
        .and_then(|e| e.api_attachment(matches, &call.headers))
        .transpose()?;
    let mut secrets = Secrets::default();
    for setting in provider.entry.settings.iter().filter(|s| s.secret) {
        if let Some(value) = settings.get(setting.key) {
            secrets.add(value);
        }
    }

    let grant: Arc<dyn RefreshGrant> = client.clone();
    let valid = valid_token(ctx, provider, grant, &ctx.account, None, origin, "api").await?;
    let mut events = valid.events;
    secrets.add(valid.handle.expose_secret());
    if let Some(stored) = &valid.stored {
        secrets.add(stored.access_token.expose_secret());
        if let Some(refresh) = &stored.refresh_token {
            secrets.add(refresh.expose_secret());
        }
    }

    let mut authorizer =
        oauth_middleware::Authorizer::from_any(Arc::clone(&client), valid.manager.clone());
    if let Some(attachment) = attachment {
        // eBay's Trading header: another attachment, the provider's classification.
        authorizer = authorizer.with_attachment(attachment);
    }
    let http = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(CALL_TIMEOUT)
        .build()
        .map_err(|e| CliError::failure(format!("cannot build the HTTP client: {e}")))?;
    let api = reqwest_middleware::ClientBuilder::new(http)
        .with(authorizer.middleware())
        .build();
    let mut request = api.request(call.method.clone(), url);
    let has_content_type = call.headers.iter().any(|(name, _)| name == CONTENT_TYPE);
    for (name, value) in call.headers {
        request = request.header(name, value);
    }
    if let Some(body) = call.body {
        if !has_content_type && let Some(content_type) = content_type_of(&body) {
            request = request.header(CONTENT_TYPE, content_type);
        }
        request = request.body(body);
    }
    let sent = request.send().await;

    // Whatever happened, the tokens in use now are secrets too.
    if let Ok(current) = valid.manager.access_token().await {
        secrets.add(current.expose_secret());
        if let Some(refresh) = &current.token_set().refresh_token {
            secrets.add(refresh.expose_secret());
        }
    }
    let response = match sent {
        Ok(response) => response,
        Err(e) => return Err(call_error(provider, valid.location.as_ref(), e, &secrets)),
    };
    let status = response.status();
    let version = response.version();
    let headers = response.headers().clone();
    let body = read_answer(response, &secrets).await?;

    // The verdict: a status outside 2xx, or a 2xx the provider calls an error.
    let raw = RawResponse::from_http(provider.name(), status.as_u16(), &headers, body.clone())
        .with_sent_secrets(secrets.0.iter().map(|s| s.clone().into()).collect());
    let classified = client
        .classify_api_response(&raw)
        .map_err(|e| raw.scrub_error(e))
        .err();
    let failed = !status.is_success() || classified.is_some();
    let body = secrets.mask(&body);
    let head = args
        .include
        .then(|| head_lines(version, status, &headers, &secrets));

    // Tokens refreshed during the call (the retry) must have been saved.
    let save_failed =
        drain(&mut events).contains(&oauth_core::lifecycle::TokenEventKind::SaveFailed);

    if !(failed && ctx.json) {
        print_answer(head.as_deref(), &body, &headers, &secrets);
    }
    if save_failed {
        return Err(CliError::new(
            "store_not_writable",
            EXIT_FAILURE,
            "the access token was refreshed during the call, but the new tokens could not be \
             saved to the store",
        )
        .with_hint(
            valid
                .location
                .as_ref()
                .map_or("check that the store can be written", |l| l.write_hint()),
        ));
    }
    if !failed {
        return Ok(());
    }
    let reason = status.canonical_reason().unwrap_or("");
    let mut message = format!(
        "the {} API answered {} {reason}",
        provider.title(),
        status.as_u16()
    );
    if let Some(error) = &classified {
        message.push_str(&format!(": {}", secrets.mask_text(&error.to_string())));
    }
    let mut error = CliError::new("api_error", EXIT_API_ERROR, message.trim_end().to_owned())
        .with_provider_code(
            classified
                .as_ref()
                .and_then(|e| e.provider_code().map(str::to_owned)),
        )
        .with_json("status", json!(status.as_u16()))
        .with_json("body", masked_json(body_json(&body), &secrets));
    if let Some(head) = head {
        error = error.with_json(
            "headers",
            Value::Object(
                head.into_iter()
                    .skip(1)
                    .filter_map(|line| {
                        line.split_once(": ")
                            .map(|(n, v)| (n.to_owned(), Value::String(v.to_owned())))
                    })
                    .collect(),
            ),
        );
    }
    if status.as_u16() == 429 || status.is_server_error() {
        error = error.with_retryable();
    }
    Err(error)
}

/// The status line and the response headers (`--include`), masked.
fn head_lines(
    version: reqwest::Version,
    status: reqwest::StatusCode,
    headers: &HeaderMap,
    secrets: &Secrets,
) -> Vec<String> {
    let mut lines = vec![format!("{version:?} {status}")];
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes());
        lines.push(secrets.mask_text(&format!("{name}: {value}")));
    }
    lines
}

/// The body as a JSON value for `--json` errors: the JSON itself, else the text.
fn body_json(body: &[u8]) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

/// `value` with every secret masked once more after parsing (a `\uXXXX`-escaped echo
/// is only readable then); a value the masking would break becomes [`MASK`].
fn masked_json(value: Value, secrets: &Secrets) -> Value {
    let text = value.to_string();
    let masked = secrets.mask_text(&text);
    if masked == text {
        return value;
    }
    serde_json::from_str(&masked).unwrap_or_else(|_| Value::String(MASK.to_owned()))
}

/// Whether the answer says it is JSON.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(oauth_core::transport::classify::media_type)
        .is_some_and(|v| v == "application/json" || v.ends_with("+json"))
}

/// Prints the head (if any) and the body: on a terminal, JSON pretty-printed and any
/// text sanitized; elsewhere the exact bytes.
fn print_answer(head: Option<&[String]>, body: &[u8], headers: &HeaderMap, secrets: &Secrets) {
    for line in head.unwrap_or_default() {
        out(line);
    }
    if head.is_some() {
        out("");
    }
    let stdout = std::io::stdout();
    if stdout.is_terminal() {
        let pretty = is_json(headers)
            .then(|| serde_json::from_slice::<Value>(body).ok())
            .flatten()
            .map(|value| masked_json(value, secrets))
            .and_then(|value| serde_json::to_string_pretty(&value).ok());
        match pretty {
            Some(pretty) => out(&pretty),
            None if body.is_empty() => {}
            None => {
                let text = String::from_utf8_lossy(body);
                out(text.strip_suffix('\n').unwrap_or(&text));
            }
        }
        return;
    }
    let mut stdout = stdout.lock();
    let _ = stdout.write_all(body);
    let _ = stdout.flush();
}

/// Reads the answer's body, up to [`MAX_ANSWER_BYTES`].
async fn read_answer(
    mut response: reqwest::Response,
    secrets: &Secrets,
) -> Result<Vec<u8>, CliError> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                    return Err(CliError::failure(format!(
                        "the answer is larger than {} MiB: not printed",
                        MAX_ANSWER_BYTES / (1024 * 1024)
                    )));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => {
                return Err(CliError::failure(format!(
                    "the answer could not be read: {}",
                    describe(&e, secrets)
                ))
                .with_retryable());
            }
        }
    }
}

/// A reqwest error without its URL (AliExpress's carries the token and the signature),
/// with its causes, masked.
fn describe(error: &reqwest::Error, secrets: &Secrets) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    secrets.mask_text(&text)
}

/// A call that did not give an answer: no token, a token rejected again after the
/// refresh (exit code 3), or the transport's failure.
fn call_error(
    provider: ProviderCli,
    location: Option<&crate::location::StoreLocation>,
    error: reqwest_middleware::Error,
    secrets: &Secrets,
) -> CliError {
    let hint = provider.reauthorize_hint();
    match oauth_middleware::Error::from_middleware(&error) {
        Some(oauth_middleware::Error::OAuth(e @ Error::RejectedAfterRefresh { .. })) => {
            return CliError::new(
                "rejected_after_refresh",
                EXIT_REAUTHORIZE,
                format!(
                    "the {} API rejected the access token, and again after a refresh: {}",
                    provider.title(),
                    secrets.mask_text(&e.to_string())
                ),
            )
            .with_provider_code(e.provider_code().map(str::to_owned))
            .with_hint(format!("the grant may have been revoked: {hint}"));
        }
        Some(oauth_middleware::Error::OAuth(e)) => {
            return provider_error(provider, location, "no valid access token", e, &hint);
        }
        Some(other) => {
            return CliError::failure(format!(
                "the call was not made: {}",
                secrets.mask_text(&other.to_string())
            ));
        }
        None => {}
    }
    let text = match error {
        reqwest_middleware::Error::Reqwest(e) => {
            let e = e.without_url();
            let retryable = e.is_timeout() || e.is_connect();
            let text = describe(&e, secrets);
            if retryable {
                return CliError::failure(format!(
                    "the {} API could not be called: {text}",
                    provider.title()
                ))
                .with_retryable()
                .with_hint("this failure may be temporary: try again later");
            }
            text
        }
        other => secrets.mask_text(&other.to_string()),
    };
    CliError::failure(format!(
        "the {} API could not be called: {text}",
        provider.title()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use oauth_core::ProviderDetails;

    fn base(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn paths_stay_under_the_api_base() {
        let api = base("http://127.0.0.1:8080/ebay");
        assert_eq!(
            join_path(&api, "/sell/account/v1/privilege?x=1")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:8080/ebay/sell/account/v1/privilege?x=1"
        );
        for refused in [
            "https://evil.example/x",
            "//evil.example/x",
            "sell/account",
            "/a b",
            "/a#frag",
            "",
        ] {
            assert_eq!(join_path(&api, refused).unwrap_err().code(), 2, "{refused}");
        }
        // `..` may climb the base's path, never leave its host.
        let url = join_path(&api, "/../../x").unwrap();
        assert_eq!(url.host_str(), Some("127.0.0.1"));
        assert_eq!(url.port(), Some(8080));
    }

    #[test]
    fn aliexpress_names_become_sync_or_rest_calls() {
        use crate::commands::aliexpress::api_url;
        let api = base("http://127.0.0.1:1/aliexpress/sync");
        assert_eq!(
            api_url(&api, "aliexpress.solution.order.get")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:1/aliexpress/sync?method=aliexpress.solution.order.get"
        );
        assert_eq!(
            api_url(&api, "/order/get").unwrap().as_str(),
            "http://127.0.0.1:1/aliexpress/rest/order/get"
        );
        // A root given with --api-base-url works the same.
        assert_eq!(
            api_url(&base("https://api-sg.aliexpress.com"), "a.b")
                .unwrap()
                .as_str(),
            "https://api-sg.aliexpress.com/sync?method=a.b"
        );
        for refused in ["", "a b", "http://x/y", "order&x=1"] {
            assert!(api_url(&api, refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn arguments_are_checked_without_echoing_values() {
        assert_eq!(method_of("get").unwrap(), Method::GET);
        assert!(method_of("/path").is_err());
        let error = header_of(0, "Authorization: Bearer SENTINEL").unwrap_err();
        assert!(!error.to_string().contains("SENTINEL"));
        assert!(header_of(1, "X-EBAY-API-IAF-TOKEN:SENTINEL").is_err());
        assert!(header_of(2, "clientKey:SENTINEL").is_err());
        let error = header_of(3, "SENTINEL").unwrap_err();
        assert_eq!(
            error.to_string(),
            "--header expects NAME:VALUE; --header number 4 has no `:`"
        );
        let (name, value) = header_of(0, "X-EBAY-API-CALL-NAME: GetUser").unwrap();
        assert_eq!(
            (name.as_str(), value.to_str().unwrap()),
            ("x-ebay-api-call-name", "GetUser")
        );
        assert_eq!(
            params_of(&["a=1".into(), "b==2".into()]).unwrap(),
            [("a".into(), "1".into()), ("b".into(), "=2".into())]
        );
        assert!(
            !params_of(&["SENTINEL".into()])
                .unwrap_err()
                .to_string()
                .contains("SENTINEL")
        );
    }

    #[test]
    fn bodies_get_a_content_type() {
        assert_eq!(content_type_of(br#" {"a": 1}"#), Some("application/json"));
        assert_eq!(
            content_type_of(b"<?xml version=\"1.0\"?><A/>"),
            Some("text/xml")
        );
        assert_eq!(content_type_of(b"a=1&b=2"), None);
        assert_eq!(content_type_of(b""), None);
        assert_eq!(read_data("{\"a\":1}").unwrap(), b"{\"a\":1}");
        assert_eq!(read_data("@/nonexistent/file").unwrap_err().code(), 2);
    }

    #[test]
    fn secrets_are_masked_in_bytes_and_text() {
        let mut secrets = Secrets::default();
        secrets.add("v^1.1#token/abc");
        secrets.add("short");
        assert_eq!(
            secrets.mask(b"{\"t\":\"v^1.1#token/abc\",\"u\":\"short\"}"),
            b"{\"t\":\"[REDACTED]\",\"u\":\"short\"}"
        );
        assert_eq!(secrets.mask_text("x v^1.1#token/abc y"), "x [REDACTED] y");
        // The encoded forms a server may echo, in text and in bytes that are not UTF-8.
        for echoed in ["v^1.1#token\\/abc", "v%5E1.1%23token%2Fabc"] {
            let text = format!("{{\"t\":\"{echoed}\"}}");
            assert_eq!(
                secrets.mask_text(&text),
                "{\"t\":\"[REDACTED]\"}",
                "{echoed}"
            );
            let mut bytes = vec![0xff];
            bytes.extend_from_slice(text.as_bytes());
            let masked = secrets.mask(&bytes);
            assert!(!masked.windows(5).any(|w| w == b"token"), "{echoed}");
            assert!(masked.starts_with(&[0xff]));
        }
        assert_eq!(replace_all(b"aaa", b"aa", b"b"), b"ba");
        // Escapes only parsing reveals.
        let parsed = body_json(br#"{"t":"\u0076^1.1#token/abc","n":1}"#);
        assert_eq!(
            masked_json(parsed, &secrets),
            json!({"t": "[REDACTED]", "n": 1})
        );
    }

    #[test]
    fn a_token_rejected_after_the_refresh_is_exit_code_3() {
        let provider = ProviderCli::find("ebay").unwrap();
        let rejected = oauth_middleware::Error::OAuth(Error::RejectedAfterRefresh {
            details: ProviderDetails::new("ebay")
                .with_status(401)
                .with_code("1001"),
        });
        let error = call_error(
            provider,
            None,
            reqwest_middleware::Error::middleware(rejected),
            &Secrets::default(),
        );
        assert_eq!(error.code(), EXIT_REAUTHORIZE);
        assert_eq!(error.kind(), "rejected_after_refresh");
        let json = error.to_json();
        assert_eq!(json["error"]["provider_code"], "1001");
        assert_eq!(json["error"]["reauthorize"], true);
    }

    #[test]
    fn api_errors_carry_status_and_body_in_json() {
        let error = CliError::new("api_error", EXIT_API_ERROR, "x")
            .with_json("status", json!(404))
            .with_json("body", body_json(b"not json"));
        let json = error.to_json();
        assert_eq!(json["error"]["status"], 404);
        assert_eq!(json["error"]["body"], "not json");
        assert_eq!(json["error"]["exit_code"], 5);
        assert_eq!(body_json(br#"{"a":1}"#), json!({"a": 1}));
    }
}
