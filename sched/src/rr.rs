//! rr: round robin over the list, skipping quiescent and overloaded servers.

use crate::{Dest, DestChange, Millis, PacketKey, Scheduler};

/// The cursor is the index of the last server picked, or `None` for the
/// list head (IPVS keeps a pointer to the list node, and the head itself
/// when nothing was picked yet).
pub struct Rr {
    cursor: Option<usize>,
}

impl Rr {
    pub fn new(_dests: &[Dest]) -> Self {
        Rr { cursor: None }
    }
}

impl Scheduler for Rr {
    fn name(&self) -> &'static str {
        "rr"
    }

    fn dests_changed(&mut self, dests: &[Dest], change: DestChange) {
        // Follow the node the cursor points at, as the kernel's pointer does.
        self.cursor = match (self.cursor, change) {
            (Some(c), DestChange::Added(i)) if i <= c => Some(c + 1),
            // Losing the cursor's own node steps back to its predecessor
            // (the head when it was first), so the successor is next.
            (Some(c), DestChange::Removed { index, .. }) if index == c => c.checked_sub(1),
            (Some(c), DestChange::Removed { index, .. }) if index < c => Some(c - 1),
            (c, _) => c,
        };
        if self.cursor.is_some_and(|c| c >= dests.len()) {
            self.cursor = None;
        }
    }

    fn schedule(&mut self, dests: &[Dest], _pkt: &PacketKey, _now: Millis) -> Option<usize> {
        let n = dests.len();
        let start = match self.cursor {
            Some(c) if c < n => c + 1,
            _ => 0,
        };
        // From the head: one pass over everything. From a server: the rest
        // of the list, then the beginning up to and including that server.
        let pick = (start..n).chain(0..start).find(|&i| dests[i].available())?;
        self.cursor = Some(pick);
        Some(pick)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::test_util::*;

    #[test]
    fn cycles_in_list_order() {
        let d = dests(&[1, 1, 1]);
        let mut s = Rr::new(&d);
        assert_eq!(picks(&mut s, &d, 7), [0, 1, 2, 0, 1, 2, 0]);
    }

    #[test]
    fn skips_quiescent_and_overloaded() {
        let mut d = dests(&[1, 0, 1, 1]);
        d[2].overloaded = true;
        let mut s = Rr::new(&d);
        assert_eq!(picks(&mut s, &d, 4), [0, 3, 0, 3]);
        d[0].weight = 0;
        d[3].overloaded = true;
        assert_eq!(picks(&mut s, &d, 2), [NONE, NONE]);
    }

    #[test]
    fn only_the_last_picked_is_left() {
        let mut d = dests(&[1, 1, 1]);
        let mut s = Rr::new(&d);
        assert_eq!(picks(&mut s, &d, 2), [0, 1]);
        d[0].weight = 0;
        d[2].weight = 0;
        assert_eq!(picks(&mut s, &d, 2), [1, 1]);
    }

    #[test]
    fn removal_of_cursor_continues_with_successor() {
        // ids 10 11 12 13; pick 10, 11; remove 11 -> next is 12.
        let mut d = dests(&[1, 1, 1, 1]);
        let mut s = Rr::new(&d);
        assert_eq!(picks(&mut s, &d, 2), [0, 1]);
        let gone = d.remove(1);
        s.dests_changed(
            &d,
            DestChange::Removed {
                index: 1,
                id: gone.id,
            },
        );
        assert_eq!(ids(&mut s, &d, 4), [12, 13, 10, 12]);
    }

    #[test]
    fn removal_of_first_when_cursor_there_restarts_at_head() {
        let mut d = dests(&[1, 1, 1]);
        let mut s = Rr::new(&d);
        assert_eq!(picks(&mut s, &d, 1), [0]);
        let gone = d.remove(0);
        s.dests_changed(
            &d,
            DestChange::Removed {
                index: 0,
                id: gone.id,
            },
        );
        assert_eq!(ids(&mut s, &d, 3), [11, 12, 11]);
    }

    #[test]
    fn removal_before_cursor_keeps_position() {
        let mut d = dests(&[1, 1, 1, 1]);
        let mut s = Rr::new(&d);
        assert_eq!(picks(&mut s, &d, 3), [0, 1, 2]);
        let gone = d.remove(0);
        s.dests_changed(
            &d,
            DestChange::Removed {
                index: 0,
                id: gone.id,
            },
        );
        assert_eq!(ids(&mut s, &d, 3), [13, 11, 12]);
    }

    #[test]
    fn added_server_at_head_waits_for_wrap() {
        let mut d = dests(&[1, 1, 1]);
        let mut s = Rr::new(&d);
        assert_eq!(ids(&mut s, &d, 2), [10, 11]);
        d.insert(0, dest(99, 1));
        s.dests_changed(&d, DestChange::Added(0));
        assert_eq!(ids(&mut s, &d, 4), [12, 99, 10, 11]);
    }
}
