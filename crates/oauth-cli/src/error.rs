//! The command's errors and exit codes.
//!
//! A [`CliError`] is what a command prints before exiting: on stderr one line that says
//! what went wrong and, where there is one, a `hint:` line that says what to do; with
//! `--json`, also one JSON object on stdout ([`CliError::to_json`]). It never carries a
//! secret: the messages come from this crate or from `oauth_core::Error`, whose
//! `Display` masks tokens, codes, secrets and URLs.

use std::fmt;

use oauth_core::Error;
use serde_json::{Value, json};

/// Exit code of a failed command (a provider, network or store failure, a refresh that
/// did not happen, a token that cannot be printed safely).
pub const EXIT_FAILURE: u8 = 1;
/// Exit code of a usage or configuration error: missing, empty or invalid settings,
/// client credentials the provider rejected (as clap's own usage errors).
pub const EXIT_USAGE: u8 = 2;
/// Exit code when the seller must authorize again: the account has no tokens in the
/// token file (or store), or its refresh token (or code) is invalid, expired or revoked.
pub const EXIT_REAUTHORIZE: u8 = 3;
/// Exit code when the token file (or its directory) does not exist: a wrong `--store`
/// or `OAUTH_STORE`, not a reason to send the seller through consent again. Files only:
/// a PostgreSQL or Redis store that cannot be reached is [`EXIT_FAILURE`] (retryable),
/// one whose table was never created [`EXIT_USAGE`].
pub const EXIT_NO_TOKEN_FILE: u8 = 4;
/// Exit code of `oauth <provider> api` when the API answered, but with an error: a status
/// outside 2xx, or a 2xx that the provider's classifier calls an error (an AliExpress
/// `error_response`, an eBay Trading `<Ack>Failure</Ack>`). The answer's body is on
/// stdout (with `--json`, inside the error object).
pub const EXIT_API_ERROR: u8 = 5;

/// Why a command failed: a message, an optional hint, the exit code, and what a script
/// needs to react (`kind`, provider, provider code, retryable). Boxed: results stay small.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError(Box<Inner>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Inner {
    kind: String,
    message: String,
    hint: Option<String>,
    code: u8,
    provider: Option<String>,
    provider_code: Option<String>,
    retryable: bool,
    /// More members of the `--json` error object (`status`, `body` of an API error).
    extra: Vec<(String, Value)>,
}

/// The hints of a provider error: what to do when the seller must authorize again, and
/// which settings to check when the client credentials are rejected.
#[derive(Debug, Clone, Copy)]
pub struct Hints<'a> {
    /// How to authorize again.
    pub reauthorize: &'a str,
    /// Which settings hold the client credentials.
    pub invalid_client: &'a str,
}

impl Hints<'static> {
    /// No hints: an error that is not about the seller's grant or the client
    /// credentials (a store, a key, a file).
    pub const NONE: Self = Self {
        reauthorize: "",
        invalid_client: "",
    };
}

impl CliError {
    /// An error of `kind` with exit `code`.
    pub fn new(kind: impl Into<String>, code: u8, message: impl Into<String>) -> Self {
        Self(Box::new(Inner {
            kind: kind.into(),
            message: message.into(),
            hint: None,
            code,
            provider: None,
            provider_code: None,
            retryable: false,
            extra: Vec::new(),
        }))
    }

