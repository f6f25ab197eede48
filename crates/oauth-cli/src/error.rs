//! The command's errors and exit codes.
//!
//! A [`CliError`] is what a command prints on stderr before exiting: one line that says
//! what went wrong and, where there is one, what to do. It never carries a secret: the
//! messages come from this crate or from `oauth_core::Error`, whose `Display` masks tokens,
//! codes, secrets and URLs.

use std::fmt;

use oauth_core::Error;

/// Exit code of a failed command (a provider, network or store failure).
pub const EXIT_FAILURE: u8 = 1;
/// Exit code of a usage or configuration error (missing or invalid settings), as clap's.
pub const EXIT_USAGE: u8 = 2;
/// Exit code when the seller must authorize again (the refresh token is invalid, expired
/// or revoked, or no tokens are stored yet).
pub const EXIT_REAUTHORIZE: u8 = 3;

/// Why a command failed: a message for stderr and the exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    message: String,
    code: u8,
}

impl CliError {
    /// A usage or configuration error (exit code [`EXIT_USAGE`]).
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: EXIT_USAGE,
        }
    }

    /// A failure (exit code [`EXIT_FAILURE`]).
    pub fn failure(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: EXIT_FAILURE,
        }
    }

    /// "Authorize again" (exit code [`EXIT_REAUTHORIZE`]).
    pub fn reauthorize(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: EXIT_REAUTHORIZE,
        }
    }

    /// A provider or lifecycle error, with `hint` appended when the seller must authorize
    /// again. The exit code follows the error's class: configuration → [`EXIT_USAGE`],
    /// re-authorization → [`EXIT_REAUTHORIZE`], anything else → [`EXIT_FAILURE`].
    pub fn from_provider(context: &str, error: &Error, reauthorize_hint: &str) -> Self {
        let text = format!("{context}: {error}");
        match error {
            Error::Configuration { .. } => Self::usage(text),
            Error::ReauthorizationRequired { .. } | Error::RefreshNotSupported { .. } => {
                Self::reauthorize(format!("{text}\nhint: {reauthorize_hint}"))
            }
            _ if error.is_retryable() => Self::failure(format!(
                "{text}\nhint: this failure is temporary: try again later"
            )),
            _ => Self::failure(text),
        }
    }

    /// The process exit code.
    pub fn code(&self) -> u8 {
        self.code
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

#[cfg(test)]
mod tests {
    use super::*;
    use oauth_core::ProviderDetails;

    #[test]
    fn exit_codes_follow_the_error_class() {
        let config = CliError::from_provider("x", &Error::configuration("bad"), "h");
        assert_eq!(config.code(), EXIT_USAGE);
        assert_eq!(config.to_string(), "x: invalid configuration: bad");
        let reauth = CliError::from_provider(
            "refresh",
            &Error::ReauthorizationRequired {
                details: ProviderDetails::new("ebay"),
            },
            "run exchange",
        );
        assert_eq!(reauth.code(), EXIT_REAUTHORIZE);
        assert!(reauth.to_string().ends_with("\nhint: run exchange"));
        let store = CliError::from_provider(
            "save",
            &Error::Store {
                message: "disk full".into(),
            },
            "h",
        );
        assert_eq!(store.code(), EXIT_FAILURE);
        assert_eq!(store.to_string(), "save: token store failed: disk full");
    }
}
