//! Proxies, only when configured explicitly, and the rule that keeps
//! secrets off the network in plain text.
//!
//! The rule, applied to every connection the built-in transport opens:
//!
//! | target | proxy | route |
//! |---|---|---|
//! | `https://` | any (`http://` or `https://`) | through the proxy, in a `CONNECT` tunnel: TLS runs end to end, the proxy sees only the host and port |
//! | `http://` (loopback only, see [`EndpointUrl`](crate::EndpointUrl)) | on loopback | through the proxy (a local debugging proxy) |
//! | `http://` | not on loopback | **directly**, never through the proxy: the request (client secret, refresh token) would cross the network unencrypted, and a remote proxy could not reach our loopback anyway |
//! | a host the proxy's no-proxy list names | any | directly |

use crate::Error;
use std::fmt;
use std::net::IpAddr;
use url::{Host, Url};

/// A proxy for the built-in transport: its URL (`http://` or `https://`,
/// optionally with `user:password@` for Basic proxy authentication) and
/// the hosts it must not be used for.
///
/// `Debug` never shows the credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    url: Url,
    no_proxy: NoProxy,
}

impl Proxy {
    /// Parses and validates a proxy URL (`http://proxy.internal:3128`,
    /// `https://user:password@proxy.example:8443`).
    ///
    /// # Errors
    /// [`Error::Configuration`] when it is not an `http` or `https` URL with
    /// a host, or carries a path, query or fragment (the URL itself is not
    /// repeated: it may hold a password).
    pub fn parse(text: &str) -> Result<Self, Error> {
        let url = Url::parse(text.trim())
            .map_err(|e| Error::configuration(format!("invalid proxy URL: {e}")))?;
        Self::from_url(url)
    }

    /// Validates an already parsed proxy URL.
    ///
    /// # Errors
    /// As [`parse`](Self::parse).
    pub fn from_url(url: Url) -> Result<Self, Error> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::configuration(format!(
                "proxy URL scheme `{}` is not supported (use http or https)",
                crate::redact::sanitize(url.scheme(), 20)
            )));
        }
        if url.host().is_none() {
            return Err(Error::configuration("proxy URL has no host"));
        }
        if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
            return Err(Error::configuration(
                "proxy URL must not carry a path, query or fragment",
            ));
        }
        Ok(Self {
            url,
            no_proxy: NoProxy::default(),
        })
    }

    /// Hosts to reach directly, in the `NO_PROXY` syntax: a comma-separated
    /// list of domain names (`example.com` also covers its subdomains; a
    /// leading `.` or `*.` is allowed), IP addresses, CIDR blocks
    /// (`10.0.0.0/8`), or `*` for every host. Ports are ignored.
    #[must_use]
    pub fn no_proxy(mut self, list: &str) -> Self {
        self.no_proxy = NoProxy::parse(list);
        self
    }

    /// Whether the proxy itself is on a loopback address.
    pub fn is_loopback(&self) -> bool {
        is_loopback_host(self.url.host().as_ref())
    }

    /// The URL to hand to the HTTP stack (credentials included).
    pub(crate) fn url(&self) -> &Url {
        &self.url
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("url", &RedactedProxyUrl(&self.url))
            .field("no_proxy", &self.no_proxy)
            .finish()
    }
}

impl std::str::FromStr for Proxy {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        Self::parse(text)
    }
}

/// `scheme://[REDACTED]@host:port` when there are credentials.
struct RedactedProxyUrl<'a>(&'a Url);

impl fmt::Debug for RedactedProxyUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = self.0;
        write!(f, "\"{}://", url.scheme())?;
        if !url.username().is_empty() || url.password().is_some() {
            write!(f, "{}@", crate::redact::MASK)?;
        }
        if let Some(host) = url.host_str() {
            f.write_str(host)?;
        }
        if let Some(port) = url.port() {
            write!(f, ":{port}")?;
        }
        f.write_str("\"")
    }
}

/// Which proxy, if any, the built-in transport uses for which target.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ProxyRoutes {
    /// For `http://` targets.
    pub(crate) http: Option<Proxy>,
    /// For `https://` targets.
    pub(crate) https: Option<Proxy>,
}

impl ProxyRoutes {
    /// One proxy for every target.
    pub(crate) fn all(proxy: Proxy) -> Self {
        Self {
            http: Some(proxy.clone()),
            https: Some(proxy),
        }
    }

