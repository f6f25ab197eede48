//! The answer of `/auth/token/create` and `/auth/token/refresh` (same
//! shape), its lenient decoding, and its conversion into a [`TokenSet`].

use crate::error::{classify_api_response, json_object};
use oauth_core::decode::{opt_id, opt_text, opt_u64};
use oauth_core::{
    AccessToken, Error, IntoTokenSet, MAX_LIFETIME, RawResponse, RefreshToken, TokenSet,
    expiry_after,
};
use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Who authorized the app: the seller/account view of a token response.
///
/// Ids are kept as strings whether the platform sent strings or numbers.
/// None of these is a secret (`account` is the seller's login, often an
/// e-mail address: personal data, handle it as such).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SellerAccount {
    /// `seller_id`: the seller (main account) id.
    pub seller_id: Option<String>,
    /// `user_id`: the id of the user who authorized (a sub-account may
    /// differ from the seller).
    pub user_id: Option<String>,
    /// `user_nick`: the user's nickname.
    pub user_nick: Option<String>,
    /// `account`: the login name.
    pub account: Option<String>,
    /// `account_platform`: e.g. `seller_center`, `buyerApp`.
    pub account_platform: Option<String>,
    /// `account_id` (may be `null`).
    pub account_id: Option<String>,
    /// `havana_id`: the platform-wide account id.
    pub havana_id: Option<String>,
    /// `locale`, e.g. `zh_CN`.
    pub locale: Option<String>,
    /// `sp`: the site, e.g. `ae`.
    pub sp: Option<String>,
}

/// A successful token answer, with both relative and absolute expiries as
/// sent and the time it arrived (from which the relative ones count).
///
/// `Debug` never shows the tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenResponse {
    /// `access_token`.
    pub access_token: AccessToken,
    /// `refresh_token` (rotated by every refresh: store the new one).
    pub refresh_token: Option<RefreshToken>,
    /// `expires_in`: access token lifetime in seconds.
    pub expires_in: Option<u64>,
    /// `refresh_expires_in`: refresh token lifetime in seconds; `0` means
    /// this grant can never be refreshed (apps sold on the service market).
    pub refresh_expires_in: Option<u64>,
    /// `expire_time`: when the access token expires, Unix milliseconds.
    pub expire_time: Option<u64>,
    /// `refresh_token_valid_time`: when the refresh token expires, Unix
    /// milliseconds. A refresh does not extend it.
    pub refresh_token_valid_time: Option<u64>,
    /// Who authorized the app.
    pub account: SellerAccount,
    /// `request_id`, for support tickets.
    pub request_id: Option<String>,
    /// When the answer arrived (the client's clock).
    pub received_at: SystemTime,
}

#[derive(Deserialize)]
struct Wire {
    #[serde(default, deserialize_with = "opt_text")]
    access_token: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    refresh_token: Option<String>,
    #[serde(default, deserialize_with = "opt_u64")]
    expires_in: Option<u64>,
    #[serde(default, deserialize_with = "opt_u64")]
    refresh_expires_in: Option<u64>,
    #[serde(default, deserialize_with = "opt_u64")]
    expire_time: Option<u64>,
    #[serde(default, deserialize_with = "opt_u64")]
    refresh_token_valid_time: Option<u64>,
    #[serde(default, deserialize_with = "opt_id")]
    seller_id: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    user_id: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    user_nick: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    account: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    account_platform: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    account_id: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    havana_id: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    locale: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    sp: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    request_id: Option<String>,
}

impl TokenResponse {
    /// Decides from status and body whether a token answer, received at
    /// `received_at`, is a success, and decodes it (what
    /// [`Provider::decode_token_response`](oauth_core::Provider::decode_token_response)
    /// does for [`AliExpress`](crate::AliExpress)).
    ///
    /// Pure and bounded: no I/O, no panic, work linear in the body size.
    /// Every numeric field is accepted as a number or a numeric string, ids as
    /// strings or numbers, `null` and `""` as absent; unknown fields are
    /// ignored.
    ///
    /// # Errors
    /// - the classified provider error for an error body (shape A or B, on any
    ///   status), 429 or 5xx (see [`classify_api_response`]);
    /// - [`Error::UnexpectedResponse`] for a body that is not JSON, a field of
    ///   the wrong type, or a success without `access_token` or without any
    ///   access-token expiry (`expire_time` or `expires_in`).
    pub fn decode(response: &RawResponse, received_at: SystemTime) -> Result<Self, Error> {
        classify_api_response(response)?;
        if json_object(response).is_none() {
            return Err(response.unexpected("success status but the body is not a JSON object"));
        }
        let wire: Wire = response.json()?;
        let Some(access_token) = wire.access_token else {
            return Err(response.unexpected("success status without `access_token`"));
        };
        if wire.expire_time.is_none() && wire.expires_in.is_none() {
            return Err(response.unexpected(
                "token answer without `expire_time` or `expires_in`: the lifetime is unknown",
            ));
        }
        Ok(TokenResponse {
            access_token: response.token("access_token", access_token)?,
            refresh_token: wire
                .refresh_token
                .map(|t| response.token("refresh_token", t))
                .transpose()?,
            expires_in: wire.expires_in,
            refresh_expires_in: wire.refresh_expires_in,
            expire_time: wire.expire_time,
            refresh_token_valid_time: wire.refresh_token_valid_time,
            account: SellerAccount {
                seller_id: wire.seller_id,
                user_id: wire.user_id,
                user_nick: wire.user_nick,
                account: wire.account,
                account_platform: wire.account_platform,
                account_id: wire.account_id,
                havana_id: wire.havana_id,
                locale: wire.locale,
                sp: wire.sp,
            },
            request_id: wire.request_id,
            received_at,
        })
    }
}

