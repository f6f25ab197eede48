//! The per-provider subcommands, and the flows they share: print an authorize URL,
//! exchange the URL the user landed on, force a refresh, print a valid access token.
//!
//! Token sets live in a [`FileStore`] (`--store FILE`), keyed by provider and account
//! (`--account`, default `default`); one file can hold every provider's accounts.

pub mod aliexpress;
pub mod ebay;
pub mod eshopbox;
pub mod orangeconnex;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use clap::Args;
use oauth_core::lifecycle::SaveOutcome;
use oauth_core::url::Url;
use oauth_core::{
    AccountKey, AuthorizationCodeGrant, CsrfState, FileStore, MemoryStore, RefreshGrant,
    TokenManager, TokenSet, TokenStore, parse_callback,
};
use serde_json::json;

use crate::error::CliError;
use crate::output::{self, err, json_out, out, token_summary_json, token_summary_lines};

/// Options shared by every provider command (given before or after the subcommand).
#[derive(Debug, Clone)]
pub struct Context {
    /// Machine-readable output.
    pub json: bool,
    /// The token file, if any.
    pub store: Option<PathBuf>,
    /// The account name the tokens are stored under.
    pub account: String,
}

impl Context {
    /// The token file, or a usage error saying that `command` needs one.
    fn require_store(&self, cli_name: &str, command: &str) -> Result<&Path, CliError> {
        self.store.as_deref().ok_or_else(|| {
            CliError::usage(format!(
                "`oauth {cli_name} {command}` needs a token file: pass --store FILE (or set OAUTH_STORE)"
            ))
        })
    }
}

/// Arguments of `exchange`.
#[derive(Debug, Clone, Args)]
pub struct ExchangeArgs {
    /// The full URL the browser landed on after consent (with `code` and `state`).
    #[arg(long, value_name = "URL")]
    pub redirect_url: String,
    /// The state printed by `authorize-url` (checked against the redirect URL's `state`).
    #[arg(long)]
    pub state: String,
}

/// Arguments of `token` and `app-token`.
#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// Refresh first if the token expires within this many seconds [default: the
    /// provider's refresh margin: eBay 60, AliExpress 1800, OrangeConnex 60, Eshopbox 300].
    #[arg(long, value_name = "SECS")]
    pub min_valid: Option<u64>,
}

/// What to suggest when the seller must authorize again.
fn reauthorize_hint(cli_name: &str) -> String {
    if cli_name == "eshopbox" {
        "create a new refresh token in the Eshopbox custom app, set OAUTH_ESHOPBOX_REFRESH_TOKEN, \
         then run `oauth eshopbox refresh`"
            .to_owned()
    } else {
        format!(
            "run `oauth {cli_name} authorize-url`, consent in a browser, then \
             `oauth {cli_name} exchange --store FILE --state STATE --redirect-url URL`"
        )
    }
}

/// `authorize-url`: the URL on stdout and the state on stderr, or both in JSON.
pub fn print_authorize_url(ctx: &Context, cli_name: &str, url: &Url, state: &CsrfState) {
    if ctx.json {
        json_out(&json!({
            "provider": cli_name,
            "url": url.as_str(),
            "state": state.as_str(),
        }));
        return;
    }
    out(url.as_str());
    err(&format!("state: {}", state.as_str()));
    err(&format!(
        "open the URL, consent, then run: oauth {cli_name} exchange --store FILE --state {} --redirect-url '<the URL you landed on>'",
        state.as_str()
    ));
}

/// A fresh CSRF state.
pub fn new_state() -> Result<CsrfState, CliError> {
    CsrfState::generate().map_err(|e| CliError::failure(format!("cannot generate a state: {e}")))
}

/// Reads the account's entry, reporting an unreadable or corrupt file.
async fn load(
    store: &dyn TokenStore,
    key: &AccountKey,
) -> Result<Option<oauth_core::lifecycle::Versioned>, CliError> {
    store
        .load(key)
        .await
        .map_err(|e| CliError::failure(format!("cannot read the token store: {e}")))
}

/// Fails early (before a single-use code is spent) when the store cannot be written:
/// the file's directory must exist.
fn check_store_dir(path: &Path) -> Result<(), CliError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    if dir.is_dir() {
        Ok(())
    } else {
        Err(CliError::usage(format!(
            "the directory of the token file {} does not exist",
            path.display()
        )))
    }
}

/// `exchange`: checks the redirect URL's `state`, exchanges the code and saves the token
/// set. Prints expiries and scopes only.
pub async fn exchange<G>(
    ctx: &Context,
    cli_name: &str,
    grant: Arc<G>,
    args: &ExchangeArgs,
) -> Result<(), CliError>
where
    G: AuthorizationCodeGrant + RefreshGrant + 'static,
{
    let path = ctx.require_store(cli_name, "exchange")?;
    check_store_dir(path)?;
    let store = Arc::new(FileStore::new(path));
    let key = AccountKey::new(grant.provider(), ctx.account.as_str());
    load(store.as_ref(), &key).await?;
    let callback = parse_callback(
        &args.redirect_url,
        &CsrfState::from_stored(args.state.trim()),
    )
    .map_err(|e| CliError::failure(format!("the redirect URL was refused: {e}")))?;
    let tokens = grant.exchange_code(&callback.code).await.map_err(|e| {
        CliError::from_provider(
            "the code exchange failed",
            &e,
            &format!(
                "codes are single-use and short-lived: {}",
                reauthorize_hint(cli_name)
            ),
        )
    })?;
    let manager = TokenManager::builder(grant, store, ctx.account.as_str()).build();
    let handle = manager.install(tokens).await.map_err(|e| {
        CliError::failure(format!(
            "the tokens were issued but could not be saved: {e}"
        ))
    })?;
    print_saved(ctx, cli_name, "exchange", path, handle.token_set(), None);
    Ok(())
}

