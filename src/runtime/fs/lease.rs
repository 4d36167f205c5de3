//! Directory leases: how a mount on a network answers namespace
//! operations at once and still gives each caller the answer a local file
//! system would.
//!
//! Without a lease, a namespace operation (create, mkdir, unlink, rename,
//! …) on a network is write-through: its caller waits until the directory
//! change is stored by consensus, so of two writers creating one name,
//! exactly one succeeds. That costs consensus rounds per operation.
//!
//! With a lease, one mount alone may change a directory's names for a few
//! seconds. The lease is a field of the directory itself ([`Lease`]), so it
//! is taken, renewed and given up by the same compare-and-swap stores that
//! carry the entries, and no other writer can change the names behind the
//! holder's back: whoever wants to must first see the lease run out. The
//! holder then checks names against its own copy, which is the latest, and
//! stores its changes behind in batches, as on one node.
//!
//! The rules:
//! - A mount takes the lease with its first write-through namespace change
//!   to a directory no one else holds (in the same store), unless the
//!   directory was contended recently ([`COOLDOWN`]).
//! - The holder answers at once while more than [`MARGIN`] of the lease is
//!   left, and renews it ([`LEASE`]) with each store of the directory.
//! - Another writer that finds the lease held stores a request
//!   ([`super::intent::Intent::WantLease`]) and waits. The request changes
//!   the directory's version, so the holder's next store meets it: the
//!   holder gives the lease up in that store and takes none for a while.
//!   A holder that stops changing a directory gives its lease up after
//!   [`IDLE`]; a holder that stopped altogether (crash) lets it run out.
//! - Clocks: others treat a lease as held [`CLOCK_SKEW`] past its end.
//!   As long as clocks differ by less than that, a change the holder
//!   answered is stored before anyone else may write, unless its store
//!   takes longer than [`MARGIN`] plus [`CLOCK_SKEW`]; then it is replayed
//!   like any change that met another writer's (a name taken meanwhile is
//!   kept under a `.conflict-` name and logged, never lost).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::model::{Lease, Node};

/// How long a lease lasts from the store that takes or renews it.
pub const LEASE: Duration = Duration::from_secs(3);
/// The holder answers at once only while this much of its lease is left.
pub const MARGIN: Duration = Duration::from_millis(1500);
/// How far others trust the holder's clock: they wait this long past the
/// end of a lease.
pub const CLOCK_SKEW: Duration = Duration::from_secs(1);
/// After contention on a directory, no lease on it for this long.
pub const COOLDOWN: Duration = Duration::from_secs(10);
/// A holder that stored no change to a directory for this long gives its
/// lease up.
pub const IDLE: Duration = Duration::from_millis(500);
/// How long a writer waits for another's lease before giving up.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as u64
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

/// A fresh lease for mount `holder`, from now.
pub fn fresh(holder: [u8; 16], now: u64) -> Lease {
    Lease { holder, until_ms: now + ms(LEASE), wanted: false }
}

/// The lease of a directory node, if any.
pub fn of(node: &Node) -> Option<Lease> {
    match node {
        Node::Directory { lease, .. } => *lease,
        _ => None,
    }
}

/// The lease field of a directory node.
pub fn field(node: &mut Node) -> Option<&mut Option<Lease>> {
    match node {
        Node::Directory { lease, .. } => Some(lease),
        _ => None,
    }
}

impl Lease {
    /// Whether mount `me` holds it and may answer a namespace operation at once.
    pub fn held_by(&self, me: [u8; 16], now: u64) -> bool {
        self.holder == me && !self.wanted && self.until_ms > now + ms(MARGIN)
    }

    /// Whether it keeps mount `me` from changing the directory's names.
    pub fn blocks(&self, me: [u8; 16], now: u64) -> bool {
        self.holder != me && self.until_ms + ms(CLOCK_SKEW) > now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_lets_its_holder_answer_until_the_margin_and_blocks_others_past_its_end() {
        let (me, other) = ([1; 16], [2; 16]);
        let now = 1_000_000;
        let lease = fresh(me, now);
        assert!(lease.held_by(me, now));
        assert!(!lease.held_by(other, now));
        assert!(!lease.held_by(me, lease.until_ms - ms(MARGIN)), "no answer at once within the margin");
        assert!(lease.blocks(other, now) && !lease.blocks(me, now));
        assert!(lease.blocks(other, lease.until_ms + ms(CLOCK_SKEW) - 1), "others allow for clock skew");
        assert!(!lease.blocks(other, lease.until_ms + ms(CLOCK_SKEW)));
        let wanted = Lease { wanted: true, ..lease };
        assert!(!wanted.held_by(me, now), "a wanted lease is being given up");
        assert!(wanted.blocks(other, now), "until the holder has stored that");
    }
}
