//! The commits a store made itself that only created posts, as (before, after) database
//! versions, so the read caches can keep what such a commit cannot have changed (users,
//! tokens, options) across it instead of reading them again after every new draft.
//!
//! A step is recorded only when the store knows that no other commit, by any process, came
//! between the two versions (SQLite: the WAL index's commit counter moved by exactly one
//! while the store held the write lock, see `sqlite.rs`). Anything else between two versions
//! (a commit of another connection or process, a step that fell out of the log) is unknown,
//! and unknown means everything cached is dropped.

use std::collections::VecDeque;
use std::sync::Mutex;

use super::DataVersion;

/// Steps kept: the cache looks at every request, so it is rarely more than a few behind.
const KEEP: usize = 64;

#[derive(Default)]
pub struct PostWriteLog {
    steps: Mutex<VecDeque<(DataVersion, DataVersion)>>,
}

impl PostWriteLog {
    /// The store's own commit moved the database from `before` to `after`, and nothing else
    /// committed in between.
    pub fn record(&self, before: DataVersion, after: DataVersion) {
        let mut steps = self
            .steps
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if steps.len() == KEEP {
            steps.pop_front();
        }
        steps.push_back((before, after));
    }

    /// Whether `from` leads to `to` through recorded steps only, each starting where the
    /// previous one ended. Linear in the log's length.
    pub fn covers(&self, from: &DataVersion, to: &DataVersion) -> bool {
        let steps = self
            .steps
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(start) = steps.iter().position(|(b, _)| b == from) else {
            return false;
        };
        let mut at = from;
        for (before, after) in steps.iter().skip(start) {
            if before != at {
                return false;
            }
            at = after;
            if at == to {
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(n: u8) -> DataVersion {
        DataVersion([n; 48])
    }

    #[test]
    fn only_unbroken_chains_of_own_commits_are_covered() {
        let log = PostWriteLog::default();
        log.record(v(1), v(2));
        log.record(v(2), v(3));
        // Someone else committed 3 -> 4; the store's next commit starts at 4.
        log.record(v(4), v(5));
        assert!(log.covers(&v(1), &v(2)));
        assert!(log.covers(&v(1), &v(3)));
        assert!(log.covers(&v(4), &v(5)));
        assert!(!log.covers(&v(1), &v(5)), "3 -> 4 was not the store's");
        assert!(!log.covers(&v(3), &v(4)));
        assert!(!log.covers(&v(2), &v(1)), "never backwards");
        assert!(!log.covers(&v(9), &v(9)));
    }

    #[test]
    fn the_log_is_bounded() {
        let log = PostWriteLog::default();
        for i in 0..=200u8 {
            log.record(v(i), v(i + 1));
        }
        assert!(!log.covers(&v(0), &v(1)), "fell out of the log");
        assert!(log.covers(&v(150), &v(201)));
    }
}
