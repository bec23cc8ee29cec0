//! How an entry scores against a prepared query: each key's partial score (how much of the
//! query it matches, how well, and how much of the key is matched), the sure scores of a key
//! that is the whole query or a key plus the entry's own words, and the context score (the
//! share of the query the entry's texts cover).

use super::SearchIndex;
use super::hit::MatchKind;
use super::index::Key;
use super::prepare::Prepared;

/// Score at or above which a result names its entry for sure.
pub const SURE_HIT: f64 = 0.9;
pub(super) const SCORE_EXACT: f64 = 1.0;
pub(super) const SCORE_ABBREVIATION: f64 = 0.98;
pub(super) const SCORE_ALIAS: f64 = 0.96;
const SCORE_KEY_WITH_OWN_WORDS: f64 = 0.92;
/// Partial and fuzzy scores stay at or below this, well under [`SURE_HIT`].
pub(super) const SCORE_PARTIAL_MAX: f64 = 0.85;
/// Best score when the query's words are spread over several texts of one entry.
pub(super) const SCORE_CONTEXT_MAX: f64 = 0.765;
pub(super) const QUALITY_EXACT: f64 = 1.0;
pub(super) const QUALITY_PREFIX: f64 = 0.85;
pub(super) const QUALITY_FUZZY: f64 = 0.75;

impl SearchIndex {
    /// Scores certificate `cert` from what each of its matching keys matches (`keys`, in key
    /// order, none left out); `whole_acc` gives what the whole-query key matches when it is
    /// one of them. `None` when nothing of it matches.
    pub(super) fn eval_of(
        &self,
        query: &Prepared,
        cert: u32,
        whole_acc: impl FnOnce(u32) -> KeyAcc,
        keys: impl Iterator<Item = (u32, KeyAcc)>,
    ) -> Option<Eval> {
        let mut best: Option<(Candidate, KeyAcc)> = None;
        if let Some(whole) = query.whole_key {
            let key = &self.keys[whole as usize];
            if key.cert == cert {
                let score = match key.field.kind() {
                    MatchKind::Exact => SCORE_EXACT,
                    MatchKind::Abbreviation => SCORE_ABBREVIATION,
                    _ => SCORE_ALIAS,
                };
                let candidate = Candidate {
                    key: whole,
                    score,
                    kind: key.field.kind(),
                    covers_query: true,
                };
                best = Some((candidate, whole_acc(whole)));
            }
        }
        let mut partial: f64 = 0.0;
        for (key_id, acc) in keys {
            let key = &self.keys[key_id as usize];
            let part = partial_candidate(key_id, self.units(key).len(), &acc, query.n);
            partial = partial.max(part.score);
            let candidate = self
                .sure_candidate(key_id, key, &acc, &query.query_vocab)
                .unwrap_or(part);
            match &best {
                Some((current, _)) if !candidate.beats(current) => {}
                _ => best = Some((candidate, acc)),
            }
        }
        let (mut best, acc) = best?;
        let context_score = self.context_score(cert, &query.query_vocab);
        // Words can come from several texts of one entry ("电气电子工程师学会" is the issuer,
        // "会士" the name): coverage of the query by everything the entry says, a little below
        // a single key covering it.
        if best.score < SURE_HIT && context_score > best.score {
            best.score = context_score;
            best.kind = MatchKind::Partial;
        }
        Some(Eval {
            best,
            acc,
            partial,
            context: context_score,
        })
    }

    /// The share of the query `cert`'s texts cover, as a score up to [`SCORE_CONTEXT_MAX`].
    pub(super) fn context_score(&self, cert: u32, query_vocab: &[Option<u32>]) -> f64 {
        let context = self.context_of(cert);
        let covered = query_vocab
            .iter()
            .filter(|v| v.is_some_and(|v| context.binary_search(&v).is_ok()))
            .count();
        SCORE_CONTEXT_MAX * covered as f64 / query_vocab.len() as f64
    }

    /// Whether a query word is a word of `cert`'s issuers' names: a brand ("Huawei" in "Huawei
    /// Certified ICT Expert"), evidence for this entry over others that score alike.
    pub(super) fn names_issuer(&self, cert: u32, query_vocab: &[Option<u32>]) -> bool {
        let issuers = self.issuer_vocab_of(cert);
        query_vocab
            .iter()
            .flatten()
            .any(|v| issuers.binary_search(v).is_ok())
    }

    /// The candidate a key makes: sure when the key is all query words and the rest of the
    /// query is the entry's own words, partial otherwise.
    #[cfg(test)]
    pub(super) fn score(
        &self,
        key_id: u32,
        key: &Key,
        acc: &KeyAcc,
        query_vocab: &[Option<u32>],
    ) -> Candidate {
        self.sure_candidate(key_id, key, acc, query_vocab)
            .unwrap_or_else(|| {
                partial_candidate(key_id, self.units(key).len(), acc, query_vocab.len())
            })
    }

