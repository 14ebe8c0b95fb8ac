//! TLS server configuration from [`TlsSettings`]: certificates, versions,
//! suites, curves and the client-certificate policy (mTLS), with rustls.
//!
//! Certificates and keys are read when a [`ServerConfig`] is built; the
//! caller rebuilds it when a file changes, so renewed certificates are used
//! by new connections without a restart (as the Pushgateway does).

use std::net::IpAddr;
use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{ring, CryptoProvider, SupportedKxGroup, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{
    DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig, SignatureScheme,
    SupportedCipherSuite,
};

use crate::access::file::{ClientAuth, Pem, TlsSettings, TlsVersion};

/// The TLS 1.2 suite with this Go name (`crypto/tls` constant names).
pub fn suite_by_go_name(name: &str) -> Option<SupportedCipherSuite> {
    use ring::cipher_suite as cs;
    Some(match name {
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" => cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" => cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305"
        | "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256" => {
            cs::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
        }
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" => cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" => cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305" | "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256" => {
            cs::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
        }
        _ => return None,
    })
}

/// The key-exchange group with this Go curve name.
pub fn group_by_go_name(name: &str) -> Option<&'static dyn SupportedKxGroup> {
    Some(match name {
        "X25519" => ring::kx_group::X25519,
        "CurveP256" => ring::kx_group::SECP256R1,
        "CurveP384" => ring::kx_group::SECP384R1,
        _ => return None,
    })
}

/// Why a TLS configuration could not be built.
#[derive(Debug)]
pub enum TlsError {
    /// A PEM file could not be read or holds nothing usable.
    Pem(String),
    /// rustls refused the combination.
    Rustls(String),
}

impl std::fmt::Display for TlsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TlsError::Pem(e) => write!(f, "TLS: {e}"),
            TlsError::Rustls(e) => write!(f, "TLS: {e}"),
        }
    }
}

impl std::error::Error for TlsError {}

fn pem_bytes(p: &Pem, what: &str) -> Result<Vec<u8>, TlsError> {
    match p {
        Pem::File(path) => std::fs::read(path)
            .map_err(|e| TlsError::Pem(format!("cannot read {what} {}: {e}", path.display()))),
        Pem::Inline(s) => Ok(s.as_bytes().to_vec()),
    }
}

fn certs(p: &Pem, what: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = pem_bytes(p, what)?;
    let certs: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(&bytes).collect();
    let certs = certs.map_err(|e| TlsError::Pem(format!("{what}: {e}")))?;
    if certs.is_empty() {
        return Err(TlsError::Pem(format!("{what}: no PEM certificate found")));
    }
    Ok(certs)
}

/// Builds the server configuration.
pub fn server_config(t: &TlsSettings) -> Result<Arc<ServerConfig>, TlsError> {
    let mut provider = ring::default_provider();
    if !t.cipher_suites.is_empty() {
        // Go's list configures TLS 1.2 only; TLS 1.3 suites stay as they are.
        let mut suites: Vec<SupportedCipherSuite> =
            t.cipher_suites.iter().filter_map(|n| suite_by_go_name(n)).collect();
        suites.extend(provider.cipher_suites.iter().filter(|s| s.tls13().is_some()).copied());
        provider.cipher_suites = suites;
    }
    if !t.curves.is_empty() {
        provider.kx_groups = t.curves.iter().filter_map(|n| group_by_go_name(n)).collect();
    }
    let provider = Arc::new(provider);
    let mut versions = Vec::new();
    if t.min_version <= TlsVersion::Tls12 {
        versions.push(&rustls::version::TLS12);
    }
    if t.max_version >= TlsVersion::Tls13 {
        versions.push(&rustls::version::TLS13);
    }
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|e| TlsError::Rustls(e.to_string()))?;
    let verifier = client_verifier(t, &provider)?;
    let builder = match verifier {
        Some(v) => builder.with_client_cert_verifier(v),
        None => builder.with_no_client_auth(),
    };
    let chain = certs(&t.cert, "certificate")?;
    let key_bytes = pem_bytes(&t.key, "key")?;
    let key = PrivateKeyDer::from_pem_slice(&key_bytes)
        .map_err(|e| TlsError::Pem(format!("key: {e}")))?;
    let mut config =
        builder.with_single_cert(chain, key).map_err(|e| TlsError::Rustls(e.to_string()))?;
    config.ignore_client_order = t.prefer_server_cipher_suites;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn client_verifier(
    t: &TlsSettings,
    provider: &Arc<CryptoProvider>,
) -> Result<Option<Arc<dyn ClientCertVerifier>>, TlsError> {
    let algs = provider.signature_verification_algorithms;
    let verified = |optional: bool| -> Result<Arc<dyn ClientCertVerifier>, TlsError> {
        let mut roots = RootCertStore::empty();
        if let Some(ca) = &t.client_ca {
            for c in certs(ca, "client CA")? {
                roots.add(c).map_err(|e| TlsError::Pem(format!("client CA: {e}")))?;
            }
        }
        let mut b = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone());
        if optional {
            b = b.allow_unauthenticated();
        }
        b.build().map_err(|e| TlsError::Rustls(e.to_string()))
    };
    Ok(match t.client_auth {
        ClientAuth::NoClientCert => None,
        ClientAuth::RequestClientCert => Some(Arc::new(AnyClientCert { algs, mandatory: false })),
        ClientAuth::RequireAnyClientCert => Some(Arc::new(AnyClientCert { algs, mandatory: true })),
        ClientAuth::VerifyClientCertIfGiven => Some(verified(true)?),
        ClientAuth::RequireAndVerifyClientCert if t.allowed_sans.is_empty() => {
            Some(verified(false)?)
        }
        ClientAuth::RequireAndVerifyClientCert => {
            Some(Arc::new(AllowedSans { inner: verified(false)?, allowed: t.allowed_sans.clone() }))
        }
    })
}

