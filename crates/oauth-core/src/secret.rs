//! Secret newtypes: client secrets, tokens, codes and signing keys.
//!
//! Every secret is held in a [`secrecy::SecretString`], which zeroizes its
//! memory on drop. `Debug` prints only the type name and `[REDACTED]`; there is
//! no `Display`. Reading the value takes an explicit
//! [`expose_secret`](AccessToken::expose_secret) call, which makes every place
//! that puts a secret on the wire easy to find.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

macro_rules! secret_newtype_base {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone)]
        pub struct $name(SecretString);

        impl $name {
            /// Wraps a secret value. The `String` is moved, not copied.
            pub fn new(value: impl Into<String>) -> Self {
                Self(SecretString::from(value.into()))
            }

            /// The secret value. Call this only where the value goes on the wire.
            pub fn expose_secret(&self) -> &str {
                self.0.expose_secret()
            }

            /// Whether the secret is the empty string (a configuration mistake).
            pub fn is_empty(&self) -> bool {
                self.0.expose_secret().is_empty()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([REDACTED])"))
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self::new(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::new(value)
            }
        }

        /// Constant-time comparison, so that comparing secrets leaks no timing.
        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                crate::state::constant_time_eq(self.expose_secret(), other.expose_secret())
            }
        }

        impl Eq for $name {}

        /// Serializes the plain value: only token stores use this, and they
        /// write to files or databases the caller controls.
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.expose_secret())
            }
        }
    };
}

/// A secret newtype whose deserialization takes any string.
macro_rules! secret_newtype {
    ($(#[$meta:meta])* $name:ident) => {
        secret_newtype_base!($(#[$meta])* $name);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map(Self::new)
            }
        }
    };
}

/// A secret newtype for tokens: as [`secret_newtype!`], except that
/// deserializing (from a provider's answer or from a store) refuses values
/// outside [`is_token_text`](crate::decode::is_token_text), without
/// repeating them.
macro_rules! token_newtype {
    ($(#[$meta:meta])* $name:ident) => {
        secret_newtype_base!($(#[$meta])* $name);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = String::deserialize(deserializer)?;
                // Blank values pass: decoders treat them as absent.
                if !value.trim().is_empty() && !crate::decode::is_token_text(&value) {
                    return Err(serde::de::Error::custom(format_args!(
                        "a value of type {} {}",
                        stringify!($name),
                        crate::decode::INVALID_TOKEN_TEXT
                    )));
                }
                Ok(Self::new(value))
            }
        }
    };
}

secret_newtype!(
    /// An OAuth client secret (eBay "Cert ID", Eshopbox client secret).
    ClientSecret
);
token_newtype!(
    /// An access token, sent with every API call.
    AccessToken
);
token_newtype!(
    /// A refresh token: the long-lived credential that mints access tokens.
    RefreshToken
);
secret_newtype!(
    /// An authorization code received on the redirect after user consent.
    AuthorizationCode
);
secret_newtype!(
    /// An application signing secret (AliExpress app secret).
    AppSecret
);
token_newtype!(
    /// An OpenID Connect ID token (Eshopbox returns one).
    IdToken
);
secret_newtype!(
    /// A partner key sent in a header (OrangeConnex `clientKey`).
    ClientKey
);
secret_newtype!(
    /// A request signature (AliExpress `sign`): it authenticates one request.
    Signature
);

#[cfg(test)]
mod tests {
    use super::*;

    const SENTINEL: &str = "SENTINEL-secret-9f8e7d";

    #[test]
    fn debug_is_redacted_for_every_secret_type() {
        let rendered = [
            format!("{:?}", ClientSecret::new(SENTINEL)),
            format!("{:?}", AccessToken::new(SENTINEL)),
            format!("{:?}", RefreshToken::new(SENTINEL)),
            format!("{:?}", AuthorizationCode::new(SENTINEL)),
            format!("{:?}", AppSecret::new(SENTINEL)),
            format!("{:?}", IdToken::new(SENTINEL)),
            format!("{:?}", ClientKey::new(SENTINEL)),
            format!("{:?}", Signature::new(SENTINEL)),
            format!("{:#?}", Some(AccessToken::new(SENTINEL))),
        ];
        for text in rendered {
            assert!(!text.contains(SENTINEL), "{text}");
            assert!(text.contains("[REDACTED]"), "{text}");
        }
        assert_eq!(
            format!("{:?}", RefreshToken::new(SENTINEL)),
            "RefreshToken([REDACTED])"
        );
    }

    #[test]
    fn expose_and_serde_round_trip() {
        let token = AccessToken::new("abc");
        assert_eq!(token.expose_secret(), "abc");
        let json = serde_json::to_string(&token).unwrap();
        assert_eq!(json, "\"abc\"");
        let back: AccessToken = serde_json::from_str(&json).unwrap();
        assert_eq!(back, token);
        assert_ne!(back, AccessToken::new("abd"));
        assert!(AccessToken::new("").is_empty());
    }
}
