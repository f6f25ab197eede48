//! The sandbox's mutable state: codes, tokens, counters, faults and knobs.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::config::Config;
use crate::counters::{ApiTally, Counters, Refusal, Tally};
use crate::credentials::Credentials;
use crate::fault::Fault;
use crate::provider::{COUNT, EMULATORS, Provider};

/// Everything the handlers share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) credentials: Credentials,
    pub(crate) base_url: String,
    state: Mutex<State>,
}

impl Shared {
    pub(crate) fn new(config: Config, credentials: Credentials, base_url: String) -> Self {
        let mut state = State::default();
        for emulator in EMULATORS {
            emulator.prepare(&config, &credentials, &mut state);
        }
        Self {
            config,
            credentials,
            base_url,
            state: Mutex::new(state),
        }
    }

    /// Locks the state. A poisoned lock is recovered: the state is plain data and every
    /// update leaves it consistent.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// What kind of access token this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// Issued to a user (authorization code or refresh grant).
    User,
    /// Issued to the application itself (eBay client credentials).
    Application,
}

/// An authorization code waiting to be exchanged.
#[derive(Debug, Clone)]
pub(crate) struct CodeRecord {
    pub(crate) provider: Provider,
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) uuid: Option<String>,
    pub(crate) expires_at: Instant,
    pub(crate) used: bool,
    /// The seller account that consented.
    pub(crate) account: String,
}

/// A live refresh token (a grant).
#[derive(Debug, Clone)]
pub(crate) struct RefreshRecord {
    pub(crate) provider: Provider,
    pub(crate) client_id: String,
    pub(crate) scopes: Vec<String>,
    /// `None`: never expires (Eshopbox custom apps).
    pub(crate) expires_at: Option<Instant>,
    /// AliExpress: the absolute expiry in epoch milliseconds, kept across rotations.
    pub(crate) valid_until_ms: u64,
    /// The seller account of the grant.
    pub(crate) account: String,
}

/// A live access token.
#[derive(Debug, Clone)]
pub(crate) struct AccessRecord {
    pub(crate) provider: Provider,
    pub(crate) kind: TokenKind,
    pub(crate) expires_at: Instant,
    /// The seller account (`None`: an application token).
    pub(crate) account: Option<String>,
}

/// Why a refresh token no longer works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Death {
    Rotated,
    Revoked,
}

/// A refresh token that no longer works, remembered to classify its reuse.
#[derive(Debug, Clone)]
struct DeadRefresh {
    provider: Provider,
    account: String,
    death: Death,
}

/// An access token that no longer works before its time (expired, rejected or revoked
/// through the sandbox's controls), remembered to count API requests under its account.
#[derive(Debug, Clone)]
struct DeadAccess {
    provider: Provider,
    account: Option<String>,
}

/// Why a code could not be redeemed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodeProblem {
    Unknown,
    Used,
    Expired,
}

/// The mutable part.
#[derive(Debug, Default)]
pub(crate) struct State {
    time_offset: Duration,
    codes: HashMap<String, CodeRecord>,
    refresh_tokens: HashMap<String, RefreshRecord>,
    access_tokens: HashMap<String, AccessRecord>,
    dead_refresh: HashMap<String, DeadRefresh>,
    dead_access: HashMap<String, DeadAccess>,
    counters: Counters,
    faults: [VecDeque<(Fault, u32)>; COUNT],
    deny_consent: [bool; COUNT],
    eshopbox_hits: VecDeque<Instant>,
    /// Per provider, the accounts whose access tokens are refused whenever they were
    /// issued ([`State::reject_access_tokens_persistently`]).
    rejected_accounts: [BTreeSet<String>; COUNT],
}

impl State {
    /// The sandbox's notion of "now" for expiries (real time plus [`advance_time`]).
    pub(crate) fn now(&self) -> Instant {
        Instant::now() + self.time_offset
    }

