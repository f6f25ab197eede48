//! `oauth serve`: the connect router of `oauth-connect` with its status page, for local
//! use and small deployments. Every provider of the registry that has a consent step
//! and whose settings are given (`--<provider>-<setting>` or `OAUTH_<PROVIDER>_<KEY>`)
//! is served, through a [`TokenPool`] per provider on `--store` (accounts loaded at
//! start and refreshed ahead of expiry while serving).
//!
//! Who may connect and see the status page: when both the listener and the public URL
//! are loopback, anyone on this machine whose request is addressed to the public URL's
//! host and port (`Host`; DNS rebinding is refused); otherwise (another address, or a
//! loopback listener behind a reverse proxy with a public URL) only requests with
//! `Authorization: Bearer <token>`, the token read from `--admin-token-file` (never
//! printed). Browsers do not send that header: a reverse proxy (or another client)
//! must add it.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Arg, ArgMatches, Args};
use oauth_connect::{Connect, authorize_fn};
use oauth_core::TokenPool;
use oauth_core::url::Url;
use serde_json::json;

use super::listen::{
    addressed_to, bind, callback_note, has_loopback_host, is_loopback_url, mount, use_callback,
};
use super::{Context, check_token_file};
use crate::error::{CliError, Hints};
use crate::output::{err, json_out, out};
use crate::settings::{BASE_URL, ENVIRONMENT, ProviderCli, ProviderSettings, Purpose};

/// The shortest admin token accepted.
const MIN_ADMIN_TOKEN_LEN: usize = 16;

/// Arguments of `serve` (the providers' settings are added by [`with_provider_args`]).
#[derive(Args)]
pub struct ServeArgs {
    /// Where to listen. A non-loopback address (or a non-loopback --public-url) needs
    /// --admin-token-file.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// The URL the server is reached at by browsers and providers [default:
    /// http://LISTEN, the --listen address]; the callback URLs are under it. HTTPS, or plain HTTP on a
    /// loopback host.
    #[arg(long, env = "OAUTH_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// A file holding the bearer token every connect and status request must carry
    /// (`Authorization: Bearer <token>`, at least 16 characters); required unless both
    /// --listen and --public-url are loopback. Never printed. Browsers do not send this
    /// header: a reverse proxy in front (or another client) must add it.
    #[arg(long, env = "OAUTH_ADMIN_TOKEN_FILE", value_name = "FILE")]
    pub admin_token_file: Option<PathBuf>,
    /// The providers' settings, read from the flags and variables.
    #[arg(skip)]
    pub settings: Vec<ProviderSettings>,
}

/// The providers `serve` can serve: those with a consent step.
fn consent_providers() -> impl Iterator<Item = ProviderCli> {
    ProviderCli::all().filter(ProviderCli::needs_consent)
}

/// The id of `serve`'s flag for the provider's `key`.
fn arg_id(provider: ProviderCli, key: &str) -> String {
    format!("{}_{key}", provider.name())
}

/// Adds every consent provider's settings to `serve`, as `--<provider>-<setting>` (with
/// the same `OAUTH_<PROVIDER>_<KEY>` variables as the provider's own commands).
pub fn with_provider_args(mut command: clap::Command) -> clap::Command {
    for provider in consent_providers() {
        let keys = provider
            .entry
            .settings
            .iter()
            .map(|s| (s.key, s.help.to_owned()))
            .chain([
                (
                    ENVIRONMENT,
                    format!(
                        "{} environment: `sandbox` or `production`.",
                        provider.title()
                    ),
                ),
                (
                    BASE_URL,
                    format!("One base URL for every {} host.", provider.title()),
                ),
            ]);
        for (key, help) in keys {
            command = command.arg(
                Arg::new(arg_id(provider, key))
                    .long(format!("{}-{}", provider.name(), key.replace('_', "-")))
                    .env(provider.env_var(key))
                    .value_name(key.to_ascii_uppercase())
                    .hide_env_values(true)
                    .help_heading(provider.title())
                    .help(help),
            );
        }
    }
    command
}

/// Reads the providers' settings of `serve` from its matches.
pub fn read_settings(matches: &ArgMatches) -> Vec<ProviderSettings> {
    consent_providers()
        .map(|provider| {
            ProviderSettings::from_lookup(provider, &|key| {
                matches
                    .try_get_one::<String>(&arg_id(provider, key))
                    .ok()
                    .flatten()
                    .cloned()
            })
        })
        .collect()
}

