//! The per-provider subcommands, and the flows they share: print an authorize URL,
//! exchange the URL the user landed on, force a refresh, print a valid access token.
//!
//! Token sets live where `--store` says ([`StoreLocation`]): a [`FileStore`] (a path),
//! a PostgreSQL table or a Redis server (a URL), keyed by provider and account
//! (`--account`, default `default`); one store can hold every provider's accounts. With
//! `--store-key-file` the store is wrapped in an [`EncryptedStore`]
//! ([`Context::open_store`]). Every command behaves the same on each kind of store; the
//! shared ones (PostgreSQL, Redis) also take a refresh lease, so that processes on
//! several machines refresh an account once.

pub mod aliexpress;
pub mod api;
pub mod ebay;
pub mod eshopbox;
pub mod listen;
pub mod login;
pub mod registry;
pub mod serve;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use clap::Args;
use oauth_core::lifecycle::{
    EncryptedStore, KeyFiles, Keyring, SaveOutcome, TokenEvent, TokenEventKind, Versioned,
};
use oauth_core::provider::registry::AnyClient;
use oauth_core::url::Url;
use oauth_core::{
    AccountKey, CsrfState, Error, FileStore, MemoryStore, RefreshGrant, TokenManager, TokenSet,
    TokenStore, parse_callback,
};
use serde_json::json;
use tokio::sync::broadcast;

use crate::error::{CliError, Hints};
use crate::location::StoreLocation;
use crate::output::{self, err, json_out, out, token_summary_json, token_summary_lines};
use crate::settings::ProviderCli;

/// Options shared by every provider command (given before or after the subcommand).
#[derive(Debug, Clone)]
pub struct Context {
    /// Machine-readable output.
    pub json: bool,
    /// Where the tokens live (`--store`), if given.
    pub store: Option<StoreLocation>,
    /// The account name the tokens are stored under.
    pub account: String,
    /// The key file that encrypts the token file (`--store-key-file`), if any.
    pub store_key_file: Option<PathBuf>,
    /// Earlier keys, to read entries not yet re-encrypted (`--old-key-file`).
    pub old_key_files: Vec<PathBuf>,
    /// The store once opened (a command that opens it twice connects once).
    pub opened: OpenedStore,
}

/// The store of a [`Context`], once opened.
#[derive(Clone, Default)]
pub struct OpenedStore(Arc<OnceLock<Arc<dyn TokenStore>>>);

impl fmt::Debug for OpenedStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.get().is_some() {
            "OpenedStore(open)"
        } else {
            "OpenedStore(not yet)"
        })
    }
}

impl Context {
    /// The keys of `--store-key-file` and `--old-key-file`, if a key file is given.
    /// A key file that cannot be used (missing, readable by others, not a key) is a
    /// configuration error (exit code 2) that never shows the key.
    pub fn keyring(&self) -> Result<Option<Keyring>, CliError> {
        let Some(current) = &self.store_key_file else {
            return Ok(None);
        };
        let files = self
            .old_key_files
            .iter()
            .fold(KeyFiles::new(current), |files, old| files.with_old(old));
        files.read().map(Some).map_err(|e| {
            CliError::from_provider("the store key cannot be used", &e, Hints::NONE).with_hint(
                "check --store-key-file (OAUTH_STORE_KEY_FILE) and --old-key-file: each must \
                 be a key file from `oauth store keygen`, readable by its owner only (chmod 600)",
            )
        })
    }

