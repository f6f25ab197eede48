//! TLS support (feature `tls`).

/// Makes sure rustls has a process-wide crypto provider before redis
/// builds its TLS configuration: an application that installed one keeps
/// it; otherwise ring's is installed (a no-op if another thread won the
/// race).
pub(crate) fn ensure_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}
