//! [`Authorizer`]: one provider's client and the tokens to call its API
//! with, shared by the reqwest middleware and the tower layer.

use http::{HeaderMap, HeaderName, HeaderValue};
use oauth_core::provider::registry::{AnyClient, DynClient};
use oauth_core::{AttachToken, Client, Provider, TokenHandle, TokenManager, TokenPool};
use std::fmt;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use std::sync::{Arc, Mutex, MutexGuard};

/// The default cap on an answer read to be classified: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// One provider's client (its attachment and its classifier of API
/// answers) and the tokens to use: one account's [`TokenManager`] or a
/// [`TokenPool`] (the account is then chosen per request by an
/// [`Account`] extension).
///
/// Cheap to clone (one reference count); `Debug` shows the provider and
/// the account(s), never a token. Make the reqwest middleware with
/// [`middleware`](Self::middleware) (feature `reqwest`) or the tower layer
/// with [`layer`](Self::layer) (feature `tower`): both run the same code.
#[derive(Clone)]
pub struct Authorizer {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) client: AnyClient,
    /// Replaces the client's own attachment ([`Authorizer::with_attachment`]).
    pub(crate) attachment: Option<Arc<dyn AttachToken>>,
    pub(crate) provider: &'static str,
    pub(crate) tokens: Tokens,
    pub(crate) body_limit: usize,
    /// The headers carrying the latest tokens, built once per token.
    headers: HeaderCache,
}

/// Where the tokens come from: one account's manager, or a pool of
/// accounts. Made from either with `From` (`manager.into()`).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Tokens {
    /// One account.
    Manager(TokenManager),
    /// Many accounts; each request names its own with an [`Account`]
    /// extension.
    Pool(TokenPool),
}

impl From<TokenManager> for Tokens {
    fn from(manager: TokenManager) -> Self {
        Self::Manager(manager)
    }
}

impl From<TokenPool> for Tokens {
    fn from(pool: TokenPool) -> Self {
        Self::Pool(pool)
    }
}

/// The account a request is made for, when the middleware serves a
/// [`TokenPool`]: put it in the request's extensions
/// (`reqwest_middleware::RequestBuilder::with_extension(Account::new("seller-1"))`,
/// or `http::Request::extensions_mut().insert(..)`). A request without one
/// fails with [`Error::MissingAccount`](crate::Error::MissingAccount).
/// Ignored when the middleware serves one account's [`TokenManager`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Account(Arc<str>);

impl Account {
    /// The account `id` (as given to [`TokenPool::install`]).
    pub fn new(id: impl Into<Arc<str>>) -> Self {
        Self(id.into())
    }

    /// The account id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Account").field(&&*self.0).finish()
    }
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Authorizer {
    /// For API calls to provider `P` through `client` (any provider
    /// crate's `Client`), with `tokens`: a [`TokenManager`] or a
    /// [`TokenPool`].
    pub fn new<P: Provider>(client: &Client<P>, tokens: impl Into<Tokens>) -> Self {
        let client: AnyClient = Arc::new(client.clone());
        Self::from_any(client, tokens)
    }

    /// For API calls through a client of any provider, as the registry
    /// builds them (`oauth_all::PROVIDERS`).
    pub fn from_any(client: AnyClient, tokens: impl Into<Tokens>) -> Self {
        let provider = oauth_core::RefreshGrant::provider(&*client);
        let tokens = tokens.into();
        Self {
            inner: Arc::new(Inner {
                client,
                attachment: None,
                provider,
                headers: HeaderCache::new(&tokens),
                tokens,
                body_limit: DEFAULT_BODY_LIMIT,
            }),
        }
    }

    /// The cap on an answer read to be classified (default
    /// [`DEFAULT_BODY_LIMIT`], 1 MiB). Only the answers the provider must
    /// read ([`Provider::api_answer_needs_body`]) are read; one larger than
    /// this is passed on whole (nothing lost), without classification.
    pub fn body_limit(self, bytes: usize) -> Self {
        let inner = &self.inner;
        Self {
            inner: Arc::new(Inner {
                client: Arc::clone(&inner.client),
                attachment: inner.attachment.clone(),
                provider: inner.provider,
                tokens: inner.tokens.clone(),
                body_limit: bytes,
                headers: HeaderCache::new(&inner.tokens),
            }),
        }
    }

    /// Attaches tokens another way than the client's own
    /// [`attachment`](oauth_core::Client::attachment): e.g. eBay's Trading
    /// API (`oauth_ebay::ApiAuth::Trading`, `X-EBAY-API-IAF-TOKEN`) with an
    /// eBay client whose attachment is REST's `Authorization: Bearer`.
    /// Classification stays the provider's.
    pub fn with_attachment(self, attachment: Arc<dyn AttachToken>) -> Self {
        let inner = &self.inner;
        Self {
            inner: Arc::new(Inner {
                client: Arc::clone(&inner.client),
                attachment: Some(attachment),
                provider: inner.provider,
                tokens: inner.tokens.clone(),
                body_limit: inner.body_limit,
                headers: HeaderCache::new(&inner.tokens),
            }),
        }
    }

    /// The attachment in force: [`with_attachment`](Self::with_attachment)'s,
    /// or the client's.
    pub(crate) fn attachment(&self) -> &dyn AttachToken {
        match &self.inner.attachment {
            Some(attachment) => &**attachment,
            None => self.inner.client.attachment(),
        }
    }

    /// Whether the attachment may change the request's URL (it needs the
    /// whole head: AliExpress signs the query), found by asking it for its
    /// headers alone once. Such a URL carries the token: the middleware then
    /// keeps the caller's URL for errors and answers.
    pub(crate) fn rewrites_url(&self) -> bool {
        !matches!(
            self.attachment().token_headers(
                &oauth_core::AccessToken::new("probe-token"),
                &mut HeaderMap::new()
            ),
            Ok(true)
        )
    }

    /// The provider's name (e.g. `"ebay"`).
    pub fn provider(&self) -> &'static str {
        self.inner.provider
    }

    /// The tokens in use.
    pub fn tokens(&self) -> &Tokens {
        &self.inner.tokens
    }

    pub(crate) fn client(&self) -> &dyn DynClient {
        &*self.inner.client
    }
}

