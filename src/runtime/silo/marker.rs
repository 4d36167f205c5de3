//! The silo marker: a small JSON file (or object) `.infinit-silo` in a
//! silo's root naming the silo and carrying a random 128-bit id that the
//! silo's descriptor records too. A node checks it before serving, so an
//! unplugged disk, a mistyped path or another silo's folder is refused
//! instead of being served as an empty volume. [`decide`] holds the rules,
//! without I/O, for every backend.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Name of the marker file (or object) in a silo's root.
pub const MARKER_NAME: &str = ".infinit-silo";

/// Version of the marker format this build writes and reads.
const FORMAT: u32 = 1;

/// A silo's identity: 128 random bits, written as 32 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SiloId(pub [u8; 16]);

impl SiloId {
    /// A fresh random id.
    pub fn random() -> Result<SiloId, crate::crypto::CryptoError> {
        crate::crypto::random_bytes().map(SiloId)
    }

    /// Parse 32 hex digits.
    pub fn from_hex(text: &str) -> Option<SiloId> {
        if text.len() != 32 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let mut out = [0u8; 16];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(SiloId(out))
    }
}

impl fmt::Display for SiloId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for SiloId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SiloId({self})")
    }
}

impl Serialize for SiloId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SiloId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        SiloId::from_hex(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("invalid silo id {text:?}: expected 32 hex digits")))
    }
}

/// The content of a marker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marker {
    /// Marker format version.
    pub format: u32,
    /// Name of the silo when the marker was written (for people reading it).
    pub silo: String,
    /// The silo's identity.
    pub id: SiloId,
}

impl Marker {
    /// The marker of silo `silo` with `id`, in the current format.
    pub fn new(silo: &str, id: SiloId) -> Marker {
        Marker { format: FORMAT, silo: silo.to_owned(), id }
    }

    /// The marker as written on disk: pretty JSON and a newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// Parse a marker read from disk; the error says what is wrong.
    pub fn parse(bytes: &[u8]) -> Result<Marker, String> {
        #[derive(Deserialize)]
        struct Version {
            format: u32,
        }
        let version: Version = serde_json::from_slice(bytes).map_err(|e| format!("not a silo marker: {e}"))?;
        if version.format > FORMAT {
            return Err(format!(
                "format {} is newer than this build reads ({FORMAT}): upgrade infinit",
                version.format
            ));
        }
        serde_json::from_slice(bytes).map_err(|e| format!("not a silo marker: {e}"))
    }
}

/// Where a silo lives, for messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// A local folder.
    Folder(PathBuf),
    /// A cloud bucket's folder: `bucket "b" at <endpoint>, folder "f"`.
    Bucket(String),
}

impl Place {
    /// What the operator can do when this place is refused.
    pub fn remedy(&self) -> &'static str {
        match self {
            Place::Folder(_) => "reconnect the disk or fix the path",
            Place::Bucket(_) => "fix the bucket or folder",
        }
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Folder(path) => write!(f, "folder {}", path.display()),
            Place::Bucket(location) => f.write_str(location),
        }
    }
}

/// Why a place is not the silo its descriptor describes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mismatch {
    /// The folder does not exist.
    Missing,
    /// No marker, while the descriptor records an id or nothing proves the
    /// place was ever this silo's.
    NoMarker {
        /// Whether the place holds blocks.
        blocks: bool,
    },
    /// The marker belongs to another silo.
    OtherSilo {
        /// The name in the marker.
        silo: String,
        /// The id in the marker.
        id: SiloId,
    },
    /// The marker cannot be read.
    BadMarker(String),
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mismatch::Missing => f.write_str("is missing"),
            Mismatch::NoMarker { blocks: false } => write!(f, "is empty and has no silo marker ({MARKER_NAME})"),
            Mismatch::NoMarker { blocks: true } => write!(f, "holds blocks but not this silo's marker ({MARKER_NAME})"),
            Mismatch::OtherSilo { silo, id } => write!(f, "holds another silo ({silo:?}, id {id})"),
            Mismatch::BadMarker(why) => write!(f, "has an unreadable silo marker ({MARKER_NAME}: {why})"),
        }
    }
}

