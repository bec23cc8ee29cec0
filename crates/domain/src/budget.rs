//! Values made the first time they are needed and kept while the kept ones' total size stays
//! within a byte budget; past the budget a value is made again each time it is needed.
//!
//! For what is cheap to keep for a small catalog and too much for a large one: the encoded
//! wire form of each entry, the highlight positions of each entry's names. A client paging
//! through 100,000 entries would otherwise add some 80 MB. Reads take no lock.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Debug)]
pub struct BudgetedSlots<T> {
    slots: Box<[OnceLock<T>]>,
    kept: AtomicUsize,
    budget: usize,
}

impl<T> Default for BudgetedSlots<T> {
    fn default() -> Self {
        BudgetedSlots::new(0, 0)
    }
}

impl<T> BudgetedSlots<T> {
    /// `len` empty slots sharing `budget` bytes.
    pub fn new(len: usize, budget: usize) -> BudgetedSlots<T> {
        BudgetedSlots {
            slots: (0..len).map(|_| OnceLock::new()).collect(),
            kept: AtomicUsize::new(0),
            budget,
        }
    }

    /// The value of slot `i`: `Ok` when kept (now or before), `Err` with a value made by `make`
    /// that is not kept (the budget is spent, or `i` is out of range). `size` tells a value's
    /// bytes. A soft limit: the value that crosses the budget is still kept, and callers that
    /// first need one value at the same moment may each make it (one is kept).
    pub fn get_or_make(
        &self,
        i: usize,
        make: impl FnOnce() -> T,
        size: impl FnOnce(&T) -> usize,
    ) -> Result<&T, T> {
        let Some(slot) = self.slots.get(i) else {
            return Err(make());
        };
        if let Some(kept) = slot.get() {
            return Ok(kept);
        }
        if self.kept.load(Ordering::Relaxed) >= self.budget {
            return Err(make());
        }
        Ok(slot.get_or_init(|| {
            let value = make();
            self.kept.fetch_add(size(&value), Ordering::Relaxed);
            value
        }))
    }

    /// Bytes kept so far.
    pub fn kept_bytes(&self) -> usize {
        self.kept.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_kept_only_within_the_budget() {
        let made = std::cell::Cell::new(0);
        let make = || {
            made.set(made.get() + 1);
            vec![0u8; 20]
        };
        let within = BudgetedSlots::new(3, 20);
        assert!(within.get_or_make(0, make, Vec::len).is_ok());
        assert!(within.get_or_make(0, make, Vec::len).is_ok());
        assert_eq!(made.get(), 1, "the second read reuses the kept value");
        assert!(
            within.get_or_make(1, make, Vec::len).is_err(),
            "past the budget a value is made and not kept"
        );
        assert_eq!(made.get(), 2);
        assert_eq!(within.kept_bytes(), 20);
        assert!(
            within.get_or_make(7, make, Vec::len).is_err(),
            "out of range"
        );
    }
}
