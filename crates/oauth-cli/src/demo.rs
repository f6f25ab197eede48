//! `oauth demo`: every provider's whole OAuth lifecycle against the bundled sandbox, in
//! process, with no network and no credentials.
//!
//! For each provider, in order:
//! 1. **consent**: build the authorize URL with a fresh state, GET it with a client that
//!    does not follow redirects (the sandbox consents at once and answers `302`), and
//!    parse the `Location` with [`parse_callback`] (state checked). Eshopbox custom apps
//!    have no consent: that row starts from the configured refresh token.
//! 2. **exchange**: trade the code for a token set and install it in a [`TokenManager`]
//!    (Eshopbox: the manager fetches the first token itself).
//! 3. **api call**: call the sandbox's protected API with the provider's way of carrying
//!    the token (`Authorization: Bearer`, `Access-Token` + `clientKey`, a signed
//!    AliExpress request).
//! 4. **refresh**: force a refresh through the manager; report whether the refresh token
//!    rotated (AliExpress) or was kept.
//! 5. **fault recovery**: inject one `503` on the token endpoint, then refresh until a new
//!    token comes (the HTTP client retries refresh grants that do not rotate; the manager
//!    retries the others after its backoff), and call the API with the result.
//!
//! Nothing secret is printed: the sandbox's credentials and every token stay in memory.

use std::sync::Arc;
use std::time::{Duration, Instant};

use oauth_all::{aliexpress, ebay, eshopbox, orangeconnex};
use oauth_core::http_types::{self, Method};
use oauth_core::url::Url;
use oauth_core::{
    AccessToken, AppSecret, AttachTokenExt, AuthorizationCode, AuthorizationCodeGrant, ClientKey,
    ClientSecret, CsrfState, EndpointUrl, Error, HttpClient, MemoryStore, RawResponse,
    RefreshGrant, RefreshToken, RetryPolicy, Scopes, TokenHandle, TokenManager, TokenSet,
    parse_callback,
};
use oauth_sandbox::{Fault, Provider, Sandbox};
use serde_json::{Value, json};

use crate::error::CliError;
use crate::output::{self, colour_stdout, err, green, json_out, millis, out, red};

/// The whole demo ends by itself within this time, whatever happens.
const DEMO_TIMEOUT: Duration = Duration::from_secs(60);
/// Attempts of the fault-recovery step (each one a forced refresh).
const RECOVERY_ATTEMPTS: u32 = 5;
/// Pause between recovery attempts: longer than the manager's largest backoff below.
const RECOVERY_PAUSE: Duration = Duration::from_millis(60);
/// The manager's backoff after a failed refresh (short, for the demo).
const MANAGER_BACKOFF: RetryPolicy = RetryPolicy {
    max_attempts: 3,
    base_delay: Duration::from_millis(20),
    max_delay: Duration::from_millis(50),
};
/// The token HTTP client's retries (refresh grants that do not rotate).
const HTTP_RETRY: RetryPolicy = RetryPolicy {
    max_attempts: 3,
    base_delay: Duration::from_millis(20),
    max_delay: Duration::from_millis(100),
};

/// Runs the demo and prints its table (or JSON).
///
/// # Errors
/// A failure naming every provider step that failed (after the table is printed).
pub async fn run(json: bool) -> Result<(), CliError> {
    match tokio::time::timeout(DEMO_TIMEOUT, run_all(json)).await {
        Ok(result) => result,
        Err(_) => Err(CliError::failure(format!(
            "the demo did not finish within {} s",
            DEMO_TIMEOUT.as_secs()
        ))),
    }
}

