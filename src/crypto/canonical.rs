//! The canonical byte encoding signatures cover. JSON renderings are never
//! signed: key order, escaping and number formats vary between tools, while
//! these bytes are fixed by construction (a domain tag, then length-prefixed
//! fields in a fixed order).

/// Builder of canonical bytes for one signed statement.
#[derive(Debug, Clone)]
pub struct Canonical(Vec<u8>);

impl Canonical {
    /// Start a statement of the given kind, e.g. `"infinit/passport/v1"`.
    pub fn new(domain: &str) -> Self {
        let mut c = Canonical(Vec::with_capacity(128));
        c = c.bytes(domain.as_bytes());
        c
    }

    /// Append a length-prefixed byte field.
    pub fn bytes(mut self, field: &[u8]) -> Self {
        self.0.extend_from_slice(&(field.len() as u64).to_be_bytes());
        self.0.extend_from_slice(field);
        self
    }

    /// Append a string field.
    pub fn str(self, field: &str) -> Self {
        self.bytes(field.as_bytes())
    }

    /// Append an optional string field (absent and empty differ).
    pub fn opt_str(self, field: Option<&str>) -> Self {
        match field {
            None => self.u64(0),
            Some(s) => self.u64(1).str(s),
        }
    }

    /// Append an unsigned integer.
    pub fn u64(mut self, n: u64) -> Self {
        self.0.extend_from_slice(&n.to_be_bytes());
        self
    }

    /// Append a boolean.
    pub fn bool(mut self, b: bool) -> Self {
        self.0.push(u8::from(b));
        self
    }

    /// The finished bytes.
    pub fn finish(self) -> Vec<u8> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_boundaries_cannot_be_shifted() {
        let a = Canonical::new("t").str("ab").str("c").finish();
        let b = Canonical::new("t").str("a").str("bc").finish();
        assert_ne!(a, b);
    }

    #[test]
    fn absent_and_empty_optional_differ() {
        let a = Canonical::new("t").opt_str(None).finish();
        let b = Canonical::new("t").opt_str(Some("")).finish();
        assert_ne!(a, b);
    }
}
