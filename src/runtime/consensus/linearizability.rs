//! A linearizability checker for histories of one compare-and-swap
//! register, in the manner of porcupine (Wing & Gong's search with Lowe's
//! memoization): find an order of the operations that respects real time
//! (an operation that returned before another was called comes first) and
//! the register's sequential behaviour, or prove there is none.
//!
//! An operation whose outcome is unknown (the client timed out after its
//! write went out) may have taken effect at any point after its call, or
//! never: it is tried both ways.

use std::collections::HashSet;

/// What a client did to the register (its value is a counter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Read `value`.
    Read { value: u64 },
    /// Compare-and-swap `expected` → `expected + 1`, which succeeded.
    Swapped { expected: u64 },
    /// Compare-and-swap `expected` → `expected + 1`, refused: the register held `current`.
    Refused { expected: u64, current: u64 },
    /// Compare-and-swap `expected` → `expected + 1` with an unknown outcome.
    Unknown { expected: u64 },
}

/// One operation of the history: when it was called and returned (a
/// clock shared by all clients; `None`: it never returned).
#[derive(Debug, Clone, Copy)]
pub struct Event {
    pub call: u64,
    pub ret: Option<u64>,
    pub op: Op,
}

/// The states `op` may leave `state` in (none: it cannot happen there).
fn step(state: u64, op: Op) -> Vec<u64> {
    match op {
        Op::Read { value } => (value == state).then_some(state).into_iter().collect(),
        Op::Swapped { expected } => (expected == state).then_some(state + 1).into_iter().collect(),
        Op::Refused { expected, current } => {
            (current == state && expected != state).then_some(state).into_iter().collect()
        }
        Op::Unknown { expected } if expected == state => vec![state + 1, state],
        Op::Unknown { .. } => vec![state],
    }
}

/// Whether `history` is linearizable from initial value `initial`.
pub fn check(history: &[Event], initial: u64) -> bool {
    let n = history.len();
    // Entries sorted by time: calls before returns at the same instant.
    // (time, is_return, op index)
    let mut entries: Vec<(u64, bool, usize)> = Vec::with_capacity(2 * n);
    for (i, e) in history.iter().enumerate() {
        entries.push((e.call, false, i));
        entries.push((e.ret.unwrap_or(u64::MAX), true, i));
    }
    entries.sort();
    let m = entries.len();
    // A doubly linked list over entry indices, with a head sentinel at m.
    let mut next = vec![m; m + 1];
    let mut prev = vec![m; m + 1];
    for k in 0..m {
        next[k] = k + 1;
        prev[k] = if k == 0 { m } else { k - 1 };
    }
    if m > 0 {
        next[m] = 0;
        prev[m] = m - 1;
    }
    // Where each op's return entry sits.
    let mut ret_of = vec![0usize; n];
    for (k, (_, is_ret, i)) in entries.iter().enumerate() {
        if *is_ret {
            ret_of[*i] = k;
        }
    }
    let unlink = |next: &mut Vec<usize>, prev: &mut Vec<usize>, k: usize| {
        let (p, q) = (prev[k], next[k]);
        next[p] = q;
        prev[q] = p;
    };
    let relink = |next: &mut Vec<usize>, prev: &mut Vec<usize>, k: usize| {
        let (p, q) = (prev[k], next[k]);
        next[p] = k;
        prev[q] = k;
    };
    let mut linearized = vec![false; n];
    let mut done_bits: Vec<u64> = vec![0; n.div_ceil(64)];
    let mut seen: HashSet<(Vec<u64>, u64)> = HashSet::new();
    // Stack frames: (call entry, op, state before, the next branch to try).
    let mut stack: Vec<(usize, usize, u64, usize)> = Vec::new();
    let mut state = initial;
    let mut entry = next[m];
    let mut branch = 0;
    while next[m] != m {
        if entry == m {
            // Nothing more can go first here: undo the last choice.
            let Some((call, op, before, next_branch)) = stack.pop() else { return false };
            linearized[op] = false;
            done_bits[op / 64] &= !(1 << (op % 64));
            relink(&mut next, &mut prev, ret_of[op]);
            relink(&mut next, &mut prev, call);
            state = before;
            entry = call;
            branch = next_branch;
            continue;
        }
        let (_, is_ret, op) = entries[entry];
        if is_ret {
            // An operation returned before anything else could go: back up.
            entry = m;
            continue;
        }
        let outcomes = step(state, history[op].op);
        let mut moved = false;
        for (b, &after) in outcomes.iter().enumerate().skip(branch) {
            done_bits[op / 64] |= 1 << (op % 64);
            if seen.insert((done_bits.clone(), after)) {
                stack.push((entry, op, state, b + 1));
                linearized[op] = true;
                unlink(&mut next, &mut prev, entry);
                unlink(&mut next, &mut prev, ret_of[op]);
                state = after;
                moved = true;
                break;
            }
            done_bits[op / 64] &= !(1 << (op % 64));
        }
        branch = 0;
        entry = if moved { next[m] } else { next[entry] };
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(call: u64, ret: u64, op: Op) -> Event {
        Event { call, ret: Some(ret), op }
    }

    #[test]
    fn sequential_and_overlapping_histories_that_fit_pass() {
        let h = [
            ev(0, 1, Op::Swapped { expected: 0 }),
            ev(2, 3, Op::Read { value: 1 }),
            ev(4, 10, Op::Swapped { expected: 1 }),
            // Overlaps the swap: may read before or after it.
            ev(5, 6, Op::Read { value: 1 }),
            ev(7, 8, Op::Read { value: 2 }),
            ev(11, 12, Op::Refused { expected: 1, current: 2 }),
        ];
        assert!(check(&h, 0));
    }

    #[test]
    fn a_stale_read_after_a_completed_write_fails() {
        let h = [ev(0, 1, Op::Swapped { expected: 0 }), ev(2, 3, Op::Read { value: 0 })];
        assert!(!check(&h, 0));
    }

    #[test]
    fn two_successful_swaps_from_one_value_fail() {
        let h = [ev(0, 5, Op::Swapped { expected: 0 }), ev(1, 6, Op::Swapped { expected: 0 })];
        assert!(!check(&h, 0));
    }

    #[test]
    fn reads_going_back_in_time_fail() {
        let h =
            [ev(0, 10, Op::Swapped { expected: 0 }), ev(1, 2, Op::Read { value: 1 }), ev(3, 4, Op::Read { value: 0 })];
        assert!(!check(&h, 0));
    }

    #[test]
    fn an_unknown_outcome_may_or_may_not_have_happened() {
        let took = [Event { call: 0, ret: None, op: Op::Unknown { expected: 0 } }, ev(5, 6, Op::Read { value: 1 })];
        assert!(check(&took, 0));
        let not = [Event { call: 0, ret: None, op: Op::Unknown { expected: 0 } }, ev(5, 6, Op::Read { value: 0 })];
        assert!(check(&not, 0));
        // But not both: once seen, it stays.
        let both = [
            Event { call: 0, ret: None, op: Op::Unknown { expected: 0 } },
            ev(5, 6, Op::Read { value: 1 }),
            ev(7, 8, Op::Read { value: 0 }),
        ];
        assert!(!check(&both, 0));
    }

    #[test]
    fn a_refusal_must_name_the_value_then_held() {
        let h = [ev(0, 1, Op::Swapped { expected: 0 }), ev(2, 3, Op::Refused { expected: 0, current: 5 })];
        assert!(!check(&h, 0));
    }
}