/// What to do with a silo's root before serving it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The marker matches: serve.
    Serve,
    /// Write a marker with this id, then serve. `None` asks for a fresh id
    /// (a silo made by an older build, whose descriptor records none).
    WriteMarker(Option<SiloId>),
    /// Do not serve.
    Refuse(Mismatch),
}

/// Whether silo `name`, whose descriptor records `expected`, may serve a
/// root holding `marker` and (`blocks`) some blocks. A root without a
/// marker is adopted only from an older build's silo (no recorded id), and
/// only if it holds blocks, unless `empty_is_new`: a cloud folder is empty
/// until first served, an empty local folder is more likely an unplugged
/// disk's mountpoint.
pub fn decide(
    name: &str,
    expected: Option<SiloId>,
    marker: Option<&Marker>,
    blocks: bool,
    empty_is_new: bool,
) -> Decision {
    match (marker, expected) {
        (Some(marker), Some(id)) if marker.id == id => Decision::Serve,
        (Some(marker), None) if marker.silo == name => Decision::Serve,
        (Some(marker), _) => Decision::Refuse(Mismatch::OtherSilo { silo: marker.silo.clone(), id: marker.id }),
        (None, Some(id)) if !blocks && empty_is_new => Decision::WriteMarker(Some(id)),
        (None, Some(_)) => Decision::Refuse(Mismatch::NoMarker { blocks }),
        (None, None) if blocks || empty_is_new => Decision::WriteMarker(None),
        (None, None) => Decision::Refuse(Mismatch::NoMarker { blocks }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: SiloId = SiloId([0xa; 16]);
    const B: SiloId = SiloId([0xb; 16]);

    #[test]
    fn ids_round_trip_as_32_hex_digits_and_bad_ones_are_refused() {
        let id = SiloId::random().unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json.len(), 34, "{json}");
        assert_eq!(serde_json::from_str::<SiloId>(&json).unwrap(), id);
        assert_eq!(SiloId::from_hex(&"0a".repeat(16)), Some(A));
        for bad in ["", "0a", &"0a".repeat(17), &"zz".repeat(16), &"é".repeat(16)] {
            assert_eq!(SiloId::from_hex(bad), None, "{bad}");
        }
        assert_ne!(SiloId::random().unwrap(), id);
    }

    #[test]
    fn markers_round_trip_and_unreadable_ones_say_why() {
        let marker = Marker::new("local", A);
        assert_eq!(Marker::parse(&marker.to_bytes()).unwrap(), marker);
        assert!(Marker::parse(b"").unwrap_err().contains("not a silo marker"));
        assert!(Marker::parse(br#"{"format":1,"silo":"x","id":"12"}"#).unwrap_err().contains("invalid silo id"));
        let newer = br#"{"format":2,"silo":"x","id":"0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a","more":1}"#;
        assert!(Marker::parse(newer).unwrap_err().contains("upgrade infinit"));
    }

    #[test]
    fn a_matching_marker_is_served_and_another_silos_is_refused() {
        let mine = Marker::new("local", A);
        let theirs = Marker::new("local", B);
        assert_eq!(decide("local", Some(A), Some(&mine), true, false), Decision::Serve);
        assert_eq!(
            decide("local", Some(A), Some(&theirs), true, true),
            Decision::Refuse(Mismatch::OtherSilo { silo: "local".into(), id: B })
        );
        // Without a recorded id, the marker's name must match.
        assert_eq!(decide("local", None, Some(&theirs), false, false), Decision::Serve);
        assert!(matches!(decide("other", None, Some(&mine), true, true), Decision::Refuse(Mismatch::OtherSilo { .. })));
    }

    #[test]
    fn no_marker_is_adopted_only_from_an_older_silo_with_blocks_or_a_new_cloud_folder() {
        let refuse = |blocks| Decision::Refuse(Mismatch::NoMarker { blocks });
        assert_eq!(decide("s", Some(A), None, false, false), refuse(false));
        assert_eq!(decide("s", Some(A), None, true, false), refuse(true));
        assert_eq!(decide("s", Some(A), None, true, true), refuse(true));
        assert_eq!(decide("s", Some(A), None, false, true), Decision::WriteMarker(Some(A)));
        assert_eq!(decide("s", None, None, false, false), refuse(false));
        assert_eq!(decide("s", None, None, true, false), Decision::WriteMarker(None));
        assert_eq!(decide("s", None, None, false, true), Decision::WriteMarker(None));
    }
}
