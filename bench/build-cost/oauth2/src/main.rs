//! Builds an eBay client, refreshes once against the token endpoint under
//! the base URL given as the first argument, and prints the new expiry.

use oauth2::basic::BasicClient;
use oauth2::{ClientId, ClientSecret, RefreshToken, Scope, TokenResponse, TokenUrl, reqwest};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base = std::env::args()
        .nth(1)
        .ok_or("usage: build-cost-oauth2 <token endpoint base URL>")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        // As oauth2's documentation sets it up (no redirects), with the
        // timeouts oauth-core's HttpClient has by default: the same program.
        let http = reqwest::ClientBuilder::new()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let client = BasicClient::new(ClientId::new("Example-App-ID".to_owned()))
            .set_client_secret(ClientSecret::new("Example-Cert-ID".to_owned()))
            .set_token_uri(TokenUrl::new(format!(
                "{}/identity/v1/oauth2/token",
                base.trim_end_matches('/')
            ))?);
        let token = client
            .exchange_refresh_token(&RefreshToken::new("v^1.1#i^1#p^3#r^1#RT".to_owned()))
            .add_scope(Scope::new(
                "https://api.ebay.com/oauth/api_scope/sell.inventory".to_owned(),
            ))
            .request_async(&http)
            .await?;
        let expires_at = SystemTime::now() + token.expires_in().unwrap_or_default();
        let expires = expires_at.duration_since(UNIX_EPOCH)?.as_secs();
        println!("access token expires at {expires} (Unix time)");
        Ok(())
    })
}
