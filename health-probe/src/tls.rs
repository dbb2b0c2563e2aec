//! `SSL_GET`'s TLS client.
//!
//! keepalived (check/check_ssl.c `build_ssl_ctx`, `ssl_connect`): one OpenSSL context with
//! `TLS_method()` and no `SSL_CTX_set_verify`, so the server's certificate is never verified
//! (not its chain, not its name, not its dates), whatever `ca` file is configured. SNI is sent
//! only with `enable_sni` (or `sni_name`): `sni_name`, else the URL's `virtualhost`, else the
//! checker's. No ALPN. This client does the same with rustls, with one difference that cannot
//! be helped: rustls speaks TLS 1.2 and 1.3 only, where OpenSSL might still negotiate 1.0/1.1.

use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use tokio_rustls::TlsConnector;

/// Accepts any certificate, as keepalived's checker does. The handshake's own signatures are
/// still checked against the key in the presented certificate: OpenSSL checks them even with
/// verification off, and without that any man in the middle could finish the handshake.
#[derive(Debug)]
struct AcceptAnyCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

fn build_config() -> Result<Arc<ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(AcceptAnyCertificate {
        algorithms: provider.signature_verification_algorithms,
    });
    let config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(|e| format!("TLS client configuration: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The one TLS client every probe shares (built on first use: it holds no per-probe state).
pub(crate) fn connector() -> Result<TlsConnector, String> {
    static CONFIG: OnceLock<Result<Arc<ClientConfig>, String>> = OnceLock::new();
    CONFIG
        .get_or_init(build_config)
        .clone()
        .map(TlsConnector::from)
}

/// The name given to the handshake: a DNS name is sent as SNI; an address sends no SNI, which
/// is what keepalived does when SNI is off or has no name. An IP literal as the SNI name also
/// sends none (TLS forbids addresses in SNI).
pub(crate) fn server_name(sni: Option<&str>, ip: IpAddr) -> Result<ServerName<'static>, String> {
    match sni {
        Some(name) => {
            ServerName::try_from(name.to_owned()).map_err(|_| format!("invalid SNI name {name:?}"))
        }
        None => Ok(ServerName::IpAddress(ip.into())),
    }
}
