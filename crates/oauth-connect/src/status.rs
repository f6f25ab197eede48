//! What the status page shows: each account's state, from the token store
//! and the token events.

use crate::html::escape;
use oauth_core::to_rfc3339 as rfc3339;
use oauth_core::{Error, TokenEvent, TokenEventKind, TokenSet};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::SystemTime;
use tokio::sync::broadcast;

/// The state of an account's tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AccountState {
    /// The access token is valid and nothing failed.
    Fresh,
    /// A refresh of a single-use refresh token was started and its result
    /// is not saved yet (or it was interrupted: the next refresh tells).
    Refreshing,
    /// The access token has expired and no failure was seen: the manager
    /// refreshes it on next use (or at the pool's next scan).
    Expired,
    /// The last refresh failed (or its result could not be saved); the
    /// manager retries, not before `retry_at` when known.
    Failing {
        /// When the next attempt may be made, if known.
        retry_at: Option<SystemTime>,
    },
    /// The provider requires the seller to authorize again (refresh token
    /// revoked or expired): only a reconnect helps.
    Reauthorize,
}

impl AccountState {
    /// The state's name in the JSON and in the page's `data-state`:
    /// `fresh`, `refreshing`, `expired`, `failing`, `reauthorize`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Fresh => "fresh",
            Self::Refreshing => "refreshing",
            Self::Expired => "expired",
            Self::Failing { .. } => "failing",
            Self::Reauthorize => "reauthorize",
        }
    }

    fn label(&self) -> &'static str {
        match self {
            Self::Fresh => "Fresh",
            Self::Refreshing => "Refreshing",
            Self::Expired => "Expired (refreshed on next use)",
            Self::Failing { .. } => "Failing",
            Self::Reauthorize => "Must re-authorize",
        }
    }
}

/// One account on the status page. Carries no token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AccountStatus {
    /// The provider.
    pub provider: String,
    /// The account.
    pub account: String,
    /// The state.
    pub state: AccountState,
    /// When the access token expires.
    pub access_token_expires_at: Option<SystemTime>,
    /// When the refresh token expires, if the provider says.
    pub refresh_token_expires_at: Option<SystemTime>,
    /// When the tokens were last obtained (refresh or connect), if known.
    pub last_refresh: Option<SystemTime>,
    /// The class of the last error seen (`reauthorization_required`,
    /// `rate_limited`, `transient`, `store`...), if any since the last
    /// success.
    pub last_error: Option<&'static str>,
    /// The link that starts a new connect for this account.
    pub reconnect_url: String,
}

impl AccountStatus {
    /// The account as JSON (times as RFC 3339 UTC strings).
    pub fn to_json(&self) -> Value {
        let retry_at = match self.state {
            AccountState::Failing { retry_at } => retry_at.map(rfc3339),
            _ => None,
        };
        json!({
            "provider": self.provider,
            "account": self.account,
            "state": self.state.name(),
            "retry_at": retry_at,
            "access_token_expires_at": self.access_token_expires_at.map(rfc3339),
            "refresh_token_expires_at": self.refresh_token_expires_at.map(rfc3339),
            "last_refresh": self.last_refresh.map(rfc3339),
            "last_error": self.last_error,
            "reconnect_url": self.reconnect_url,
        })
    }
}

/// What the events said about one account since its last success.
#[derive(Debug, Default, Clone)]
struct Mark {
    reauthorize: bool,
    failing: bool,
    retry_at: Option<SystemTime>,
    last_error: Option<&'static str>,
    last_refresh: Option<SystemTime>,
}

/// Follows the token events of the pools and managers.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    receivers: Mutex<Vec<broadcast::Receiver<TokenEvent>>>,
    marks: Mutex<HashMap<(String, String), Mark>>,
}

impl Tracker {
    pub(crate) fn follow(&self, receiver: broadcast::Receiver<TokenEvent>) {
        lock(&self.receivers).push(receiver);
    }

    /// Reads the events published since the last call.
    pub(crate) fn drain(&self, now: SystemTime) {
        let mut receivers = lock(&self.receivers);
        for receiver in receivers.iter_mut() {
            loop {
                match receiver.try_recv() {
                    Ok(event) => self.apply(&event, now),
                    // Events lost to a full channel: the store still tells
                    // the expiries, only failure marks can be missed.
                    Err(broadcast::error::TryRecvError::Lagged(_)) => {}
                    Err(_) => break,
                }
            }
        }
    }

