//! Mints an Eshopbox access token for a custom app and shows what came back
//! (never the token itself).
//!
//! ```text
//! OAUTH_ESHOPBOX_CLIENT_ID=...      \
//! OAUTH_ESHOPBOX_CLIENT_SECRET=...  \
//! OAUTH_ESHOPBOX_REFRESH_TOKEN=...  \
//! cargo run -p oauth-eshopbox --example eshopbox_flow
//! ```
//!
//! `OAUTH_ESHOPBOX_BASE_URL` (optional) replaces the production base URL
//! (`https://auth.myeshopbox.com`) with another, under which the token path
//! `/api/v1/generateToken` is appended, e.g. a local emulator
//! (`http://127.0.0.1:8080/eshopbox`).
#![allow(clippy::print_stderr)]

use oauth_core::{RefreshGrant, to_unix_millis};
use oauth_eshopbox::{Client, ClientSecret, Environment, Eshopbox, RefreshToken};
use std::process::ExitCode;

fn setting(name: &str, missing: &mut Vec<String>) -> String {
    let key = format!("OAUTH_ESHOPBOX_{name}");
    match std::env::var(&key) {
        Ok(value) if !value.trim().is_empty() => value,
        _ => {
            missing.push(key);
            String::new()
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut missing = Vec::new();
    let client_id = setting("CLIENT_ID", &mut missing);
    let client_secret = setting("CLIENT_SECRET", &mut missing);
    let refresh_token = setting("REFRESH_TOKEN", &mut missing);
    if !missing.is_empty() {
        eprintln!(
            "missing environment variables: {}\n\
             Set the client id, client secret and refresh token of an Eshopbox custom app \
             (Apps > Create a custom app); OAUTH_ESHOPBOX_BASE_URL optionally overrides the base URL.",
            missing.join(", ")
        );
        return ExitCode::from(2);
    }

    let mut builder = Client::builder(Eshopbox::new(
        client_id,
        ClientSecret::new(client_secret),
        RefreshToken::new(refresh_token),
    ));
    if let Ok(url) = std::env::var("OAUTH_ESHOPBOX_BASE_URL") {
        match Environment::custom(&url) {
            Ok(environment) => builder = builder.environment(environment),
            Err(error) => {
                eprintln!("OAUTH_ESHOPBOX_BASE_URL: {error}");
                return ExitCode::from(2);
            }
        }
    }
    let client = match builder.build() {
        Ok(client) => client,
        Err(error) => {
            eprintln!("configuration: {error}");
            return ExitCode::from(2);
        }
    };

    let first = client
        .fetch_initial()
        .await
        .unwrap_or_else(|| Err(oauth_core::Error::configuration("no first token")));
    match first {
        Ok(tokens) => {
            println!("token endpoint: {}", client.endpoints().token());
            println!("token type:     {}", tokens.token_type);
            println!("scopes:         {}", tokens.scopes.join(" "));
            println!(
                "expires at:     {} (Unix ms); refresh {} s before",
                to_unix_millis(tokens.expires_at),
                client.default_refresh_skew().as_secs()
            );
            println!(
                "access token:   received ({} characters)",
                tokens.access_token.expose_secret().len()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("token request failed: {error}");
            if error.requires_reauthorization() {
                eprintln!(
                    "=> the refresh token is no longer valid: copy a new one from the custom app"
                );
            } else if error.is_retryable() {
                eprintln!("=> try again later");
            }
            ExitCode::FAILURE
        }
    }
}