    /// A usage error (exit code [`EXIT_USAGE`], kind `usage`).
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new("usage", EXIT_USAGE, message)
    }

    /// A missing, empty or invalid setting (exit code [`EXIT_USAGE`], kind
    /// `configuration`).
    pub fn configuration(message: impl Into<String>) -> Self {
        Self::new("configuration", EXIT_USAGE, message)
    }

    /// A failure (exit code [`EXIT_FAILURE`], kind `failure`).
    pub fn failure(message: impl Into<String>) -> Self {
        Self::new("failure", EXIT_FAILURE, message)
    }

    /// "The account has no tokens: authorize" (exit code [`EXIT_REAUTHORIZE`], kind
    /// `no_tokens`).
    pub fn no_tokens(message: impl Into<String>) -> Self {
        Self::new("no_tokens", EXIT_REAUTHORIZE, message)
    }

    /// "No such token file or directory" (exit code [`EXIT_NO_TOKEN_FILE`], kind
    /// `no_token_file`).
    pub fn no_token_file(message: impl Into<String>) -> Self {
        Self::new("no_token_file", EXIT_NO_TOKEN_FILE, message)
    }

    /// Adds a hint (printed as `hint: ...` on its own line).
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.0.hint = Some(hint.into());
        self
    }

    /// Replaces the kind.
    pub fn with_kind(mut self, kind: impl Into<String>) -> Self {
        self.0.kind = kind.into();
        self
    }

    /// Adds the member `key` to the `--json` error object (after the common ones).
    pub fn with_json(mut self, key: impl Into<String>, value: Value) -> Self {
        self.0.extra.push((key.into(), value));
        self
    }

    /// Sets the provider's own error code (`provider_code` in `--json`).
    pub fn with_provider_code(mut self, code: Option<String>) -> Self {
        self.0.provider_code = code;
        self
    }

    /// Marks the error retryable (`"retryable": true` in `--json`): the same command
    /// may succeed later (an unreachable token store).
    pub fn with_retryable(mut self) -> Self {
        self.0.retryable = true;
        self
    }

    /// The error with every occurrence of each of `secrets` in its message and hint
    /// replaced by `***`: the passwords of `--store`, in case a driver ever echoes one
    /// (none is known to; the stores promise not to).
    #[must_use]
    pub fn scrubbed(mut self, secrets: &[String]) -> Self {
        for secret in secrets.iter().filter(|s| !s.is_empty()) {
            if self.0.message.contains(secret.as_str()) {
                self.0.message = self.0.message.replace(secret.as_str(), "***");
            }
            if let Some(hint) = &mut self.0.hint
                && hint.contains(secret.as_str())
            {
                *hint = hint.replace(secret.as_str(), "***");
            }
        }
        self
    }

    /// Names the provider, unless the error already names one.
    pub fn or_provider(mut self, provider: &str) -> Self {
        if self.0.provider.is_none() {
            self.0.provider = Some(provider.to_owned());
        }
        self
    }

    /// A provider or lifecycle error. The exit code follows the error's class:
    /// configuration and rejected client credentials → [`EXIT_USAGE`] (with
    /// `hints.invalid_client`), re-authorization → [`EXIT_REAUTHORIZE`] (with
    /// `hints.reauthorize`), anything else → [`EXIT_FAILURE`].
    pub fn from_provider(context: &str, error: &Error, hints: Hints<'_>) -> Self {
        let text = format!("{context}: {error}");
        let mut cli = match error {
            Error::Configuration { .. } => Self::configuration(text),
            // The key does not fit the token file: a configuration error, and nothing
            // was changed in the file.
            Error::Decryption { .. } => Self::configuration(text).with_hint(
                "the token file's entry cannot be decrypted with the given key: check \
                 --store-key-file (OAUTH_STORE_KEY_FILE), and pass the key it was encrypted \
                 with by --old-key-file; the token file was left as it was",
            ),
            Error::InvalidClient { .. } => Self::new("", EXIT_USAGE, text).with_hint(format!(
                "the provider rejected the client credentials: check {}",
                hints.invalid_client
            )),
            _ if error.requires_reauthorization() => {
                Self::new("", EXIT_REAUTHORIZE, text).with_hint(hints.reauthorize)
            }
            _ if error.is_retryable() => {
                Self::failure(text).with_hint("this failure is temporary: try again later")
            }
            _ => Self::failure(text),
        };
        cli.0.kind = error.class().to_owned();
        cli.0.provider = provider_of(error).map(str::to_owned);
        cli.0.provider_code = error.provider_code().map(str::to_owned);
        cli.0.retryable = error.is_retryable();
        cli
    }

    /// The process exit code.
    pub fn code(&self) -> u8 {
        self.0.code
    }

    /// The error's kind (`usage`, `invalid_client`, `reauthorization_required`, ...).
    #[cfg(test)]
    pub fn kind(&self) -> &str {
        &self.0.kind
    }

    /// The JSON error object of `--json`: `{"error": {kind, message, hint, provider,
    /// provider_code, retryable, reauthorize, exit_code}}`, `null` where unknown, plus
    /// the members added with [`with_json`](Self::with_json) (`api`: `status`, `body`).
    pub fn to_json(&self) -> Value {
        let mut value = json!({
            "error": {
                "kind": self.0.kind,
                "message": self.0.message,
                "hint": self.0.hint,
                "provider": self.0.provider,
                "provider_code": self.0.provider_code,
                "retryable": self.0.retryable,
                "reauthorize": self.0.code == EXIT_REAUTHORIZE,
                "exit_code": self.0.code,
            }
        });
        if let Some(error) = value.get_mut("error").and_then(Value::as_object_mut) {
            for (key, extra) in &self.0.extra {
                error.insert(key.clone(), extra.clone());
            }
        }
        value
    }
}