/// An absolute expiry from Unix milliseconds; `0` counts as absent, and
/// anything beyond `now + MAX_LIFETIME` is clamped to it.
fn absolute(millis: Option<u64>, now: SystemTime) -> Option<SystemTime> {
    let millis = millis.filter(|m| *m > 0)?;
    let cap = expiry_after(now, MAX_LIFETIME);
    Some(
        UNIX_EPOCH
            .checked_add(Duration::from_millis(millis))
            .map_or(cap, |at| at.min(cap)),
    )
}

fn relative(seconds: Option<u64>, now: SystemTime) -> Option<SystemTime> {
    seconds.map(|s| expiry_after(now, Duration::from_secs(s)))
}

/// How far an answer's absolute and relative expiries may disagree before a
/// warning is logged (the local clock, or the platform's, is off).
pub const EXPIRY_DISAGREEMENT: Duration = Duration::from_secs(5 * 60);

/// The relative expiry when there is one, else the absolute one; warns when
/// both exist and disagree by more than [`EXPIRY_DISAGREEMENT`].
fn prefer_relative(
    what: &'static str,
    relative: Option<SystemTime>,
    absolute: Option<SystemTime>,
) -> Option<SystemTime> {
    if let (Some(relative), Some(absolute)) = (relative, absolute) {
        let gap = relative
            .duration_since(absolute)
            .or_else(|_| absolute.duration_since(relative))
            .unwrap_or_default();
        if gap > EXPIRY_DISAGREEMENT {
            tracing::warn!(
                token = what,
                disagreement_s = gap.as_secs(),
                "the answer's absolute expiry and its relative lifetime disagree: using the relative lifetime (is this machine's clock right?)"
            );
        }
    }
    relative.or(absolute)
}

impl TokenResponse {
    /// Whether this grant can be refreshed: it has a refresh token and
    /// `refresh_expires_in` is not `0`.
    pub fn is_refreshable(&self) -> bool {
        self.refresh_token.is_some() && self.refresh_expires_in != Some(0)
    }

    /// When the access token expires: [`received_at`](Self::received_at)
    /// `+ expires_in` when sent, else the absolute `expire_time`, else
    /// `received_at`.
    ///
    /// The relative lifetime is preferred: it does not depend on this
    /// machine's clock agreeing with the platform's (with a local clock off
    /// by a year, an absolute `expire_time` would store a token that
    /// "expired" long ago, or one that never expires). When both are sent and
    /// disagree by more than [`EXPIRY_DISAGREEMENT`], a `tracing` warning
    /// says so (a clock to fix, or an inconsistent answer).
    pub fn access_token_expires_at(&self) -> SystemTime {
        let now = self.received_at;
        prefer_relative(
            "access token",
            relative(self.expires_in, now),
            absolute(self.expire_time, now),
        )
        .unwrap_or(now)
    }

    /// When the refresh token expires: `received_at + refresh_expires_in` when sent,
    /// else `refresh_token_valid_time`; `None` when neither was sent or the
    /// grant is not refreshable. Relative first, as for the access token.
    pub fn refresh_token_expires_at(&self) -> Option<SystemTime> {
        if !self.is_refreshable() {
            return None;
        }
        let now = self.received_at;
        prefer_relative(
            "refresh token",
            relative(self.refresh_expires_in, now),
            absolute(self.refresh_token_valid_time, now),
        )
    }
}

