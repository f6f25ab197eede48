//! TLS to the server (feature `tls`): rustls with the ring provider.

use crate::error::config_error;
use oauth_core::Error;
use std::fmt;
use std::sync::Arc;
use tokio_postgres_rustls::MakeRustlsConnect;

/// How connections to the server are encrypted (feature `tls`), when the
/// connection string's `sslmode` is `prefer` (the default: TLS if the
/// server offers it) or `require` (TLS or no connection). With
/// `sslmode=disable` no TLS is attempted.
///
/// The server's certificate is always verified, including its host name,
/// with either setting (stricter than libpq's `require`, like its
/// `verify-full`): give the server's CA with
/// [`with_root_certificates_pem`](Self::with_root_certificates_pem), or
/// install it in the platform's trust store, or pass a
/// [`rustls::ClientConfig`] of your own (client certificates, pinning).
#[derive(Clone)]
pub struct Tls {
    config: Arc<rustls::ClientConfig>,
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls")
            .field("alpn_protocols", &self.config.alpn_protocols.len())
            .finish_non_exhaustive()
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

// Taken by value: the shape `map_err` hands over.
#[allow(clippy::needless_pass_by_value)]
fn tls_error(error: rustls::Error) -> Error {
    config_error(format!(
        "cannot set up TLS for PostgreSQL (rustls, ring): {error}"
    ))
}

impl Tls {
    /// Certificates checked by the platform's verifier and trust store (the
    /// system's CA certificates; on Linux, the usual CA bundle files): the
    /// default. A private CA installed in the system's store is trusted.
    ///
    /// # Errors
    /// [`Error::Configuration`] if the platform verifier cannot be set up.
    pub fn platform_verifier() -> Result<Self, Error> {
        use rustls_platform_verifier::BuilderVerifierExt;
        let config = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(tls_error)?
            .with_platform_verifier()
            .map_err(tls_error)?
            .with_no_client_auth();
        Ok(Self::from_config(config))
    }

    /// Certificates checked against the CA certificates in `pem` (one or
    /// more `-----BEGIN CERTIFICATE-----` blocks, e.g. a cloud provider's
    /// bundle for its managed PostgreSQL), and only those.
    ///
    /// # Errors
    /// [`Error::Configuration`] if `pem` holds no certificate or one that
    /// cannot be used.
    pub fn with_root_certificates_pem(pem: &[u8]) -> Result<Self, Error> {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|_| {
                config_error("cannot read the PostgreSQL CA certificates: invalid PEM")
            })?;
            roots.add(cert).map_err(tls_error)?;
        }
        if roots.is_empty() {
            return Err(config_error(
                "no certificate in the PostgreSQL CA certificates given",
            ));
        }
        let config = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(tls_error)?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self::from_config(config))
    }

    /// A rustls configuration of your own (client certificates, a custom
    /// verifier, another crypto provider).
    pub fn from_config(config: rustls::ClientConfig) -> Self {
        Self {
            config: Arc::new(config),
        }
    }

    pub(crate) fn into_connector(self) -> MakeRustlsConnect {
        MakeRustlsConnect::new(Arc::unwrap_or_clone(self.config))
    }
}
