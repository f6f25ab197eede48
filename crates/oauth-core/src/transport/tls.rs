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
//! crate never installs a process-wide provider. Extra root certificates
//! ([`RootCertificate`], given to
//! [`HttpClientBuilder::add_root_certificate`](crate::transport::HttpClientBuilder::add_root_certificate))
//! are trusted on top of the roots in the table.

use crate::Error;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::fmt;
use std::sync::Arc;

/// A root certificate to trust besides the built-in roots (a company's
/// TLS-inspecting proxy, a private CA in front of a sandbox).
#[derive(Clone, PartialEq, Eq)]
pub struct RootCertificate(CertificateDer<'static>);

impl RootCertificate {
    /// A certificate in DER form (checked when the client is built).
    pub fn from_der(der: impl Into<Vec<u8>>) -> Self {
        Self(CertificateDer::from(der.into()))
    }

    /// Every `CERTIFICATE` block of a PEM text (a bundle may hold several).
    ///
    /// # Errors
    /// [`Error::Configuration`] when the text is not valid PEM or holds no
    /// certificate.
    pub fn from_pem(pem: &[u8]) -> Result<Vec<Self>, Error> {
        let certificates = CertificateDer::pem_slice_iter(pem)
            .map(|certificate| certificate.map(Self))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Error::configuration(format!("invalid PEM certificate: {e}")))?;
        if certificates.is_empty() {
            return Err(Error::configuration("no CERTIFICATE block in the PEM text"));
        }
        Ok(certificates)
    }

    /// The DER bytes.
    pub fn as_der(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for RootCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RootCertificate")
            .field("der_len", &self.0.len())
            .finish()
    }
}

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
/// certificates checked against the chosen roots plus `extra_roots`, ALPN
/// `http/1.1` (what reqwest sets on the configurations it builds for an
/// HTTP/1-only client; it leaves a preconfigured one as it is).
pub(crate) fn client_config(
    extra_roots: &[RootCertificate],
) -> Result<rustls::ClientConfig, Error> {
    let provider = provider()?;
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?;
    #[cfg(feature = "webpki-roots")]
    let builder = {
        let _ = &provider;
        let mut roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        for root in extra_roots {
            roots.add(root.0.clone()).map_err(tls_error)?;
        }
        builder.with_root_certificates(roots)
    };
    #[cfg(not(feature = "webpki-roots"))]
    let builder = if extra_roots.is_empty() {
        use rustls_platform_verifier::BuilderVerifierExt;
        builder.with_platform_verifier().map_err(tls_error)?
    } else {
        let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(
            extra_roots.iter().map(|root| root.0.clone()),
            provider,
        )
        .map_err(tls_error)?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
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
        let config = client_config(&[]);
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
        let config = client_config(&[]).unwrap();
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

    /// A self-signed certificate (CN=oauth-core test root), valid for a
    /// century: extra roots are parsed from PEM and accepted by rustls;
    /// garbage is refused when the client is built, not at the first send.
    #[cfg(any(feature = "ring", feature = "aws-lc-rs"))]
    #[test]
    fn extra_roots() {
        let roots = RootCertificate::from_pem(TEST_ROOT.as_bytes()).unwrap();
        assert_eq!(roots.len(), 1);
        assert!(format!("{:?}", roots[0]).contains("der_len"));
        client_config(&roots).unwrap();
        let copy = RootCertificate::from_der(roots[0].as_der().to_vec());
        assert_eq!(copy, roots[0]);
        assert!(RootCertificate::from_pem(b"no pem here").is_err());
        let err = client_config(&[RootCertificate::from_der(b"not DER".to_vec())]).unwrap_err();
        assert!(matches!(err, Error::Configuration { .. }), "{err:?}");
    }

    const TEST_ROOT: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBlTCCATugAwIBAgIUKIujad9b25tQW6+u2asQl8CEkRwwCgYIKoZIzj0EAwIw\n\
HzEdMBsGA1UEAwwUb2F1dGgtY29yZSB0ZXN0IHJvb3QwIBcNMjYxMTMwMDcxNzAx\n\
WhgPMjEyNjExMDYwNzE3MDFaMB8xHTAbBgNVBAMMFG9hdXRoLWNvcmUgdGVzdCBy\n\
b290MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEliL8NADwlrznV+9ht0CTqAYa\n\
vcHd/uUTSKuOThUXJzYlhdYCjQ59f6B5tGBlWFRuBtxywjTJ5xqPEYPjXCR6XqNT\n\
MFEwHQYDVR0OBBYEFFVoUtddVxmEoazAzvKVl7XOr8yOMB8GA1UdIwQYMBaAFFVo\n\
UtddVxmEoazAzvKVl7XOr8yOMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwID\n\
SAAwRQIhAL5Iw/91cGSrfk8bwz3biTU/YwW2yZaN6mxVhTzVMtyaAiAjmh0VxQ+b\n\
bHhhfZ4wTtSOB7m9iMm+/PahhbjQLGhcrA==\n\
-----END CERTIFICATE-----\n\
";
}