    /// The sandbox's wall clock, in milliseconds since the Unix epoch.
    pub(crate) fn epoch_ms(&self) -> u64 {
        let since = (SystemTime::now() + self.time_offset)
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
    }

    pub(crate) fn advance_time(&mut self, by: Duration) {
        self.time_offset += by;
    }

    // ---- counters, faults, knobs -------------------------------------------------

    /// Counts one token request and takes the next queued fault, if any.
    pub(crate) fn hit_token_endpoint(&mut self, provider: Provider) -> Option<Fault> {
        let counters = self.counters.provider_mut(provider);
        counters.token_requests += 1;
        let queue = self.faults.get_mut(provider.index())?;
        let (fault, remaining) = queue.front_mut()?;
        let fault = fault.clone();
        *remaining = remaining.saturating_sub(1);
        if *remaining == 0 {
            queue.pop_front();
        }
        if !matches!(fault, Fault::Latency(_)) {
            self.counters.provider_mut(provider).faulted += 1;
        }
        Some(fault)
    }

    pub(crate) fn token_requests(&self, provider: Provider) -> usize {
        usize::try_from(self.counters.provider(provider).token_requests).unwrap_or(usize::MAX)
    }

    /// Records one API request (any outcome).
    pub(crate) fn record_api(&mut self, provider: Provider, tally: &ApiTally) {
        tally.record(self.counters.provider_mut(provider));
    }

    pub(crate) fn api_requests(&self, provider: Provider) -> usize {
        usize::try_from(self.counters.provider(provider).api.requests).unwrap_or(usize::MAX)
    }

    /// Records the outcome of one token request that was not faulted.
    pub(crate) fn record(&mut self, provider: Provider, tally: &Tally) {
        tally.record(self.counters.provider_mut(provider));
    }

    pub(crate) fn counters(&self) -> Counters {
        self.counters.clone()
    }

    pub(crate) fn reset_counters(&mut self) {
        self.counters = Counters::default();
    }

    pub(crate) fn inject(&mut self, provider: Provider, fault: Fault, times: u32) {
        if times == 0 {
            return;
        }
        if let Some(queue) = self.faults.get_mut(provider.index()) {
            queue.push_back((fault, times));
        }
    }

    pub(crate) fn clear_faults(&mut self, provider: Provider) {
        if let Some(queue) = self.faults.get_mut(provider.index()) {
            queue.clear();
        }
    }

    pub(crate) fn set_deny_consent(&mut self, provider: Provider, deny: bool) {
        if let Some(flag) = self.deny_consent.get_mut(provider.index()) {
            *flag = deny;
        }
    }

    /// Whether `account` is a seller the sandbox knows for `provider`: the default
    /// account, or one that holds (or held) a grant (seeded, or consented before).
    pub(crate) fn knows_account(&self, provider: Provider, account: &str) -> bool {
        account == crate::DEFAULT_ACCOUNT
            || self
                .refresh_tokens
                .values()
                .any(|r| r.provider == provider && r.account == account)
            || self
                .access_tokens
                .values()
                .any(|a| a.provider == provider && a.account.as_deref() == Some(account))
    }

    pub(crate) fn deny_consent(&self, provider: Provider) -> bool {
        self.deny_consent
            .get(provider.index())
            .copied()
            .unwrap_or(false)
    }

    /// Sliding-window rate limit for Eshopbox: `Some(retry_after_secs)` when over.
    pub(crate) fn eshopbox_rate_limited(&mut self, max: u32, window: Duration) -> Option<u64> {
        let now = Instant::now();
        while let Some(first) = self.eshopbox_hits.front() {
            if now.duration_since(*first) >= window {
                self.eshopbox_hits.pop_front();
            } else {
                break;
            }
        }
        let max = usize::try_from(max).unwrap_or(usize::MAX);
        if self.eshopbox_hits.len() >= max {
            let wait = self
                .eshopbox_hits
                .front()
                .map(|first| window.saturating_sub(now.duration_since(*first)))
                .unwrap_or(window);
            // Round up to whole seconds, at least 1.
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            return Some(secs.max(1));
        }
        self.eshopbox_hits.push_back(now);
        None
    }

