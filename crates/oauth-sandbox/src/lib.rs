//! A local, stateful emulator of the eBay, AliExpress, OrangeConnex and Eshopbox OAuth
//! endpoints, for offline tests and demos.
//!
//! The sandbox issues authorization codes and tokens, enforces client authentication and
//! signatures, rotates refresh tokens where the provider does, expires everything it
//! issues, and answers errors in each provider's own shape. It runs in-process on
//! 127.0.0.1 (a free port) or as the `oauth-sandbox` binary.
//!
//! ```
//! use oauth_sandbox::{Provider, Sandbox};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let sandbox = Sandbox::start().await?;
//! let eshopbox = &sandbox.credentials().eshopbox;
//!
//! // One raw refresh grant against the emulated Eshopbox token endpoint.
//! let body = serde_json::json!({
//!     "client_id": eshopbox.client_id,
//!     "client_secret": eshopbox.client_secret,
//!     "grant_type": "refresh_token",
//!     "refresh_token": eshopbox.refresh_token,
//! });
//! let response = reqwest::Client::new()
//!     .post(sandbox.eshopbox_token_url())
//!     .json(&body)
//!     .send()
//!     .await?;
//! assert_eq!(response.status(), 200);
//! let token: serde_json::Value = response.json().await?;
//! assert_eq!(token["token_type"], "Bearer");
//! assert_eq!(token["expires_in"], 86400);
//! assert_eq!(sandbox.token_requests(Provider::Eshopbox), 1);
//! # Ok(())
//! # }
//! ```
//!
//! The sandbox does not depend on `oauth-core` or on any provider crate: it is an
//! independent implementation of the providers' side (its own signature check, its own
//! request parsing), so that the clients and the sandbox check each other.
//!
//! # URL layout
//!
//! Under the base URL ([`Sandbox::base_url`], `http://127.0.0.1:<port>`), each provider
//! has its own prefix; below it the paths are exactly the real provider's, so a client
//! only needs its base URL replaced.
//!
//! | provider | base | endpoints |
//! |---|---|---|
//! | eBay | `<base>/ebay` | `GET /oauth2/authorize`, `POST /identity/v1/oauth2/token`; API: `GET /sell/account/v1/privilege`, `GET /sell/inventory/v1/inventory_item`, `POST /sell/inventory/v1/bulk_get_inventory_item` (Bearer), `POST /ws/api.dll` (`X-EBAY-API-IAF-TOKEN`) |
//! | AliExpress | `<base>/aliexpress` | `GET /oauth/authorize`, `POST /rest/auth/token/create`, `POST /rest/auth/token/refresh`; API: `GET\|POST /rest/order/get` (signed, `access_token`), `GET\|POST /sync?method=...` (signed, `session` or `access_token`) |
//! | OrangeConnex | `<base>/orangeconnex` | `GET /oauth/authorize`, `POST /oauth/token` (query string); API: `GET /openapi/3pp/sku/v3/list`, `POST /openapi/3pp/sku/v3/creation` (`Access-Token: Bearer` + `clientKey`) |
//! | Eshopbox | `<base>/eshopbox` | `POST /api/v1/generateToken` (JSON); API: `GET /api/v1/me`, `GET /api/v1/orders` (Bearer) |
//! | all | `<base>` | `GET /callback/{ebay,aliexpress,orangeconnex,eshopbox}`: a "you may close this window" page |
//!
//! # API endpoints
//!
//! A few representative API calls per provider, so that code which attaches tokens to
//! API calls, recognises the provider's "invalid access token" answer, refreshes and
//! retries can be tested end to end. Each checks the token exactly the provider's way
//! (a live access token of that provider: not expired, not rejected, not revoked) and
//! answers in the provider's shape. Every request to them is counted
//! ([`ApiCounts`]); the "rejected" column is what counts as
//! [`ApiCounts::token_rejected`].
//!
//! | provider | request | token | success | rejected token |
//! |---|---|---|---|---|
//! | eBay | `GET /sell/account/v1/privilege` | `Authorization: Bearer`, user or application token | `200 {"sellerRegistrationCompleted", "sellingLimit"}` | `401`, `WWW-Authenticate: Bearer realm="ebay", error="invalid_token"`, `{"errors": [{"errorId": 1001, "domain": "OAuth", "category": "REQUEST", "message": "Invalid access token", "longMessage": ...}]}` |
//! | eBay | `GET /sell/inventory/v1/inventory_item?limit=&offset=` | `Authorization: Bearer`, user token | `200 {"href", "inventoryItems": [{"sku", "locale", "product", "condition", "availability", ...}], "limit", "size", "total"}` (3 SKUs `SANDBOX-SKU-1..3`); `400` error 2004 for a `limit` outside 1..=200 | the same `401` |
//! | eBay | `POST /sell/inventory/v1/bulk_get_inventory_item` `{"requests": [{"sku"}, ...]}` (JSON, 1 to 25) | `Authorization: Bearer`, user token | `200 {"responses": [{"statusCode": 200, "sku", "inventoryItem"} or {"statusCode": 404, "sku", "errors": [{"errorId": 25710, ...}]}]}`; `400` error 2004 for another body | the same `401` |
//! | eBay | `POST /ws/api.dll` (Trading, `X-EBAY-API-CALL-NAME`) | `X-EBAY-API-IAF-TOKEN`, user token | `200`, XML `<{Call}Response>` with `<Ack>Success</Ack>` | `200`, XML `<Ack>Failure</Ack>` with `<ErrorCode>21916984</ErrorCode>` "Invalid IAF token." |
//! | AliExpress | `GET\|POST /sync?method=aliexpress.solution.seller.info.query`, `aliexpress.solution.order.get`, `aliexpress.solution.product.list.get` (query string or form body) | `session` (or `access_token`) parameter; every parameter signed | `200 {"<method with _>_response": {"result": {...}, "request_id"}}` | `200 {"error_response": {"type": "ISV", "code": "IllegalAccessToken", "msg", "request_id"}}` |
//! | AliExpress | `GET\|POST /rest/order/get` | `access_token` parameter; signed with the path | `200 {"code": "0", "result": {...}, "request_id"}` | `200 {"type": "ISV", "code": "IllegalAccessToken", "message", "request_id"}` |
//! | OrangeConnex | `GET /openapi/3pp/sku/v3/list` | `Access-Token: Bearer` and `clientKey` | `200 {"success": true, "code": "200", "message": "success", "data": {"total", "list"}}` | `401 {"success": false, "code": "401", "message": "Invalid or expired access token"}` |
//! | OrangeConnex | `POST /openapi/3pp/sku/v3/creation` (JSON with a non-empty `sellerSkuId`) | `Access-Token: Bearer` and `clientKey` | `200 {"success": true, ..., "data": {"mfSkuId", "sellerSkuId"}}`; `400 {"success": false, "code": "400", ...}` for another body | the same `401` |
//! | Eshopbox | `GET /api/v1/me` | `Authorization: Bearer` | `200 {"workspace", "name", "email"}` | `401 {"statusCode": 401, "error": "Unauthorized", "message": "Invalid token"}` |
//! | Eshopbox | `GET /api/v1/orders?page=&perPage=` | `Authorization: Bearer` | `200 {"page", "perPage", "total", "data": [{..., "account"}]}`; `400` for `perPage` outside 1..=100 | the same `401` |
//!
//! A missing token gets the rejected-token answer too (AliExpress: `MissingParameter`,
//! not counted as a rejection). Answers that are not about the token: an eBay
//! application token on an API that needs a user's gets `403` error 1100 "Access
//! denied" (refreshing cannot help); a wrong or missing OrangeConnex `clientKey` gets
//! `401 {"success": false, "code": "401", "message": "Invalid clientKey"}`; AliExpress
//! checks the method name (`InvalidApiName`), app key, timestamp and signature
//! (`IncompleteSignature`) before the token. The bodies of successful calls are fixed
//! samples (they name the token's account where the real ones name the seller); the
//! request parameters beyond those listed are not interpreted.
//!
//! Sources: `shared/providers/*.md` of the toolkit (how each provider takes the token,
//! AliExpress's error shapes). eBay's `401` body and Trading error are eBay's documented
//! ones; the shapes of OrangeConnex's and Eshopbox's API errors are not documented
//! (Eshopbox's is Auth0/hapi-style, the sandbox's choice), nor are the exact success
//! bodies of the AliExpress, OrangeConnex and Eshopbox calls: a client should
//! classify them by status and code, as the toolkit's provider notes say.
//!
//! To see a client's refresh-and-retry path, make the provider refuse tokens that
//! have not expired with [`Sandbox::reject_access_tokens`] (or `POST
//! /admin/reject-access-tokens`), one account's or all of them; refresh tokens keep
//! working. Then assert with [`Sandbox::counters`]: for one call that is retried, the
//! account's [`ApiCounts`] show two requests and one token rejection, its
//! [`TokenCounts`] one refresh.
//!
//! To see the path where the token is refused again after the refresh (the client
//! must give up, not loop), [`Sandbox::reject_access_tokens_persistently`] (or the
//! same admin request with `"persistent": true`) makes the provider refuse one
//! account's access tokens, the live ones and every one issued later, until
//! [`Sandbox::accept_access_tokens`]; refreshes keep succeeding. One call then shows
//! two requests, two token rejections and one refresh.
//!
//! # Consent
//!
//! Each authorize endpoint checks `client_id`, `redirect_uri` (eBay: the RuName;
//! others: the registered redirect URI), `response_type=code` and the presence of
//! `state`, then answers in one of two ways:
//!
//! - **a browser** (`Accept: text/html`, no `sandbox_account` parameter) gets real HTML
//!   pages: a seller login form (seller name and password; any seller the sandbox
//!   knows, i.e. [`DEFAULT_ACCOUNT`] or an account holding a grant for that provider,
//!   and any password; an unknown one gets the form again, `401`, with the error in an
//!   `role="alert"` paragraph), then a consent page with **Agree** and **Decline**
//!   buttons. Both post forms back to the authorize URL (`step=login` with `seller`
//!   and `password`; `step=consent` with `seller` and `decision=agree|decline`).
//!   Agree redirects as below for that seller; Decline redirects with
//!   `error=access_denied`, `error_description` and `state`. The pages are
//!   accessible: `lang`, one `h1`, labelled inputs, named buttons, contrast of at
//!   least 7:1;
//! - **a program** (any other `GET`) gets the shortcut: the endpoint redirects at once
//!   (`302`) with `code` and `state` (eBay adds `expires_in`), as if the seller had
//!   signed in and agreed; [`Sandbox::deny_consent`] makes it redirect with
//!   `error=access_denied` instead.
//!
//! An unknown client or redirect URI is answered in place (`400`, JSON `error`); other
//! problems redirect with `error` and `error_description`. The sandbox requires `state`
//! even where the provider treats it as optional (eBay, AliExpress): a client that
//! omits it has a CSRF hole.
//!
//! Codes look like the real ones and exercise encoding: eBay codes and tokens contain
//! `^` and `#`, OrangeConnex codes are standard base64 with `+`, `/` and `=`.
//!
//! # Behaviour per provider
//!
//! - **eBay**: Basic auth checked (`401 invalid_client`), form body required, RuName as
//!   `redirect_uri` must match, codes single-use and short-lived (`400 invalid_grant`),
//!   refresh scopes must be a subset of the consented ones (`400 invalid_scope`), no
//!   rotation (the refresh response has only `access_token`, `expires_in`, `token_type`
//!   `"User Access Token"`), client credentials give an `"Application Access Token"`
//!   for `https://api.ebay.com/oauth/api_scope` and the `.../api_scope/buy.*` scopes
//!   (`400 invalid_scope` otherwise), without a refresh token.
//! - **AliExpress**: parameters from the query string and the form body together (or
//!   all in one of them); the HMAC-SHA256 signature over every parameter but `sign` is
//!   verified ([`signature`]); timestamps further than the tolerance from real time are
//!   refused (`InvalidTimestamp`; default 10 minutes, see
//!   [`SandboxBuilder::timestamp_tolerance`]); refresh rotates the refresh token (the
//!   old one dies at once; see "Controls" to turn it off) and keeps the original
//!   `refresh_token_valid_time`. Errors
//!   come with HTTP 200: `{"type":"ISV","code":...,"message":...,"request_id":...}` on
//!   `/rest`, `{"error_response":{...,"msg":...}}` on `/sync`. Codes used:
//!   `IncompleteSignature`, `InvalidTimestamp`, `MissingParameter`, `InvalidParameter`
//!   (duplicate parameter), `InvalidAppKey`, `InvalidSignMethod`, `InvalidCode`,
//!   `IllegalRefreshToken`, `IllegalAccessToken`, `InvalidApiName` (the ones not in the
//!   provider's documentation are the sandbox's choice).
//! - **OrangeConnex**: every parameter in the query string, the body ignored;
//!   `redirect_uri` must equal the one given at authorize; a `clientKey` header, when
//!   sent, must match the registered one (it is required on the API). Errors are
//!   `{"error","error_description"}` with 400 (401 for `invalid_client`), or 200 with
//!   [`OrangeConnexErrorStatus::AlwaysOk`]. Refresh returns the same refresh token
//!   unless [`SandboxBuilder::orangeconnex_rotates_refresh_tokens`] is on.
//! - **Eshopbox**: JSON body (a form body is accepted too, as Auth0 does), client secret
//!   checked (`401 access_denied`), a pre-seeded never-expiring refresh token that does
//!   not rotate, `403 invalid_grant` "Unknown or invalid refresh token." after
//!   [`Sandbox::revoke`], and an optional rate limit
//!   ([`SandboxBuilder::eshopbox_rate_limit`]).
//!
//! Errors never echo a token, code or secret back.
//!
//! # Default credentials
//!
//! See [`credentials`] for the constants. Redirect targets default to
//! `<base>/callback/<provider>`; the builder overrides any of them.
//!
//! | provider | values |
//! |---|---|
//! | eBay | client id [`DEFAULT_EBAY_CLIENT_ID`](credentials::DEFAULT_EBAY_CLIENT_ID), secret [`DEFAULT_EBAY_CLIENT_SECRET`](credentials::DEFAULT_EBAY_CLIENT_SECRET), RuName [`DEFAULT_EBAY_RU_NAME`](credentials::DEFAULT_EBAY_RU_NAME) |
//! | AliExpress | app key [`DEFAULT_ALIEXPRESS_APP_KEY`](credentials::DEFAULT_ALIEXPRESS_APP_KEY), secret [`DEFAULT_ALIEXPRESS_APP_SECRET`](credentials::DEFAULT_ALIEXPRESS_APP_SECRET) |
//! | OrangeConnex | client id [`DEFAULT_ORANGECONNEX_CLIENT_ID`](credentials::DEFAULT_ORANGECONNEX_CLIENT_ID), client key [`DEFAULT_ORANGECONNEX_CLIENT_KEY`](credentials::DEFAULT_ORANGECONNEX_CLIENT_KEY) |
//! | Eshopbox | client id [`DEFAULT_ESHOPBOX_CLIENT_ID`](credentials::DEFAULT_ESHOPBOX_CLIENT_ID), secret [`DEFAULT_ESHOPBOX_CLIENT_SECRET`](credentials::DEFAULT_ESHOPBOX_CLIENT_SECRET), refresh token [`DEFAULT_ESHOPBOX_REFRESH_TOKEN`](credentials::DEFAULT_ESHOPBOX_REFRESH_TOKEN) |
//!
//! # Controls and faults
//!
//! - Lifetimes: real defaults ([`Lifetimes::provider_default`]), shortened with
//!   [`SandboxBuilder::access_token_lifetime`], [`SandboxBuilder::refresh_token_lifetime`]
//!   (which also makes Eshopbox's refresh tokens expire; they never do by default),
//!   [`SandboxBuilder::lifetimes`], ...; [`Sandbox::advance_time`] jumps ahead.
//! - Rotation: by default only AliExpress rotates refresh tokens (as the real one
//!   does). [`SandboxBuilder::rotate_refresh_tokens`] turns rotation on (or off) for
//!   every provider, [`SandboxBuilder::provider_rotates_refresh_tokens`] for one. A
//!   rotated refresh token is single use: presenting it again gets the provider's
//!   invalid-grant error (eBay and OrangeConnex `400 invalid_grant`, AliExpress
//!   `IllegalRefreshToken`, Eshopbox `403 invalid_grant`) and counts as
//!   [`TokenCounts::refresh_token_reuse`].
//! - [`Sandbox::revoke`] kills every grant of a provider, [`Sandbox::revoke_account`]
//!   one account's grant and access tokens; [`Sandbox::expire_access_tokens`] every
//!   access token; [`Sandbox::reject_access_tokens`] the access tokens of one account
//!   (or all), leaving refresh tokens alive;
//!   [`Sandbox::reject_access_tokens_persistently`] those issued later too.
//! - [`Sandbox::token_requests`] counts token endpoint hits, [`Sandbox::api_requests`]
//!   API endpoint hits; [`Sandbox::counters`] has them per provider and per account,
//!   token requests by grant type and rejection, API requests with how many were
//!   answered "invalid access token" ([`Counters`], [`ApiCounts`]);
//!   [`Sandbox::reset_counters`] zeroes them.
//! - [`Sandbox::seed_account`] gives an account a grant without the consent dance.
//! - [`Sandbox::inject`] queues [`Fault`]s on a provider's token endpoint: latency, a
//!   5xx with an HTML page, a truncated JSON body, a dropped connection, a 429 with
//!   `Retry-After`.
//!
//! # Accounts
//!
//! Every grant belongs to a seller account, a name of the sandbox's own. The consent
//! (authorize) endpoints give it to the account named by the sandbox-specific
//! `sandbox_account` query parameter (no real provider has it; a client under test
//! does not send it), else to [`DEFAULT_ACCOUNT`] (`sandbox_seller`). The code carries
//! it to the refresh token, which carries it through refreshes and rotations to every
//! access token. Eshopbox's pre-seeded refresh token belongs to [`DEFAULT_ACCOUNT`];
//! seeded accounts ([`Sandbox::seed_account`], `POST /admin/accounts`) get their own
//! grants. AliExpress's token responses name the account: `user_nick` is the account,
//! `seller_id`/`user_id` a stable number derived from it (`2637908814` for
//! [`DEFAULT_ACCOUNT`]). A token request is counted under the account of its code or
//! refresh token (also when refused, if the sandbox knows the token: spent, revoked,
//! expired); eBay's client credentials grants and requests with an unknown code or
//! token count only in the provider's totals.
//!
//! # Admin API
//!
//! The sandbox's own endpoints, on the same listener under `<base>/admin`
//! ([`Sandbox::admin_url`]). They answer only peers with a loopback address (and a
//! `Host` that is `127.0.0.1`, `localhost` or `[::1]`, against DNS rebinding); others
//! get `403 {"error":"forbidden",...}`. The listener binds 127.0.0.1 anyway. Bodies are
//! JSON; malformed requests get `400 {"error":"invalid_request","error_description":...}`.
//!
//! | request | answer |
//! |---|---|
//! | `GET /admin/counters` | `200`, [`Counters`] as JSON: `{"ebay": {"token_requests": n, "faulted": n, "totals": {...}, "accounts": {"<account>": {...}}, "api": {"requests": n, "token_rejected": n}, "api_accounts": {"<account>": {"requests": n, "token_rejected": n}}}, "aliexpress": ..., "orangeconnex": ..., "eshopbox": ...}`, each `{...}` a [`TokenCounts`]: `{"authorization_code", "refresh_token", "client_credentials", "rejected", "refresh_token_reuse", "revoked_grant"}`, `api` and each of `api_accounts` an [`ApiCounts`] |
//! | `POST /admin/reset-counters` | `204`; every counter is zero again |
//! | `POST /admin/revoke` `{"provider": "ebay", "account": "shop-1"}` | `200 {"provider", "account", "revoked_refresh_tokens": n, "revoked_access_tokens": n}`; without `account`, every grant of the provider ([`Sandbox::revoke`]) |
//! | `POST /admin/reject-access-tokens` `{"provider": "ebay", "account": "shop-1"}` | `200 {"provider", "account", "rejected_access_tokens": n}`: the account's live access tokens are refused by the API endpoints from now on, its refresh tokens keep working; without `account` (or `null`), every access token of the provider ([`Sandbox::reject_access_tokens`]); with `"persistent": true` (and an `account`), the account's access tokens issued later are refused too ([`Sandbox::reject_access_tokens_persistently`]); the answer then has `"persistent": true` |
//! | `POST /admin/accounts` `{"provider": "ebay", "accounts": ["shop-1", ...]}` (or `"account": "shop-1"`; at most 10 000) | `200 {"provider": "ebay", "accounts": [{"account", "access_token", "refresh_token", "expires_in", "refresh_token_expires_in"}, ...]}` ([`SeededTokens`]; `refresh_token_expires_in` is `null` for Eshopbox's never-expiring tokens) |
//!
//! `provider` is a path segment: `ebay`, `aliexpress`, `orangeconnex`, `eshopbox`.
//! Seeding is not a token request: it is not counted. Seeded eBay grants have the
//! scopes `https://api.ebay.com/oauth/api_scope` and its `/sell.account`,
//! `/sell.inventory` and `/sell.fulfillment`.
//!
//! # The binary
//!
//! `oauth-sandbox [--port N] [--access-token-ttl D] [--refresh-token-ttl D]
//! [--rotate-refresh-tokens[=ebay,aliexpress,orangeconnex,eshopbox]]
//! [--no-rotate-refresh-tokens]` serves on 127.0.0.1 (port 0 or none: a free one)
//! until Ctrl-C, after printing `oauth-sandbox listening on http://127.0.0.1:<port>` as
//! its first line, then the base URLs, the registered test credentials and the admin
//! URL. Durations `D` are a number with a unit (`250ms`, `5s`, `2m`, `1h`, `30d`) or
//! bare seconds; they apply to every provider. `--rotate-refresh-tokens` makes every
//! provider (or the listed ones) rotate; `--no-rotate-refresh-tokens` makes none
//! rotate. A multi-process test starts it with `--port 0`, reads the first line, seeds
//! its accounts with `POST /admin/accounts` and checks `GET /admin/counters`.
//!
//! # Testing your own integration offline
//!
//! Start a sandbox in your test, point your client's base URLs at it and drive the flow
//! as your users' sellers would:
//!
//! 1. Configure the client with [`Sandbox::credentials`] and the base URLs
//!    ([`Sandbox::ebay_base_url`], [`Sandbox::aliexpress_base_url`],
//!    [`Sandbox::orangeconnex_base_url`], [`Sandbox::eshopbox_token_url`]).
//! 2. Build your authorize URL and GET it with redirects disabled: the `Location` of the
//!    `302` is the callback your service would receive; feed it to your callback
//!    handler (or follow it: `<base>/callback/<provider>` answers a small HTML page).
//! 3. Exchange the code, call the protected API, refresh. Shorten lifetimes with the
//!    builder to see your refresh logic run, [`Sandbox::revoke`] to see your
//!    "re-authorize the seller" path, [`Sandbox::inject`] to see your retries, and
//!    [`Sandbox::token_requests`] to assert you do not hit the token endpoint more than
//!    you should.
//!
//! Outside Rust, run the binary (see "The binary"): `cargo run -p oauth-sandbox -- --port
//! 8080` prints the base URL and every credential, and serves until interrupted.
//!
//! What the sandbox does not emulate: Eshopbox partner-app code exchange (undocumented),
//! OrangeConnex's `vAuthorization` header (undocumented), AliExpress requests that put
//! the API name in a `method` parameter on `/rest`, and TLS (loopback only).
//!
//! # The list of emulated providers
//!
//! One list names every emulated provider: the `emulators!` invocation in
//! `src/provider.rs`, one entry per provider (its variant's doc comment, then
//! `Variant => module::Emulator,`). It makes the [`Provider`] enum (one variant per
//! entry, in the list's order, which is [`Provider::ALL`]'s), the crate-private
//! `EMULATORS: &[&dyn Emulator]` and [`Provider`]'s link to each emulator.
//!
//! Everything particular to a provider lives in its own module (`src/ebay.rs`,
//! `src/aliexpress.rs`, `src/orangeconnex.rs`, `src/eshopbox.rs`), behind the
//! crate-private, object-safe `Emulator` trait (`src/emulator.rs`):
//!
//! | method | what it decides |
//! |---|---|
//! | `path_segment` | the prefix `<base>/<segment>`, `/callback/<segment>`, the name in the admin API and on the command line ([`Provider::path_segment`]) |
//! | `title` | the name for people ([`Provider`]'s `Display`, the callback page) |
//! | `default_lifetimes` | [`Lifetimes::provider_default`] |
//! | `rotates_by_default` | whether refresh grants rotate unless the builder says otherwise |
//! | `refresh_tokens_expire_by_default` | `false` for refresh tokens that never expire until a lifetime is set (Eshopbox); default `true` |
//! | `routes` | the provider's axum routes, relative to its base: the sandbox mounts them under `/<segment>` |
//! | `seed` | the grant [`Sandbox::seed_account`] and `POST /admin/accounts` issue |
//! | `prepare` | state a starting sandbox needs (Eshopbox's pre-seeded refresh token); default nothing |
//! | `rate_limit_body` | the body of a `429` ([`Fault::RateLimit`]); default `{"error": "too_many_requests", ...}` |
//! | `counters`, `counters_mut` | the provider's field of [`Counters`] |
//!
//! API handlers run through `wire::api_call`, which counts the request; their token
//! check, `wire::check_api_token`, notes the token's account and a rejection.
//!
//! The rest of the sandbox (configuration, router, admin API, counters, faults, the
//! binary) goes through the list or asks `provider.emulator()`; no `match` on
//! [`Provider`] is left outside the list and the providers' own modules. The arrays of
//! per-provider settings and state are as long as the list.
//!
//! ## Adding an emulated provider
//!
//! 1. Write its module, `src/<name>.rs`, declared in `src/lib.rs`: its handlers (each
//!    token endpoint runs `wire::token_gate` for faults and counts, and records a
//!    `Tally`), a unit struct and its `impl Emulator`.
//! 2. Add one entry to the list in `src/provider.rs`: a doc comment and
//!    `Name => name::Name,`. The variant `Provider::Name`, [`Provider::ALL`], the
//!    routes, the admin API, the binary's `--rotate-refresh-tokens=LIST` and the
//!    per-provider settings follow.
//!
//! Parts of the public API are per provider by design and grow with it: a
//! credentials type and a field in [`Credentials`] (with its builder methods and
//! defaults in [`credentials`]), a field in [`Counters`] (which `counters` and
//! `counters_mut` return; `GET /admin/counters` serializes it), and the
//! convenience URLs on [`Sandbox`] (`<name>_base_url`). Document the provider in
//! this page ("URL layout", "Behaviour per provider", "Default credentials"), in the
//! README and in the binary's usage text.
//!
//! # Crate feature flags
//! None.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![deny(rustdoc::broken_intra_doc_links)]

mod admin;
mod aliexpress;
mod config;
mod conn;
mod consent;
mod counters;
pub mod credentials;
mod ebay;
mod emulator;
mod eshopbox;
mod fault;
mod orangeconnex;
mod provider;
mod sandbox;
pub mod signature;
mod state;
mod wire;

pub use admin::SeededTokens;
pub use config::{Lifetimes, OrangeConnexErrorStatus};
pub use counters::{ApiCounts, Counters, ProviderCounters, TokenCounts};
pub use credentials::{
    AliExpressCredentials, Credentials, EbayCredentials, EshopboxCredentials,
    OrangeConnexCredentials,
};
pub use fault::Fault;
pub use provider::Provider;
pub use sandbox::{MAX_BODY_BYTES, Sandbox, SandboxBuilder, SandboxError};

/// The seller account that consents when the authorize URL does not name one (with
/// the sandbox's own `sandbox_account` parameter), and the account of Eshopbox's
/// pre-seeded refresh token. See "Accounts" in the crate documentation.
pub const DEFAULT_ACCOUNT: &str = "sandbox_seller";
