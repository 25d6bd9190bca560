//! Member codes: short, readable aloud, typeable, and unique without a network.
//!
//! A code is 7 symbols shown as `ABC-DEFG`: two for the device that issued it (its tag), four
//! for that device's own sequence number, one check symbol. Two laptops registering offline at
//! the same moment have different tags, so their codes can never collide; the check symbol
//! catches every single mistyped symbol. The alphabet leaves out 0/O, 1/I/L and U.

use std::fmt;

use super::ValidationError;

const ALPHABET: &[u8; 30] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";
const BASE: u32 = ALPHABET.len() as u32;
/// How many devices an organisation can have (30^2).
pub const MAX_DEVICE_TAGS: u32 = BASE * BASE;
/// How many members one device can register (30^4).
pub const MAX_SEQ_PER_DEVICE: u32 = BASE * BASE * BASE * BASE;

// Both spread consecutive numbers over the code space so neighbours do not look alike. Each
// multiplier is coprime with its modulus (which is 2^a 3^b 5^c), so the maps are bijections.
const TAG_MUL: u32 = 7;
const TAG_ADD: u32 = 311;
const SEQ_MUL: u32 = 7919;
const SEQ_ADD: u32 = 104_729;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MemberCode(String);

impl MemberCode {
    /// The code a device with tag `device_tag` gives its `seq`-th registration.
    pub fn issue(device_tag: u32, seq: u32) -> Result<Self, ValidationError> {
        if device_tag >= MAX_DEVICE_TAGS {
            return Err(ValidationError::new(
                "code",
                "this organisation has run out of device tags",
            ));
        }
        if seq >= MAX_SEQ_PER_DEVICE {
            return Err(ValidationError::new(
                "code",
                "this laptop has run out of member codes",
            ));
        }
        let tag =
            ((device_tag as u64 * TAG_MUL as u64 + TAG_ADD as u64) % MAX_DEVICE_TAGS as u64) as u32;
        let body =
            ((seq as u64 * SEQ_MUL as u64 + SEQ_ADD as u64) % MAX_SEQ_PER_DEVICE as u64) as u32;
        let mut digits = Vec::with_capacity(7);
        push_digits(&mut digits, tag, 2);
        push_digits(&mut digits, body, 4);
        digits.push(check_digit(&digits));
        Ok(Self(
            digits
                .iter()
                .map(|&d| ALPHABET[d as usize] as char)
                .collect(),
        ))
    }

    /// Reads a code as a person or a barcode scanner typed it: any case, with or without the
    /// dash or spaces. Refuses anything whose check symbol does not match.
    pub fn parse(input: &str) -> Option<Self> {
        let symbols: Vec<u8> = input
            .chars()
            .filter(|c| !matches!(c, '-' | ' ' | '\t'))
            .map(|c| c.to_ascii_uppercase())
            .map(|c| if c.is_ascii() { c as u8 } else { 0 })
            .collect();
        if symbols.len() != 7 {
            return None;
        }
        let digits: Option<Vec<u32>> = symbols
            .iter()
            .map(|s| ALPHABET.iter().position(|a| a == s).map(|p| p as u32))
            .collect();
        let digits = digits?;
        if check_digit(&digits[..6]) != digits[6] {
            return None;
        }
        Some(Self(symbols.iter().map(|&b| b as char).collect()))
    }

    /// The code without the dash, e.g. for an index.
    pub fn compact(&self) -> &str {
        &self.0
    }

    /// Lower-case compact form, as the search key is normalised.
    pub fn search_key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

impl fmt::Display for MemberCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", &self.0[..3], &self.0[3..])
    }
}

fn push_digits(out: &mut Vec<u32>, mut value: u32, width: usize) {
    let start = out.len();
    for _ in 0..width {
        out.push(value % BASE);
        value /= BASE;
    }
    out[start..].reverse();
}

/// Luhn mod N: detects every single-symbol error and most swaps of neighbours.
fn check_digit(digits: &[u32]) -> u32 {
    let mut sum = 0;
    let mut factor = 2;
    for &d in digits.iter().rev() {
        let addend = factor * d;
        sum += addend / BASE + addend % BASE;
        factor = if factor == 2 { 1 } else { 2 };
    }
    (BASE - sum % BASE) % BASE
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_code_reads_as_three_and_four_symbols() {
        let code = MemberCode::issue(0, 0).unwrap().to_string();
        assert_eq!(code.len(), 8);
        assert_eq!(&code[3..4], "-");
    }

    #[test]
    fn codes_parse_back_whatever_the_case_and_dashes() {
        let code = MemberCode::issue(3, 4242).unwrap();
        let typed = code.to_string().to_lowercase().replace('-', " ");
        assert_eq!(MemberCode::parse(&typed), Some(code));
    }

    #[test]
    fn every_single_mistyped_symbol_is_caught() {
        let code = MemberCode::issue(12, 777).unwrap();
        let s: Vec<char> = code.compact().chars().collect();
        for pos in 0..7 {
            for &a in ALPHABET {
                let a = a as char;
                if a == s[pos] {
                    continue;
                }
                let mut t = s.clone();
                t[pos] = a;
                let typed: String = t.into_iter().collect();
                assert_eq!(MemberCode::parse(&typed), None, "{typed} should be refused");
            }
        }
    }

    proptest! {
        #[test]
        fn two_devices_never_issue_the_same_code(
            tag_a in 0..MAX_DEVICE_TAGS, tag_b in 0..MAX_DEVICE_TAGS,
            seq_a in 0..MAX_SEQ_PER_DEVICE, seq_b in 0..MAX_SEQ_PER_DEVICE,
        ) {
            prop_assume!((tag_a, seq_a) != (tag_b, seq_b));
            prop_assert_ne!(MemberCode::issue(tag_a, seq_a).unwrap(), MemberCode::issue(tag_b, seq_b).unwrap());
        }
    }

    #[test]
    fn one_device_issues_distinct_codes_over_a_long_run() {
        let mut seen = std::collections::HashSet::new();
        for seq in 0..60_000 {
            assert!(seen.insert(MemberCode::issue(5, seq).unwrap()));
        }
    }

    #[test]
    fn running_out_is_an_error_not_a_wrap() {
        assert!(MemberCode::issue(0, MAX_SEQ_PER_DEVICE).is_err());
        assert!(MemberCode::issue(MAX_DEVICE_TAGS, 0).is_err());
    }
}
