//! `oauth <provider> login`: the connect flow of `oauth-connect` once, on a loopback
//! listener. It prints the URL to open (and opens the browser), waits for the
//! provider's callback, and saves the tokens to `--store` for `--account`.
//!
//! The listener: the host and port of the provider's redirect URI setting when that is
//! a loopback URL (its path must end in `/callback/<provider>`; the router is mounted
//! at what comes before), else `--listen` (default `127.0.0.1:0`), whose callback URL
//! then becomes the redirect URI (eBay: the RuName's auth accepted URL must point at
//! it). Only a connect for `--account` of this provider is allowed, and the status
//! page is refused; a request whose `Host` is not the listener's `HOST:PORT` is
//! refused (403), against DNS rebinding.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use clap::Args;
use oauth_connect::{Action, Connect, authorize_fn};
use oauth_core::url::Url;
use oauth_core::{AccountKey, TokenPool};
use serde_json::json;
use tokio::sync::{mpsc, oneshot};

use super::listen::{
    REDIRECT_URI, addressed_to, bind, callback_note, is_loopback_url, mount, use_callback,
};
use super::{Context, check_token_file, ensure_writable, load, print_saved};
use crate::error::{CliError, EXIT_FAILURE, EXIT_REAUTHORIZE};
use crate::output::{err, out};
use crate::settings::{ProviderCli, ProviderSettings, Purpose, config_error};

/// The default `--listen`: a free port on the IPv4 loopback.
const DEFAULT_LISTEN: &str = "127.0.0.1:0";

/// Arguments of `login`.
#[derive(Debug, Clone, Args)]
pub struct LoginArgs {
    /// Where to listen for the provider's callback [default: the host and port of the
    /// provider's redirect URI setting when it is a loopback URL, else 127.0.0.1:0, a
    /// free port]. The provider must send the seller back to the callback URL printed
    /// at start (eBay: the RuName's auth accepted URL).
    #[arg(long, value_name = "HOST:PORT")]
    pub listen: Option<String>,
    /// How long to wait for the consent, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub timeout: u64,
    /// Print the URL to open, but do not open a browser.
    #[arg(long)]
    pub no_browser: bool,
}

/// How a callback ended, as the router's result page says (`data-outcome`).
#[derive(Debug)]
struct Outcome {
    outcome: String,
    /// The callback carried `error=access_denied`.
    denied: bool,
}

/// What the middleware around the router needs.
#[derive(Clone)]
struct Watch {
    callback_path: String,
    outcomes: mpsc::UnboundedSender<Outcome>,
}

