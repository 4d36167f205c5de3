//! BLAKE3 hashing with one domain-separation prefix per use, so a hash made
//! for one purpose can never be mistaken for another.

/// Hash `parts` under `domain` (BLAKE3 key derivation mode gives the separation).
pub fn hash(domain: &str, parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new_derive_key(domain);
    for part in parts {
        hasher.update(&(part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    *hasher.finalize().as_bytes()
}

/// Lower-case hex of `bytes` (one allocation: it names every block file
/// a silo reads).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_separate_identical_inputs() {
        assert_ne!(hash("infinit a", &[b"x"]), hash("infinit b", &[b"x"]));
    }

    #[test]
    fn parts_are_length_delimited() {
        assert_ne!(hash("d", &[b"ab", b"c"]), hash("d", &[b"a", b"bc"]));
    }

    #[test]
    fn hex_is_lowercase_two_digits() {
        assert_eq!(hex(&[0, 0xab, 7, 0xf0, 0xff]), "00ab07f0ff");
        assert_eq!(hex(&[]), "");
    }
}