impl fmt::Debug for Authorizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authorizer")
            .field("provider", &self.inner.provider)
            .field("tokens", &self.inner.tokens)
            .field("body_limit", &self.inner.body_limit)
            .finish_non_exhaustive()
    }
}

/// The account a call uses: its token source, resolved once per call.
pub(crate) enum Source<'a> {
    Manager(&'a TokenManager),
    Pool(&'a TokenPool, Account),
}

impl Source<'_> {
    /// The account's slot in a cache of `slots` entries.
    fn slot(&self, slots: usize) -> usize {
        match self {
            Self::Manager(_) => 0,
            Self::Pool(_, a) => {
                let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(a.as_str());
                // The remainder is below `slots`, a `usize`.
                usize::try_from(hash % slots as u64).unwrap_or(0)
            }
        }
    }

    /// The account id, for tracing.
    pub(crate) fn account(&self) -> &str {
        match self {
            Self::Manager(m) => m.account().account(),
            Self::Pool(_, a) => a.as_str(),
        }
    }

    pub(crate) async fn token(&self) -> Result<TokenHandle, oauth_core::Error> {
        match self {
            Self::Manager(m) => m.access_token().await,
            Self::Pool(p, a) => p.access_token(a.as_str()).await,
        }
    }

    /// Marks `handle` rejected: a compare-and-swap on the manager's current
    /// token, so that of any number of calls rejected with the same token
    /// only the first changes anything, and the next `token()` starts the
    /// manager's single refresh.
    pub(crate) fn invalidate(&self, handle: &TokenHandle) {
        match self {
            Self::Manager(m) => m.invalidate(handle),
            Self::Pool(p, a) => {
                if let Some(manager) = p.get(a.as_str()) {
                    manager.invalidate(handle);
                }
            }
        }
    }
}

impl Authorizer {
    /// The token source for a request carrying `account` (if any).
    pub(crate) fn source(&self, account: Option<&Account>) -> Result<Source<'_>, crate::Error> {
        match &self.inner.tokens {
            Tokens::Manager(m) => Ok(Source::Manager(m)),
            Tokens::Pool(p) => account
                .map(|a| Source::Pool(p, a.clone()))
                .ok_or(crate::Error::MissingAccount),
        }
    }
}

/// The headers that carry a token, as the attachment's fast path
/// ([`AttachToken::token_headers`](oauth_core::AttachToken::token_headers))
/// wrote them; `None`: the attachment needs the request's whole head.
pub(crate) type TokenHeaders = Option<Arc<[(HeaderName, HeaderValue)]>>;

/// The headers carrying the latest token of each account, built once per
/// token (the token's identity: its [`TokenHandle`]) so that a call with
/// an unchanged token inserts clones (reference counts) of them. One slot
/// for a [`TokenManager`]; for a [`TokenPool`], a fixed number of slots
/// chosen by the account's hash (two accounts sharing one rebuild their
/// headers in turn: slower, never wrong).
struct HeaderCache {
    slots: Box<[Mutex<Option<Cached>>]>,
}

struct Cached {
    /// Kept to compare identities (`same_as`); the token's value is also
    /// in the header.
    handle: TokenHandle,
    headers: TokenHeaders,
}

/// Slots of a pool's cache.
const POOL_SLOTS: usize = 128;

impl HeaderCache {
    fn new(tokens: &Tokens) -> Self {
        let slots = match tokens {
            Tokens::Manager(_) => 1,
            Tokens::Pool(_) => POOL_SLOTS,
        };
        Self {
            slots: (0..slots).map(|_| Mutex::new(None)).collect(),
        }
    }
}

/// A slot, poisoned or not (it holds no invariant a panic could break).
fn lock(slot: &Mutex<Option<Cached>>) -> MutexGuard<'_, Option<Cached>> {
    slot.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Authorizer {
    /// The headers carrying `handle`'s token for `source`'s account: from
    /// the cache when the token is the one cached, else built (and cached).
    pub(crate) fn token_headers(
        &self,
        source: &Source<'_>,
        handle: &TokenHandle,
    ) -> Result<TokenHeaders, oauth_core::Error> {
        let slots = &self.inner.headers.slots;
        let Some(slot) = slots.get(source.slot(slots.len())) else {
            return Ok(None);
        };
        if let Some(cached) = &*lock(slot)
            && cached.handle.same_as(handle)
        {
            return Ok(cached.headers.clone());
        }
        let mut map = HeaderMap::new();
        let headers = if self
            .attachment()
            .token_headers(handle.access_token(), &mut map)?
        {
            Some(map.iter().map(|(n, v)| (n.clone(), v.clone())).collect())
        } else {
            None
        };
        *lock(slot) = Some(Cached {
            handle: handle.clone(),
            headers: headers.clone(),
        });
        Ok(headers)
    }
}