    /// From the environment, read now: `HTTPS_PROXY`/`https_proxy` for
    /// HTTPS targets, `HTTP_PROXY`/`http_proxy` for HTTP targets (the
    /// upper-case `HTTP_PROXY` is ignored when `REQUEST_METHOD` is set: in
    /// a CGI program a client could set it, "httpoxy"), `ALL_PROXY`/
    /// `all_proxy` for either when the specific one is unset, and
    /// `NO_PROXY`/`no_proxy`. Empty values count as unset.
    pub(crate) fn from_environment(var: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let first = |names: &[&'static str]| {
            names.iter().find_map(|name| {
                var(name)
                    .filter(|value| !value.trim().is_empty())
                    .map(|value| (*name, value))
            })
        };
        let cgi = var("REQUEST_METHOD").is_some();
        let all = first(&["ALL_PROXY", "all_proxy"]);
        let https = first(&["HTTPS_PROXY", "https_proxy"]).or_else(|| all.clone());
        let http = if cgi {
            first(&["http_proxy"])
        } else {
            first(&["HTTP_PROXY", "http_proxy"])
        }
        .or(all);
        let no_proxy = first(&["NO_PROXY", "no_proxy"]).map(|(_, list)| list);
        let parse = |found: Option<(&'static str, String)>| -> Result<Option<Proxy>, Error> {
            found
                .map(|(name, value)| {
                    let proxy = parse_environment_proxy(&value).map_err(|e| {
                        Error::configuration(format!("proxy from the environment ({name}): {e}"))
                    })?;
                    Ok(match &no_proxy {
                        Some(list) => proxy.no_proxy(list),
                        None => proxy,
                    })
                })
                .transpose()
        };
        Ok(Self {
            http: parse(http)?,
            https: parse(https)?,
        })
    }

    /// The proxy for a connection to `target`, or `None` to connect
    /// directly: the rule of the module documentation.
    pub(crate) fn route(&self, target: &Url) -> Option<&Url> {
        let proxy = match target.scheme() {
            "https" => self.https.as_ref()?,
            "http" => self.http.as_ref().filter(|proxy| proxy.is_loopback())?,
            _ => return None,
        };
        if proxy.no_proxy.matches(target.host().as_ref()) {
            return None;
        }
        Some(proxy.url())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.http.is_none() && self.https.is_none()
    }
}

/// A proxy variable's value: a URL, or `host:port` (as curl reads it) taken
/// as `http://host:port`.
fn parse_environment_proxy(value: &str) -> Result<Proxy, Error> {
    let value = value.trim();
    if value.contains("://") {
        Proxy::parse(value)
    } else {
        Proxy::parse(&format!("http://{value}"))
    }
}

/// A `NO_PROXY` list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct NoProxy {
    every_host: bool,
    domains: Vec<String>,
    blocks: Vec<(IpAddr, u8)>,
}

impl NoProxy {
    fn parse(list: &str) -> Self {
        let mut out = Self::default();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if entry == "*" {
                out.every_host = true;
                continue;
            }
            if let Some((ip, bits)) = entry.split_once('/') {
                if let (Ok(ip), Ok(bits)) = (ip.parse::<IpAddr>(), bits.parse::<u8>()) {
                    out.blocks.push((ip, bits));
                }
                continue;
            }
            let bare = entry.trim_start_matches('[');
            let bare = bare.split_once(']').map_or(bare, |(ip, _)| ip);
            if let Ok(ip) = bare.parse::<IpAddr>() {
                out.blocks.push((ip, if ip.is_ipv4() { 32 } else { 128 }));
                continue;
            }
            let domain = entry.split_once(':').map_or(entry, |(host, _)| host);
            let domain = domain.trim_start_matches("*.").trim_start_matches('.');
            if !domain.is_empty() {
                out.domains.push(domain.to_ascii_lowercase());
            }
        }
        out
    }

    fn matches(&self, host: Option<&Host<&str>>) -> bool {
        if self.every_host {
            return true;
        }
        match host {
            Some(Host::Domain(domain)) => {
                let domain = domain.trim_end_matches('.').to_ascii_lowercase();
                self.domains.iter().any(|entry| {
                    domain == *entry
                        || domain
                            .strip_suffix(entry.as_str())
                            .is_some_and(|head| head.ends_with('.'))
                })
            }
            Some(Host::Ipv4(ip)) => self.ip_matches(IpAddr::V4(*ip)),
            Some(Host::Ipv6(ip)) => self.ip_matches(IpAddr::V6(*ip)),
            None => false,
        }
    }

    fn ip_matches(&self, ip: IpAddr) -> bool {
        self.blocks.iter().any(|&(block, bits)| match (block, ip) {
            (IpAddr::V4(block), IpAddr::V4(ip)) => {
                prefix_eq(&block.octets(), &ip.octets(), bits.min(32))
            }
            (IpAddr::V6(block), IpAddr::V6(ip)) => {
                prefix_eq(&block.octets(), &ip.octets(), bits.min(128))
            }
            _ => false,
        })
    }
}

/// Whether the first `bits` bits of `a` and `b` are equal.
fn prefix_eq(a: &[u8], b: &[u8], bits: u8) -> bool {
    let mut left = u32::from(bits);
    for (x, y) in a.iter().zip(b) {
        if left == 0 {
            return true;
        }
        let take = left.min(8);
        let mask = 0xffu8 << (8 - take);
        if (x ^ y) & mask != 0 {
            return false;
        }
        left -= take;
    }
    true
}

