//! TLS for node connections: each node proves it holds its Ed25519 node
//! key as an RFC 7250 raw public key (no X.509, no certificate authority);
//! who that key belongs to — the user's certificate of it and the user's
//! passport — is checked right after, by the handshake (`handshake.rs`).
//! TLS 1.3 only, ring as the crypto provider.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms, verify_tls13_signature_with_raw_key};
use rustls::pki_types::{
    CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, SubjectPublicKeyInfoDer, UnixTime,
};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::sign::CertifiedKey;
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};

use crate::crypto::KeyPair;

/// The application protocol nodes speak.
pub const ALPN: &[u8] = b"infinit/1";

/// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410), before the key.
const SPKI_PREFIX: [u8; 12] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];
/// DER prefix of an Ed25519 PKCS#8 private key (RFC 8410), before the seed.
const PKCS8_PREFIX: [u8; 16] =
    [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("TLS setup: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("QUIC TLS setup: {0}")]
    Quic(String),
}

/// The raw public key form of an Ed25519 key.
pub fn spki(ed25519: &[u8; 32]) -> Vec<u8> {
    let mut der = SPKI_PREFIX.to_vec();
    der.extend_from_slice(ed25519);
    der
}

/// The Ed25519 key of a raw public key, if it is one.
pub fn ed25519_of(spki: &[u8]) -> Option<[u8; 32]> {
    let key = spki.strip_prefix(&SPKI_PREFIX[..])?;
    key.try_into().ok()
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The node's key as rustls holds it: its raw public key and a signer.
fn certified(keys: &KeyPair) -> Result<Arc<CertifiedKey>, TlsError> {
    let seed = keys.private().ed25519;
    let mut pkcs8 = PKCS8_PREFIX.to_vec();
    pkcs8.extend_from_slice(&seed);
    let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pkcs8));
    let signer = provider().key_provider.load_private_key(der)?;
    let public = CertificateDer::from(spki(&keys.public().ed25519));
    Ok(Arc::new(CertifiedKey::new(vec![public], signer)))
}

/// Accepts any Ed25519 raw public key whose handshake signature holds:
/// possession of the key is proven here, membership by the handshake.
#[derive(Debug)]
struct RawKeyVerifier {
    algorithms: WebPkiSupportedAlgorithms,
}

impl RawKeyVerifier {
    fn new() -> Arc<RawKeyVerifier> {
        Arc::new(RawKeyVerifier { algorithms: provider().signature_verification_algorithms })
    }

    fn check_key(&self, end_entity: &CertificateDer<'_>) -> Result<(), rustls::Error> {
        ed25519_of(end_entity.as_ref())
            .map(|_| ())
            .ok_or_else(|| rustls::Error::General("the peer's raw public key is not an Ed25519 key".into()))
    }

    fn signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature_with_raw_key(
            message,
            &SubjectPublicKeyInfoDer::from(cert.as_ref()),
            dss,
            &self.algorithms,
        )
    }
}

impl ServerCertVerifier for RawKeyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.check_key(end_entity)?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::General("TLS 1.2 is not used between nodes".into()))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        vec![SignatureScheme::ED25519]
    }

    fn requires_raw_public_keys(&self) -> bool {
        true
    }
}

impl ClientCertVerifier for RawKeyVerifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.check_key(end_entity)?;
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::General("TLS 1.2 is not used between nodes".into()))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        vec![SignatureScheme::ED25519]
    }

    fn requires_raw_public_keys(&self) -> bool {
        true
    }
}

/// QUIC server and client configurations for the node holding `keys`.
pub fn quic_configs(keys: &KeyPair) -> Result<(quinn::ServerConfig, quinn::ClientConfig), TlsError> {
    let me = certified(keys)?;
    let verifier = RawKeyVerifier::new();
    let mut server = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_client_cert_verifier(verifier.clone())
        .with_cert_resolver(Arc::new(rustls::server::AlwaysResolvesServerRawPublicKeys::new(me.clone())));
    server.alpn_protocols = vec![ALPN.to_vec()];
    let mut client = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_cert_resolver(Arc::new(rustls::client::AlwaysResolvesClientRawPublicKeys::new(me)));
    client.alpn_protocols = vec![ALPN.to_vec()];
    let server = quinn::crypto::rustls::QuicServerConfig::try_from(Arc::new(server))
        .map_err(|e| TlsError::Quic(e.to_string()))?;
    let client = quinn::crypto::rustls::QuicClientConfig::try_from(Arc::new(client))
        .map_err(|e| TlsError::Quic(e.to_string()))?;
    Ok((quinn::ServerConfig::with_crypto(Arc::new(server)), quinn::ClientConfig::new(Arc::new(client))))
}

/// The Ed25519 node key the peer of `connection` proved it holds.
pub fn peer_key(connection: &quinn::Connection) -> Option<[u8; 32]> {
    let identity = connection.peer_identity()?;
    let certificates = identity.downcast::<Vec<CertificateDer<'static>>>().ok()?;
    ed25519_of(certificates.first()?.as_ref())
}
