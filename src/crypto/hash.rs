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

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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
        assert_eq!(hex(&[0, 0xab, 7]), "00ab07");
    }
}
