//! Preparing a query: what each of its units matches in the vocabulary — exactly, as the
//! prefix of longer words, or within one typo — and the key that is the whole query, if any.

use super::SearchIndex;
use super::deletion;
use super::hash_str;
use super::pruned::Reach;
use super::query::AnalyzedQuery;
use super::score::{QUALITY_EXACT, QUALITY_FUZZY, QUALITY_PREFIX};
use crate::model::Certificate;

/// Query units beyond this many are ignored (a 256-character query has far fewer words).
pub(super) const MAX_QUERY_UNITS: usize = 32;
/// Prefix expansions per query word, so a short prefix cannot fan out over a huge vocabulary.
const MAX_PREFIX_EXPANSIONS: usize = 16;
const MIN_PREFIX_CHARS: usize = 3;
/// Bigrams a CJK bigram with one wrong character may stand for, at most.
const MAX_CJK_SUBSTITUTES: usize = 16;
pub(super) const MIN_FUZZY_CHARS: usize = 4;

impl SearchIndex {
    /// What the query's units (the first [`MAX_QUERY_UNITS`]) match in the vocabulary, and its
    /// whole-query key. `None` for a query without units.
    pub(super) fn prepare(&self, certs: &[Certificate], query: &AnalyzedQuery) -> Option<Prepared> {
        let units = query.units().take(MAX_QUERY_UNITS);
        if query.is_empty() {
            return None;
        }
        let mut lists: Vec<QueryList> = Vec::new();
        let mut query_vocab: Vec<Option<u32>> =
            Vec::with_capacity(query.unit_count().min(MAX_QUERY_UNITS));
        let mut expanded: Vec<(u32, f64)> = Vec::new();
        for (qi, unit) in units.enumerate() {
            let exact = self.vocab.get(unit).copied();
            query_vocab.push(exact);
            expanded.clear();
            self.expand(unit, exact, &mut expanded);
            for &(vocab, quality) in &expanded {
                match lists.iter_mut().find(|l| l.vocab == vocab) {
                    Some(list) => list.units.push((qi, quality)),
                    None => lists.push(QueryList {
                        vocab,
                        units: smallvec::smallvec![(qi, quality)],
                        reach: Reach::default(),
                    }),
                }
            }
        }
        for list in &mut lists {
            list.reach = Reach::of_list(&list.units);
        }
        lists.sort_unstable_by_key(|l| l.vocab);
        let mut exact_vocab: Vec<u32> = query_vocab.iter().flatten().copied().collect();
        exact_vocab.sort_unstable();
        exact_vocab.dedup();
        let whole_key = self.whole_key(certs, query.compact());
        Some(Prepared {
            n: query_vocab.len(),
            query_vocab,
            lists,
            exact_vocab,
            whole_key,
        })
    }

    /// Vocabulary entries a query unit matches, with the quality of each match, onto `out`
    /// (empty).
    pub(super) fn expand(&self, unit: &str, exact: Option<u32>, out: &mut Vec<(u32, f64)>) {
        out.extend(exact.map(|id| (id, QUALITY_EXACT)));
        if unit.chars().any(crate::text::is_cjk) {
            if exact.is_none() {
                self.expand_cjk_substitution(unit, out);
            }
            return;
        }
        let chars = unit.chars().count();
        if chars >= MIN_PREFIX_CHARS {
            let start = self
                .sorted_vocab
                .partition_point(|&id| &*self.texts[id as usize] < unit);
            out.extend(
                self.sorted_vocab[start..]
                    .iter()
                    .take_while(|&&id| self.texts[id as usize].starts_with(unit))
                    .filter(|&&id| Some(id) != exact)
                    .take(MAX_PREFIX_EXPANSIONS)
                    .map(|&id| (id, QUALITY_PREFIX)),
            );
        }
        if exact.is_none() && chars >= MIN_FUZZY_CHARS {
            let mut seen: Vec<u32> = Vec::new();
            let mut variant = String::with_capacity(unit.len());
            let probes = std::iter::once(None).chain(unit.char_indices().map(Some));
            for deleted in probes {
                // The unit itself, then each of its one-character deletions.
                let probe = match deleted {
                    None => unit,
                    Some(at) => deletion(unit, at, &mut variant),
                };
                let hash = hash_str(probe);
                let start = self.deletes.partition_point(|&(h, _)| h < hash);
                let ids = self.deletes[start..]
                    .iter()
                    .take_while(|&&(h, _)| h == hash)
                    .map(|&(_, id)| id);
                for id in ids {
                    if seen.contains(&id) || out.iter().any(|(o, _)| *o == id) {
                        continue;
                    }
                    seen.push(id);
                    if strsim::osa_distance(unit, &self.texts[id as usize]) == 1 {
                        out.push((id, QUALITY_FUZZY));
                    }
                }
            }
            // A one-character deletion of the query may itself be a vocabulary word ("accca").
            for at in unit.char_indices() {
                if let Some(&id) = self.vocab.get(deletion(unit, at, &mut variant))
                    && !out.iter().any(|(o, _)| *o == id)
                {
                    out.push((id, QUALITY_FUZZY));
                }
            }
        }
    }
}

impl SearchIndex {
    /// A CJK bigram no text of the catalog holds is most likely one wrong character, such as a
    /// homophone a pinyin input method put in (专佳 for 专家): it matches, by typo tolerance, the
    /// bigrams that start with its first character (at most [`MAX_CJK_SUBSTITUTES`], in text
    /// order). The bigram before the wrong character keeps its first, so one substitution
    /// anywhere but at the start of a word is tolerated; the bigrams around it still match.
    fn expand_cjk_substitution(&self, unit: &str, out: &mut Vec<(u32, f64)>) {
        let mut chars = unit.chars();
        let (Some(first), Some(second), None) = (chars.next(), chars.next(), chars.next()) else {
            return;
        };
        if !crate::text::is_cjk(first) || !crate::text::is_cjk(second) {
            return;
        }
        let prefix = &unit[..first.len_utf8()];
        let start = self
            .sorted_vocab
            .partition_point(|&id| &*self.texts[id as usize] < prefix);
        out.extend(
            self.sorted_vocab[start..]
                .iter()
                .take_while(|&&id| self.texts[id as usize].starts_with(prefix))
                .filter(|&&id| self.texts[id as usize].chars().count() == 2)
                .take(MAX_CJK_SUBSTITUTES)
                .map(|&id| (id, QUALITY_FUZZY)),
        );
    }
}

/// A query ready to run: its units and the vocabulary each matches.
#[derive(Debug)]
pub(super) struct Prepared {
    /// Number of query units.
    pub(super) n: usize,
    /// Per query unit, the vocabulary id it equals.
    pub(super) query_vocab: Vec<Option<u32>>,
    /// Every vocabulary id some unit matches, ascending.
    pub(super) lists: Vec<QueryList>,
    /// The vocabulary ids query units equal, ascending.
    pub(super) exact_vocab: Vec<u32>,
    /// The key whose compact form is the whole query.
    pub(super) whole_key: Option<u32>,
}

/// One vocabulary id a query matches: which query units match it, and how well.
#[derive(Debug)]
pub(super) struct QueryList {
    pub(super) vocab: u32,
    pub(super) units: UnitQualities,
    /// What an id in this list can match, for bounds.
    pub(super) reach: Reach,
}

/// The (query unit, quality) pairs of one [`QueryList`]: nearly always one, so the first few
/// are kept in place (a `Vec` per list was a good part of the allocations of a small search).
pub(super) type UnitQualities = smallvec::SmallVec<[(usize, f64); 2]>;
