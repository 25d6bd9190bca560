//! Pairing a new laptop with a short code (SPAKE2), bound to both TLS certificates.
//!
//! The manager's laptop shows a 6-digit code. The new laptop connects over TLS (neither side
//! can check the other's certificate yet) and both run SPAKE2 with the code as password.
//! Each then proves it holds the same key with an HMAC over both certificate fingerprints, so
//! a wrong code learns nothing and a machine in the middle (with other certificates) fails
//! the proof. Only then does the new laptop get the organisation's identity and its
//! certificate get pinned.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use spake2::{Ed25519Group, Identity, Password, Spake2};

use super::SyncError;
use super::wire::RefusalReason;

/// Digits in a pairing code.
pub const CODE_DIGITS: usize = 6;
/// How long a pairing code can be used.
pub const CODE_MINUTES: i64 = 10;
/// Wrong tries after which a code stops working.
pub const MAX_FAILURES: u32 = 3;

const JOINER: &[u8] = b"hubdesk joining laptop";
const MEMBER: &[u8] = b"hubdesk paired laptop";

/// A fresh random code, as shown to the manager.
pub fn new_code() -> Result<String, SyncError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| SyncError::Setup(format!("no randomness: {e}")))?;
    let n = u64::from_le_bytes(bytes) % 10u64.pow(CODE_DIGITS as u32);
    Ok(format!("{n:0width$}", width = CODE_DIGITS))
}

/// Accepts what a person types: digits, with spaces or dashes anywhere.
pub fn normalise_code(typed: &str) -> Option<String> {
    let digits: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    (digits.len() == CODE_DIGITS && digits.chars().all(|c| c.is_ascii_digit())).then_some(digits)
}

/// One side of the exchange.
pub struct Pake {
    state: Spake2<Ed25519Group>,
    joiner: bool,
}

impl Pake {
    /// Starts the exchange; returns the message for the other side.
    pub fn start(code: &str, joiner: bool) -> (Self, Vec<u8>) {
        let password = Password::new(code.as_bytes());
        let (joiner_id, member_id) = (Identity::new(JOINER), Identity::new(MEMBER));
        let (state, outbound) = if joiner {
            Spake2::<Ed25519Group>::start_a(&password, &joiner_id, &member_id)
        } else {
            Spake2::<Ed25519Group>::start_b(&password, &joiner_id, &member_id)
        };
        (Self { state, joiner }, outbound)
    }

    /// Finishes with the other side's message: the shared key and our proof.
    pub fn finish(
        self,
        inbound: &[u8],
        joiner_cert: &str,
        member_cert: &str,
    ) -> Result<Confirmed, SyncError> {
        let key = self.state.finish(inbound).map_err(|_| {
            SyncError::refused(RefusalReason::WrongCode, "the pairing did not complete")
        })?;
        Ok(Confirmed {
            key,
            joiner: self.joiner,
            transcript: format!("{joiner_cert}:{member_cert}"),
        })
    }
}

/// The agreed key, bound to both certificates.
pub struct Confirmed {
    key: Vec<u8>,
    joiner: bool,
    transcript: String,
}

impl Confirmed {
    fn mac(&self, from_joiner: bool) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("any key length");
        mac.update(if from_joiner { JOINER } else { MEMBER });
        mac.update(self.transcript.as_bytes());
        mac
    }

    /// Our proof of the code.
    pub fn proof(&self) -> Vec<u8> {
        self.mac(self.joiner).finalize().into_bytes().to_vec()
    }

    /// Checks the other side's proof (in constant time).
    pub fn check(&self, theirs: &[u8]) -> bool {
        self.mac(!self.joiner).verify_slice(theirs).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(code_a: &str, code_b: &str, certs_b: (&str, &str)) -> (bool, bool) {
        let (joiner, to_member) = Pake::start(code_a, true);
        let (member, to_joiner) = Pake::start(code_b, false);
        let j = joiner.finish(&to_joiner, "J", "M").unwrap();
        let m = member.finish(&to_member, certs_b.0, certs_b.1).unwrap();
        (m.check(&j.proof()), j.check(&m.proof()))
    }

    #[test]
    fn the_same_code_pairs() {
        assert_eq!(exchange("123456", "123456", ("J", "M")), (true, true));
    }

    #[test]
    fn a_wrong_code_fails_on_both_sides() {
        assert_eq!(exchange("123456", "123457", ("J", "M")), (false, false));
    }

    #[test]
    fn a_machine_in_the_middle_with_other_certificates_fails() {
        assert_eq!(exchange("123456", "123456", ("X", "M")), (false, false));
    }

    #[test]
    fn codes_are_six_digits_and_typing_is_forgiving() {
        for _ in 0..50 {
            let c = new_code().unwrap();
            assert_eq!(normalise_code(&c).as_deref(), Some(c.as_str()));
        }
        assert_eq!(normalise_code(" 123-456 ").as_deref(), Some("123456"));
        assert_eq!(normalise_code("12345"), None);
        assert_eq!(normalise_code("12345a"), None);
    }
}
