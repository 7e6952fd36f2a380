//! Retention: deletes the oldest lifetimes (and, by cascade, their changes) past a maximum
//! age or size, in bounded chunks, then gives the freed pages back with incremental vacuum.

use std::time::Duration;

use rusqlite::TransactionBehavior;

use crate::error::StoreError;
use crate::store::Store;

/// How much history to keep. Both limits apply when both are set; none means keep all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Retention {
    /// Delete lifetimes that ended longer ago than this.
    pub max_age: Option<Duration>,
    /// Keep the data in the main file under this many bytes: past it, the oldest are
    /// deleted until it is 10% below. The WAL adds up to 16 MiB more between checkpoints.
    pub max_bytes: Option<u64>,
}

impl Retention {
    /// True when there is nothing to enforce.
    pub fn is_unlimited(&self) -> bool {
        self.max_age.is_none() && self.max_bytes.is_none()
    }
}

/// What one `enforce_retention` pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RetentionOutcome {
    /// Lifetimes deleted.
    pub deleted: u64,
    /// Pages returned to the file system by incremental vacuum.
    pub vacuumed_pages: u64,
    /// False when the pass stopped at its row budget with more to delete.
    pub complete: bool,
}

/// Rows deleted per transaction, so the writer is never held for long.
const CHUNK_ROWS: u64 = 2_000;

/// Deleting down to this share of `max_bytes` keeps the next passes from deleting a
/// handful of rows after every batch.
const SIZE_TARGET_PERCENT: u64 = 90;

impl Store {
    /// Deletes what `retention` no longer keeps, oldest end time first, at most
    /// `max_rows` lifetimes in this pass, in transactions of at most 2,000; then vacuums.
    pub fn enforce_retention(
        &mut self,
        retention: &Retention,
        now_ns: i64,
        max_rows: u64,
    ) -> Result<RetentionOutcome, StoreError> {
        let mut outcome = RetentionOutcome {
            complete: true,
            ..RetentionOutcome::default()
        };
        let mut budget = max_rows;
        if let Some(max_age) = retention.max_age {
            let age_ns = i64::try_from(max_age.as_nanos()).unwrap_or(i64::MAX);
            let cutoff = now_ns.saturating_sub(age_ns);
            loop {
                let chunk = CHUNK_ROWS.min(budget);
                let deleted = self.delete_oldest(Some(cutoff), chunk)?;
                outcome.deleted += deleted;
                budget -= deleted;
                if deleted < chunk {
                    break;
                }
                if budget == 0 {
                    outcome.complete = false;
                    break;
                }
            }
        }
        if let Some(max_bytes) = retention.max_bytes {
            if self.size()?.used_bytes() > max_bytes {
                let target = max_bytes / 100 * SIZE_TARGET_PERCENT;
                loop {
                    let used = self.size()?.used_bytes();
                    if used <= target {
                        break;
                    }
                    if budget == 0 {
                        outcome.complete = false;
                        break;
                    }
                    let chunk = self
                        .rows_to_free(used - target)?
                        .min(CHUNK_ROWS)
                        .min(budget);
                    let deleted = self.delete_oldest(None, chunk)?;
                    outcome.deleted += deleted;
                    budget -= deleted;
                    if deleted == 0 {
                        break;
                    }
                }
            }
        }
        if outcome.deleted > 0 {
            outcome.vacuumed_pages = self.incremental_vacuum()?;
        }
        Ok(outcome)
    }

    /// Deletes up to `limit` lifetimes with the oldest end times (only those ending before
    /// `before_ns` when given), in one transaction.
    fn delete_oldest(&mut self, before_ns: Option<i64>, limit: u64) -> Result<u64, StoreError> {
        if limit == 0 {
            return Ok(0);
        }
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let tx = self
            .conn_mut()
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let deleted = tx.execute(
            "DELETE FROM lifetime WHERE id IN (SELECT id FROM lifetime \
             WHERE end_ns < ?1 ORDER BY end_ns LIMIT ?2)",
            rusqlite::params![before_ns.unwrap_or(i64::MAX), limit],
        )?;
        tx.commit()?;
        Ok(deleted as u64)
    }

    /// An estimate of how many rows hold `bytes`, from the average row's share of the
    /// file. Index pages empty more slowly than that, so callers measure and repeat.
    fn rows_to_free(&self, bytes: u64) -> Result<u64, StoreError> {
        let (rows, used): (i64, u64) = (
            self.conn().query_row(
                "SELECT coalesce(max(id) - min(id) + 1, 0) FROM lifetime",
                [],
                |r| r.get(0),
            )?,
            self.size()?.used_bytes(),
        );
        let rows = u64::try_from(rows).unwrap_or(0).max(1);
        let per_row = (used / rows).max(1);
        Ok(bytes.div_ceil(per_row).max(1))
    }

    /// Returns every free page to the file system (the file shrinks at the next
    /// checkpoint). The pragma frees one page per step, so it is stepped to the end.
    fn incremental_vacuum(&self) -> Result<u64, StoreError> {
        let before = self.size()?.freelist_count;
        let mut vacuum = self.conn().prepare("PRAGMA incremental_vacuum")?;
        let mut rows = vacuum.query([])?;
        while rows.next()?.is_some() {}
        drop(rows);
        let after = self.size()?.freelist_count;
        Ok(before.saturating_sub(after))
    }
}