    // ---- codes -------------------------------------------------------------------

    pub(crate) fn insert_code(&mut self, code: String, record: CodeRecord) {
        self.codes.insert(code, record);
    }

    /// Redeems a code once: marks it used and returns its record.
    pub(crate) fn redeem_code(
        &mut self,
        provider: Provider,
        code: &str,
    ) -> Result<CodeRecord, CodeProblem> {
        let now = self.now();
        let record = self
            .codes
            .get_mut(code)
            .filter(|record| record.provider == provider)
            .ok_or(CodeProblem::Unknown)?;
        if record.used {
            return Err(CodeProblem::Used);
        }
        record.used = true;
        if record.expires_at <= now {
            return Err(CodeProblem::Expired);
        }
        Ok(record.clone())
    }

    // ---- tokens ------------------------------------------------------------------

    pub(crate) fn insert_access(&mut self, token: String, record: AccessRecord) {
        self.access_tokens.insert(token, record);
    }

    pub(crate) fn insert_refresh(&mut self, token: String, record: RefreshRecord) {
        self.refresh_tokens.insert(token, record);
    }

    /// A live (known, unexpired) refresh token of this provider, or why not.
    pub(crate) fn live_refresh(
        &self,
        provider: Provider,
        token: &str,
    ) -> Result<RefreshRecord, Refusal> {
        let now = self.now();
        if let Some(record) = self
            .refresh_tokens
            .get(token)
            .filter(|record| record.provider == provider)
        {
            return if record.expires_at.is_none_or(|at| at > now) {
                Ok(record.clone())
            } else {
                Err(Refusal::Expired(record.account.clone()))
            };
        }
        match self
            .dead_refresh
            .get(token)
            .filter(|dead| dead.provider == provider)
        {
            Some(dead) if dead.death == Death::Rotated => Err(Refusal::Spent(dead.account.clone())),
            Some(dead) => Err(Refusal::Revoked(dead.account.clone())),
            None => Err(Refusal::Unknown),
        }
    }

    /// Invalidates one refresh token replaced by rotation (its reuse is then counted
    /// as such).
    pub(crate) fn spend_refresh(&mut self, token: &str) {
        if let Some(record) = self.refresh_tokens.remove(token) {
            self.dead_refresh.insert(
                token.to_owned(),
                DeadRefresh {
                    provider: record.provider,
                    account: record.account,
                    death: Death::Rotated,
                },
            );
        }
    }

    /// Whether `token` is a live access token of this provider, of one of `kinds`.
    pub(crate) fn access_valid(
        &self,
        provider: Provider,
        token: &str,
        kinds: &[TokenKind],
    ) -> bool {
        let now = self.now();
        self.access_tokens.get(token).is_some_and(|record| {
            record.provider == provider
                && kinds.contains(&record.kind)
                && record.expires_at > now
                && !self.rejects_account(provider, record.account.as_deref())
        })
    }

    /// Whether the access tokens of `account` are refused persistently.
    fn rejects_account(&self, provider: Provider, account: Option<&str>) -> bool {
        account.is_some_and(|account| {
            self.rejected_accounts
                .get(provider.index())
                .is_some_and(|accounts| accounts.contains(account))
        })
    }

    /// Refuses the access tokens of `account`, those live now (as
    /// [`reject_access_tokens`](Self::reject_access_tokens) does) and those issued later,
    /// until [`accept_access_tokens`](Self::accept_access_tokens). Returns how many live
    /// access tokens died.
    pub(crate) fn reject_access_tokens_persistently(
        &mut self,
        provider: Provider,
        account: &str,
    ) -> usize {
        if let Some(accounts) = self.rejected_accounts.get_mut(provider.index()) {
            accounts.insert(account.to_owned());
        }
        self.reject_access_tokens(provider, Some(account))
    }