/// Runs `oauth <provider> login`.
///
/// # Errors
/// Usage and configuration errors (exit 2); a declined consent (exit 3); a timeout,
/// a failed exchange or save (exit 1).
pub async fn run(
    ctx: &Context,
    provider: ProviderCli,
    mut settings: ProviderSettings,
    args: &LoginArgs,
) -> Result<(), CliError> {
    let name = provider.name();
    let location = ctx.require_store(name, "login")?;
    check_token_file(location, false, name)?;
    let (listen, base_path) = plan(provider, &settings, args.listen.as_deref())?;
    let listener = bind(&listen).await?;
    let local = listener
        .local_addr()
        .map_err(|e| CliError::failure(format!("cannot read the listener's address: {e}")))?;
    if !local.ip().is_loopback() {
        return Err(CliError::usage(format!(
            "`oauth {name} login` listens on a loopback address only (--listen 127.0.0.1:PORT)"
        )));
    }
    let public_base = format!("http://{local}{base_path}");
    let callback = format!("{public_base}/callback/{name}");
    use_callback(&mut settings, &callback)?;
    let client = settings.client(Purpose::Tokens)?;
    let store = ctx.open_store(location).await?;
    let key = AccountKey::new(name, ctx.account.as_str());
    load(store.as_ref(), &key).await?;
    ensure_writable(store.as_ref(), location, "nothing was started").await?;

    let pool = TokenPool::builder(client.clone(), Arc::clone(&store)).build();
    let account = ctx.account.clone();
    let hook = authorize_fn(move |_, action| {
        matches!(action, Action::Connect { provider, account: wanted }
            if *provider == name && *wanted == account)
    });
    let connect = Connect::builder(public_base.as_str(), hook)
        .pool(client, pool)
        .token_store(Arc::clone(&store))
        .build()
        .map_err(config_error(provider.title()))?;
    let (outcomes, mut results) = mpsc::unbounded_channel();
    let watch = Watch {
        callback_path: format!("{base_path}/callback/{name}"),
        outcomes,
    };
    let public = Url::parse(&public_base)
        .map_err(|_| CliError::failure(format!("{public_base} is not a URL")))?;
    let router = mount(connect.router(), &base_path)
        .layer(axum::middleware::from_fn_with_state(watch, watch_callback))
        .layer(axum::middleware::from_fn_with_state(public, only_addressed));
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .into_future(),
    );

    let mut url = format!("{public_base}/connect/{name}?account=");
    url.extend(oauth_core::url::form_urlencoded::byte_serialize(
        ctx.account.as_bytes(),
    ));
    if ctx.json {
        // One line, to be read before the login ends; the result follows (pretty).
        out(&json!({
            "provider": name,
            "account": ctx.account,
            "url": url,
            "callback_url": callback,
        })
        .to_string());
    } else {
        out(&url);
    }
    err(&format!(
        "open the URL above in a browser and consent; waiting up to {} s for the callback",
        args.timeout
    ));
    err(&callback_note(provider, &callback));
    if !args.no_browser {
        open_browser(&url);
    }

    let waited = tokio::time::timeout(Duration::from_secs(args.timeout), async {
        loop {
            tokio::select! {
                outcome = results.recv() => match outcome {
                    Some(outcome) if ends_login(&outcome) => return Ok(outcome),
                    Some(outcome) => err(&format!(
                        "a callback without this login's cookie was refused ({}); still waiting",
                        outcome.outcome
                    )),
                    None => return Err(CliError::failure("the callback listener stopped")),
                },
                _ = tokio::signal::ctrl_c() => {
                    return Err(CliError::failure("interrupted: nothing was stored"));
                }
            }
        }
    })
    .await;
    let _ = stop.send(());
    // The result page is being sent: give it a moment, not forever.
    let _ = tokio::time::timeout(Duration::from_secs(2), server).await;
    let outcome = match waited {
        Ok(result) => result?,
        Err(_) => {
            return Err(CliError::new(
                "timeout",
                EXIT_FAILURE,
                format!("no callback within {} s: nothing was stored", args.timeout),
            )
            .with_hint(format!(
                "check that {callback} is where {} sends the seller back, then run `oauth \
                 {name} login` again (--timeout SECS to wait longer)",
                provider.title()
            )));
        }
    };
    finish(ctx, provider, location, &key, store.as_ref(), &outcome).await
}

/// The address to listen on and the router's path: from a loopback redirect URI
/// setting, else from `--listen`.
fn plan(
    provider: ProviderCli,
    settings: &ProviderSettings,
    listen: Option<&str>,
) -> Result<(String, String), CliError> {
    let name = provider.name();
    let var = provider.env_var(REDIRECT_URI);
    let given = settings
        .get(REDIRECT_URI)
        .filter(|_| provider.setting(REDIRECT_URI).is_some());
    let Some(given) = given else {
        return Ok((listen.unwrap_or(DEFAULT_LISTEN).to_owned(), String::new()));
    };
    let url = Url::parse(given).map_err(|_| {
        CliError::configuration(format!(
            "the {} redirect URI ({var}) is not a URL",
            provider.title()
        ))
    })?;
    if !is_loopback_url(&url) {
        return Err(CliError::configuration(format!(
            "`oauth {name} login` receives the callback on this machine: the redirect URI \
             ({var}) must be a loopback URL such as http://127.0.0.1:8400/callback/{name} \
             (registered with {}), or unset",
            provider.title()
        ))
        .with_hint(format!(
            "or use `oauth {name} authorize-url` and `oauth {name} exchange`"
        )));
    }
    let suffix = format!("/callback/{name}");
    let path = url.path().trim_end_matches('/');
    let Some(base_path) = path.strip_suffix(&suffix) else {
        return Err(CliError::configuration(format!(
            "the redirect URI ({var}) must end in {suffix} for `oauth {name} login`"
        )));
    };
    let host = url.host_str().unwrap_or("127.0.0.1");
    let port = url.port_or_known_default().unwrap_or(80);
    let address = format!("{host}:{port}");
    if let Some(listen) = listen
        && listen != address
    {
        return Err(CliError::usage(format!(
            "--listen {listen} differs from the redirect URI's {address} ({var}): give one \
             of them"
        )));
    }
    Ok((address, base_path.to_owned()))
}

