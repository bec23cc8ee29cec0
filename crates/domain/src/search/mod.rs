//! Certificate search: an index built once per catalog load, and ranking that never overclaims.
//!
//! Strength, strongest first: the query *is* a name (EXACT), an abbreviation or an alias; the
//! query is such a key plus words that all belong to the same entry ("华为 HCIE-Datacom");
//! then partial matches by words/CJK bigrams, prefixes and, last, typo-tolerant matches.
//! Scores are calibrated so that one threshold means the same for every query: a *sure hit*
//! (score ≥ [`SURE_HIT`]) is given only to EXACT/ABBREVIATION/ALIAS matches of exactly one entry.
//!
//! Where things are:
//! - [`query`]: the query as accepted, and analysed once into its units;
//! - [`filter`]: restricting results by section, level, field, country, issuer;
//! - [`hit`]: what a search answers;
//! - `index`: the index built at load (keys, vocabulary, postings);
//! - `prepare`: what each query unit matches in the vocabulary (exact, prefix, one typo);
//! - `score`: how a key and an entry score against a prepared query;
//! - `small` and `pruned`: the two ways to find the best entries — score every entry the
//!   postings name (few postings), or a walk that skips entries that cannot place
//!   (MaxScore); `reference` (tests) scores exhaustively, and tests check both agree with it;
//! - `highlight`: which characters of the matched text the query matched;
//! - `issuer`: a query that names an issuer puts that issuer's entries first.

pub mod filter;
mod highlight;
pub mod hit;
mod index;
mod issuer;
mod prepare;
mod pruned;
pub mod query;
#[cfg(test)]
mod reference;
mod score;
mod small;

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

pub use filter::CertificateFilter;
pub use hit::{Highlights, KeyClash, KeyField, MatchKind, SearchHit, SearchOutcome};
pub use index::SearchIndex;
pub use query::{AnalyzedQuery, MAX_QUERY_CHARS, QueryError, QueryText};
pub use score::SURE_HIT;

use crate::model::Certificate;
use highlight::HitKey;
use prepare::Prepared;
use score::{Eval, SCORE_PARTIAL_MAX};

// FxHash (rustc-hash) for the index's maps: fast and deterministic. The keys are short texts
// and ids from the catalog files the operator ships, never from queries, so hash flooding is
// no concern.
type FastMap<K, V> = HashMap<K, V, rustc_hash::FxBuildHasher>;
type FastSet<T> = HashSet<T, rustc_hash::FxBuildHasher>;

impl SearchIndex {
    /// Searches `certs` (the catalog this index was built from) for the best `limit` entries,
    /// each hit with its highlights when `highlights` is set.
    ///
    /// An entry's score is the best of: its sure candidates (a key that is the whole query, or
    /// a key plus the entry's own words), the partial score of its best key, and the share of
    /// the query its texts cover (context). The results are the best `limit` entries by
    /// score, then catalog order. When the query's postings are few, every entry they name is
    /// scored (`small`); otherwise entries that cannot place are skipped (`pruned`):
    /// 1. every sure entry, from the exact-form table and the keys made of query words only
    ///    (each key is listed under its rarest word; a complete pass, since two sure entries
    ///    make none sure);
    /// 2. the best `limit` entries by partial score: the postings of the query's words are
    ///    walked one key length at a time, most promising length first. A key's score is
    ///    bounded by the query words it holds and its length, so the longest lists, which
    ///    together cannot place a key, are only probed, never walked (MaxScore); passes at
    ///    falling score floors find good results early, and lengths whose best possible key
    ///    cannot place are skipped;
    /// 3. the best `limit` entries by context, the same way over per-word lists of entries.
    ///
    /// Every entry of the best `limit` is best in one of these, so ranking their union gives
    /// the same results as scoring every entry (tests compare both with `reference`).
    pub fn search(
        &self,
        certs: &[Certificate],
        query: &AnalyzedQuery,
        filter: &CertificateFilter,
        limit: usize,
        highlights: bool,
    ) -> SearchOutcome {
        let Some(prepared) = self.prepare(certs, query) else {
            return SearchOutcome::default();
        };
        if limit == 0 {
            return SearchOutcome::default();
        }
        let volume = self.volume(&prepared);
        let ranked = if volume <= small::SMALL_VOLUME {
            self.rank_all(&prepared, volume)
        } else {
            self.rank_pruned(certs, &prepared, filter, limit)
        };
        let mut outcome = self.finish(certs, &prepared, ranked, filter, limit, highlights);
        self.with_issuer_entries(
            certs,
            query.compact(),
            filter,
            limit,
            highlights,
            &mut outcome,
        );
        outcome
    }

