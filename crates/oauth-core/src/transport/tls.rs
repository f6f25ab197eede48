//! The TLS configuration handed to reqwest: rustls with the crypto provider
//! this crate's features choose, and the platform's certificate verifier or
//! Mozilla's roots.
//!
//! | features | crypto provider | roots |
//! |---|---|---|
//! | `ring` (default) | ring | the platform's (`rustls-platform-verifier`) |
//! | `aws-lc-rs` | aws-lc-rs (wins over `ring` when both are on) | the platform's |
//! | `webpki-roots` with either | as above | Mozilla's, bundled (`webpki-roots`) |
//! | neither `ring` nor `aws-lc-rs` | the process-wide default the application installed | as above |
//!
//! The configuration is built for each [`HttpClient`](crate::HttpClient)
//! and handed to reqwest (`ClientBuilder::tls_backend_preconfigured`); this
//! crate never installs a process-wide provider.

use crate::Error;
use rustls::crypto::CryptoProvider;
use std::sync::Arc;

/// The crypto provider in use, by name (for tests and diagnostics).
#[cfg(feature = "aws-lc-rs")]
pub(crate) const PROVIDER_NAME: &str = "aws-lc-rs";
/// The crypto provider in use, by name (for tests and diagnostics).
#[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
pub(crate) const PROVIDER_NAME: &str = "ring";
/// The crypto provider in use, by name (for tests and diagnostics).
#[cfg(not(any(feature = "ring", feature = "aws-lc-rs")))]
pub(crate) const PROVIDER_NAME: &str = "process default";

/// The roots in use, by name (for tests and diagnostics).
#[cfg(feature = "webpki-roots")]
pub(crate) const ROOTS_NAME: &str = "webpki-roots";
/// The roots in use, by name (for tests and diagnostics).
#[cfg(not(feature = "webpki-roots"))]
pub(crate) const ROOTS_NAME: &str = "platform verifier";

/// The crypto provider the features choose.
fn provider() -> Result<Arc<CryptoProvider>, Error> {
    #[cfg(feature = "aws-lc-rs")]
    let provider = Some(Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    #[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
    let provider = Some(Arc::new(rustls::crypto::ring::default_provider()));
    #[cfg(not(any(feature = "ring", feature = "aws-lc-rs")))]
    let provider = CryptoProvider::get_default().cloned();
    provider.ok_or_else(|| {
        Error::configuration(
            "no TLS crypto provider: enable oauth-core's `ring` (default) or `aws-lc-rs` \
             feature, or install a process-wide rustls CryptoProvider before building the client",
        )
    })
}

/// The rustls client configuration for a new client: TLS 1.2 and 1.3,
/// certificates checked against the chosen roots, ALPN `http/1.1` (what
/// reqwest sets on the configurations it builds for an HTTP/1-only client;
/// it leaves a preconfigured one as it is).
pub(crate) fn client_config() -> Result<rustls::ClientConfig, Error> {
    let builder = rustls::ClientConfig::builder_with_provider(provider()?)
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?;
    #[cfg(feature = "webpki-roots")]
    let builder = builder.with_root_certificates(rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    });
    #[cfg(not(feature = "webpki-roots"))]
    let builder = {
        use rustls_platform_verifier::BuilderVerifierExt;
        builder.with_platform_verifier().map_err(tls_error)?
    };
    let mut config = builder.with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

// Taken by value: the shape `map_err` hands over.
#[allow(clippy::needless_pass_by_value)]
fn tls_error(error: rustls::Error) -> Error {
    Error::configuration(format!(
        "cannot set up TLS ({PROVIDER_NAME}, {ROOTS_NAME}): {error}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HttpClient;

    /// Run under each supported combination of features (`cargo xtask ci`
    /// does): the client builds with the backend the features name.
    #[test]
    fn the_client_builds_with_the_chosen_backend() {
        let config = client_config();
        let client = HttpClient::new();
        if cfg!(any(feature = "ring", feature = "aws-lc-rs"))
            || CryptoProvider::get_default().is_some()
        {
            let config = config.unwrap();
            assert_eq!(config.alpn_protocols, vec![b"http/1.1".to_vec()]);
            assert!(client.is_ok(), "{PROVIDER_NAME}, {ROOTS_NAME}: {client:?}");
        } else {
            let err = client.unwrap_err();
            assert!(matches!(err, Error::Configuration { .. }), "{err:?}");
            assert!(err.to_string().contains("crypto provider"), "{err}");
        }
        let expected = if cfg!(feature = "aws-lc-rs") {
            "aws-lc-rs"
        } else if cfg!(feature = "ring") {
            "ring"
        } else {
            "process default"
        };
        assert_eq!(PROVIDER_NAME, expected);
        let roots = if cfg!(feature = "webpki-roots") {
            "webpki-roots"
        } else {
            "platform verifier"
        };
        assert_eq!(ROOTS_NAME, roots);
    }

    /// The provider is the one the features name, not whatever another
    /// crate may have installed process-wide.
    #[cfg(any(feature = "ring", feature = "aws-lc-rs"))]
    #[test]
    fn the_provider_is_ours_not_a_process_default() {
        let config = client_config().unwrap();
        #[cfg(feature = "aws-lc-rs")]
        let ours = rustls::crypto::aws_lc_rs::default_provider();
        #[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
        let ours = rustls::crypto::ring::default_provider();
        let names = |p: &CryptoProvider| -> Vec<String> {
            p.cipher_suites
                .iter()
                .map(|s| format!("{:?}", s.suite()))
                .chain(p.kx_groups.iter().map(|g| format!("{:?}", g.name())))
                .collect()
        };
        assert_eq!(names(config.crypto_provider()), names(&ours));
    }
}