/// Whether a callback's outcome ends the login: everything but a request this login's
/// browser did not make (no cookie, or an unknown connect).
fn ends_login(outcome: &Outcome) -> bool {
    !matches!(outcome.outcome.as_str(), "missing-cookie" | "unknown-state")
}

/// The result of the login, printed.
async fn finish(
    ctx: &Context,
    provider: ProviderCli,
    location: &crate::location::StoreLocation,
    key: &AccountKey,
    store: &dyn oauth_core::TokenStore,
    outcome: &Outcome,
) -> Result<(), CliError> {
    let name = provider.name();
    let title = provider.title();
    match outcome.outcome.as_str() {
        "connected" => {
            let Some(stored) = load(store, key).await? else {
                return Err(CliError::failure(format!(
                    "{title} connected the account, but its tokens are not in {location}"
                )));
            };
            print_saved(ctx, name, "login", location, &stored.tokens, None);
            Ok(())
        }
        _ if outcome.denied || outcome.outcome == "denied" => Err(CliError::new(
            "consent_declined",
            EXIT_REAUTHORIZE,
            format!("the consent was declined at {title}: nothing was stored"),
        )
        .with_hint(format!("run `oauth {name} login` again and agree"))),
        "exchange-failed" => Err(CliError::failure(format!(
            "{title} did not give tokens for the code: nothing was stored"
        ))
        .with_hint(format!(
            "check {}, then run `oauth {name} login` again",
            provider.credentials_hint()
        ))),
        "server-error" => Err(CliError::failure(format!(
            "the tokens could not be saved to {location}"
        ))
        .with_hint(location.write_hint())),
        other => Err(CliError::failure(format!(
            "the callback from {title} was refused ({other}): nothing was stored"
        ))
        .with_hint(format!("run `oauth {name} login` again"))),
    }
}

/// Refuses (403) every request not addressed to the listener's `HOST:PORT` (`Host`): a
/// page whose name was rebound to the loopback address (DNS rebinding) sends its own.
async fn only_addressed(State(public): State<Url>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    if !addressed_to(&parts, &public) {
        let mut refused = Response::new(Body::from("Forbidden: wrong Host\n"));
        *refused.status_mut() = axum::http::StatusCode::FORBIDDEN;
        return refused;
    }
    next.run(Request::from_parts(parts, body)).await
}

/// Observes the callback's result page (its `data-outcome`) and reports it.
async fn watch_callback(State(watch): State<Watch>, request: Request, next: Next) -> Response {
    if request.uri().path() != watch.callback_path {
        return next.run(request).await;
    }
    let denied = oauth_core::url::form_urlencoded::parse(
        request.uri().query().unwrap_or_default().as_bytes(),
    )
    .any(|(name, value)| name == "error" && value == "access_denied");
    let response = next.run(request).await;
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let page = String::from_utf8_lossy(&bytes);
    let outcome = outcome_of(&page).unwrap_or("unknown").to_owned();
    let _ = watch.outcomes.send(Outcome { outcome, denied });
    Response::from_parts(parts, Body::from(bytes))
}

/// The `data-outcome` of a result page.
fn outcome_of(page: &str) -> Option<&str> {
    let start = page.find("data-outcome=\"")? + "data-outcome=\"".len();
    let len = page.get(start..)?.find('"')?;
    page.get(start..start + len)
}

/// Opens `url` in the browser (`xdg-open`, `open` on macOS), if there is one; a
/// missing opener is no error (the URL is printed).
fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let spawned = std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if let Ok(mut child) = spawned {
        std::thread::spawn(move || child.wait());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_are_read_from_the_page() {
        let page = "<p id=\"result\" data-outcome=\"denied\">Consent was declined</p>";
        assert_eq!(outcome_of(page), Some("denied"));
        assert_eq!(outcome_of("<p>nothing</p>"), None);
    }
}