/// `RequestClientCert` / `RequireAnyClientCert`: a certificate is asked for
/// (and with `mandatory` required) but not checked against any CA; only its
/// handshake signature must be valid, as in Go.
#[derive(Debug)]
struct AnyClientCert {
    algs: WebPkiSupportedAlgorithms,
    mandatory: bool,
}

impl ClientCertVerifier for AnyClientCert {
    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

/// `client_allowed_sans`: a verified client certificate must also carry one
/// of these subject alternative names (DNS, email, IP or URI).
#[derive(Debug)]
struct AllowedSans {
    inner: Arc<dyn ClientCertVerifier>,
    allowed: Vec<String>,
}

/// The subject alternative names of a DER certificate, as strings.
pub fn subject_alt_names(der: &[u8]) -> Vec<String> {
    use x509_parser::extensions::GeneralName;
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(der) else {
        return Vec::new();
    };
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    san.value
        .general_names
        .iter()
        .filter_map(|n| match n {
            GeneralName::DNSName(s) | GeneralName::RFC822Name(s) | GeneralName::URI(s) => {
                Some((*s).to_owned())
            }
            GeneralName::IPAddress(b) => match b.len() {
                4 => <[u8; 4]>::try_from(*b).ok().map(|a| IpAddr::from(a).to_string()),
                16 => <[u8; 16]>::try_from(*b).ok().map(|a| IpAddr::from(a).to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

impl ClientCertVerifier for AllowedSans {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let ok = self.inner.verify_client_cert(end_entity, intermediates, now)?;
        let sans = subject_alt_names(end_entity.as_ref());
        if sans.iter().any(|s| self.allowed.contains(s)) {
            Ok(ok)
        } else {
            Err(rustls::Error::General(
                "client certificate has no subject alternative name in client_allowed_sans".into(),
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_names_map_to_rustls() {
        assert!(suite_by_go_name("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256").is_some());
        assert!(suite_by_go_name("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305").is_some());
        assert!(suite_by_go_name("TLS_RSA_WITH_AES_128_CBC_SHA").is_none());
        assert!(group_by_go_name("X25519").is_some());
        assert!(group_by_go_name("CurveP521").is_none());
    }

    #[test]
    fn unreadable_certificates_are_reported() {
        let t = TlsSettings {
            cert: Pem::Inline("not pem".into()),
            key: Pem::Inline("not pem".into()),
            client_auth: ClientAuth::NoClientCert,
            client_ca: None,
            allowed_sans: Vec::new(),
            min_version: TlsVersion::Tls12,
            max_version: TlsVersion::Tls13,
            cipher_suites: Vec::new(),
            prefer_server_cipher_suites: true,
            curves: Vec::new(),
        };
        let e = server_config(&t).expect_err("garbage PEM");
        assert!(e.to_string().contains("certificate"), "{e}");
        let missing = TlsSettings { cert: Pem::File("/nonexistent/x.crt".into()), ..t };
        assert!(server_config(&missing)
            .expect_err("missing")
            .to_string()
            .contains("/nonexistent/x.crt"));
    }

    #[test]
    fn subject_alt_names_of_garbage_are_empty() {
        assert!(subject_alt_names(b"\x30\x03\x02\x01\x00").is_empty());
    }
}