    /// The store at `location` (connected, for PostgreSQL and Redis), encrypted with
    /// the given keys when `--store-key-file` is set (entries in clear are read, and
    /// encrypted when next saved). Without a key, a token file that holds encrypted
    /// tokens is refused (exit code 2) before anything reads or writes it; so is an
    /// encrypted entry of a PostgreSQL or Redis store, when it is read ([`load`]).
    ///
    /// Opened once per command: a second call returns the same store.
    pub async fn open_store(
        &self,
        location: &StoreLocation,
    ) -> Result<Arc<dyn TokenStore>, CliError> {
        if let Some(store) = self.opened.0.get() {
            return Ok(Arc::clone(store));
        }
        // The key first: a wrong key file is reported before any connection.
        let keys = self.keyring()?;
        if let (None, Some(path)) = (&keys, location.file())
            && holds_encrypted_tokens(path)
        {
            return Err(CliError::configuration(format!(
                "the token file {} holds encrypted tokens and no key was given; nothing was \
                 read or written",
                path.display()
            ))
            .with_kind("store_key_required")
            .with_hint("pass its key with --store-key-file FILE (or set OAUTH_STORE_KEY_FILE)"));
        }
        let inner = location.connect().await?;
        let store: Arc<dyn TokenStore> = match keys {
            Some(keys) => Arc::new(EncryptedStore::from_arc(inner, keys)),
            None => inner,
        };
        Ok(Arc::clone(self.opened.0.get_or_init(|| store)))
    }

    /// The store's location, or a usage error saying that `command` needs one.
    fn require_store(&self, cli_name: &str, command: &str) -> Result<&StoreLocation, CliError> {
        self.store.as_ref().ok_or_else(|| {
            CliError::usage(format!(
                "`oauth {cli_name} {command}` needs a token file: pass --store FILE (or set OAUTH_STORE)"
            ))
        })
    }
}

/// Where an account's first tokens come from, which says whether the token file must
/// already exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The seller's consent (`exchange`): `refresh` and `token` need the token file that
    /// `exchange` wrote.
    Consent,
    /// The configuration alone (Eshopbox custom apps, eBay application tokens): the
    /// first `token` or `refresh` creates the token file (its directory must exist).
    Configuration,
}

