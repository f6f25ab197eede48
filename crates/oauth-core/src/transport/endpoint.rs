//! Validated endpoint URLs: HTTPS, or plain HTTP on loopback only.

use crate::Error;
use std::fmt;
use std::net::IpAddr;
use url::Url;

/// A base or endpoint URL that is safe to send credentials to.
///
/// Accepted: `https://` URLs, and `http://` URLs whose host is a loopback
/// address (`localhost`, `127.0.0.0/8`, `[::1]`) for tests, local sandboxes
/// and local proxies. Refused: any other scheme, plain HTTP to any other
/// host, credentials in the URL, a query or a fragment.
#[derive(Clone, PartialEq, Eq)]
pub struct EndpointUrl(Url);

impl EndpointUrl {
    /// Parses and validates `text`.
    ///
    /// # Errors
    /// [`Error::Configuration`] naming the rule that was broken (the URL
    /// itself is not repeated, in case it carries a credential).
    pub fn parse(text: &str) -> Result<Self, Error> {
        let url = Url::parse(text.trim())
            .map_err(|e| Error::configuration(format!("invalid endpoint URL: {e}")))?;
        Self::from_url(url)
    }

    /// Validates an already parsed URL.
    ///
    /// # Errors
    /// As [`parse`](Self::parse).
    pub fn from_url(url: Url) -> Result<Self, Error> {
        Self::check(&url)?;
        Ok(Self(url))
    }

    /// The checks of [`from_url`](Self::from_url), on a borrowed URL (each
    /// send checks its URL this way, without a copy).
    pub(crate) fn check(url: &Url) -> Result<(), Error> {
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Error::configuration(
                "endpoint URL must not carry credentials",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(Error::configuration(
                "endpoint URL must not carry a query or fragment",
            ));
        }
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(url) => {}
            "http" => {
                return Err(Error::configuration(
                    "endpoint URL must use https (plain http is allowed for loopback hosts only)",
                ));
            }
            other => {
                return Err(Error::configuration(format!(
                    "endpoint URL scheme `{other}` is not supported (use https)"
                )));
            }
        }
        if url.host().is_none() {
            return Err(Error::configuration("endpoint URL has no host"));
        }
        Ok(())
    }

    /// The URL.
    pub fn as_url(&self) -> &Url {
        &self.0
    }

    /// This URL with `path` appended to its path (the base path is kept:
    /// `http://127.0.0.1:8080/ebay` + `/identity/v1/oauth2/token` gives
    /// `http://127.0.0.1:8080/ebay/identity/v1/oauth2/token`).
    pub fn join_path(&self, path: &str) -> Url {
        let mut url = self.0.clone();
        let base = url.path().trim_end_matches('/');
        let path = path.trim_start_matches('/');
        let joined = if path.is_empty() {
            base.to_owned()
        } else {
            format!("{base}/{path}")
        };
        url.set_path(&joined);
        url
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

impl fmt::Debug for EndpointUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EndpointUrl({:?})", self.0.as_str())
    }
}

impl fmt::Display for EndpointUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

impl std::str::FromStr for EndpointUrl {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_and_loopback_http_are_accepted() {
        for ok in [
            "https://api.ebay.com",
            "https://api.ebay.com/identity/",
            "http://127.0.0.1:8080",
            "http://127.5.6.7/x",
            "http://localhost:1",
            "http://[::1]:9000/base",
        ] {
            assert!(EndpointUrl::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn plain_http_elsewhere_and_odd_urls_are_refused() {
        for bad in [
            "http://api.ebay.com",
            "http://10.0.0.1",
            "http://localhost.evil.com",
            "ftp://api.ebay.com",
            "https://user:pass@api.ebay.com",
            "https://api.ebay.com/?token=x",
            "https://api.ebay.com/#frag",
            "not a url",
            "",
        ] {
            let err = EndpointUrl::parse(bad).unwrap_err();
            assert!(matches!(err, Error::Configuration { .. }), "{bad}: {err:?}");
            if bad.contains("pass") {
                assert!(!err.to_string().contains("pass"));
            }
        }
    }

    #[test]
    fn join_keeps_the_base_path() {
        let base = EndpointUrl::parse("http://127.0.0.1:8080/ebay/").unwrap();
        assert_eq!(
            base.join_path("/identity/v1/oauth2/token").as_str(),
            "http://127.0.0.1:8080/ebay/identity/v1/oauth2/token"
        );
        let root = EndpointUrl::parse("https://api.ebay.com").unwrap();
        assert_eq!(
            root.join_path("identity/v1/oauth2/token").as_str(),
            "https://api.ebay.com/identity/v1/oauth2/token"
        );
    }
}
