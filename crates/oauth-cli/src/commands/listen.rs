//! What `oauth <provider> login` and `oauth serve` share: the listener, the connect
//! router mounted at the public base URL's path, and the redirect URI each provider
//! must have registered.

use oauth_core::url::Url;
use tokio::net::TcpListener;

use crate::error::CliError;
use crate::settings::{ProviderCli, ProviderSettings};

/// The setting that holds a provider's redirect URI (AliExpress, OrangeConnex); eBay's
/// is its RuName, whose "auth accepted URL" is registered with eBay instead.
pub const REDIRECT_URI: &str = "redirect_uri";

/// Binds `address` (`HOST:PORT`; port 0 picks a free one).
///
/// # Errors
/// A usage error when the address is not `HOST:PORT`, a failure when it cannot be bound.
pub async fn bind(address: &str) -> Result<TcpListener, CliError> {
    if address
        .rsplit_once(':')
        .is_none_or(|(host, port)| host.is_empty() || port.parse::<u16>().is_err())
    {
        return Err(CliError::usage(format!(
            "--listen must be HOST:PORT (e.g. 127.0.0.1:8080), not `{address}`"
        )));
    }
    TcpListener::bind(address)
        .await
        .map_err(|e| CliError::failure(format!("cannot listen on {address}: {e}")))
}

/// The connect router, mounted at `path` (the public base URL's path, `""` for the root).
pub fn mount(router: axum::Router, path: &str) -> axum::Router {
    let path = path.trim_end_matches('/');
    if path.is_empty() {
        router
    } else {
        axum::Router::new().nest(path, router)
    }
}

/// Whether `url` is a plain-HTTP URL on a loopback host.
pub fn is_loopback_url(url: &Url) -> bool {
    url.scheme() == "http"
        && match url.host() {
            Some(oauth_core::url::Host::Domain(name)) => name == "localhost",
            Some(oauth_core::url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(oauth_core::url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        }
}

/// Whether `url`'s host is a loopback one (`localhost`, `127.0.0.0/8`, `[::1]`), whatever
/// its scheme.
pub fn has_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(oauth_core::url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(oauth_core::url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(oauth_core::url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Whether the request was addressed to `public`'s host and port (its `Host` header,
/// or the URI's authority for HTTP/2): a page whose name was rebound to a loopback
/// address (DNS rebinding) sends its own name, and is refused.
pub fn addressed_to(request: &axum::http::request::Parts, public: &Url) -> bool {
    let given = match request.headers.get(axum::http::header::HOST) {
        Some(value) => value.to_str().ok(),
        None => request.uri.authority().map(|a| a.as_str()),
    };
    let Some(given) = given.filter(|g| !g.contains(['/', '\\', '?', '#', '@'])) else {
        return false;
    };
    let Ok(given) = Url::parse(&format!("{}://{}/", public.scheme(), given.trim())) else {
        return false;
    };
    given.username().is_empty()
        && given.password().is_none()
        && given.host() == public.host()
        && given.port_or_known_default() == public.port_or_known_default()
}

/// Makes the provider's redirect URI setting (if it has one) the router's callback:
/// filled in when not given; when given, it must be that URL (the provider redirects
/// only to the URI registered with it).
///
/// # Errors
/// A configuration error naming the setting and the URL it must be.
pub fn use_callback(settings: &mut ProviderSettings, callback: &str) -> Result<(), CliError> {
    let provider = settings.provider;
    if provider.setting(REDIRECT_URI).is_none() {
        return Ok(());
    }
    match settings.get(REDIRECT_URI) {
        None => {
            settings.set(REDIRECT_URI, callback);
            Ok(())
        }
        Some(given) if same_url(given, callback) => Ok(()),
        Some(_) => Err(CliError::configuration(format!(
            "the {} redirect URI ({} / --redirect-uri) must be this command's callback URL, \
             {callback}, and be registered with {} as such",
            provider.title(),
            provider.env_var(REDIRECT_URI),
            provider.title()
        ))),
    }
}

fn same_url(a: &str, b: &str) -> bool {
    match (Url::parse(a), Url::parse(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// What the provider needs registered, for people: where its consent must send the
/// seller back.
pub fn callback_note(provider: ProviderCli, callback: &str) -> String {
    if provider.setting(REDIRECT_URI).is_some() {
        format!(
            "{}: the redirect URI registered for the app must be {callback}",
            provider.title()
        )
    } else {
        format!(
            "{}: the RuName's auth accepted URL must be {callback}",
            provider.title()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_urls() {
        for url in [
            "http://127.0.0.1:9/x",
            "http://localhost/",
            "http://[::1]:1/",
        ] {
            assert!(is_loopback_url(&Url::parse(url).unwrap()), "{url}");
        }
        for url in [
            "https://127.0.0.1/",
            "http://example.com/",
            "http://10.0.0.1/",
        ] {
            assert!(!is_loopback_url(&Url::parse(url).unwrap()), "{url}");
        }
    }

    #[test]
    fn requests_must_be_addressed_to_the_public_host() {
        let public = Url::parse("http://127.0.0.1:8080/oauth").unwrap();
        let with_host = |host: Option<&str>| {
            let mut request = axum::http::Request::builder().uri("/status");
            if let Some(host) = host {
                request = request.header("host", host);
            }
            request.body(()).unwrap().into_parts().0
        };
        assert!(addressed_to(&with_host(Some("127.0.0.1:8080")), &public));
        for refused in [
            None,
            Some("evil.example"),
            Some("evil.example:8080"),
            Some("127.0.0.1"),
            Some("127.0.0.1:8081"),
            Some("localhost:8080"),
            Some("user@127.0.0.1:8080"),
        ] {
            assert!(!addressed_to(&with_host(refused), &public), "{refused:?}");
        }
        let public = Url::parse("http://localhost/").unwrap();
        assert!(addressed_to(&with_host(Some("LOCALHOST")), &public));
        assert!(addressed_to(&with_host(Some("localhost:80")), &public));
        assert!(has_loopback_host(
            &Url::parse("https://localhost:8443/").unwrap()
        ));
        assert!(!has_loopback_host(
            &Url::parse("https://oauth.example.com/").unwrap()
        ));
    }

    #[tokio::test]
    async fn addresses_must_be_host_and_port() {
        for address in ["8080", ":8080", "127.0.0.1", "127.0.0.1:x"] {
            let code = bind(address).await.err().map(|e| e.code());
            assert_eq!(code, Some(2), "{address}");
        }
        assert!(bind("127.0.0.1:0").await.is_ok());
    }
}