    fn apply(&self, event: &TokenEvent, now: SystemTime) {
        let key = (
            event.account.provider().to_owned(),
            event.account.account().to_owned(),
        );
        let mut marks = lock(&self.marks);
        let mark = marks.entry(key).or_default();
        match &event.kind {
            TokenEventKind::Refreshed { .. } => {
                *mark = Mark {
                    last_refresh: Some(now),
                    ..Mark::default()
                };
            }
            TokenEventKind::Adopted { .. } | TokenEventKind::Installed { .. } => {
                *mark = Mark {
                    last_refresh: mark.last_refresh,
                    ..Mark::default()
                };
            }
            TokenEventKind::SaveFailed => {
                mark.failing = true;
                mark.last_error = Some("store");
            }
            TokenEventKind::ReauthorizationRequired => {
                mark.reauthorize = true;
                mark.last_error = Some("reauthorization_required");
            }
            TokenEventKind::RefreshInterrupted => {
                mark.last_error = Some("refresh_interrupted");
            }
            TokenEventKind::RefreshFailed { error, retry_at } => {
                mark.failing = true;
                mark.retry_at = Some(*retry_at);
                mark.last_error = Some(error);
            }
            _ => {}
        }
    }

    pub(crate) fn connected(&self, provider: &str, account: &str, now: SystemTime) {
        self.drain(now);
        lock(&self.marks).remove(&(provider.to_owned(), account.to_owned()));
    }

    pub(crate) fn note_failure(
        &self,
        provider: &str,
        account: &str,
        error: &Error,
        now: SystemTime,
    ) {
        // The events published before this failure come first.
        self.drain(now);
        let mut marks = lock(&self.marks);
        let mark = marks
            .entry((provider.to_owned(), account.to_owned()))
            .or_default();
        mark.last_error = Some(error.class());
        if error.requires_reauthorization() {
            mark.reauthorize = true;
        } else {
            mark.failing = true;
            mark.retry_at = error
                .retry_after()
                .map(|delay| oauth_core::expiry_after(now, delay));
        }
    }

