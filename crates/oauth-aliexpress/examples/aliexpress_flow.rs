//! The AliExpress flow against the real platform (or any base URL).
//!
//! Settings, from environment variables:
//! - `OAUTH_ALIEXPRESS_APP_KEY`, `OAUTH_ALIEXPRESS_APP_SECRET`,
//!   `OAUTH_ALIEXPRESS_REDIRECT_URI` (required);
//! - `OAUTH_ALIEXPRESS_BASE_URL` (optional, default `https://api-sg.aliexpress.com`);
//! - `OAUTH_ALIEXPRESS_CODE`: a code from the callback, exchanged when set;
//! - `OAUTH_ALIEXPRESS_REFRESH_TOKEN`: refreshed when set. A refresh
//!   **rotates** the refresh token (the old one stops working), so it needs
//!   `OAUTH_ALIEXPRESS_TOKEN_FILE`;
//! - `OAUTH_ALIEXPRESS_TOKEN_FILE`: where the resulting token set is written
//!   (JSON, mode 0600 on Unix).
//!
//! Without a code or refresh token it prints the consent URL to open.
//! Tokens are never printed.
//!
//! ```text
//! OAUTH_ALIEXPRESS_APP_KEY=... OAUTH_ALIEXPRESS_APP_SECRET=... \
//! OAUTH_ALIEXPRESS_REDIRECT_URI=https://app.example/callback \
//! cargo run -p oauth-aliexpress --example aliexpress_flow
//! ```
#![allow(clippy::print_stderr)]

use oauth_aliexpress::{AliExpress, Client, Environment, SellerAccount};
use oauth_core::{
    AccessToken, AppSecret, AuthorizationCode, CsrfState, IntoTokenSet, RefreshToken, TokenSet,
    to_unix_millis,
};
use std::io::Write;
use std::process::ExitCode;

fn setting(name: &str) -> Option<String> {
    std::env::var(format!("OAUTH_ALIEXPRESS_{name}"))
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// Writes the token set as JSON, readable by its owner only.
fn save(path: &str, set: &TokenSet) -> std::io::Result<()> {
    let json = serde_json::to_vec_pretty(set).map_err(std::io::Error::other)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(&json)?;
    file.sync_all()
}

/// Prints what an answer says (the seller's account when the answer is a
/// code exchange's) and saves the token set.
fn describe(what: &str, set: &TokenSet, account: &SellerAccount) -> Result<(), String> {
    let refreshable = set.refresh_token.is_some();
    println!("{what}: ok");
    println!(
        "  seller_id:        {}",
        account.seller_id.as_deref().unwrap_or("-")
    );
    println!(
        "  user_nick:        {}",
        account.user_nick.as_deref().unwrap_or("-")
    );
    println!(
        "  account_platform: {}",
        account.account_platform.as_deref().unwrap_or("-")
    );
    println!(
        "  access token expires at (unix ms): {}",
        to_unix_millis(set.expires_at)
    );
    match set.refresh_token_expires_at {
        Some(at) => println!(
            "  refresh token expires at (unix ms): {}",
            to_unix_millis(at)
        ),
        None if !refreshable => {
            println!("  this grant cannot be refreshed (refresh_expires_in = 0)")
        }
        None => println!("  refresh token expiry unknown"),
    }
    match setting("TOKEN_FILE") {
        Some(path) => {
            save(&path, set)
                .map_err(|e| format!("cannot write OAUTH_ALIEXPRESS_TOKEN_FILE: {e}"))?;
            println!("  token set written to {path}");
        }
        None => {
            println!("  (tokens are not printed; set OAUTH_ALIEXPRESS_TOKEN_FILE to save them)")
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let (Some(app_key), Some(app_secret), Some(redirect_uri)) = (
        setting("APP_KEY"),
        setting("APP_SECRET"),
        setting("REDIRECT_URI"),
    ) else {
        eprintln!(
            "set OAUTH_ALIEXPRESS_APP_KEY, OAUTH_ALIEXPRESS_APP_SECRET and \
             OAUTH_ALIEXPRESS_REDIRECT_URI (optionally OAUTH_ALIEXPRESS_BASE_URL, \
             OAUTH_ALIEXPRESS_CODE, OAUTH_ALIEXPRESS_REFRESH_TOKEN, OAUTH_ALIEXPRESS_TOKEN_FILE)"
        );
        return ExitCode::from(2);
    };
    let app = AliExpress::new(app_key, AppSecret::new(app_secret)).redirect_uri(redirect_uri);
    let mut builder = Client::builder(app);
    if let Some(base) = setting("BASE_URL") {
        match Environment::custom(&base) {
            Ok(environment) => builder = builder.environment(environment),
            Err(e) => {
                eprintln!("OAUTH_ALIEXPRESS_BASE_URL: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let client = match builder.build() {
        Ok(client) => client,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };

    let code = setting("CODE");
    let refresh_token = setting("REFRESH_TOKEN");
    if refresh_token.is_some() && setting("TOKEN_FILE").is_none() {
        eprintln!(
            "a refresh rotates the refresh token: set OAUTH_ALIEXPRESS_TOKEN_FILE so that \
             the new one is saved"
        );
        return ExitCode::from(2);
    }
    if code.is_none() && refresh_token.is_none() {
        let state = match CsrfState::generate() {
            Ok(state) => state,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        };
        println!("Open this URL, consent, then run again with OAUTH_ALIEXPRESS_CODE=<code>:");
        match client.authorize_url(&state) {
            Ok(url) => println!("{url}"),
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        }
        return ExitCode::SUCCESS;
    }
    if let Some(code) = code {
        match client.exchange_code(&AuthorizationCode::new(code)).await {
            Ok(response) => {
                let account = response.account.clone();
                if let Err(e) = describe("token create", &response.into_token_set(), &account) {
                    eprintln!("{e}");
                    return ExitCode::FAILURE;
                }
            }
            Err(e) => {
                eprintln!("token create failed: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    if let Some(refresh_token) = refresh_token {
        // Only the refresh token matters to a refresh; the access token
        // here is a placeholder (it expired long ago).
        let current = TokenSet::new(AccessToken::new("-"), std::time::UNIX_EPOCH)
            .with_refresh_token(RefreshToken::new(refresh_token), None);
        match client.refresh(&current).await {
            Ok(set) => {
                if let Err(e) = describe("token refresh", &set, &SellerAccount::default()) {
                    eprintln!("{e}");
                    return ExitCode::FAILURE;
                }
            }
            Err(e) => {
                eprintln!("token refresh failed: {e}");
                if e.requires_reauthorization() {
                    eprintln!("the seller must authorize the app again");
                }
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
