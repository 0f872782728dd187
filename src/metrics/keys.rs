//! Tickets issued per key name: a fixed table of [`KEY_SLOTS`] names, filled in the order the
//! names are first seen, plus an `other` counter.
//!
//! A slot is empty, claimed (its name being written) or ready. A thread counting a name walks
//! the slots in order: a ready slot with the name gets the count; the first empty slot is
//! claimed with a compare-and-swap, named and counted. Every thread walks in the same order,
//! so two threads counting the same new name meet at the same empty slot and one of them
//! waits (a few stores long) for the other's name: a name never takes two slots. A claim that
//! stays unfinished for an absurdly long time (the claiming thread descheduled) makes the
//! waiter count in `other` rather than block.

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use super::KEY_SLOTS;
use crate::ticket::KeyName;

const EMPTY: u8 = 0;
const CLAIMED: u8 = 1;
const READY: u8 = 2;
/// How many times a thread re-reads a claimed slot before giving up on it.
const MAX_SPINS: u32 = 10_000;

struct Slot {
    state: AtomicU8,
    /// The name's first and last 8 bytes.
    name: [AtomicU64; 2],
    count: AtomicU64,
}

impl Slot {
    const fn new() -> Slot {
        Slot {
            state: AtomicU8::new(EMPTY),
            name: [AtomicU64::new(0), AtomicU64::new(0)],
            count: AtomicU64::new(0),
        }
    }

    fn holds(&self, halves: [u64; 2]) -> bool {
        self.name[0].load(Ordering::Relaxed) == halves[0] && self.name[1].load(Ordering::Relaxed) == halves[1]
    }
}

fn halves(name: &KeyName) -> [u64; 2] {
    let (a, b) = name.0.split_at(8);
    let word = |s: &[u8]| u64::from_be_bytes(s.try_into().unwrap_or([0; 8]));
    [word(a), word(b)]
}

fn unhalve(h: [u64; 2]) -> KeyName {
    let mut out = [0u8; 16];
    let (a, b) = out.split_at_mut(8);
    a.copy_from_slice(&h[0].to_be_bytes());
    b.copy_from_slice(&h[1].to_be_bytes());
    KeyName(out)
}

/// Counts per key name.
pub(super) struct KeyCounts {
    slots: [Slot; KEY_SLOTS],
    other: AtomicU64,
}

impl KeyCounts {
    pub(super) const fn new() -> KeyCounts {
        KeyCounts {
            slots: [const { Slot::new() }; KEY_SLOTS],
            other: AtomicU64::new(0),
        }
    }

    /// Counts one for `name`.
    pub(super) fn add(&self, name: &KeyName) {
        let want = halves(name);
        for slot in &self.slots {
            let mut state = slot.state.load(Ordering::Acquire);
            if state == EMPTY {
                match slot
                    .state
                    .compare_exchange(EMPTY, CLAIMED, Ordering::Acquire, Ordering::Acquire)
                {
                    Ok(_) => {
                        slot.name[0].store(want[0], Ordering::Relaxed);
                        slot.name[1].store(want[1], Ordering::Relaxed);
                        slot.count.fetch_add(1, Ordering::Relaxed);
                        slot.state.store(READY, Ordering::Release);
                        return;
                    }
                    Err(now) => state = now,
                }
            }
            let mut spins = 0;
            while state == CLAIMED {
                if spins == MAX_SPINS {
                    self.other.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                spins += 1;
                std::hint::spin_loop();
                state = slot.state.load(Ordering::Acquire);
            }
            if slot.holds(want) {
                slot.count.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
        self.other.fetch_add(1, Ordering::Relaxed);
    }

    /// The named counts in slot order, and the `other` count.
    pub(super) fn snapshot(&self) -> (Vec<(KeyName, u64)>, u64) {
        let mut named = Vec::new();
        for slot in &self.slots {
            match slot.state.load(Ordering::Acquire) {
                READY => {
                    let h = [
                        slot.name[0].load(Ordering::Relaxed),
                        slot.name[1].load(Ordering::Relaxed),
                    ];
                    named.push((unhalve(h), slot.count.load(Ordering::Relaxed)));
                }
                EMPTY => break,
                _ => {}
            }
        }
        (named, self.other.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(i: u32) -> KeyName {
        let mut n = [0xA5u8; 16];
        n[12..].copy_from_slice(&i.to_be_bytes());
        n[0] = i as u8;
        KeyName(n)
    }

    #[test]
    fn counts_per_name_in_first_seen_order() {
        let c = KeyCounts::new();
        c.add(&name(2));
        c.add(&name(1));
        c.add(&name(2));
        let (named, other) = c.snapshot();
        assert_eq!(named, vec![(name(2), 2), (name(1), 1)]);
        assert_eq!(other, 0);
        assert_eq!(unhalve(halves(&name(7))), name(7));
    }

    #[test]
    fn names_beyond_the_capacity_count_as_other() {
        let c = KeyCounts::new();
        for i in 0..KEY_SLOTS as u32 + 3 {
            c.add(&name(i));
        }
        c.add(&name(0));
        c.add(&name(KEY_SLOTS as u32 + 1));
        let (named, other) = c.snapshot();
        assert_eq!(named.len(), KEY_SLOTS);
        assert_eq!(named[0], (name(0), 2));
        assert_eq!(other, 4);
    }

    #[test]
    fn concurrent_first_sightings_never_take_two_slots() {
        for _ in 0..20 {
            let c = KeyCounts::new();
            std::thread::scope(|s| {
                for t in 0..4u32 {
                    let c = &c;
                    s.spawn(move || {
                        for i in 0..200u32 {
                            c.add(&name((i + t) % 8));
                        }
                    });
                }
            });
            let (named, other) = c.snapshot();
            assert_eq!(other, 0);
            assert_eq!(named.len(), 8, "{named:?}");
            assert_eq!(named.iter().map(|(_, n)| n).sum::<u64>(), 800);
            let mut names: Vec<_> = named.iter().map(|(n, _)| *n).collect();
            names.sort();
            names.dedup();
            assert_eq!(names.len(), 8);
        }
    }
}