/// What the demo measured for one provider.
#[derive(Debug, Clone)]
struct Report {
    provider: Provider,
    /// How long consent took (`None` until it ran).
    consent: Option<Duration>,
    /// Whether the provider has a consent step (Eshopbox custom apps do not).
    has_consent: bool,
    exchange: Option<Duration>,
    api_call: Option<Duration>,
    refresh: Option<Duration>,
    rotated: Option<bool>,
    fault_recovery: Option<Duration>,
    fault_requests: Option<usize>,
    total: Duration,
    /// The step that failed and why.
    failure: Option<(&'static str, String)>,
}

impl Report {
    fn new(provider: Provider) -> Self {
        Self {
            provider,
            consent: None,
            has_consent: provider != Provider::Eshopbox,
            exchange: None,
            api_call: None,
            refresh: None,
            rotated: None,
            fault_recovery: None,
            fault_requests: None,
            total: Duration::ZERO,
            failure: None,
        }
    }
}

/// Shared by every provider's run.
struct Env {
    sandbox: Sandbox,
    http: HttpClient,
    web: reqwest::Client,
}

async fn run_all(json: bool) -> Result<(), CliError> {
    let sandbox = Sandbox::start()
        .await
        .map_err(|e| CliError::failure(format!("cannot start the sandbox: {e}")))?;
    let env = Env::new(sandbox)?;
    let reports = run_reports(&env).await;
    let base = env.sandbox.base_url().to_owned();
    env.sandbox.shutdown().await;
    if json {
        json_out(&reports_json(&base, &reports));
    } else {
        print_table(&base, &reports);
    }
    outcome(&reports)
}

impl Env {
    fn new(sandbox: Sandbox) -> Result<Self, CliError> {
        let http = HttpClient::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .retry_policy(HTTP_RETRY)
            .build()
            .map_err(|e| CliError::failure(format!("cannot build the HTTP client: {e}")))?;
        let web = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| {
                CliError::failure(format!("cannot build the HTTP client: {}", e.without_url()))
            })?;
        Ok(Env { sandbox, http, web })
    }
}

/// Runs every provider's lifecycle, one after the other.
async fn run_reports(env: &Env) -> Vec<Report> {
    let mut reports = Vec::with_capacity(Provider::ALL.len());
    for provider in Provider::ALL {
        reports.push(run_provider(env, provider).await);
    }
    reports
}

/// Success, or a failure naming every step that failed.
fn outcome(reports: &[Report]) -> Result<(), CliError> {
    let failures: Vec<String> = reports
        .iter()
        .filter_map(|r| {
            r.failure
                .as_ref()
                .map(|(step, why)| format!("{}: {step} failed: {why}", r.provider))
        })
        .collect();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(CliError::failure(format!(
            "the demo failed:\n{}",
            failures.join("\n")
        )))
    }
}

async fn run_provider(env: &Env, provider: Provider) -> Report {
    let mut report = Report::new(provider);
    let started = Instant::now();
    if let Err(failure) = lifecycle(env, provider, &mut report).await {
        report.failure = Some(failure);
    }
    report.total = started.elapsed();
    report
}

