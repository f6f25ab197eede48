//! The eBay flow from the command line, in two runs.
//!
//! Settings (environment variables):
//! - `OAUTH_EBAY_CLIENT_ID`, `OAUTH_EBAY_CLIENT_SECRET`, `OAUTH_EBAY_RU_NAME` (required);
//! - `OAUTH_EBAY_ENVIRONMENT`: `sandbox` (default), `production`, or a base URL
//!   (e.g. the local `oauth-sandbox`, `http://127.0.0.1:8080/ebay`);
//! - `OAUTH_EBAY_SCOPES`: space-separated (default `https://api.ebay.com/oauth/api_scope`).
//!
//! First run: mints an application token and prints the consent URL and a
//! state. Open the URL, consent, and copy the URL you land on. Second run,
//! with `OAUTH_EBAY_STATE` and `OAUTH_EBAY_CALLBACK_URL` set: exchanges the
//! code and refreshes the user token. Tokens are never printed.
//!
//! ```text
//! OAUTH_EBAY_CLIENT_ID=... OAUTH_EBAY_CLIENT_SECRET=... OAUTH_EBAY_RU_NAME=... \
//!   cargo run -p oauth-ebay --example ebay_flow
//! ```
#![allow(clippy::print_stderr)]

use oauth_core::{
    ClientSecret, CsrfState, Error, IntoTokenSet, Scopes, parse_callback, to_unix_millis,
};
use oauth_ebay::{API_SCOPE, Client, ClientExt, Ebay, Environment};
use std::process::ExitCode;

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn environment(text: Option<&str>) -> Result<Environment, Error> {
    match text.map(str::trim) {
        None | Some("sandbox") => Ok(Environment::Sandbox),
        Some("production") => Ok(Environment::Production),
        Some(base) => Environment::custom(base),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let required = [
        "OAUTH_EBAY_CLIENT_ID",
        "OAUTH_EBAY_CLIENT_SECRET",
        "OAUTH_EBAY_RU_NAME",
    ];
    let missing: Vec<&str> = required.into_iter().filter(|n| var(n).is_none()).collect();
    if !missing.is_empty() {
        eprintln!(
            "ebay_flow: missing environment variable(s): {}\n\
             set OAUTH_EBAY_CLIENT_ID, OAUTH_EBAY_CLIENT_SECRET and OAUTH_EBAY_RU_NAME \
             (optional: OAUTH_EBAY_ENVIRONMENT=sandbox|production|<base URL>, OAUTH_EBAY_SCOPES)",
            missing.join(", ")
        );
        return ExitCode::from(2);
    }
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ebay_flow: {error}");
            if error.requires_reauthorization() {
                eprintln!(
                    "ebay_flow: the seller must consent again (run without OAUTH_EBAY_CALLBACK_URL)"
                );
            } else if error.is_retryable() {
                eprintln!("ebay_flow: eBay is unavailable or rate limiting; try again later");
            }
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Error> {
    let scopes = var("OAUTH_EBAY_SCOPES")
        .map(|s| Scopes::from_space_separated(&s))
        .unwrap_or_else(|| Scopes::from([API_SCOPE]));
    let settings = Ebay::new(
        var("OAUTH_EBAY_CLIENT_ID").unwrap_or_default(),
        ClientSecret::new(var("OAUTH_EBAY_CLIENT_SECRET").unwrap_or_default()),
    )
    .ru_name(var("OAUTH_EBAY_RU_NAME").unwrap_or_default())
    .scopes(scopes);
    let client = Client::builder(settings)
        .environment(environment(var("OAUTH_EBAY_ENVIRONMENT").as_deref())?)
        .build()?;

    let app = client.application_token().await?;
    println!(
        "application token: {} (expires at unix ms {})",
        app.token_type,
        to_unix_millis(app.expires_at())
    );

    let (Some(state), Some(landed)) = (var("OAUTH_EBAY_STATE"), var("OAUTH_EBAY_CALLBACK_URL"))
    else {
        let state = CsrfState::generate()?;
        println!(
            "1. open this URL and consent:\n   {}",
            client.authorize_url(&state)?
        );
        println!("2. run again with:");
        println!("   OAUTH_EBAY_STATE={}", state.as_str());
        println!("   OAUTH_EBAY_CALLBACK_URL='<the URL you landed on>'");
        return Ok(());
    };

    let callback = parse_callback(&landed, &CsrfState::from_stored(state))?;
    let tokens = client.exchange_code(&callback.code).await?.into_token_set();
    println!(
        "user token: {} (expires at unix ms {}, refresh token until unix ms {:?})",
        tokens.token_type,
        to_unix_millis(tokens.expires_at),
        tokens.refresh_token_expires_at.map(to_unix_millis)
    );
    let refreshed = client.refresh(&tokens).await?;
    println!(
        "refreshed: expires at unix ms {}; refresh token kept: {}",
        to_unix_millis(refreshed.expires_at),
        refreshed.refresh_token == tokens.refresh_token
    );
    Ok(())
}
