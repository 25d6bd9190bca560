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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_laptop_gets_its_own_certificate() {
        let a = generate(true).unwrap();
        let b = generate(false).unwrap();
        assert_ne!(fingerprint(&a.cert), fingerprint(&b.cert));
        assert_eq!(fingerprint(&a.cert).len(), 64);
        assert!(a.org_key.is_some() && b.org_key.is_none());
    }
}