fn is_loopback_host(host: Option<&Host<&str>>) -> bool {
    match host {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn plain_http_targets_never_use_a_remote_proxy() {
        let remote = ProxyRoutes::all(Proxy::parse("http://proxy.corp:3128").unwrap());
        assert_eq!(remote.route(&url("http://127.0.0.1:8080/token")), None);
        assert_eq!(remote.route(&url("http://localhost/token")), None);
        assert_eq!(
            remote
                .route(&url("https://api.ebay.com/token"))
                .map(Url::as_str),
            Some("http://proxy.corp:3128/")
        );
        let tls_remote = ProxyRoutes::all(Proxy::parse("https://proxy.corp:8443").unwrap());
        assert_eq!(tls_remote.route(&url("http://[::1]:8080/token")), None);
        let local = ProxyRoutes::all(Proxy::parse("http://127.0.0.1:3128").unwrap());
        assert!(local.route(&url("http://127.0.0.1:8080/token")).is_some());
        assert!(local.route(&url("https://api.ebay.com/token")).is_some());
        assert!(ProxyRoutes::default().route(&url("https://a.b/")).is_none());
    }

    #[test]
    fn no_proxy_lists() {
        let proxy = Proxy::parse("http://127.0.0.1:3128").unwrap().no_proxy(
            " .internal, *.corp.example,api.ebay.com:443, 10.0.0.0/8 ,[::1], 192.168.1.7",
        );
        let routes = ProxyRoutes::all(proxy);
        for direct in [
            "https://a.internal/",
            "https://internal/",
            "https://x.y.corp.example/",
            "https://API.ebay.com/",
            "https://10.200.3.4/",
            "http://[::1]:9/",
            "https://192.168.1.7/",
        ] {
            assert!(routes.route(&url(direct)).is_none(), "{direct}");
        }
        for proxied in [
            "https://notinternal/",
            "https://sandbox.api.ebay.com.evil/",
            "https://xapi.ebay.com/",
            "https://11.0.0.1/",
            "https://192.168.1.8/",
            "http://127.0.0.1:9/",
        ] {
            assert!(routes.route(&url(proxied)).is_some(), "{proxied}");
        }
        let all = ProxyRoutes::all(Proxy::parse("http://127.0.0.1:1").unwrap().no_proxy("*"));
        assert!(all.route(&url("https://a.b/")).is_none());
    }

    #[test]
    fn environment_variables() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let routes = ProxyRoutes::from_environment(env(&[
            ("HTTPS_PROXY", "http://secure.proxy:1"),
            ("http_proxy", "127.0.0.1:2"),
            ("ALL_PROXY", "http://all.proxy:3"),
            ("no_proxy", "skip.example"),
        ]))
        .unwrap();
        assert_eq!(
            routes.route(&url("https://a.example/")).map(Url::as_str),
            Some("http://secure.proxy:1/")
        );
        assert_eq!(
            routes.route(&url("http://127.0.0.1:9/")).map(Url::as_str),
            Some("http://127.0.0.1:2/")
        );
        assert!(routes.route(&url("https://skip.example/")).is_none());
        let only_all =
            ProxyRoutes::from_environment(env(&[("all_proxy", "http://all.proxy:3")])).unwrap();
        assert!(only_all.https.is_some() && only_all.http.is_some());
        let cgi = ProxyRoutes::from_environment(env(&[
            ("REQUEST_METHOD", "GET"),
            ("HTTP_PROXY", "http://127.0.0.1:4"),
        ]))
        .unwrap();
        assert!(cgi.http.is_none());
        assert!(
            ProxyRoutes::from_environment(env(&[("HTTPS_PROXY", "")]))
                .unwrap()
                .is_empty()
        );
        let err =
            ProxyRoutes::from_environment(env(&[("HTTPS_PROXY", "socks5://user:SENTINELpw@h:1")]))
                .unwrap_err();
        assert!(matches!(err, Error::Configuration { .. }), "{err:?}");
        assert!(err.to_string().contains("HTTPS_PROXY"), "{err}");
        assert!(!err.to_string().contains("SENTINEL"), "{err}");
    }

    #[test]
    fn credentials_are_never_shown() {
        let proxy = Proxy::parse("http://alice:SENTINELpw@proxy.corp:3128").unwrap();
        let text = format!("{proxy:?} {:?}", ProxyRoutes::all(proxy.clone()));
        assert!(
            !text.contains("SENTINEL") && !text.contains("alice"),
            "{text}"
        );
        assert!(text.contains("[REDACTED]@proxy.corp:3128"), "{text}");
        for bad in [
            "ftp://proxy:1",
            "http://proxy:1/path",
            "http://proxy:1/?q=1",
            "nonsense",
        ] {
            assert!(Proxy::parse(bad).is_err(), "{bad}");
        }
    }
}