/// Runs `oauth serve` until Ctrl-C or SIGTERM.
///
/// # Errors
/// Usage and configuration errors (exit 2), a store or listener failure (exit 1).
pub async fn run(ctx: &Context, args: ServeArgs) -> Result<(), CliError> {
    let location = ctx.store.as_ref().ok_or_else(|| {
        CliError::usage(
            "`oauth serve` needs a token store: pass --store FILE|URL (or set OAUTH_STORE)",
        )
    })?;
    check_token_file(location, false, "serve")?;
    let admin_token = match &args.admin_token_file {
        Some(path) => Some(read_admin_token(path)?),
        None => None,
    };
    let listener = bind(&args.listen).await?;
    let local = listener
        .local_addr()
        .map_err(|e| CliError::failure(format!("cannot read the listener's address: {e}")))?;
    let public = match &args.public_url {
        Some(text) => Url::parse(text.trim()).map_err(|_| {
            CliError::configuration("--public-url (OAUTH_PUBLIC_URL) is not an absolute URL")
        })?,
        None => Url::parse(&format!("http://{local}"))
            .map_err(|_| CliError::failure(format!("http://{local} is not a URL")))?,
    };
    // Behind a reverse proxy the listener is loopback but the server is public: only
    // both loopback is a local-only server.
    let local_only = local.ip().is_loopback() && has_loopback_host(&public);
    if !local_only && admin_token.is_none() {
        let what = if local.ip().is_loopback() {
            format!(
                "--public-url {} is not a loopback URL (the server is reachable from other \
                 machines through it)",
                public.as_str().trim_end_matches('/')
            )
        } else {
            format!("--listen {} is not a loopback address", args.listen)
        };
        return Err(CliError::usage(format!(
            "{what}: give the operators' bearer token with --admin-token-file FILE (or \
             OAUTH_ADMIN_TOKEN_FILE)"
        )));
    }
    if public.scheme() != "https" && !is_loopback_url(&public) {
        return Err(CliError::configuration(
            "--public-url must be https (plain http only on a loopback host)",
        ));
    }
    let public_base = public.as_str().trim_end_matches('/').to_owned();
    let base_path = public.path().trim_end_matches('/').to_owned();

    let store = ctx.open_store(location).await?;
    let addressed = public.clone();
    let hook = authorize_fn(move |request, _| match &admin_token {
        // Local only: anyone on this machine, but only through the public URL's host
        // and port (a page whose name was rebound to 127.0.0.1 sends its own).
        None => addressed_to(request, &addressed),
        Some(token) => bearer_matches(request, token),
    });
    let mut builder = Connect::builder(public_base.as_str(), hook);
    let mut served = Vec::new();
    let mut skipped = Vec::new();
    let mut refreshers = Vec::new();
    for mut settings in args.settings {
        let provider = settings.provider;
        if !settings.any_given() {
            skipped.push(provider);
            continue;
        }
        let callback = format!("{public_base}/callback/{}", provider.name());
        use_callback(&mut settings, &callback)?;
        let client = settings.client(Purpose::Tokens)?;
        let pool = TokenPool::builder(client.clone(), Arc::clone(&store)).build();
        pool.load_accounts()
            .await
            .map_err(|e| CliError::from_provider("cannot read the token store", &e, Hints::NONE))?;
        refreshers.push(pool.start_background_refresh());
        builder = builder.pool(client, pool);
        served.push((provider, callback));
    }
    if served.is_empty() {
        return Err(CliError::configuration(
            "no provider to serve: give the settings of at least one (e.g. \
             OAUTH_EBAY_CLIENT_ID, OAUTH_EBAY_CLIENT_SECRET, OAUTH_EBAY_RU_NAME)",
        ));
    }
    let connect = builder
        .token_store(Arc::clone(&store))
        .build()
        .map_err(|e| CliError::configuration(format!("cannot start the connect router: {e}")))?;
    let router = mount(connect.router(), &base_path);
    print_start(ctx, &local, &public_base, &served, &skipped, location);

    let result = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| CliError::failure(format!("the server failed: {e}")));
    for refresher in refreshers {
        refresher.stop().await;
    }
    if !ctx.json {
        err("oauth serve: stopped");
    }
    result
}

fn print_start(
    ctx: &Context,
    local: &std::net::SocketAddr,
    public_base: &str,
    served: &[(ProviderCli, String)],
    skipped: &[ProviderCli],
    location: &crate::location::StoreLocation,
) {
    let not_served: Vec<String> = skipped
        .iter()
        .map(|p| p.name().to_owned())
        .chain(
            ProviderCli::all()
                .filter(|p| !p.needs_consent())
                .map(|p| p.name().to_owned()),
        )
        .collect();
    if ctx.json {
        json_out(&json!({
            "listen": local.to_string(),
            "public_url": public_base,
            "status_url": format!("{public_base}/status"),
            "store": location.to_string(),
            "providers": served.iter().map(|(p, callback)| json!({
                "provider": p.name(),
                "connect_url": format!("{public_base}/connect/{}?account=ACCOUNT", p.name()),
                "callback_url": callback,
            })).collect::<Vec<_>>(),
            "not_served": not_served,
        }));
        return;
    }
    out(&format!(
        "oauth serve: listening on {local}, tokens in {location}"
    ));
    out(&format!(
        "status page: {public_base}/status (JSON: {public_base}/status.json)"
    ));
    for (provider, callback) in served {
        out(&format!(
            "{}: connect {public_base}/connect/{}?account=ACCOUNT",
            provider.name(),
            provider.name()
        ));
        out(&format!("  {}", callback_note(*provider, callback)));
    }
    for provider in skipped {
        out(&format!(
            "{}: not served (no settings given: {}_*)",
            provider.name(),
            provider.env_var("").trim_end_matches('_')
        ));
    }
    for provider in ProviderCli::all().filter(|p| !p.needs_consent()) {
        out(&format!(
            "{}: not served (no consent step: `oauth {} token`)",
            provider.name(),
            provider.name()
        ));
    }
    out("stop with Ctrl-C");
}

/// Reads the admin token: the file's content, trimmed.
fn read_admin_token(path: &std::path::Path) -> Result<String, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CliError::configuration(format!(
            "cannot read the admin token file {}: {}",
            path.display(),
            e.kind()
        ))
    })?;
    let token = text.trim();
    if token.len() < MIN_ADMIN_TOKEN_LEN || token.chars().any(|c| !c.is_ascii_graphic()) {
        return Err(CliError::configuration(format!(
            "the admin token in {} must be at least {MIN_ADMIN_TOKEN_LEN} visible ASCII \
             characters",
            path.display()
        )));
    }
    Ok(token.to_owned())
}

/// Whether the request carries `Authorization: Bearer <token>` (compared in constant
/// time).
fn bearer_matches(request: &axum::http::request::Parts, token: &str) -> bool {
    let Some(given) = request
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    let (a, b) = (given.trim().as_bytes(), token.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Ctrl-C, or SIGTERM on Unix.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