    /// The status of an account whose stored set is `tokens`.
    pub(crate) fn status(
        &self,
        provider: &str,
        account: &str,
        tokens: Option<&TokenSet>,
        now: SystemTime,
        reconnect_url: String,
    ) -> AccountStatus {
        let mark = lock(&self.marks)
            .get(&(provider.to_owned(), account.to_owned()))
            .cloned()
            .unwrap_or_default();
        let state = match tokens {
            None => AccountState::Reauthorize,
            Some(t)
                if mark.reauthorize
                    || t.refresh_token_expired_at(now)
                    || (!t.is_valid_at(now) && t.refresh_token.is_none()) =>
            {
                AccountState::Reauthorize
            }
            Some(_) if mark.failing => AccountState::Failing {
                retry_at: mark.retry_at,
            },
            Some(t) if t.refresh_started.is_some() => AccountState::Refreshing,
            Some(t) if !t.is_valid_at(now) => AccountState::Expired,
            Some(_) => AccountState::Fresh,
        };
        AccountStatus {
            provider: provider.to_owned(),
            account: account.to_owned(),
            state,
            access_token_expires_at: tokens.map(|t| t.expires_at),
            refresh_token_expires_at: tokens.and_then(|t| t.refresh_token_expires_at),
            last_refresh: mark.last_refresh.or(tokens.and_then(|t| t.issued_at)),
            last_error: mark.last_error,
            reconnect_url,
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Single updates: a poisoned lock holds consistent data.
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

fn time_cell(t: Option<SystemTime>) -> String {
    match t {
        Some(t) => {
            let text = rfc3339(t);
            format!("<time datetime=\"{text}\">{text}</time>")
        }
        None => "<span>unknown</span>".to_owned(),
    }
}

/// A provider's forms on the status page.
pub(crate) struct ProviderForms {
    pub(crate) name: &'static str,
    /// Where the connect form goes (`…/connect/{provider}`).
    pub(crate) connect_url: String,
    /// Where the paste form goes (`…/paste/{provider}`), for a provider
    /// without a consent step.
    pub(crate) paste_url: Option<String>,
}

/// The status page's body: the accounts' table, a connect form per
/// provider, and a paste form per provider without a consent step.
pub(crate) fn render(accounts: &[AccountStatus], providers: &[ProviderForms]) -> String {
    let mut out = String::new();
    out.push_str("<section aria-labelledby=\"accounts-heading\">\n<h2 id=\"accounts-heading\">Accounts</h2>\n");
    if accounts.is_empty() {
        out.push_str("<p id=\"no-accounts\">No account is connected yet.</p>\n");
    }
    out.push_str(
        "<table id=\"status-table\">\n<caption>Connected accounts and the state of their tokens</caption>\n<thead>\n<tr>\
<th scope=\"col\">Provider</th><th scope=\"col\">Account</th><th scope=\"col\">State</th>\
<th scope=\"col\">Access token expires</th><th scope=\"col\">Refresh token expires</th>\
<th scope=\"col\">Last refresh</th><th scope=\"col\">Last error</th><th scope=\"col\">Reconnect</th></tr>\n</thead>\n<tbody>\n",
    );
    for a in accounts {
        let provider = escape(&a.provider);
        let account = escape(&a.account);
        let state = a.state.name();
        let mut state_text = escape(a.state.label());
        if let AccountState::Failing {
            retry_at: Some(retry_at),
        } = a.state
        {
            state_text.push_str(&format!(", next retry {}", time_cell(Some(retry_at))));
        }
        out.push_str(&format!(
            "<tr id=\"account-{provider}-{account}\" data-provider=\"{provider}\" data-account=\"{account}\" data-state=\"{state}\">\
<td>{provider}</td><th scope=\"row\">{account}</th><td class=\"state-{state}\">{state_text}</td>\
<td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
<td><a id=\"reconnect-{provider}-{account}\" href=\"{}\">Reconnect<span class=\"visually-hidden\"> {account}</span></a></td></tr>\n",
            time_cell(Some(a.access_token_expires_at).flatten()),
            time_cell(a.refresh_token_expires_at),
            time_cell(a.last_refresh),
            a.last_error.unwrap_or("none"),
            escape(&a.reconnect_url),
        ));
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
    out.push_str("<section aria-labelledby=\"connect-heading\">\n<h2 id=\"connect-heading\">Connect an account</h2>\n");
    // Providers without a consent step have the paste form below instead.
    for forms in providers.iter().filter(|f| f.paste_url.is_none()) {
        let provider = escape(forms.name);
        out.push_str(&format!(
            "<form id=\"connect-{provider}\" method=\"get\" action=\"{}\">\n\
<label for=\"account-{provider}\">{provider} account</label>\n\
<input type=\"text\" id=\"account-{provider}\" name=\"account\" required autocomplete=\"off\">\n\
<button type=\"submit\" id=\"connect-{provider}-submit\">Connect {provider}</button>\n</form>\n",
            escape(&forms.connect_url)
        ));
    }
    out.push_str("</section>\n");
    let pastes: Vec<(&str, &str)> = providers
        .iter()
        .filter_map(|f| f.paste_url.as_deref().map(|url| (f.name, url)))
        .collect();
    if !pastes.is_empty() {
        out.push_str("<section aria-labelledby=\"paste-heading\">\n<h2 id=\"paste-heading\">Install a refresh token</h2>\n");
        for (provider, action) in pastes {
            let provider = escape(provider);
            // No value is ever filled in: the page never shows a token.
            out.push_str(&format!(
                "<form id=\"paste-{provider}\" method=\"post\" action=\"{}\" enctype=\"application/x-www-form-urlencoded\" autocomplete=\"off\">\n\
<p id=\"paste-{provider}-help\">{provider} has no consent step: paste the app's refresh token. \
It is checked with one token request, then installed for the account; it is never shown again.</p>\n\
<label for=\"paste-account-{provider}\">{provider} account</label>\n\
<input type=\"text\" id=\"paste-account-{provider}\" name=\"account\" required autocomplete=\"off\">\n\
<label for=\"paste-refresh-token-{provider}\">{provider} refresh token</label>\n\
<input type=\"password\" id=\"paste-refresh-token-{provider}\" name=\"refresh_token\" required autocomplete=\"off\" spellcheck=\"false\" aria-describedby=\"paste-{provider}-help\">\n\
<button type=\"submit\" id=\"paste-{provider}-submit\">Install the {provider} refresh token</button>\n</form>\n",
                escape(action)
            ));
        }
        out.push_str("</section>\n");
    }
    out
}
