//! The OrangeConnex flow against the real sandbox (or any base URL), driven
//! by environment variables:
//!
//! | variable | |
//! |---|---|
//! | `OAUTH_ORANGECONNEX_CLIENT_ID` | required: the 3PP client id |
//! | `OAUTH_ORANGECONNEX_REDIRECT_URI` | required: the registered redirect URI |
//! | `OAUTH_ORANGECONNEX_CLIENT_KEY` | optional: the partner's client key |
//! | `OAUTH_ORANGECONNEX_ENVIRONMENT` | `sandbox` (default), `production`, or a base URL |
//! | `OAUTH_ORANGECONNEX_STATE` | the state printed by step 1 |
//! | `OAUTH_ORANGECONNEX_CALLBACK_URL` | the full URL the browser landed on after consent |
//! | `OAUTH_ORANGECONNEX_REFRESH_TOKEN` | optional: refresh this token instead |
//!
//! Step 1 (only the required variables set): prints the authorization URL
//! and the state. Step 2 (with `STATE` and `CALLBACK_URL`): exchanges the
//! code. With `REFRESH_TOKEN`: refreshes. Tokens are never printed in full.
//!
//! ```text
//! OAUTH_ORANGECONNEX_CLIENT_ID=... OAUTH_ORANGECONNEX_REDIRECT_URI=... \
//!   cargo run -p oauth-orangeconnex --example orangeconnex_flow
//! ```
#![allow(clippy::print_stderr)]

use oauth_core::{
    ClientKey, CsrfState, EndpointUrl, IntoTokenSet, RefreshToken, TokenSet, parse_callback,
    to_unix_millis,
};
use oauth_orangeconnex::{Client, Environment, OrangeConnex};
use std::process::ExitCode;

const PREFIX: &str = "OAUTH_ORANGECONNEX_";

fn var(name: &str) -> Option<String> {
    std::env::var(format!("{PREFIX}{name}"))
        .ok()
        .filter(|v| !v.trim().is_empty())
}

fn required(name: &str) -> Result<String, String> {
    var(name).ok_or_else(|| format!("missing environment variable {PREFIX}{name}"))
}

fn environment() -> Result<Environment, String> {
    match var("ENVIRONMENT").as_deref() {
        None | Some("sandbox") | Some("stage") => Ok(Environment::Sandbox),
        Some("production") => Ok(Environment::Production),
        Some(url) => EndpointUrl::parse(url)
            .map(Environment::Custom)
            .map_err(|e| format!("{PREFIX}ENVIRONMENT: {e}")),
    }
}

fn summary(set: &TokenSet) -> String {
    format!(
        "access token of {} characters, type {}, expires at unix ms {}; refresh token {}",
        set.access_token.expose_secret().len(),
        set.token_type,
        to_unix_millis(set.expires_at),
        if set.refresh_token.is_some() {
            "present (store it securely)"
        } else {
            "absent"
        },
    )
}

async fn run() -> Result<(), String> {
    let client_id = required("CLIENT_ID")?;
    let redirect_uri = required("REDIRECT_URI")?;
    let mut settings = OrangeConnex::new(client_id, redirect_uri);
    if let Some(key) = var("CLIENT_KEY") {
        settings = settings.client_key(ClientKey::new(key));
    }
    let client = Client::builder(settings)
        .environment(environment()?)
        .build()
        .map_err(|e| e.to_string())?;

    if let Some(refresh_token) = var("REFRESH_TOKEN") {
        let current = TokenSet::new(
            oauth_core::AccessToken::new("unused"),
            std::time::SystemTime::now(),
        )
        .with_refresh_token(RefreshToken::new(refresh_token), None);
        let set = client.refresh(&current).await.map_err(|e| e.to_string())?;
        println!("refreshed: {}", summary(&set));
        return Ok(());
    }

    match (var("STATE"), var("CALLBACK_URL")) {
        (Some(state), Some(callback_url)) => {
            let state = CsrfState::from_stored(state);
            let callback = parse_callback(&callback_url, &state).map_err(|e| e.to_string())?;
            let set = client
                .exchange_code(&callback.code)
                .await
                .map_err(|e| e.to_string())?
                .into_token_set();
            println!("exchanged: {}", summary(&set));
        }
        _ => {
            let state = CsrfState::generate().map_err(|e| e.to_string())?;
            println!("1. Open this URL and authorize the application:");
            let url = client.authorize_url(&state).map_err(|e| e.to_string())?;
            println!("   {url}");
            println!("2. Then run again with:");
            println!("   {PREFIX}STATE={}", state.as_str());
            println!("   {PREFIX}CALLBACK_URL=<the full URL the browser landed on>");
        }
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("orangeconnex_flow: {message}");
            eprintln!("see the top of examples/orangeconnex_flow.rs for the variables it reads");
            ExitCode::FAILURE
        }
    }
}