    /// The sure candidate a key makes, if any: the key is all query words and the rest of the
    /// query is the entry's own words.
    pub(super) fn sure_candidate(
        &self,
        key_id: u32,
        key: &Key,
        acc: &KeyAcc,
        query_vocab: &[Option<u32>],
    ) -> Option<Candidate> {
        let n_query = query_vocab.len();
        let units = self.units(key);
        let key_all_exact = acc.key_exact_mask.count_ones() as usize == units.len();
        if !(key_all_exact && key.field.kind().names_entry()) {
            return None;
        }
        let context = self.context_of(key.cert);
        let own_words = (0..n_query).all(|qi| {
            acc.exact_mask & (1 << qi) != 0
                || query_vocab[qi].is_some_and(|v| context.binary_search(&v).is_ok())
        });
        own_words.then_some(Candidate {
            key: key_id,
            score: SCORE_KEY_WITH_OWN_WORDS,
            kind: key.field.kind(),
            covers_query: true,
        })
    }
}

/// and how well, times how much of the key the query matches.
pub(super) fn partial_candidate(
    key_id: u32,
    key_units: usize,
    acc: &KeyAcc,
    n_query: usize,
) -> Candidate {
    let key_units = key_units.max(1);
    let quality = quality_sum(acc.exact_mask, acc.prefix_mask, acc.fuzzy_mask, n_query);
    let full = (1u64 << n_query) - 1;
    let fuzzy = acc.fuzzy_mask & !(acc.exact_mask | acc.prefix_mask) & full != 0;
    let query_cover = quality / n_query as f64;
    let key_cover = (acc.key_any_mask.count_ones() as f64 / key_units as f64).min(1.0);
    let score = SCORE_PARTIAL_MAX * query_cover * (0.6 + 0.4 * key_cover);
    Candidate {
        key: key_id,
        score: score.clamp(0.0, SCORE_PARTIAL_MAX),
        kind: if fuzzy {
            MatchKind::Fuzzy
        } else {
            MatchKind::Partial
        },
        covers_query: (acc.exact_mask | acc.prefix_mask) & full == full,
    }
}

/// Everything search needs to know about one certificate for one query.
#[derive(Debug, Clone, Copy)]
pub(super) struct Eval {
    /// The entry's result: its best key candidate, raised by context.
    pub(super) best: Candidate,
    /// What the best key matched, for highlights.
    pub(super) acc: KeyAcc,
    /// Best partial score of its keys (whether or not a key is sure).
    pub(super) partial: f64,
    /// Score for the share of the query its texts cover.
    pub(super) context: f64,
}

/// Sum of the best match quality of each of the first `n` query units, in unit order (the
/// order matters for float rounding: bounds and scores must add up the same way).
pub(super) fn quality_sum(exact: u64, prefix: u64, fuzzy: u64, n: usize) -> f64 {
    let mut quality = 0.0;
    for qi in 0..n {
        let bit = 1u64 << qi;
        if exact & bit != 0 {
            quality += QUALITY_EXACT;
        } else if prefix & bit != 0 {
            quality += QUALITY_PREFIX;
        } else if fuzzy & bit != 0 {
            quality += QUALITY_FUZZY;
        }
    }
    quality
}

/// What one key matched of the query.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct KeyAcc {
    /// Bit i: query unit i matched this key exactly / by prefix / by typo tolerance.
    pub(super) exact_mask: u64,
    pub(super) prefix_mask: u64,
    pub(super) fuzzy_mask: u64,
    /// Bit j: the key's unit j was matched (any quality) / exactly.
    pub(super) key_any_mask: u64,
    pub(super) key_exact_mask: u64,
}

impl KeyAcc {
    /// Whether any query unit matched the key.
    pub(super) fn matched_any(&self) -> bool {
        self.exact_mask | self.prefix_mask | self.fuzzy_mask != 0
    }

    /// Query unit `qi` matched the key's unit at `pos` with `quality`.
    pub(super) fn record(&mut self, qi: usize, quality: f64, pos: usize) {
        let bit = 1u64 << qi;
        if quality >= QUALITY_EXACT {
            self.exact_mask |= bit;
        } else if quality >= QUALITY_PREFIX {
            self.prefix_mask |= bit;
        } else {
            self.fuzzy_mask |= bit;
        }
        if pos < 64 {
            self.key_any_mask |= 1 << pos;
            if quality >= QUALITY_EXACT {
                self.key_exact_mask |= 1 << pos;
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Candidate {
    pub(super) key: u32,
    pub(super) score: f64,
    pub(super) kind: MatchKind,
    /// Every query unit matched (exactly or by prefix) in this key.
    pub(super) covers_query: bool,
}

impl Candidate {
    pub(super) fn beats(&self, other: &Candidate) -> bool {
        self.score > other.score || (self.score == other.score && self.key < other.key)
    }
}
