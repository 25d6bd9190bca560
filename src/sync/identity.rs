//! A laptop's identity on the network: a self-signed certificate made once, whose SHA-256
//! fingerprint every other laptop of the organisation pins. There is no certificate
//! authority: trust is the organisation's list of device fingerprints.

use sha2::{Digest, Sha256};

use super::SyncError;
use crate::store::Identity;

/// The name every hubdesk certificate is issued for. Peers are told apart by fingerprint,
/// never by name.
pub const CERT_NAME: &str = "hubdesk.invalid";

/// A new certificate and private key (ECDSA P-256), plus a fresh organisation key if asked.
pub fn generate(with_org_key: bool) -> Result<Identity, SyncError> {
    let certified = rcgen::generate_simple_self_signed(vec![CERT_NAME.to_string()])
        .map_err(|e| SyncError::Setup(format!("could not make this laptop's certificate: {e}")))?;
    let org_key = if with_org_key {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key)
            .map_err(|e| SyncError::Setup(format!("no randomness for a key: {e}")))?;
        Some(key)
    } else {
        None
    };
    Ok(Identity {
        cert: certified.cert.der().to_vec(),
        key: certified.signing_key.serialize_der(),
        org_key,
    })
}

/// The pinned fingerprint of a certificate: lower-case hex SHA-256 of its DER bytes.
pub fn fingerprint(cert_der: &[u8]) -> String {
    hex::encode(Sha256::digest(cert_der))
}

/// Signs `msg` with this laptop's private key (ECDSA P-256 with SHA-256, as in its TLS
/// handshakes): how a sync file says which laptop made it.
pub fn sign(identity: &Identity, msg: &[u8]) -> Result<Vec<u8>, SyncError> {
    use rustls::SignatureScheme;
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(identity.key.clone()));
    let signing = rustls::crypto::ring::sign::any_ecdsa_type(&key)
        .map_err(|e| SyncError::Setup(format!("this laptop's key cannot sign: {e}")))?;
    let signer = signing
        .choose_scheme(&[SignatureScheme::ECDSA_NISTP256_SHA256])
        .ok_or_else(|| SyncError::Setup("this laptop's key is not a P-256 key".into()))?;
    signer
        .sign(msg)
        .map_err(|e| SyncError::Setup(format!("could not sign: {e}")))
}

/// Whether `signature` over `msg` was made with the key of certificate `cert_der`.
pub fn verify(cert_der: &[u8], msg: &[u8], signature: &[u8]) -> bool {
    let der = rustls::pki_types::CertificateDer::from(cert_der);
    match webpki::EndEntityCert::try_from(&der) {
        Ok(cert) => cert
            .verify_signature(webpki::ring::ECDSA_P256_SHA256, msg, signature)
            .is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_with_the_signers_certificate_and_message() {
        let (a, b) = (generate(false).unwrap(), generate(false).unwrap());
        let sig = sign(&a, b"made here").unwrap();
        assert!(verify(&a.cert, b"made here", &sig));
        assert!(!verify(&a.cert, b"made there", &sig));
        assert!(!verify(&b.cert, b"made here", &sig));
        assert!(!verify(b"not a certificate", b"made here", &sig));
    }

    #[test]
    fn each_laptop_gets_its_own_certificate() {
        let a = generate(true).unwrap();
        let b = generate(false).unwrap();
        assert_ne!(fingerprint(&a.cert), fingerprint(&b.cert));
        assert_eq!(fingerprint(&a.cert).len(), 64);
        assert!(a.org_key.is_some() && b.org_key.is_none());
    }
}
