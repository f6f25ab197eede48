//! Builds an eBay client, refreshes once against the token endpoint under
//! the base URL given as the first argument, and prints the new expiry.

use oauth_all::core::{AccessToken, ClientSecret, RefreshToken, Scopes, TokenSet};
use oauth_all::ebay::{Client, Ebay, Environment};
use std::time::{SystemTime, UNIX_EPOCH};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base = std::env::args()
        .nth(1)
        .ok_or("usage: build-cost-ours <token endpoint base URL>")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let scopes = Scopes::from(["https://api.ebay.com/oauth/api_scope/sell.inventory"]);
        let client = Client::builder(
            Ebay::new("Example-App-ID", ClientSecret::new("Example-Cert-ID"))
                .ru_name("Example_Inc-Example-PRD-abcd")
                .scopes(scopes.clone()),
        )
        .environment(Environment::custom(&base)?)
        .build()?;
        let current = TokenSet::new(AccessToken::new("expired"), SystemTime::now())
            .with_refresh_token(RefreshToken::new("v^1.1#i^1#p^3#r^1#RT"), None)
            .with_scopes(scopes);
        let refreshed = client.refresh(&current).await?;
        let expires = refreshed.expires_at.duration_since(UNIX_EPOCH)?.as_secs();
        println!("access token expires at {expires} (Unix time)");
        Ok(())
    })
}