    /// Postings of all the query's lists.
    fn volume(&self, prepared: &Prepared) -> usize {
        prepared
            .lists
            .iter()
            .map(|l| self.postings_of(l.vocab).len())
            .sum()
    }

    /// The outcome from the certificates that can make the results.
    fn finish(
        &self,
        certs: &[Certificate],
        prepared: &Prepared,
        ranked: Ranked,
        filter: &CertificateFilter,
        limit: usize,
        highlights: bool,
    ) -> SearchOutcome {
        let Ranked {
            mut entries,
            sure,
            ambiguous,
        } = ranked;
        entries.sort_by(|(ca, a), (cb, b)| b.best.score.total_cmp(&a.best.score).then(ca.cmp(cb)));
        let accepts = filter.acceptor(self, certs);
        let mut window: Vec<(u32, Eval)> = entries
            .into_iter()
            .filter(|(ci, _)| accepts(*ci as usize))
            .take(limit)
            .collect();
        let brands = self.has_issuer_word(&prepared.query_vocab);
        order_ties(&mut window, |(ci, e)| {
            (
                e.best.score,
                brands && self.names_issuer(*ci, &prepared.query_vocab),
                e.partial,
            )
        });
        if sure > 1 {
            for (_, e) in window.iter_mut() {
                e.best.score = e.best.score.min(SCORE_PARTIAL_MAX);
            }
        }
        let hits = window
            .into_iter()
            .map(|(ci, e)| {
                let key = &self.keys[e.best.key as usize];
                let hit_key = HitKey {
                    key: e.best.key,
                    units: e.acc.key_any_mask,
                    whole: prepared.whole_key == Some(e.best.key),
                };
                SearchHit {
                    cert: ci as usize,
                    score: e.best.score,
                    kind: e.best.kind,
                    field: key.field,
                    highlights: if highlights {
                        self.highlights(certs, hit_key)
                    } else {
                        Highlights::new()
                    },
                }
            })
            .collect();
        SearchOutcome { hits, ambiguous }
    }
}

/// Orders the results of equal score, already chosen and ordered by score then catalog order:
/// first the entries whose issuer the query names (a brand word: "Huawei Certified ICT
/// Expert"), then those whose best key matches more of the query, then catalog order. `key`
/// gives (score, names the issuer, best partial score). Only within the results, so every
/// way of ranking (small, pruned, the reference) orders the same results alike, and the search
/// bounds stay exact.
fn order_ties<T>(window: &mut Vec<T>, key: impl Fn(&T) -> (f64, bool, f64)) {
    let tied = window
        .windows(2)
        .any(|pair| key(&pair[0]).0 == key(&pair[1]).0);
    if !tied {
        return;
    }
    let mut keyed: Vec<((f64, bool, f64), T)> = window.drain(..).map(|t| (key(&t), t)).collect();
    keyed.sort_by(
        |((score_a, brand_a, partial_a), _), ((score_b, brand_b, partial_b), _)| {
            score_b
                .total_cmp(score_a)
                .then(brand_b.cmp(brand_a))
                .then(partial_b.total_cmp(partial_a))
        },
    );
    window.extend(keyed.into_iter().map(|(_, t)| t));
}

/// The certificates that can make the results, scored, and how many are sure.
struct Ranked {
    entries: Vec<(u32, Eval)>,
    sure: usize,
    ambiguous: bool,
}

/// `word` less its character `c` at byte `at`, made in `buf`.
fn deletion<'a>(word: &str, (at, c): (usize, char), buf: &'a mut String) -> &'a str {
    buf.clear();
    buf.push_str(&word[..at]);
    buf.push_str(&word[at + c.len_utf8()..]);
    buf
}