impl IntoTokenSet for TokenResponse {
    /// The provider-neutral token set, with absolute expiries computed from
    /// [`received_at`](Self::received_at).
    ///
    /// A grant that cannot be refreshed (`refresh_expires_in == 0`) becomes
    /// a set **without refresh token** (and without refresh expiry): that is
    /// how it is recorded, and [`Client::refresh`](crate::Client) then fails
    /// at once with [`Error::RefreshNotSupported`] instead of calling the
    /// platform.
    fn into_token_set(self) -> TokenSet {
        let expires_at = self.access_token_expires_at();
        let refresh_expires_at = self.refresh_token_expires_at();
        let refreshable = self.is_refreshable();
        let set = TokenSet::new(self.access_token, expires_at);
        match self.refresh_token {
            Some(refresh_token) if refreshable => {
                set.with_refresh_token(refresh_token, refresh_expires_at)
            }
            _ => set,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oauth_core::{from_unix_millis, to_unix_millis};

    fn decode_at(body: &str, now: SystemTime) -> Result<TokenResponse, Error> {
        TokenResponse::decode(
            &RawResponse::new(
                crate::PROVIDER,
                200,
                Some("application/json;charset=UTF-8"),
                body.to_owned(),
            ),
            now,
        )
    }

    fn decode(body: &str) -> Result<TokenResponse, Error> {
        decode_at(body, from_unix_millis(0))
    }

    #[test]
    fn relative_expiries_when_absolute_ones_are_missing() {
        let r = decode_at(
            r#"{"access_token":"a","refresh_token":"r","expires_in":"10","refresh_expires_in":20,"code":"0"}"#,
            from_unix_millis(1_000),
        )
        .unwrap();
        let set = r.into_token_set();
        assert_eq!(to_unix_millis(set.expires_at), 11_000);
        assert_eq!(
            set.refresh_token_expires_at.map(to_unix_millis),
            Some(21_000)
        );
    }

    #[test]
    fn relative_lifetimes_win_over_absolute_times() {
        // A local clock a year off (or an inconsistent answer): the absolute
        // times would give a token that expired long ago; the relative
        // lifetimes do not depend on the clock.
        let now = from_unix_millis(1_000);
        let r = decode_at(
            r#"{"access_token":"a","refresh_token":"r","expires_in":10,"refresh_expires_in":20,"expire_time":5000,"refresh_token_valid_time":"18446744073709551615"}"#,
            now,
        )
        .unwrap();
        let set = r.into_token_set();
        assert_eq!(to_unix_millis(set.expires_at), 11_000);
        assert_eq!(
            set.refresh_token_expires_at.map(to_unix_millis),
            Some(21_000)
        );
    }

    #[test]
    fn absolute_times_are_used_alone_and_clamped() {
        let now = from_unix_millis(1_000);
        let r = decode_at(
            r#"{"access_token":"a","refresh_token":"r","expire_time":5000,"refresh_token_valid_time":"18446744073709551615"}"#,
            now,
        )
        .unwrap();
        let set = r.into_token_set();
        assert_eq!(to_unix_millis(set.expires_at), 5_000);
        assert_eq!(
            set.refresh_token_expires_at,
            Some(expiry_after(now, MAX_LIFETIME))
        );
    }

    #[test]
    fn tokens_with_control_characters_are_refused_without_showing_them() {
        for body in [
            "{\"access_token\":\"SENTINEL\\r\\nX-Injected: evil\",\"expires_in\":10}",
            "{\"access_token\":\"a\",\"refresh_token\":\"SENTINEL\\u001b[31m\",\"expires_in\":10}",
            "{\"access_token\":\"SENTINEL with space\",\"expires_in\":10}",
        ] {
            let err = decode(body).unwrap_err();
            assert!(matches!(err, Error::UnexpectedResponse { .. }), "{err:?}");
            let text = format!("{err} {err:?}");
            assert!(text.contains("visible ASCII"), "{text}");
            assert!(
                !text.contains("SENTINEL") && !text.contains("Injected"),
                "{text}"
            );
        }
    }

    #[test]
    fn not_refreshable_grants_have_no_refresh_token_in_the_set() {
        let r = decode(
            r#"{"access_token":"a","refresh_token":"r","expires_in":10,"refresh_expires_in":0,"refresh_token_valid_time":9000}"#,
        )
        .unwrap();
        assert!(!r.is_refreshable());
        let set = r.into_token_set();
        assert_eq!(set.refresh_token, None);
        assert_eq!(set.refresh_token_expires_at, None);
    }

    #[test]
    fn missing_or_wrong_fields_are_unexpected() {
        for body in [
            r#"{"refresh_token":"r","expires_in":10}"#,
            r#"{"access_token":"","expires_in":10}"#,
            r#"{"access_token":"a"}"#,
            r#"{"access_token":"a","expires_in":"soon"}"#,
            r#"{"access_token":"a","expires_in":-1}"#,
            r#"{"access_token":"a","user_id":1.5,"expires_in":1}"#,
            r#"[1,2]"#,
            r#"{"access_token":"a","#,
            "",
            "<html>502</html>",
        ] {
            let err = decode(body).unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::UnexpectedResponse {
                        status: Some(200),
                        ..
                    }
                ),
                "{body}: {err:?}"
            );
        }
    }
}
