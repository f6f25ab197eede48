//! The IOP request signature (HMAC-SHA256, uppercase hex).
//!
//! 1. Take every parameter that will be sent, except `sign`; parameters
//!    with an empty value are dropped (they are never sent either).
//! 2. Sort by name, byte-wise ascending.
//! 3. Concatenate `name` + `value` for each, without separators, using the
//!    raw (not URL-encoded) UTF-8 values.
//! 4. System APIs (names containing `/`, such as `/auth/token/create`): put
//!    the API path in front. Business APIs (`aliexpress.solution...`): no
//!    prefix.
//! 5. HMAC-SHA256 keyed with the app secret, hex, UPPERCASE.

use hmac::{Hmac, Mac};
use oauth_core::{AppSecret, Error, Signature};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use std::fmt;

/// The value of the `sign_method` parameter: the only method this crate uses.
pub const SIGN_METHOD: &str = "sha256";

type HmacSha256 = Hmac<Sha256>;

/// The two families of IOP APIs, which differ in gateway path, signature
/// prefix and the name of the token parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApiKind {
    /// System interfaces, named by a path (`/auth/token/create`,
    /// `/order/get`): called at `<base>/rest<path>`, the path is signed as a
    /// prefix, the token goes in `access_token`.
    System,
    /// Business interfaces, named with dots
    /// (`aliexpress.solution.order.get`): called at `<base>/sync` with
    /// `method=<name>`, no prefix in the signature, the token goes in
    /// `session`.
    Business,
}

impl ApiKind {
    /// The kind of the API called `api_name`: system when the name contains
    /// a `/`, business otherwise.
    pub fn of(api_name: &str) -> Self {
        if api_name.contains('/') {
            Self::System
        } else {
            Self::Business
        }
    }

    /// The parameter that carries the access token on calls of this kind:
    /// `access_token` (system) or `session` (business).
    pub fn token_param(self) -> &'static str {
        match self {
            Self::System => "access_token",
            Self::Business => "session",
        }
    }
}

/// The exact text that is signed for one request.
///
/// **Sensitive**: it holds every parameter value of the request, which for
/// token calls includes the authorization code or the refresh token, and for
/// API calls the access token. It is zeroized on drop, its `Debug` is
/// redacted and it has no `Display`; read it with
/// [`expose_secret`](Self::expose_secret) only to debug a signature mismatch
/// on a machine you control.
#[derive(Clone)]
pub struct StringToSign(SecretString);

impl StringToSign {
    /// The text, with its secret parameter values.
    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for StringToSign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StringToSign([REDACTED])")
    }
}

/// Signs IOP requests with an app secret.
///
/// The key is checked once, in [`new`](Self::new); the signer then keeps
/// only the keyed HMAC state, never the secret text. `Debug` is redacted.
///
/// ```
/// use oauth_aliexpress::Signer;
/// use oauth_core::AppSecret;
///
/// let signer = Signer::new(&AppSecret::new("helloworld"))?;
/// let params = [
///     ("app_key", "12345678"),
///     ("code", "3_500102_JxZ05Ux3cnnSSUm6dCxYg6Q26"),
///     ("sign_method", "sha256"),
///     ("timestamp", "1517820392000"),
/// ];
/// let sign = signer.sign("/auth/token/create", params);
/// assert_eq!(
///     sign.expose_secret(),
///     "35607762342831B6A417A0DED84B79C05FEFBF116969C48AD6DC00279A9F4D81"
/// );
/// # Ok::<(), oauth_core::Error>(())
/// ```
#[derive(Clone)]
pub struct Signer {
    mac: HmacSha256,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Signer([REDACTED])")
    }
}

impl Signer {
    /// A signer keyed with `app_secret`.
    ///
    /// # Errors
    /// [`Error::Configuration`] if the secret is empty.
    pub fn new(app_secret: &AppSecret) -> Result<Self, Error> {
        if app_secret.expose_secret().trim().is_empty() {
            return Err(Error::configuration("the AliExpress app secret is empty"));
        }
        let mac = HmacSha256::new_from_slice(app_secret.expose_secret().as_bytes())
            .map_err(|_| Error::configuration("the AliExpress app secret cannot key HMAC"))?;
        Ok(Self { mac })
    }

    /// The text signed for a call of `api_name` with `params` (every
    /// parameter that is sent, `sign` excluded): see the
    /// [crate documentation](crate#signed-requests) for the rules. Empty values are left
    /// out; the order of `params` does not matter.
    ///
    /// The result is sensitive: see [`StringToSign`].
    pub fn string_to_sign<'a, I>(api_name: &str, params: I) -> StringToSign
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut pairs: Vec<(&str, &str)> = params
            .into_iter()
            .filter(|(name, value)| !value.is_empty() && *name != "sign")
            .collect();
        // `str` ordering is byte-wise; a stable sort keeps repeated names in
        // the order given (IOP names are unique in practice).
        pairs.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        let mut text = String::new();
        if ApiKind::of(api_name) == ApiKind::System {
            text.push_str(api_name);
        }
        for (name, value) in pairs {
            text.push_str(name);
            text.push_str(value);
        }
        StringToSign(SecretString::from(text))
    }

    /// The signature of an already built [`StringToSign`]: HMAC-SHA256,
    /// uppercase hex.
    pub fn sign_string(&self, text: &StringToSign) -> Signature {
        let mut mac = self.mac.clone();
        mac.update(text.expose_secret().as_bytes());
        Signature::new(hex::encode_upper(mac.finalize().into_bytes()))
    }

    /// The `sign` value for a call of `api_name` with `params`:
    /// [`sign_string`](Self::sign_string) of
    /// [`string_to_sign`](Self::string_to_sign).
    pub fn sign<'a, I>(&self, api_name: &str, params: I) -> Signature
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        self.sign_string(&Self::string_to_sign(api_name, params))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(secret: &str) -> Signer {
        Signer::new(&AppSecret::new(secret)).unwrap()
    }

    #[test]
    fn api_kinds() {
        assert_eq!(ApiKind::of("/auth/token/create"), ApiKind::System);
        assert_eq!(
            ApiKind::of("aliexpress.solution.order.get"),
            ApiKind::Business
        );
        assert_eq!(ApiKind::System.token_param(), "access_token");
        assert_eq!(ApiKind::Business.token_param(), "session");
    }

    #[test]
    fn empty_secret_is_refused() {
        assert!(matches!(
            Signer::new(&AppSecret::new("")),
            Err(Error::Configuration { .. })
        ));
        assert!(matches!(
            Signer::new(&AppSecret::new("  ")),
            Err(Error::Configuration { .. })
        ));
    }

    #[test]
    fn sign_parameter_itself_is_never_signed() {
        let a = signer("k").sign("/x", [("a", "1")]);
        let b = signer("k").sign("/x", [("a", "1"), ("sign", "ABC")]);
        assert_eq!(a, b);
    }

    #[test]
    fn debug_is_redacted() {
        let s = signer("SENTINEL-app-secret-1");
        assert_eq!(format!("{s:?}"), "Signer([REDACTED])");
        let text = Signer::string_to_sign("/x", [("code", "SENTINEL-code")]);
        assert_eq!(format!("{text:?}"), "StringToSign([REDACTED])");
        assert_eq!(text.expose_secret(), "/xcodeSENTINEL-code");
    }
}
