//! Ranking by scoring every entry the query's postings name: quickest when they are few
//! (small catalogs, rare words).

use super::index::KEY_MASK;
use super::prepare::Prepared;
use super::score::{Eval, KeyAcc, SURE_HIT};
use super::{Ranked, SearchIndex};

/// Up to this many postings for a query's words, every matching certificate is scored: that is
/// quicker than pruning when there are few.
pub(super) const SMALL_VOLUME: usize = 256;

impl SearchIndex {
    /// Scores every certificate that has a key matching the query: quickest when few do.
    /// Works from the postings themselves: each (key, list) pair is one match of the key, so
    /// only the keys that match are scored, and none needs a look-up in the query's lists.
    pub(super) fn rank_all(&self, prepared: &Prepared, volume: usize) -> Ranked {
        // `key << 32 | list`, sorted: the matches of each key together, keys in id order (and
        // so certificates in catalog order). The whole-query key comes with no list, since
        // its compact form may equal the query's with none of its words ("hciedatacom").
        const NO_LIST: u64 = u32::MAX as u64;
        let mut found: Vec<u64> = Vec::with_capacity(volume + 1);
        for (li, list) in prepared.lists.iter().enumerate() {
            found.extend(
                self.postings_of(list.vocab)
                    .iter()
                    .map(|&posting| u64::from(posting & KEY_MASK) << 32 | li as u64),
            );
        }
        if let Some(whole) = prepared.whole_key {
            found.push(u64::from(whole) << 32 | NO_LIST);
        }
        found.sort_unstable();
        // What each key found matches, in key order.
        let mut accs: Vec<(u32, KeyAcc)> = Vec::with_capacity(found.len());
        for &item in &found {
            let key_id = (item >> 32) as u32;
            if accs.last().is_none_or(|&(k, _)| k != key_id) {
                accs.push((key_id, KeyAcc::default()));
            }
            let li = (item & NO_LIST) as usize;
            let (Some(list), Some((_, acc))) = (prepared.lists.get(li), accs.last_mut()) else {
                continue;
            };
            let units = self.units(&self.keys[key_id as usize]);
            let pos = units.iter().position(|&u| u == list.vocab).unwrap_or(64);
            for &(qi, quality) in &list.units {
                acc.record(qi, quality, pos);
            }
        }
        let mut entries: Vec<(u32, Eval)> = Vec::with_capacity(accs.len());
        for of_cert in accs
            .chunk_by(|(a, _), (b, _)| self.keys[*a as usize].cert == self.keys[*b as usize].cert)
        {
            let cert = self.keys[of_cert[0].0 as usize].cert;
            let whole_acc = |whole: u32| {
                of_cert
                    .iter()
                    .find(|&&(k, _)| k == whole)
                    .map_or_else(KeyAcc::default, |&(_, acc)| acc)
            };
            // Only the whole-query key can be here with no match.
            let matching = of_cert.iter().filter(|(_, acc)| acc.matched_any()).copied();
            if let Some(eval) = self.eval_of(prepared, cert, whole_acc, matching) {
                entries.push((cert, eval));
            }
        }
        let sure = entries
            .iter()
            .filter(|(_, e)| e.best.score >= SURE_HIT)
            .count();
        let covering = entries.iter().filter(|(_, e)| e.best.covers_query).count();
        Ranked {
            entries,
            sure,
            ambiguous: sure != 1 && covering >= 2,
        }
    }
}
