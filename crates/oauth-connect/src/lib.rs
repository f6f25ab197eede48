//! Seller onboarding for the commerce OAuth toolkit: an
//! [axum](https://docs.rs/axum) [`Router`](axum::Router) that a service
//! mounts under a path of its choice, with
//!
//! - `GET …/connect/{provider}?account=…[&return_to=…]`: refuses a
//!   navigation from another site (`Sec-Fetch-Site: cross-site` or
//!   `same-site`: `403`, outcome `cross-site-request`; `same-origin`, `none`
//!   and no header at all are accepted), asks the host's
//!   [`Authorize`] hook (a refusal is `403` and nothing else happens), then
//!   redirects (`302`) to the provider's consent page with a fresh
//!   [`CsrfState`](oauth_core::CsrfState) (256 bits). The connect in
//!   progress (provider, account, return URL, expiry after 10 minutes) is
//!   kept server-side in a [`PendingStore`] (in memory by default) under a
//!   second random 256-bit value, which the browser gets as the cookie
//!   `oauth_connect` (`HttpOnly; SameSite=Lax; Secure`, `Path` the
//!   provider's callback; not `Secure` only when the public base URL is
//!   plain-HTTP loopback);
//! - `GET …/callback/{provider}`: takes the connect named by the cookie (one
//!   use: a second callback finds nothing), checks its expiry and compares
//!   the returned `state` with it in constant time
//!   ([`parse_callback`](oauth_core::parse_callback)); a declined consent
//!   (`error=access_denied`), another provider error, a missing or foreign
//!   cookie, a replayed, expired or foreign state each get a clear page and
//!   **no token request**. Otherwise it exchanges the code
//!   ([`AuthorizationCodeGrant::exchange_code`](oauth_core::AuthorizationCodeGrant::exchange_code)),
//!   installs the tokens through the account's
//!   [`TokenPool`](oauth_core::TokenPool) or
//!   [`TokenManager`](oauth_core::TokenManager) (running managers serve
//!   them at once), calls the [`on_connected`](ConnectBuilder::on_connected)
//!   hook and shows a result page (with a link to the return URL, which was
//!   checked against an allow-list when the connect started: no open
//!   redirect);
//! - `POST …/paste/{provider}`, only for providers without a consent step
//!   (their client has no authorize endpoint, e.g. Eshopbox custom apps;
//!   any other provider is `404`): the status page's form sends `account`
//!   and `refresh_token`. The [`Authorize`] hook decides, with the same
//!   [`Action::Connect`] as a connect; one refresh
//!   ([`RefreshGrant::refresh`](oauth_core::RefreshGrant::refresh) with a
//!   set holding just that refresh token and an expired access token)
//!   validates the token, and the result is installed through the pool or
//!   manager and reported like a connect (result page,
//!   [`on_connected`](ConnectBuilder::on_connected)). A refused token
//!   (`token-refused`) or another failure (`refresh-failed`) installs
//!   nothing. See [Cross-site requests](#cross-site-requests);
//! - `GET …/status` (HTML, no JavaScript) and `GET …/status.json`: every
//!   account of the token store for the configured providers, with its
//!   state ([`AccountState`]), expiries, last refresh, last error class and
//!   a reconnect link, behind the same [`Authorize`] hook. Never a token or
//!   a secret, not even masked.
//!
//! # Providers
//! Any [`AnyClient`](oauth_core::provider::registry::AnyClient): a provider
//! crate's `Client` in an `Arc`, or one built from the registry. The
//! client's redirect URI must be the router's callback,
//! `{public base URL}/callback/{provider}` ([`Connect::callback_url`]):
//! - **eBay**: the redirect URI is the RuName; register the RuName's "auth
//!   accepted URL" as `…/callback/ebay` (the same route: no eBay-specific
//!   path). A declined consent that comes back without `state` is shown as
//!   a refused connect (`invalid-state`), with `error=access_denied` and the
//!   state as `denied`;
//! - **AliExpress** and **OrangeConnex**: their redirect URI setting is
//!   `…/callback/aliexpress` / `…/callback/orangeconnex`;
//! - **Eshopbox** custom apps have no consent step: the status page has a
//!   form to paste an account's refresh token (`POST …/paste/eshopbox`);
//!   their accounts show on the status page like any other.
//!
//! # The status page
//! Pages are plain server-rendered HTML, with stable ids for tests and
//! tools: the table `#status-table`, one row `#account-{provider}-{account}`
//! per account with `data-state` (`fresh`, `refreshing`, `expired`,
//! `failing`, `reauthorize`), a link `#reconnect-{provider}-{account}`, and
//! per provider a form `#connect-{provider}` with the input
//! `#account-{provider}` (`name="account"`) and the button
//! `#connect-{provider}-submit`; per provider without a consent step a
//! form `#paste-{provider}` with the inputs `#paste-account-{provider}`
//! (`name="account"`) and `#paste-refresh-token-{provider}`
//! (`type="password"`, `name="refresh_token"`) and the button
//! `#paste-{provider}-submit`. Result pages carry `#result` with a
//! `data-outcome`: `connected`, `denied`, `provider-error`,
//! `missing-cookie`, `unknown-state`, `invalid-state`, `expired`,
//! `invalid-callback`, `exchange-failed`, `server-error`, `forbidden`,
//! `not-found`, `invalid-account`, `invalid-request`,
//! `return-not-allowed`, and for the paste form `token-refused`,
//! `refresh-failed`, `invalid-token`, `cross-site-request`.
//!
//! # Cross-site requests
//! The paste form needs no token and no cookie (nothing to keep or share
//! between instances): `POST …/paste/{provider}` requires
//! `Content-Type: application/x-www-form-urlencoded` and either
//! `Sec-Fetch-Site: same-origin` or, from a browser that does not send
//! `Sec-Fetch-Site`, an `Origin` equal to the public base URL's origin.
//! A page cannot forge either header. `Origin: null` alone (what the
//! pages' `Referrer-Policy: no-referrer` makes browsers send with a form)
//! is refused. The body is read up to 16 KiB. The pasted token goes only to
//! the provider's token endpoint: never into a page, URL, log or error.
//!
//! The states come from the token store (expiries, a refresh in progress)
//! and from the pools' and managers' [events](oauth_core::TokenEvent): a
//! refresh that failed (`RefreshFailed`: its error class and when it is
//! retried), re-authorization required, a save that failed. Failures of the
//! host's own calls can be added with [`Connect::note_failure`].
//!
//! # Crate feature flags
//! none.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![deny(rustdoc::broken_intra_doc_links)]

mod access;
mod connect;
mod html;
mod paste;
mod pending;
mod status;

pub use access::{Action, Authorize, AuthorizeFn, Connected, authorize_fn};
pub use connect::{COOKIE_NAME, Connect, ConnectBuilder};
pub use pending::{MemoryPendingStore, PENDING_LIFETIME, Pending, PendingStore};
pub use status::{AccountState, AccountStatus};

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctest;