    /// Ends a persistent rejection of `account`'s access tokens: those issued from now
    /// on, and those live but refused while it lasted, are accepted again (tokens
    /// rejected once by [`reject_access_tokens`](Self::reject_access_tokens) stay
    /// dead). Returns whether the account was rejected persistently.
    pub(crate) fn accept_access_tokens(&mut self, provider: Provider, account: &str) -> bool {
        self.rejected_accounts
            .get_mut(provider.index())
            .is_some_and(|accounts| accounts.remove(account))
    }

    /// Checks the access token of an API request, as [`access_valid`](Self::access_valid)
    /// does, and notes its account (for a token the sandbox knows, even dead) and a
    /// rejection (`token` missing or not valid) in `tally`.
    pub(crate) fn check_api_token(
        &self,
        provider: Provider,
        token: Option<&str>,
        kinds: &[TokenKind],
        tally: &mut ApiTally,
    ) -> bool {
        let Some(token) = token else {
            tally.token_rejected = true;
            return false;
        };
        if let Some(record) = self
            .access_tokens
            .get(token)
            .filter(|record| record.provider == provider)
        {
            tally.account.clone_from(&record.account);
        } else if let Some(dead) = self
            .dead_access
            .get(token)
            .filter(|dead| dead.provider == provider)
        {
            tally.account.clone_from(&dead.account);
        }
        let valid = self.access_valid(provider, token, kinds);
        tally.token_rejected = !valid;
        valid
    }

    /// Makes the provider's live access tokens (of one account, if given) invalid
    /// before their time; refresh tokens are untouched. Returns how many died.
    pub(crate) fn reject_access_tokens(
        &mut self,
        provider: Provider,
        account: Option<&str>,
    ) -> usize {
        let hit = |record: &AccessRecord| {
            record.provider == provider
                && account.is_none_or(|want| record.account.as_deref() == Some(want))
        };
        let doomed: Vec<String> = self
            .access_tokens
            .iter()
            .filter(|(_, record)| hit(record))
            .map(|(token, _)| token.clone())
            .collect();
        for token in &doomed {
            if let Some(record) = self.access_tokens.remove(token) {
                self.dead_access.insert(
                    token.clone(),
                    DeadAccess {
                        provider: record.provider,
                        account: record.account,
                    },
                );
            }
        }
        doomed.len()
    }

    /// Invalidates every refresh token and pending code of the provider.
    pub(crate) fn revoke(&mut self, provider: Provider) {
        self.revoke_where(provider, None);
    }

    /// Invalidates the refresh tokens, pending codes and access tokens of one account;
    /// returns how many refresh and access tokens died.
    pub(crate) fn revoke_account(&mut self, provider: Provider, account: &str) -> (usize, usize) {
        let refresh = self.revoke_where(provider, Some(account));
        let access = self.reject_access_tokens(provider, Some(account));
        (refresh, access)
    }

    /// Kills the refresh tokens and codes of the provider (of one account, if given).
    fn revoke_where(&mut self, provider: Provider, account: Option<&str>) -> usize {
        let hit = |p: Provider, a: &str| p == provider && account.is_none_or(|want| want == a);
        let revoked: Vec<String> = self
            .refresh_tokens
            .iter()
            .filter(|(_, record)| hit(record.provider, &record.account))
            .map(|(token, _)| token.clone())
            .collect();
        for token in &revoked {
            if let Some(record) = self.refresh_tokens.remove(token) {
                self.dead_refresh.insert(
                    token.clone(),
                    DeadRefresh {
                        provider: record.provider,
                        account: record.account,
                        death: Death::Revoked,
                    },
                );
            }
        }
        self.codes
            .retain(|_, record| !hit(record.provider, &record.account));
        revoked.len()
    }

    /// Invalidates every access token of the provider.
    pub(crate) fn expire_access_tokens(&mut self, provider: Provider) {
        self.reject_access_tokens(provider, None);
    }
}