/// Prints what was saved: never a token.
fn print_saved(
    ctx: &Context,
    cli_name: &str,
    action: &str,
    path: &Path,
    tokens: &TokenSet,
    rotated: Option<bool>,
) {
    let now = SystemTime::now();
    if ctx.json {
        let mut value = json!({
            "provider": cli_name,
            "action": action,
            "account": ctx.account,
            "store": path.display().to_string(),
            "tokens": token_summary_json(tokens, now),
        });
        if let (Some(rotated), Some(object)) = (rotated, value.as_object_mut()) {
            object.insert("refresh_token_rotated".to_owned(), json!(rotated));
        }
        json_out(&value);
        return;
    }
    out(&format!(
        "{cli_name}: tokens of account \"{}\" saved to {}",
        ctx.account,
        path.display()
    ));
    for line in token_summary_lines(tokens, now) {
        out(&line);
    }
    if let Some(rotated) = rotated {
        out(if rotated {
            "rotation:      a new refresh token replaced the old one (saved)"
        } else {
            "rotation:      the refresh token was kept"
        });
    }
}

/// `refresh`: refreshes now, whatever the expiry, and saves. With `from_configuration`
/// (Eshopbox custom apps) or when nothing is stored yet and the grant can start on its
/// own, the first token is fetched instead.
pub async fn refresh(
    ctx: &Context,
    cli_name: &str,
    grant: Arc<dyn RefreshGrant>,
    from_configuration: bool,
) -> Result<(), CliError> {
    let path = ctx.require_store(cli_name, "refresh")?;
    check_store_dir(path)?;
    let store = FileStore::new(path);
    let key = AccountKey::new(grant.provider(), ctx.account.as_str());
    let stored = load(&store, &key).await?;
    let hint = reauthorize_hint(cli_name);
    let tokens = match (&stored, from_configuration) {
        // Through a token manager: it checks the file can be written before spending a
        // single-use refresh token, saves before returning, and adopts a set that
        // another process rotated meanwhile instead of reporting re-authorization.
        (Some(_), false) => {
            let manager = TokenManager::builder(
                Arc::clone(&grant),
                Arc::new(store.clone()),
                ctx.account.as_str(),
            )
            .build();
            let handle = manager
                .force_refresh()
                .await
                .map_err(|e| CliError::from_provider("the refresh failed", &e, &hint))?;
            handle.token_set().clone()
        }
        _ => {
            let result = match grant.fetch_initial().await {
                Some(result) => result,
                None => {
                    return Err(CliError::reauthorize(format!(
                        "no tokens are stored for account \"{}\" in {}\nhint: {hint}",
                        ctx.account,
                        path.display()
                    )));
                }
            };
            let tokens =
                result.map_err(|e| CliError::from_provider("the refresh failed", &e, &hint))?;
            save_newest(&store, &key, &tokens, stored.as_ref().map(|s| s.version)).await?;
            tokens
        }
    };
    let rotated = stored.as_ref().is_some_and(|previous| {
        tokens.refresh_token.is_some() && tokens.refresh_token != previous.tokens.refresh_token
    });
    print_saved(ctx, cli_name, "refresh", path, &tokens, Some(rotated));
    Ok(())
}

/// Saves freshly issued tokens: they are the newest, so a concurrent writer's version
/// is overwritten (bounded number of attempts).
async fn save_newest(
    store: &FileStore,
    key: &AccountKey,
    tokens: &TokenSet,
    mut expected: Option<u64>,
) -> Result<(), CliError> {
    for _ in 0..8 {
        match store.save(key, tokens, expected).await {
            Ok(SaveOutcome::Saved { .. }) => return Ok(()),
            Ok(SaveOutcome::Conflict { current }) => expected = current.map(|c| c.version),
            Ok(_) => break,
            Err(e) => {
                return Err(CliError::failure(format!(
                    "the tokens were issued but could not be saved: {e}"
                )));
            }
        }
    }
    Err(CliError::failure(
        "the tokens were issued but could not be saved: the token file kept changing",
    ))
}

/// `token` / `app-token`: a valid access token for `account`, served from the store
/// while it is valid for at least `min_valid` (or the provider's margin), refreshed and
/// saved otherwise. Prints the access token alone (or JSON with its expiry).
pub async fn token(
    ctx: &Context,
    cli_name: &str,
    grant: Arc<dyn RefreshGrant>,
    account: &str,
    args: &TokenArgs,
) -> Result<(), CliError> {
    let store: Arc<dyn TokenStore> = match &ctx.store {
        Some(path) => Arc::new(FileStore::new(path)),
        None => Arc::new(MemoryStore::new()),
    };
    let mut builder = TokenManager::builder(grant, store, account);
    if let Some(secs) = args.min_valid {
        builder = builder.skew(Duration::from_secs(secs));
    }
    let manager = builder.build();
    let handle = manager.access_token().await.map_err(|e| {
        let hint = if ctx.store.is_none() && e.requires_reauthorization() {
            "no --store was given (OAUTH_STORE): pass the token file `exchange` saved to".to_owned()
        } else {
            reauthorize_hint(cli_name)
        };
        CliError::from_provider("no valid access token", &e, &hint)
    })?;
    if ctx.json {
        let now = SystemTime::now();
        json_out(&json!({
            "provider": cli_name,
            "account": account,
            "access_token": handle.expose_secret(),
            "token_type": handle.token_type().as_str(),
            "expires_at": output::utc(handle.expires_at()),
            "expires_in_secs": output::secs_until(handle.expires_at(), now),
        }));
    } else {
        out(handle.expose_secret());
    }
    Ok(())
}