/// The provider an error comes from, when it says.
fn provider_of(error: &Error) -> Option<&'static str> {
    match error {
        Error::UnexpectedResponse { provider, .. } => Some(provider),
        _ => error.details().map(oauth_core::ProviderDetails::provider),
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)?;
        if let Some(hint) = &self.0.hint {
            write!(f, "\nhint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for CliError {}

#[cfg(test)]
mod tests {
    use super::*;
    use oauth_core::ProviderDetails;

    const HINTS: Hints<'static> = Hints {
        reauthorize: "run exchange",
        invalid_client: "OAUTH_EBAY_CLIENT_ID / OAUTH_EBAY_CLIENT_SECRET",
    };

    #[test]
    fn exit_codes_follow_the_error_class() {
        let config = CliError::from_provider("x", &Error::configuration("bad"), HINTS);
        assert_eq!(config.code(), EXIT_USAGE);
        assert_eq!(config.to_string(), "x: invalid configuration: bad");
        let reauth = CliError::from_provider(
            "refresh",
            &Error::ReauthorizationRequired {
                details: ProviderDetails::new("ebay"),
            },
            HINTS,
        );
        assert_eq!(reauth.code(), EXIT_REAUTHORIZE);
        assert!(reauth.to_string().ends_with("\nhint: run exchange"));
        let store = CliError::from_provider(
            "save",
            &Error::Store {
                message: "disk full".into(),
            },
            HINTS,
        );
        assert_eq!(store.code(), EXIT_FAILURE);
        assert_eq!(store.to_string(), "save: token store failed: disk full");
    }

    #[test]
    fn rejected_client_credentials_are_a_configuration_error() {
        let error = Error::InvalidClient {
            details: ProviderDetails::new("ebay")
                .with_status(401)
                .with_code("invalid_client"),
        };
        let cli = CliError::from_provider("the refresh failed", &error, HINTS);
        assert_eq!(cli.code(), EXIT_USAGE);
        assert_eq!(cli.kind(), "invalid_client");
        assert!(
            cli.to_string().ends_with(
                "\nhint: the provider rejected the client credentials: check \
                 OAUTH_EBAY_CLIENT_ID / OAUTH_EBAY_CLIENT_SECRET"
            ),
            "{cli}"
        );
        let json = cli.to_json();
        assert_eq!(json["error"]["provider"], "ebay");
        assert_eq!(json["error"]["provider_code"], "invalid_client");
        assert_eq!(json["error"]["exit_code"], 2);
        assert_eq!(json["error"]["reauthorize"], false);
        assert_eq!(json["error"]["retryable"], false);
    }

    #[test]
    fn json_of_a_usage_error_has_nulls_where_unknown() {
        let json = CliError::configuration("missing eBay settings: client id").to_json();
        assert_eq!(
            json,
            json!({"error": {
                "kind": "configuration",
                "message": "missing eBay settings: client id",
                "hint": null,
                "provider": null,
                "provider_code": null,
                "retryable": false,
                "reauthorize": false,
                "exit_code": 2,
            }})
        );
    }

    #[test]
    fn kinds_are_the_error_classes() {
        let hints = Hints::NONE;
        let transient = Error::Transient {
            cause: oauth_core::TransientCause::Timeout,
            retry_after: None,
            details: ProviderDetails::new("ebay"),
        };
        let busy = Error::StoreBusy {
            message: "lease held".to_owned(),
        };
        for (error, kind) in [(transient, "transient"), (busy, "store_busy")] {
            let json = CliError::from_provider("x", &error, hints).to_json();
            assert_eq!(json["error"]["kind"], kind);
        }
    }
}