/// Arguments of `exchange`.
#[derive(Debug, Clone, Args)]
pub struct ExchangeArgs {
    /// The full URL the browser landed on after consent (with `code` and `state`).
    #[arg(long, value_name = "URL")]
    pub redirect_url: String,
    /// The state printed by `authorize-url` (checked against the redirect URL's `state`).
    // A state is URL-safe base64: one in 64 starts with `-`.
    #[arg(long, allow_hyphen_values = true)]
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

/// A provider or lifecycle error of `provider`, with the hints that fit it.
fn provider_error(
    provider: ProviderCli,
    location: Option<&StoreLocation>,
    context: &str,
    error: &Error,
    reauthorize: &str,
) -> CliError {
    let invalid_client = provider.credentials_hint();
    let hints = Hints {
        reauthorize,
        invalid_client: &invalid_client,
    };
    let cli = CliError::from_provider(context, error, hints);
    match (error, location) {
        (Error::Store { .. }, None | Some(StoreLocation::File(_))) => cli.with_hint(
            "check that the token file and its directory can be read and written (and that \
             no other program holds the file's `.lock`)",
        ),
        (Error::Store { .. }, Some(location)) => cli.with_hint(format!(
            "check that the token store {location} is reachable and writable; {}",
            location.write_hint()
        )),
        _ => cli,
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

/// Whether the token file at `path` holds at least one encrypted entry. Anything that
/// is not a readable regular JSON token file answers `false`: the file store then
/// reports it (a link, a FIFO, a corrupt file) without this check blocking or reading
/// more than the file store would.
fn holds_encrypted_tokens(path: &Path) -> bool {
    let regular_and_small = std::fs::symlink_metadata(path)
        .is_ok_and(|m| m.is_file() && m.len() <= FileStore::DEFAULT_MAX_FILE_BYTES as u64);
    if !regular_and_small {
        return false;
    }
    let Ok(bytes) = std::fs::read(path) else {
        return false;
    };
    let Ok(contents) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return false;
    };
    contents
        .get("accounts")
        .and_then(serde_json::Value::as_object)
        .is_some_and(|accounts| {
            accounts.values().any(|entry| {
                entry
                    .pointer("/tokens/access_token")
                    .and_then(serde_json::Value::as_str)
                    .is_some_and(|token| token.starts_with("enc:"))
            })
        })
}

/// A fresh CSRF state.
pub fn new_state() -> Result<CsrfState, CliError> {
    CsrfState::generate().map_err(|e| CliError::failure(format!("cannot generate a state: {e}")))
}

/// Reads the account's entry, reporting an unreadable or corrupt store. An entry still
/// encrypted after the read (an [`EncryptedStore`] decrypts what it reads) was read
/// without a key: refused (exit code 2), before anything uses or prints it.
pub(crate) async fn load(
    store: &dyn TokenStore,
    key: &AccountKey,
) -> Result<Option<Versioned>, CliError> {
    let stored = store
        .load(key)
        .await
        .map_err(|e| CliError::from_provider("cannot read the token store", &e, Hints::NONE))?;
    if stored
        .as_ref()
        .is_some_and(|s| s.tokens.access_token.expose_secret().starts_with("enc:"))
    {
        return Err(CliError::configuration(format!(
            "the tokens of {key} are encrypted and no key was given; nothing was written"
        ))
        .with_kind("store_key_required")
        .with_hint("pass its key with --store-key-file FILE (or set OAUTH_STORE_KEY_FILE)"));
    }
    Ok(stored)
}

/// Checks a token file before anything else: its directory must exist, and so must the
/// file itself when `must_exist` (the commands that only read it). A wrong `--store` is
/// exit code 4, not "authorize again". Nothing to check for a PostgreSQL or Redis store
/// (connecting checks it).
fn check_token_file(
    location: &StoreLocation,
    must_exist: bool,
    cli_name: &str,
) -> Result<(), CliError> {
    let Some(path) = location.file() else {
        return Ok(());
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let store_hint = "check --store (or OAUTH_STORE)";
    if !dir.is_dir() {
        let what = if dir.exists() {
            "is not a directory"
        } else {
            "does not exist"
        };
        return Err(CliError::no_token_file(format!(
            "the directory of the token file {} {what}",
            path.display()
        ))
        .with_hint(format!("{store_hint}: the directory must exist")));
    }
    if must_exist && std::fs::symlink_metadata(path).is_err() {
        return Err(
            CliError::no_token_file(format!("there is no token file {}", path.display()))
                .with_hint(format!(
                    "{store_hint}; `oauth {cli_name} exchange` creates the file after consent"
                )),
        );
    }
    Ok(())
}

/// Proves the token file writable (`TokenStore::check_writable`: lock, read, open for
/// writing, a temporary file) before a request that spends something single-use (a
/// code, a rotating refresh token) or whose answer must be saved. `not_done` says what
/// was therefore not done ("the code was not exchanged").
async fn ensure_writable(
    store: &dyn TokenStore,
    location: &StoreLocation,
    not_done: &str,
) -> Result<(), CliError> {
    store.check_writable().await.map_err(|e| {
        let context = format!(
            "{not_done}: the {} {location} cannot be written",
            location.noun()
        );
        let cli = CliError::from_provider(&context, &e, Hints::NONE);
        match (e.is_retryable(), location) {
            (true, StoreLocation::File(_)) => cli.with_hint(
                "another program holds the token file's lock: try again when it is done",
            ),
            (true, _) => cli.with_hint("the store is busy: try again in a moment"),
            (false, _) => cli
                .with_kind("store_not_writable")
                .with_hint(location.write_hint()),
        }
    })
}

/// "No tokens for this account in this store": the seller must consent (exit code 3).
fn no_tokens(provider: ProviderCli, account: &str, location: &StoreLocation) -> CliError {
    CliError::no_tokens(format!(
        "no tokens are stored for account \"{account}\" in {location}"
    ))
    .with_hint(format!(
        "check --account (or OAUTH_ACCOUNT); if it is right, {}",
        provider.reauthorize_hint()
    ))
}

/// The events a manager published so far (without waiting).
fn drain(receiver: &mut broadcast::Receiver<TokenEvent>) -> Vec<TokenEventKind> {
    let mut kinds = Vec::new();
    loop {
        match receiver.try_recv() {
            Ok(event) => kinds.push(event.kind),
            Err(broadcast::error::TryRecvError::Lagged(_)) => {}
            Err(_) => return kinds,
        }
    }
}

/// Whether the manager obtained new tokens (refreshed, or took a newer set another
/// process saved).
fn got_new_tokens(events: &[TokenEventKind]) -> bool {
    events.iter().any(|kind| {
        matches!(
            kind,
            TokenEventKind::Refreshed { .. }
                | TokenEventKind::Adopted { .. }
                | TokenEventKind::Installed { .. }
        )
    })
}

/// "Nothing was refreshed: the store cannot be written" (exit code 1): what the token
/// manager reports, through its events, when its write check before spending a
/// single-use refresh token fails (it then keeps serving the old token).
fn not_writable(location: &StoreLocation, previous: &TokenSet, printing_token: bool) -> CliError {
    let now = SystemTime::now();
    let left = if previous.is_valid_at(now) {
        format!(
            "the stored access token is unchanged and expires {} ({})",
            output::utc(previous.expires_at),
            output::relative(previous.expires_at, now)
        )
    } else {
        "the stored access token is unchanged and has expired".to_owned()
    };
    CliError::new(
        "store_not_writable",
        crate::error::EXIT_FAILURE,
        format!(
            "nothing was refreshed and nothing saved: the {} {location} cannot be written, so \
             the refresh token was not spent; {left}{}",
            location.noun(),
            if printing_token {
                "; no token printed"
            } else {
                ""
            }
        ),
    )
    .with_hint(location.write_hint())
}

/// `exchange`: checks the redirect URL's `state`, exchanges the code and saves the token
/// set. Prints expiries and scopes only.
pub async fn exchange(
    ctx: &Context,
    provider: ProviderCli,
    client: AnyClient,
    args: &ExchangeArgs,
) -> Result<(), CliError> {
    let cli_name = provider.name();
    let location = ctx.require_store(cli_name, "exchange")?;
    check_token_file(location, false, cli_name)?;
    let store = ctx.open_store(location).await?;
    let key = AccountKey::new(client.provider(), ctx.account.as_str());
    load(store.as_ref(), &key).await?;
    let callback = parse_callback(
        &args.redirect_url,
        &CsrfState::from_stored(args.state.trim()),
    )
    .map_err(|e| CliError::failure(format!("the redirect URL was refused: {e}")))?;
    // The code is single-use: the tokens it buys must not be lost to a store that
    // cannot be written.
    ensure_writable(
        store.as_ref(),
        location,
        "the code was not exchanged (it stays usable until it expires)",
    )
    .await?;
    let tokens = client.exchange_code(&callback.code).await.map_err(|e| {
        provider_error(
            provider,
            Some(location),
            "the code exchange failed",
            &e,
            &format!(
                "codes are single-use and short-lived: {}",
                provider.reauthorize_hint()
            ),
        )
    })?;
    let manager = TokenManager::builder(client, store, ctx.account.as_str()).build();
    let handle = manager.install(tokens).await.map_err(|e| {
        CliError::failure(format!(
            "the tokens were issued but could not be saved: {e}"
        ))
    })?;
    print_saved(
        ctx,
        cli_name,
        "exchange",
        location,
        handle.token_set(),
        None,
    );
    Ok(())
}

/// Prints what was saved: never a token.
fn print_saved(
    ctx: &Context,
    cli_name: &str,
    action: &str,
    location: &StoreLocation,
    tokens: &TokenSet,
    rotated: Option<bool>,
) {
    let now = SystemTime::now();
    if ctx.json {
        let mut value = json!({
            "provider": cli_name,
            "action": action,
            "account": ctx.account,
            "store": location.to_string(),
            "tokens": token_summary_json(tokens, now),
        });
        if let (Some(rotated), Some(object)) = (rotated, value.as_object_mut()) {
            object.insert("refresh_token_rotated".to_owned(), json!(rotated));
        }
        json_out(&value);
        return;
    }
    out(&format!(
        "{cli_name}: tokens of account \"{}\" saved to {location}",
        ctx.account,
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

/// `refresh`: refreshes now, whatever the expiry, and saves. For an
/// [`Origin::Configuration`] grant (Eshopbox custom apps) the first token is fetched
/// from the configuration instead, and the token file is created if needed.
pub async fn refresh(
    ctx: &Context,
    provider: ProviderCli,
    grant: Arc<dyn RefreshGrant>,
    origin: Origin,
) -> Result<(), CliError> {
    let cli_name = provider.name();
    let location = ctx.require_store(cli_name, "refresh")?;
    check_token_file(location, origin == Origin::Consent, cli_name)?;
    let store = ctx.open_store(location).await?;
    let key = AccountKey::new(grant.provider(), ctx.account.as_str());
    let stored = load(store.as_ref(), &key).await?;
    let hint = provider.reauthorize_hint();
    let tokens = match origin {
        Origin::Consent => {
            let Some(previous) = &stored else {
                return Err(no_tokens(provider, &ctx.account, location));
            };
            ensure_writable(
                store.as_ref(),
                location,
                "nothing was refreshed and nothing saved",
            )
            .await?;
            // Through a token manager: it checks the file can be written before spending a
            // single-use refresh token, saves before returning, and adopts a set that
            // another process rotated meanwhile instead of reporting re-authorization.
            let manager =
                TokenManager::builder(Arc::clone(&grant), Arc::clone(&store), ctx.account.as_str())
                    .build();
            let mut events = manager.subscribe();
            let handle = manager.force_refresh().await.map_err(|e| {
                provider_error(provider, Some(location), "the refresh failed", &e, &hint)
            })?;
            let events = drain(&mut events);
            // The manager serves the old, still-valid token when its write check fails:
            // that is no refresh.
            if events.contains(&TokenEventKind::SaveFailed) {
                return Err(not_writable(location, &previous.tokens, false));
            }
            if !got_new_tokens(&events) {
                return Err(CliError::failure(
                    "the refresh did not happen: the token manager returned the stored token \
                     without new tokens; nothing was saved",
                ));
            }
            handle.token_set().clone()
        }
        Origin::Configuration => {
            ensure_writable(
                store.as_ref(),
                location,
                "no token was requested and nothing saved",
            )
            .await?;
            let result = match grant.fetch_initial().await {
                Some(result) => result,
                None => return Err(no_tokens(provider, &ctx.account, location)),
            };
            let tokens = result.map_err(|e| {
                provider_error(provider, Some(location), "the refresh failed", &e, &hint)
            })?;
            save_newest(
                store.as_ref(),
                &key,
                &tokens,
                stored.as_ref().map(|s| s.version),
            )
            .await?;
            tokens
        }
    };
    let rotated = stored.as_ref().is_some_and(|previous| {
        tokens.refresh_token.is_some() && tokens.refresh_token != previous.tokens.refresh_token
    });
    print_saved(ctx, cli_name, "refresh", location, &tokens, Some(rotated));
    Ok(())
}

/// Saves freshly issued tokens: they are the newest, so a concurrent writer's version
/// is overwritten (bounded number of attempts).
async fn save_newest(
    store: &dyn TokenStore,
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
        "the tokens were issued but could not be saved: the stored entry kept changing",
    ))
}

/// `token` / `app-token`: a valid access token for `account`, served from the store
/// while it is valid for at least `min_valid` (or the provider's margin), refreshed and
/// saved otherwise ([`valid_token`]). Prints the access token alone (or JSON with its
/// expiry), and only when it is visible ASCII.
pub async fn token(
    ctx: &Context,
    provider: ProviderCli,
    grant: Arc<dyn RefreshGrant>,
    account: &str,
    args: &TokenArgs,
    origin: Origin,
) -> Result<(), CliError> {
    let cli_name = provider.name();
    let valid = valid_token(
        ctx,
        provider,
        grant,
        account,
        args.min_valid,
        origin,
        "token",
    )
    .await?;
    let handle = valid.handle;
    let token = output::checked_token(handle.expose_secret())?;
    if ctx.json {
        let now = SystemTime::now();
        json_out(&json!({
            "provider": cli_name,
            "account": account,
            "access_token": token,
            "token_type": handle.token_type().as_str(),
            "expires_at": output::utc(handle.expires_at()),
            "expires_in_secs": output::secs_until(handle.expires_at(), now),
        }));
    } else {
        out(token);
    }
    Ok(())
}

/// A token manager for `account` and a valid access token from it: served from the
/// store while it is valid for at least `min_valid` (or the provider's margin),
/// refreshed and saved otherwise (what `token` prints, what `api` starts from).
///
/// A refresh that was due but did not happen is not hidden: when the token file cannot
/// be written, nothing is used (exit code 1), and with an explicit `--min-valid` a
/// failed refresh is an error. With the provider's margin, a refresh that fails for
/// another reason (a provider outage) leaves the old token in use while it is valid:
/// the token manager's policy.
pub(crate) async fn valid_token(
    ctx: &Context,
    provider: ProviderCli,
    grant: Arc<dyn RefreshGrant>,
    account: &str,
    min_valid: Option<u64>,
    origin: Origin,
    command: &str,
) -> Result<ValidToken, CliError> {
    let cli_name = provider.name();
    let hint = provider.reauthorize_hint();
    let (store, location): (Arc<dyn TokenStore>, Option<&StoreLocation>) =
        match (&ctx.store, origin) {
            (Some(location), _) => {
                check_token_file(location, origin == Origin::Consent, cli_name)?;
                (ctx.open_store(location).await?, Some(location))
            }
            (None, Origin::Configuration) => (Arc::new(MemoryStore::new()), None),
            (None, Origin::Consent) => {
                return Err(CliError::usage(format!(
                    "`oauth {cli_name} {command}` needs the token file `exchange` saved the tokens \
                     to: pass --store FILE (or set OAUTH_STORE)"
                )));
            }
        };
    let key = AccountKey::new(grant.provider(), account);
    let stored = load(store.as_ref(), &key).await?;
    if let (None, Origin::Consent, Some(location)) = (&stored, origin, location) {
        return Err(no_tokens(provider, account, location));
    }
    let explicit = min_valid.is_some();
    let skew = min_valid.map_or_else(|| grant.default_refresh_skew(), Duration::from_secs);
    let due = stored
        .as_ref()
        .is_none_or(|s| s.tokens.expires_within(SystemTime::now(), skew));
    if due && let Some(location) = location {
        ensure_writable(
            store.as_ref(),
            location,
            "nothing was refreshed and no token printed",
        )
        .await?;
    }
    let manager = TokenManager::builder(grant, store, account)
        .skew(skew)
        .build();
    let mut events = manager.subscribe();
    // An explicit --min-valid is a demand: a refresh that fails is an error, not the old
    // token (force_refresh reports it; access_token would serve the old token).
    let result = if due && explicit && stored.is_some() {
        manager.force_refresh().await
    } else {
        manager.access_token().await
    };
    let handle = result
        .map_err(|e| provider_error(provider, location, "no valid access token", &e, &hint))?;
    let seen = drain(&mut events);
    if let Some(previous) = &stored {
        if seen.contains(&TokenEventKind::SaveFailed) {
            let memory = StoreLocation::File(PathBuf::from("(memory)"));
            return Err(not_writable(
                location.unwrap_or(&memory),
                &previous.tokens,
                true,
            ));
        }
        // force_refresh returns without new tokens only when its write check failed
        // (above); anything else would still be no refresh.
        if due && explicit && !got_new_tokens(&seen) {
            return Err(CliError::failure(
                "the refresh did not happen: the access token expires within --min-valid and \
                 no new token was obtained; no token printed",
            )
            .with_hint(format!(
                "run `oauth {cli_name} refresh` to see the provider's answer"
            )));
        }
    }
    Ok(ValidToken {
        manager,
        handle,
        events,
        location: location.cloned(),
        stored: stored.map(|s| s.tokens),
    })
}

/// What [`valid_token`] hands over.
pub(crate) struct ValidToken {
    /// The account's manager (refreshes again, single flight, and saves).
    pub manager: TokenManager,
    /// The valid token it served.
    pub handle: oauth_core::TokenHandle,
    /// The manager's events since it was built.
    pub events: broadcast::Receiver<TokenEvent>,
    /// The store, unless the tokens live in memory only.
    pub location: Option<StoreLocation>,
    /// The token set stored before the command.
    pub stored: Option<TokenSet>,
}
