//! Where a provider's endpoints live: the same three environments, meaning
//! the same thing, for every provider.

use crate::Error;
use crate::transport::EndpointUrl;
use std::fmt;

/// Which deployment of a provider a client talks to. The same type, the
/// same variants and the same default in every provider crate.
///
/// - [`Production`](Self::Production) (the default): the provider's live
///   service;
/// - [`Sandbox`](Self::Sandbox): the provider's test service, for providers
///   that have one (building a client for a provider without a sandbox is
///   an [`Error::Configuration`]);
/// - [`Custom`](Self::Custom): one base URL (a proxy, the local
///   `oauth-sandbox`, a mock server) under which the provider's standard
///   paths are appended, keeping the base's own path:
///   `http://127.0.0.1:8080/ebay` + `/identity/v1/oauth2/token`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Environment {
    /// The provider's live service.
    #[default]
    Production,
    /// The provider's test service.
    Sandbox,
    /// A base URL (HTTPS, or plain HTTP on loopback only) the provider's
    /// paths are appended to.
    Custom(EndpointUrl),
}

impl Environment {
    /// [`Environment::Custom`] from a base URL given as text.
    ///
    /// # Errors
    /// [`Error::Configuration`] unless `base` is an `https` URL, or an
    /// `http` URL on a loopback host, without credentials, query or
    /// fragment.
    pub fn custom(base: &str) -> Result<Self, Error> {
        Ok(Self::Custom(EndpointUrl::parse(base)?))
    }

    /// The base URL in this environment of a service whose production and
    /// sandbox bases are given (`None`: the provider has no sandbox).
    ///
    /// # Errors
    /// [`Error::Configuration`] for [`Sandbox`](Self::Sandbox) when
    /// `sandbox` is `None`, or when a built-in base does not parse (a bug
    /// in the provider crate).
    pub fn base(
        &self,
        provider: &'static str,
        production: &'static str,
        sandbox: Option<&'static str>,
    ) -> Result<EndpointUrl, Error> {
        match self {
            Self::Production => EndpointUrl::parse(production),
            Self::Sandbox => match sandbox {
                Some(base) => EndpointUrl::parse(base),
                None => Err(Error::configuration(format!(
                    "{provider} has no sandbox environment: use Environment::Production or Environment::Custom"
                ))),
            },
            Self::Custom(base) => Ok(base.clone()),
        }
    }

    /// `production`, `sandbox` or `custom`, for logs and status pages.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Production => "production",
            Self::Sandbox => "sandbox",
            Self::Custom(_) => "custom",
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Custom(base) => write!(f, "custom ({base})"),
            other => f.write_str(other.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bases_follow_the_environment() {
        let prod = "https://api.example.com";
        let sandbox = Some("https://sandbox.example.com");
        assert_eq!(
            Environment::Production
                .base("x", prod, sandbox)
                .unwrap()
                .to_string(),
            "https://api.example.com/"
        );
        assert_eq!(
            Environment::Sandbox
                .base("x", prod, sandbox)
                .unwrap()
                .to_string(),
            "https://sandbox.example.com/"
        );
        let custom = Environment::custom("http://127.0.0.1:9/base").unwrap();
        assert_eq!(
            custom.base("x", prod, sandbox).unwrap().to_string(),
            "http://127.0.0.1:9/base"
        );
        let err = Environment::Sandbox.base("x", prod, None).unwrap_err();
        assert!(matches!(err, Error::Configuration { .. }));
        assert!(err.to_string().contains("no sandbox"), "{err}");
        assert_eq!(Environment::default(), Environment::Production);
        assert!(Environment::custom("http://example.com").is_err());
    }
}