/// Fingerprint of a text, for the exact-form and typo tables. FxHash: deterministic, so the
/// index is the same on every run, and some times quicker than SipHash on short words (a
/// typo probe hashes each one-character deletion of the word). Every hit is confirmed
/// against the text, so a collision costs a comparison, never a wrong result.
fn hash_str(text: &str) -> u64 {
    let mut hasher = rustc_hash::FxHasher::default();
    text.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::catalog::test_support::{cert, parts};
    use proptest::prelude::*;
    use reference::{assert_same_as_exhaustive, sample};

    fn top(catalog: &Catalog, query: &str) -> Option<(String, MatchKind, bool)> {
        let outcome = catalog.search(
            &QueryText::parse(query).unwrap(),
            &CertificateFilter::default(),
            5,
        );
        outcome.hits.first().map(|h| {
            (
                catalog.certificates()[h.cert].id.clone(),
                h.kind,
                h.is_sure(),
            )
        })
    }

    #[test]
    fn exact_abbreviation_is_a_sure_hit() {
        assert_eq!(
            top(&sample(), "ｆｃｃａ"),
            Some(("fcca".into(), MatchKind::Abbreviation, true))
        );
    }

    #[test]
    fn key_plus_words_of_the_same_entry_stays_sure() {
        assert_eq!(
            top(&sample(), "ACCA会计师 证书 Member"),
            Some(("acca".into(), MatchKind::Exact, true))
        );
    }

    #[test]
    fn key_plus_foreign_words_is_only_partial() {
        let (id, kind, sure) = top(&sample(), "ACCA Level II").unwrap();
        assert_eq!(
            (id.as_str(), kind, sure),
            ("acca", MatchKind::Partial, false)
        );
    }

    #[test]
    fn one_typo_is_tolerated_but_never_sure() {
        assert_eq!(
            top(&sample(), "IEEE Felow"),
            Some(("ieee-fellow".into(), MatchKind::Fuzzy, false))
        );
        assert_eq!(
            top(&sample(), "ACCCA"),
            Some(("acca".into(), MatchKind::Fuzzy, false))
        );
    }

    proptest! {
        #[test]
        fn search_never_panics_scores_stay_in_range_and_are_deterministic(query in "\\PC{1,64}") {
            let catalog = sample();
            if let Ok(query) = QueryText::parse(&query) {
                let first = catalog.search(&query, &CertificateFilter::default(), 10);
                let second = catalog.search(&query, &CertificateFilter::default(), 10);
                prop_assert_eq!(&first, &second);
                for hit in &first.hits {
                    prop_assert!((0.0..=1.0).contains(&hit.score));
                    prop_assert!(!hit.is_sure() || first.hits.iter().filter(|h| h.is_sure()).count() == 1);
                }
            }
        }
    }

    #[test]
    fn sure_entries_rank_first_when_their_scores_are_capped_to_a_partial_score() {
        // "fellow member" makes two entries sure (a key of one query word, the other word in
        // the entry's own texts), so finish shows their scores capped at SCORE_PARTIAL_MAX. The
        // first entry is not sure ("fellows" matches only by prefix) but scores
        // SCORE_PARTIAL_MAX exactly: it still ranks after both sure entries, as the ranking
        // is by the scores before the cap. Fillers sharing the words make the query take the
        // pruned path.
        let mut certs = vec![cert("a", 1, 1, "甲", "Fellow Fellows Member")];
        let mut sure = cert("b", 1, 2, "乙", "Fellow");
        sure.issuers[0].name_en = "Member Institute".into();
        certs.push(sure);
        let mut sure = cert("c", 1, 3, "丙", "Member");
        sure.issuers[0].name_en = "Fellow Institute".into();
        certs.push(sure);
        for i in 0..300 {
            certs.push(cert(
                &format!("f{i}"),
                2,
                i + 1,
                &format!("丁{i}"),
                &format!("Members Guild q{i}x"),
            ));
        }
        let catalog = Catalog::new(parts(certs)).unwrap();
        let query = QueryText::parse("fellow member").unwrap();
        let prepared = catalog
            .index()
            .prepare(catalog.certificates(), &AnalyzedQuery::of(&query))
            .unwrap();
        assert!(catalog.index().volume(&prepared) > small::SMALL_VOLUME);
        let top: Vec<(usize, f64, bool)> = catalog
            .search(&query, &CertificateFilter::default(), 3)
            .hits
            .iter()
            .map(|h| (h.cert, h.score, h.kind.names_entry()))
            .collect();
        assert_eq!(
            top,
            [
                (1, SCORE_PARTIAL_MAX, true),
                (2, SCORE_PARTIAL_MAX, true),
                (0, SCORE_PARTIAL_MAX, false)
            ]
        );
        for limit in 1..=3 {
            assert_same_as_exhaustive(
                &catalog,
                "fellow member",
                &CertificateFilter::default(),
                limit,
            );
        }
    }
}
