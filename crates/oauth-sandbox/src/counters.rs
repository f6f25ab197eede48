//! Token request and API request counters, per provider and per account.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::provider::Provider;

/// Token requests of one provider or one account, by outcome.
///
/// Every token request that reaches the provider's logic (not replaced by an injected
/// [`Fault`](crate::Fault)) is counted once: either as a granted request under its grant
/// type, or as `rejected`. `refresh_token_reuse` and `revoked_grant` are the parts of
/// `rejected` whose refresh token was spent by rotation, or belongs to a revoked grant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TokenCounts {
    /// Authorization codes exchanged for tokens.
    pub authorization_code: u64,
    /// Refresh grants answered with a new access token.
    pub refresh_token: u64,
    /// Client credentials grants (eBay application tokens; never per account).
    pub client_credentials: u64,
    /// Token requests refused, whatever the reason.
    pub rejected: u64,
    /// Of `rejected`: a refresh token that rotation had already replaced, presented again.
    pub refresh_token_reuse: u64,
    /// Of `rejected`: a refresh token of a revoked grant.
    pub revoked_grant: u64,
}

/// The counters of one provider.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ProviderCounters {
    /// Every request that reached a token endpoint (faulted ones included): what
    /// [`Sandbox::token_requests`](crate::Sandbox::token_requests) returns.
    pub token_requests: u64,
    /// Requests answered by an injected fault instead of the provider's logic
    /// ([`Fault::Latency`](crate::Fault::Latency) delays but does not replace the
    /// answer, so is not counted here).
    pub faulted: u64,
    /// Every request that was not faulted, by outcome; requests whose account is
    /// unknown (a bad client, an unknown code or token) are only counted here.
    pub totals: TokenCounts,
    /// The same per account (see the crate documentation, "Accounts").
    pub accounts: BTreeMap<String, TokenCounts>,
    /// Requests to the provider's API endpoints (not its token endpoints), whatever
    /// their outcome: what [`Sandbox::api_requests`](crate::Sandbox::api_requests)
    /// returns in `api.requests`.
    pub api: ApiCounts,
    /// The same per account: API requests whose access token the sandbox knows (live,
    /// expired or rejected), under the token's account. Requests without a token, with
    /// an unknown token or an eBay application token count only in `api`.
    pub api_accounts: BTreeMap<String, ApiCounts>,
}

/// API requests of one provider or one account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ApiCounts {
    /// Every request that reached one of the provider's API endpoints.
    pub requests: u64,
    /// Of `requests`: those answered with the provider's "invalid access token" error
    /// (a missing, unknown, expired or rejected token): the answers after which a
    /// client refreshes and retries.
    pub token_rejected: u64,
}

/// Token request counters of every provider, as `GET /admin/counters` returns them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Counters {
    /// eBay.
    pub ebay: ProviderCounters,
    /// AliExpress.
    pub aliexpress: ProviderCounters,
    /// OrangeConnex.
    pub orangeconnex: ProviderCounters,
    /// Eshopbox.
    pub eshopbox: ProviderCounters,
}

impl Counters {
    /// The counters of one provider.
    pub fn provider(&self, provider: Provider) -> &ProviderCounters {
        provider.emulator().counters(self)
    }

    pub(crate) fn provider_mut(&mut self, provider: Provider) -> &mut ProviderCounters {
        provider.emulator().counters_mut(self)
    }
}

/// The outcome of one API request, filled in by the handler and recorded once.
#[derive(Debug, Default)]
pub(crate) struct ApiTally {
    /// The account of the request's access token, when the sandbox knows the token.
    pub(crate) account: Option<String>,
    /// Answered with the provider's invalid-token error.
    pub(crate) token_rejected: bool,
}

impl ApiTally {
    fn apply(&self, counts: &mut ApiCounts) {
        counts.requests += 1;
        counts.token_rejected += u64::from(self.token_rejected);
    }

    /// Adds this request to the provider's counters.
    pub(crate) fn record(&self, counters: &mut ProviderCounters) {
        self.apply(&mut counters.api);
        if let Some(account) = &self.account {
            self.apply(counters.api_accounts.entry(account.clone()).or_default());
        }
    }
}

/// A grant type that succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grant {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
}

/// Why a refresh token was refused, when the sandbox still knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Never issued by the sandbox (or of another provider).
    Unknown,
    /// Expired; the account is known.
    Expired(String),
    /// Replaced by rotation, presented again.
    Spent(String),
    /// Its grant was revoked.
    Revoked(String),
}

/// The outcome of one token request, filled in by the handler and recorded once.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    account: Option<String>,
    grant: Option<Grant>,
    reuse: bool,
    revoked: bool,
}

impl Tally {
    /// The request succeeded.
    pub(crate) fn granted(&mut self, grant: Grant, account: Option<&str>) {
        self.grant = Some(grant);
        self.account = account.map(str::to_owned);
    }

    /// The request is refused, but its account is known (e.g. a scope problem).
    pub(crate) fn refused_for(&mut self, account: &str) {
        self.account = Some(account.to_owned());
    }

    /// The request is refused because of its refresh token.
    pub(crate) fn refused(&mut self, refusal: &Refusal) {
        match refusal {
            Refusal::Unknown => {}
            Refusal::Expired(account) => self.account = Some(account.clone()),
            Refusal::Spent(account) => {
                self.account = Some(account.clone());
                self.reuse = true;
            }
            Refusal::Revoked(account) => {
                self.account = Some(account.clone());
                self.revoked = true;
            }
        }
    }

    fn apply(&self, counts: &mut TokenCounts) {
        match self.grant {
            Some(Grant::AuthorizationCode) => counts.authorization_code += 1,
            Some(Grant::RefreshToken) => counts.refresh_token += 1,
            Some(Grant::ClientCredentials) => counts.client_credentials += 1,
            None => {
                counts.rejected += 1;
                counts.refresh_token_reuse += u64::from(self.reuse);
                counts.revoked_grant += u64::from(self.revoked);
            }
        }
    }

    /// Adds this request to the provider's counters.
    pub(crate) fn record(&self, counters: &mut ProviderCounters) {
        self.apply(&mut counters.totals);
        if let Some(account) = &self.account {
            self.apply(counters.accounts.entry(account.clone()).or_default());
        }
    }
}
