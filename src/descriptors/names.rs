//! Names of descriptors. Every name part matches `[a-z0-9][a-z0-9_.-]{0,127}`;
//! networks and volumes are qualified `owner/name`, and an unqualified name
//! is qualified with the acting user.

use super::{DescriptorError, Result};

/// The name grammar, for error messages and documentation.
pub const GRAMMAR: &str = "1 to 128 characters among a-z 0-9 _ . -, starting with a letter or digit";

/// Check one name part.
pub fn check(what: &'static str, name: &str) -> Result<()> {
    let bytes = name.as_bytes();
    let ok = !bytes.is_empty()
        && bytes.len() <= 128
        && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        && bytes.iter().all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(DescriptorError::InvalidName { what, name: name.to_string(), why: format!("expected {GRAMMAR}") })
    }
}

/// Qualify `name` with `user` unless it already names an owner; check both parts.
pub fn qualify(what: &'static str, name: &str, user: &str) -> Result<String> {
    let (owner, short) = match name.split_once('/') {
        Some((owner, short)) => (owner, short),
        None => (user, name),
    };
    check("user", owner).map_err(|_| DescriptorError::InvalidName {
        what,
        name: name.to_string(),
        why: format!("the owner part must be a user name ({GRAMMAR})"),
    })?;
    check(what, short).map_err(|_| DescriptorError::InvalidName {
        what,
        name: name.to_string(),
        why: format!("expected [owner/]name with {GRAMMAR} in each part"),
    })?;
    Ok(format!("{owner}/{short}"))
}

/// Split a qualified name into owner and short name.
pub fn split(qualified: &str) -> (&str, &str) {
    qualified.split_once('/').unwrap_or(("", qualified))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_grammar() {
        for good in ["bob", "eve_2", "o", "2zio", "first.last", "first-last", &"x".repeat(128)] {
            check("user", good).unwrap_or_else(|e| panic!("{good}: {e}"));
        }
    }

    #[test]
    fn rejects_everything_else() {
        for bad in ["", "Bob", "accént", "char+acter", "s/ash", ".start", "-dash", "*", " a", "a b", &"x".repeat(129)]
        {
            assert!(check("user", bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn qualification_uses_the_acting_user() {
        assert_eq!(qualify("network", "net", "alice").unwrap(), "alice/net");
        assert_eq!(qualify("network", "bob/net", "alice").unwrap(), "bob/net");
        assert!(qualify("network", "bob/net/x", "alice").is_err());
        assert!(qualify("network", "/net", "alice").is_err());
        assert!(qualify("network", "Net", "alice").is_err());
    }
}