type Step<T> = Result<T, (&'static str, String)>;

/// Labels an error with the step it happened in.
fn at<E: std::fmt::Display>(step: &'static str) -> impl FnOnce(E) -> (&'static str, String) {
    move |error| (step, error.to_string())
}

async fn lifecycle(env: &Env, provider: Provider, report: &mut Report) -> Step<()> {
    let kit = Kit::new(env, provider).map_err(at("setup"))?;
    let manager = TokenManager::builder(kit.grant(), Arc::new(MemoryStore::new()), "demo-seller")
        .backoff(MANAGER_BACKOFF)
        .build();

    // 1 + 2. Consent and code exchange (Eshopbox: the first token from the configured
    // refresh token).
    let state = CsrfState::generate().map_err(at("consent"))?;
    match kit.authorize_url(&state) {
        Some(url) => {
            let url = url.map_err(at("consent"))?;
            let clock = Instant::now();
            let location = follow_consent(&env.web, &url)
                .await
                .map_err(at("consent"))?;
            let callback = parse_callback(&location, &state).map_err(at("consent"))?;
            report.consent = Some(clock.elapsed());
            let clock = Instant::now();
            let tokens = kit.exchange(&callback.code).await.map_err(at("exchange"))?;
            manager.install(tokens).await.map_err(at("exchange"))?;
            report.exchange = Some(clock.elapsed());
        }
        None => {
            let clock = Instant::now();
            manager.access_token().await.map_err(at("exchange"))?;
            report.exchange = Some(clock.elapsed());
        }
    }

    // 3. The protected API.
    let first = manager.access_token().await.map_err(at("api call"))?;
    let clock = Instant::now();
    kit.call_api(env, first.access_token())
        .await
        .map_err(at("api call"))?;
    report.api_call = Some(clock.elapsed());

    // 4. Refresh.
    let clock = Instant::now();
    let refreshed = manager.force_refresh().await.map_err(at("refresh"))?;
    if refreshed.same_as(&first) {
        return Err((
            "refresh",
            "the refresh did not issue a new token".to_owned(),
        ));
    }
    report.refresh = Some(clock.elapsed());
    report.rotated = Some(rotated(first.token_set(), refreshed.token_set()));

    // 5. One injected 503 on the token endpoint, then recovery.
    let before = env.sandbox.token_requests(provider);
    env.sandbox.inject(provider, Fault::ServerError(503), 1);
    let clock = Instant::now();
    let recovered = recover(&manager, &refreshed).await?;
    report.fault_recovery = Some(clock.elapsed());
    report.fault_requests = Some(env.sandbox.token_requests(provider).saturating_sub(before));
    kit.call_api(env, recovered.access_token())
        .await
        .map_err(at("api call after recovery"))?;
    Ok(())
}

/// Whether a refresh replaced the refresh token.
fn rotated(before: &TokenSet, after: &TokenSet) -> bool {
    after.refresh_token.is_some() && after.refresh_token != before.refresh_token
}

/// Forces refreshes until one issues a new token. While a refresh fails and the old token
/// is still valid, the manager keeps serving the old one and waits for its backoff before
/// asking again.
async fn recover(manager: &TokenManager, old: &TokenHandle) -> Step<TokenHandle> {
    let mut last = String::from("no attempt made");
    for attempt in 1..=RECOVERY_ATTEMPTS {
        match manager.force_refresh().await {
            Ok(handle) if !handle.same_as(old) => return Ok(handle),
            Ok(_) => last = "the refresh failed; the old token is still served".to_owned(),
            Err(error) if error.is_retryable() => last = error.to_string(),
            Err(error) => return Err(("fault recovery", error.to_string())),
        }
        if attempt < RECOVERY_ATTEMPTS {
            tokio::time::sleep(RECOVERY_PAUSE).await;
        }
    }
    Err((
        "fault recovery",
        format!("no new token after {RECOVERY_ATTEMPTS} attempts: {last}"),
    ))
}

/// GETs the authorize URL without following the redirect and returns the absolute
/// `Location` (the callback URL with `code` and `state`). Errors never carry a URL.
async fn follow_consent(web: &reqwest::Client, url: &Url) -> Result<String, String> {
    let response = web
        .get(url.as_str())
        .send()
        .await
        .map_err(|e| format!("the consent page did not answer: {}", e.without_url()))?;
    let status = response.status().as_u16();
    if !matches!(status, 302 | 303 | 307) {
        return Err(format!(
            "the consent page answered HTTP {status} instead of a redirect"
        ));
    }
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or("the consent redirect has no Location")?;
    url.join(location)
        .map(String::from)
        .map_err(|_| "the consent redirect's Location is not a URL".to_owned())
}

/// Sends an `http::Request` with reqwest; returns the status, content type and body.
async fn send(
    web: &reqwest::Client,
    request: http_types::Request<Vec<u8>>,
) -> Result<(u16, Option<String>, Vec<u8>), String> {
    let request = reqwest::Request::try_from(request)
        .map_err(|e| format!("cannot build the API request: {}", e.without_url()))?;
    let response = web
        .execute(request)
        .await
        .map_err(|e| format!("the API did not answer: {}", e.without_url()))?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response
        .bytes()
        .await
        .map_err(|e| format!("the API answer was cut: {}", e.without_url()))?;
    Ok((status, content_type, body.to_vec()))
}

/// One provider's client, configured for the sandbox.
enum Kit {
    Ebay(ebay::Client),
    AliExpress(aliexpress::Client),
    OrangeConnex(orangeconnex::Client),
    Eshopbox(eshopbox::Client),
}

impl Kit {
    fn new(env: &Env, provider: Provider) -> Result<Self, Error> {
        let sandbox = &env.sandbox;
        let creds = sandbox.credentials();
        Ok(match provider {
            Provider::Ebay => Kit::Ebay(
                ebay::Client::builder(
                    ebay::Ebay::new(
                        creds.ebay.client_id.as_str(),
                        ClientSecret::new(creds.ebay.client_secret.as_str()),
                    )
                    .ru_name(creds.ebay.ru_name.as_str())
                    .scopes(Scopes::from([
                        ebay::API_SCOPE,
                        "https://api.ebay.com/oauth/api_scope/sell.account",
                    ])),
                )
                .environment(ebay::Environment::custom(&sandbox.ebay_base_url())?)
                .http_client(env.http.clone())
                .build()?,
            ),
            Provider::AliExpress => Kit::AliExpress(
                aliexpress::Client::builder(
                    aliexpress::AliExpress::new(
                        creds.aliexpress.app_key.as_str(),
                        AppSecret::new(creds.aliexpress.app_secret.as_str()),
                    )
                    .redirect_uri(creds.aliexpress.redirect_uri.as_str()),
                )
                .environment(aliexpress::Environment::custom(
                    &sandbox.aliexpress_base_url(),
                )?)
                .http_client(env.http.clone())
                .build()?,
            ),
            Provider::OrangeConnex => {
                let mut settings = orangeconnex::OrangeConnex::new(
                    creds.orangeconnex.client_id.as_str(),
                    creds.orangeconnex.redirect_uri.as_str(),
                );
                if let Some(key) = &creds.orangeconnex.client_key {
                    settings = settings.client_key(ClientKey::new(key.as_str()));
                }
                Kit::OrangeConnex(
                    orangeconnex::Client::builder(settings)
                        .environment(orangeconnex::Environment::Custom(EndpointUrl::parse(
                            &sandbox.orangeconnex_base_url(),
                        )?))
                        .http_client(env.http.clone())
                        .build()?,
                )
            }
            _ => Kit::Eshopbox(
                eshopbox::Client::builder(eshopbox::Eshopbox::new(
                    creds.eshopbox.client_id.as_str(),
                    ClientSecret::new(creds.eshopbox.client_secret.as_str()),
                    RefreshToken::new(creds.eshopbox.refresh_token.as_str()),
                ))
                .environment(eshopbox::Environment::custom(&sandbox.eshopbox_base_url())?)
                .http_client(env.http.clone())
                .build()?,
            ),
        })
    }

    fn grant(&self) -> Arc<dyn RefreshGrant> {
        match self {
            Kit::Ebay(client) => Arc::new(client.clone()),
            Kit::AliExpress(client) => Arc::new(client.clone()),
            Kit::OrangeConnex(client) => Arc::new(client.clone()),
            Kit::Eshopbox(client) => Arc::new(client.clone()),
        }
    }

    /// The authorize URL, or `None` when the provider has no consent step.
    fn authorize_url(&self, state: &CsrfState) -> Option<Result<Url, Error>> {
        match self {
            Kit::Ebay(client) => Some(client.authorize_url(state)),
            Kit::AliExpress(client) => Some(client.authorize_url(state)),
            Kit::OrangeConnex(client) => Some(client.authorize_url(state)),
            Kit::Eshopbox(_) => None,
        }
    }

    /// The code exchange, as the token set the lifecycle keeps.
    async fn exchange(&self, code: &AuthorizationCode) -> Result<TokenSet, Error> {
        match self {
            Kit::Ebay(client) => AuthorizationCodeGrant::exchange_code(client, code).await,
            Kit::AliExpress(client) => AuthorizationCodeGrant::exchange_code(client, code).await,
            Kit::OrangeConnex(client) => AuthorizationCodeGrant::exchange_code(client, code).await,
            Kit::Eshopbox(_) => Err(Error::configuration(
                "Eshopbox custom apps have no authorization code",
            )),
        }
    }

    /// Calls the sandbox's protected API with `token`, carried the provider's way.
    async fn call_api(&self, env: &Env, token: &AccessToken) -> Result<(), String> {
        let sandbox = &env.sandbox;
        let get = |url: String| {
            http_types::Request::builder()
                .method(Method::GET)
                .uri(url)
                .body(Vec::new())
                .map_err(|_| "cannot build the API request".to_owned())
        };
        let (provider, request) = match self {
            Kit::Ebay(_) => {
                let mut request = get(format!(
                    "{}/sell/account/v1/privilege",
                    sandbox.ebay_base_url()
                ))?;
                ebay::ApiAuth::Rest
                    .attach_to(token, &mut request)
                    .map_err(|e| e.to_string())?;
                (ebay::PROVIDER, request)
            }
            Kit::AliExpress(client) => {
                let signed = aliexpress::ApiRequest::new("/order/get")
                    .param("order_id", "1234")
                    .sign(client, token)
                    .map_err(|e| e.to_string())?;
                let request = signed.into_http_request().map_err(|e| e.to_string())?;
                (aliexpress::PROVIDER, request)
            }
            Kit::OrangeConnex(client) => {
                let mut request = get(format!(
                    "{}/openapi/3pp/sku/v3/list",
                    sandbox.orangeconnex_base_url()
                ))?;
                client
                    .attachment()
                    .attach_to(token, &mut request)
                    .map_err(|e| e.to_string())?;
                (orangeconnex::PROVIDER, request)
            }
            Kit::Eshopbox(_) => {
                let mut request = get(format!("{}/api/v1/me", sandbox.eshopbox_base_url()))?;
                eshopbox::ApiAuth
                    .attach_to(token, &mut request)
                    .map_err(|e| e.to_string())?;
                (eshopbox::PROVIDER, request)
            }
        };
        let (status, content_type, body) = send(&env.web, request).await?;
        if let Kit::AliExpress(_) = self {
            // IOP answers errors with HTTP 200 and a `code`.
            let response = RawResponse::new(provider, status, content_type.as_deref(), body);
            return aliexpress::classify_api_response(&response).map_err(|e| e.to_string());
        }
        if status == 200 {
            Ok(())
        } else {
            Err(format!("the API answered HTTP {status}"))
        }
    }
}

fn ms_cell(duration: Option<Duration>) -> String {
    duration.map_or_else(|| "-".to_owned(), millis)
}

fn print_table(base: &str, reports: &[Report]) {
    let colour = colour_stdout();
    out(&format!(
        "oauth demo: the whole OAuth lifecycle of every provider against the local sandbox at {base}"
    ));
    out("(in process: no network, no credentials; times in milliseconds)");
    out("");
    let rows = table_rows(reports, colour);
    output::out_styled(&output::table(
        &[
            "provider",
            "consent",
            "exchange",
            "api call",
            "refresh",
            "503 recovery",
            "total",
            "result",
        ],
        &rows,
    ));
    out("");
    out("consent:      authorize URL -> simulated consent (302) -> callback parsed, state checked");
    out(
        "refresh:      rotated = a new refresh token replaced the old one; kept = the same one stays valid",
    );
    out(
        "503 recovery: one HTTP 503 injected on the token endpoint, then refreshed until a new token works on the API",
    );
    let ok = reports.iter().filter(|r| r.failure.is_none()).count();
    if ok == reports.len() {
        out(&format!("all {ok} providers OK"));
    } else {
        err(&format!("{ok} of {} providers OK", reports.len()));
    }
}

/// One table row per report: provider, consent, exchange, api call, refresh, 503
/// recovery, total, result.
fn table_rows(reports: &[Report], colour: bool) -> Vec<Vec<String>> {
    reports
        .iter()
        .map(|r| {
            let consent = if r.has_consent {
                ms_cell(r.consent)
            } else {
                "none: custom app".to_owned()
            };
            let exchange = match (r.has_consent, r.exchange) {
                (false, Some(d)) => format!("{} (from refresh token)", millis(d)),
                (_, d) => ms_cell(d),
            };
            let refresh = match (r.refresh, r.rotated) {
                (Some(d), Some(true)) => format!("{} (rotated)", millis(d)),
                (Some(d), _) => format!("{} (kept)", millis(d)),
                (None, _) => "-".to_owned(),
            };
            let fault = match (r.fault_recovery, r.fault_requests) {
                (Some(d), Some(n)) => format!("{} ({n} requests)", millis(d)),
                (d, _) => ms_cell(d),
            };
            let result = match &r.failure {
                None => green("OK", colour),
                Some((step, _)) => red(&format!("FAILED at {step}"), colour),
            };
            vec![
                r.provider.to_string(),
                consent,
                exchange,
                ms_cell(r.api_call),
                refresh,
                fault,
                millis(r.total),
                result,
            ]
        })
        .collect()
}

fn reports_json(base: &str, reports: &[Report]) -> Value {
    let ms = |d: Option<Duration>| d.map(|d| (d.as_secs_f64() * 10_000.0).round() / 10.0);
    let providers: Vec<Value> = reports
        .iter()
        .map(|r| {
            json!({
                "provider": r.provider.to_string(),
                "ok": r.failure.is_none(),
                "consent": if r.has_consent { "simulated" } else { "none (custom app: starts from the configured refresh token)" },
                "consent_ms": ms(r.consent),
                "exchange_ms": ms(r.exchange),
                "api_call_ms": ms(r.api_call),
                "refresh_ms": ms(r.refresh),
                "refresh_token_rotated": r.rotated,
                "fault_recovery_ms": ms(r.fault_recovery),
                "fault_token_requests": r.fault_requests,
                "total_ms": ms(Some(r.total)),
                "failed_step": r.failure.as_ref().map(|(step, _)| *step),
                "error": r.failure.as_ref().map(|(_, why)| why.as_str()),
            })
        })
        .collect();
    json!({
        "sandbox": base,
        "ok": reports.iter().all(|r| r.failure.is_none()),
        "providers": providers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn reports_with(configure: impl FnOnce(&Sandbox)) -> Vec<Report> {
        let sandbox = Sandbox::start().await.unwrap();
        configure(&sandbox);
        let env = Env::new(sandbox).unwrap();
        let reports = run_reports(&env).await;
        env.sandbox.shutdown().await;
        reports
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_provider_passes_every_step() {
        let reports = reports_with(|_| {}).await;
        assert!(outcome(&reports).is_ok());
        let rotated: Vec<Option<bool>> = reports.iter().map(|r| r.rotated).collect();
        assert_eq!(rotated, [Some(false), Some(true), Some(false), Some(false)]);
        for report in &reports {
            assert_eq!(report.failure, None, "{report:?}");
            assert_eq!(report.fault_requests, Some(2), "{report:?}");
            assert_eq!(report.consent.is_some(), report.has_consent);
            assert!(report.exchange.is_some() && report.api_call.is_some());
            assert!(report.refresh.is_some() && report.fault_recovery.is_some());
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_step_is_named_and_fails_the_demo() {
        let reports = reports_with(|sandbox| {
            sandbox.deny_consent(Provider::OrangeConnex, true);
            sandbox.revoke(Provider::Eshopbox);
        })
        .await;
        let failures: Vec<Option<&str>> = reports
            .iter()
            .map(|r| r.failure.as_ref().map(|(step, _)| *step))
            .collect();
        assert_eq!(failures, [None, None, Some("consent"), Some("exchange")]);
        let Some((_, why)) = &reports[2].failure else {
            panic!("OrangeConnex should fail");
        };
        assert_eq!(
            why,
            "the provider returned `access_denied`: User denied access"
        );
        let error = outcome(&reports).unwrap_err();
        assert_eq!(error.code(), crate::error::EXIT_FAILURE);
        let text = error.to_string();
        assert!(
            text.starts_with("the demo failed:\nOrangeConnex: consent failed: the provider returned `access_denied`"),
            "{text}"
        );
        assert!(
            text.contains("\nEshopbox: exchange failed: re-authorization required"),
            "{text}"
        );
        let rows = table_rows(&reports, false);
        assert_eq!(rows[2][7], "FAILED at consent");
        assert_eq!(rows[2][2], "-");
        assert_eq!(rows[3][7], "FAILED at exchange");
        assert_eq!(rows[0][7], "OK");
        let json = reports_json("http://127.0.0.1:1", &reports);
        assert_eq!(json["ok"], false);
        assert_eq!(json["providers"][3]["failed_step"], "exchange");
        assert_eq!(json["providers"][0]["failed_step"], Value::Null);
    }

    #[test]
    fn colour_only_when_asked() {
        assert_eq!(green("OK", false), "OK");
        assert_eq!(green("OK", true), "\u{1b}[32mOK\u{1b}[0m");
    }
}
