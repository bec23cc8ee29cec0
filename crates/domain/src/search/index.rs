//! The search index of one catalog, built once per load: each entry's keys (names,
//! abbreviations, aliases) as vocabulary ids, posting lists from ids to keys ordered by key
//! length, each entry's context (the vocabulary of all its texts), and the tables of exact
//! compact forms and one-character deletions.

use std::sync::Arc;

use super::highlight::{KEEP_SPANS_BYTES, Span};
use super::hit::{KeyClash, KeyField};
use super::issuer::{IssuerName, issuer_names};
use super::prepare::MIN_FUZZY_CHARS;
use super::{FastMap, deletion, hash_str};
use crate::budget::BudgetedSlots;
use crate::model::Certificate;
use crate::text::{
    analyze, ascii_words, compact, compact_equals, for_each_unit_with_compact, normalize,
};

/// Membership grades as the list writes them in English and in Chinese. An entry whose texts
/// name a grade in one language has the other's words in its context too, so "ACCA会员" finds
/// the entry named "ACCA Member" as surely as "ACCA Member" does. Only the grades of the list;
/// the lower grades that are not on it (Student, Affiliate, 学生会员) are left out on purpose.
const GRADES: &[(&str, &str)] = &[
    ("member", "会员"),
    ("fellow", "会士"),
    ("senior member", "高级会员"),
    ("distinguished member", "杰出会员"),
    ("associate", "准会员"),
];

/// Postings hold `layer << KEY_BITS | key id`, where the layer is the key's number of units
/// (capped at [`MAX_LAYER`]): sorted, a posting list runs by key length, then key id.
pub(super) const KEY_BITS: u32 = 26;
pub(super) const KEY_MASK: u32 = (1 << KEY_BITS) - 1;
pub(super) const MAX_LAYER: u32 = (1 << (32 - KEY_BITS)) - 1;

/// A searchable text of one certificate: a name, an abbreviation or an alias.
#[derive(Debug)]
pub(super) struct Key {
    pub(super) cert: u32,
    pub(super) field: KeyField,
    /// Where the key's distinct vocabulary ids stand in [`SearchIndex::key_units`].
    pub(super) units: (u32, u32),
}

/// The search index of one catalog. Immutable once built.
///
/// Search cost does not grow with the catalog: instead of scoring every key that shares a word
/// with the query, [`SearchIndex::search`] ranks in passes that stop as soon as no entry left
/// can still reach the results (see [`SearchIndex::search`]), using postings ordered by key
/// length, because a short key that matches the query scores higher than a long one.
#[derive(Debug, Default)]
pub struct SearchIndex {
    pub(super) keys: Vec<Key>,
    /// Distinct vocabulary ids of every key, key after key.
    pub(super) key_units: Vec<u32>,
    /// Certificate `c` owns keys `cert_keys[c]..cert_keys[c + 1]` (keys are made in catalog
    /// order, so key ids ascend with certificates).
    pub(super) cert_keys: Vec<u32>,
    /// (fingerprint of a compact form, key), sorted, for whole-query matches; a hit is
    /// confirmed against the key's text.
    pub(super) exact: Vec<(u64, u32)>,
    pub(super) vocab: FastMap<Box<str>, u32>,
    /// Vocabulary id -> text.
    pub(super) texts: Vec<Box<str>>,
    /// Vocabulary ids sorted by text, for prefix expansion.
    pub(super) sorted_vocab: Vec<u32>,
    /// Vocabulary id `v` -> keys containing it: `postings[posting_starts[v]..posting_starts[v + 1]]`
    /// (see [`KEY_BITS`]).
    pub(super) postings: Vec<u32>,
    pub(super) posting_starts: Vec<u32>,
    /// Vocabulary id `v` -> `layer << KEY_BITS | offset` where each layer of its postings
    /// starts: `layer_runs[layer_run_starts[v]..layer_run_starts[v + 1]]`.
    pub(super) layer_runs: Vec<u32>,
    pub(super) layer_run_starts: Vec<u32>,
    /// Vocabulary id `v` -> the keys whose rarest unit is `v` (ascending): a key made only of
    /// query words is among those of one of them.
    pub(super) anchors: Vec<u32>,
    pub(super) anchor_starts: Vec<u32>,
    /// (hash of a one-character deletion, Latin vocabulary id), sorted, for typo tolerance.
    pub(super) deletes: Vec<(u64, u32)>,
    /// Per certificate: sorted vocabulary ids of all its texts (keys, issuers, country, fields),
    /// the words a query may add to a key and still name this entry:
    /// `context[context_starts[c]..context_starts[c + 1]]`.
    pub(super) context: Vec<u32>,
    pub(super) context_starts: Vec<u32>,
    /// Vocabulary id -> certificates whose context holds it, ascending.
    pub(super) context_postings: Vec<u32>,
    pub(super) context_posting_starts: Vec<u32>,
    /// Per certificate: its issuer names normalized, one per line, for the issuer filter.
    pub(super) issuers: Vec<Arc<str>>,
    /// Every issuer name of every entry, for queries that name an issuer.
    pub(super) issuer_names: Vec<IssuerName>,
    /// Per certificate: which of `issuer_vocab` is the sorted vocabulary of its issuers' names
    /// (entries of the same bodies share one), for brand words.
    pub(super) issuer_vocab_of: Vec<u32>,
    pub(super) issuer_vocab: Vec<Box<[u32]>>,
    /// Bit `v`: vocabulary id `v` is a word of some issuer's name, so a query without such a
    /// word names no issuer and its ties need no look at each entry's issuers.
    pub(super) issuer_words: Vec<u64>,
    /// Per certificate: where each unit of each of its keys is in the key's text, for
    /// highlights. Made the first time one of the entry's hits is shown, so the text is
    /// analysed once per catalog load, within [`KEEP_SPANS_BYTES`]; past that, an entry's
    /// spans are made from its texts for each hit shown.
    pub(super) spans: BudgetedSlots<Box<[Span]>>,
}

impl SearchIndex {
    /// Builds the index. Fails when one compact text would name two entries.
    pub(crate) fn build(certs: &[Certificate]) -> Result<SearchIndex, Vec<KeyClash>> {
        let mut index = SearchIndex::default();
        index.add_keys_and_contexts(certs);
        index.keep_first_of_each_compact_form(certs)?;
        let mut sorted: Vec<u32> = (0..index.texts.len() as u32).collect();
        sorted.sort_unstable_by(|&a, &b| index.texts[a as usize].cmp(&index.texts[b as usize]));
        index.sorted_vocab = sorted;
        index.build_postings();
        index.build_layer_runs();
        index.build_anchors();
        index.build_context_postings(certs.len());
        index.build_deletes();
        index.issuers = normalized_issuers(certs);
        index.issuer_names = issuer_names(certs);
        index.issuer_words = vec![0; index.texts.len().div_ceil(64)];
        for &v in index.issuer_vocab.iter().flatten() {
            index.issuer_words[v as usize / 64] |= 1 << (v % 64);
        }
        index.spans = BudgetedSlots::new(certs.len(), KEEP_SPANS_BYTES);
        Ok(index)
    }

    /// Interns every key (name, abbreviation, alias) of every certificate, in catalog order,
    /// and each certificate's context: the vocabulary of all its texts.
    fn add_keys_and_contexts(&mut self, certs: &[Certificate]) {
        // Issuers, countries and fields repeat across entries: analyze each text once.
        let mut extra_units: FastMap<&str, Box<[u32]>> = FastMap::default();
        let mut issuer_sets: FastMap<Vec<&str>, u32> = FastMap::default();
        let grades = self.grade_synonyms();
        let mut context: Vec<u32> = Vec::new();
        // Every name, abbreviation and alias makes at most one key.
        let most_keys: usize = certs
            .iter()
            .map(|c| 2 + c.abbreviations.len() + c.aliases.len())
            .sum();
        self.keys.reserve_exact(most_keys);
        self.exact.reserve_exact(most_keys);
        self.cert_keys.reserve(certs.len() + 1);
        self.context_starts.reserve(certs.len() + 1);
        for (ci, cert) in certs.iter().enumerate() {
            let ci = ci as u32;
            self.cert_keys.push(self.keys.len() as u32);
            self.context_starts.push(self.context.len() as u32);
            let fields = [KeyField::NameZh, KeyField::NameEn]
                .into_iter()
                .chain((0..cert.abbreviations.len()).map(KeyField::Abbreviation))
                .chain((0..cert.aliases.len()).map(KeyField::Alias));
            context.clear();
            for field in fields {
                let start = self.key_units.len();
                let Some(compact) = self.push_key_units(field.text(cert)) else {
                    continue;
                };
                let end = self.key_units.len();
                let key_id = self.keys.len() as u32;
                assert!(key_id <= KEY_MASK, "too many names in one catalog");
                context.extend_from_slice(&self.key_units[start..end]);
                self.keys.push(Key {
                    cert: ci,
                    field,
                    units: (start as u32, end as u32),
                });
                self.exact.push((hash_str(&compact), key_id));
            }
            let issuer_names: Vec<&str> = cert
                .issuers
                .iter()
                .flat_map(|i| [&*i.name_zh, &*i.name_en])
                .collect();
            let issuer_set = match issuer_sets.get(&issuer_names) {
                Some(&set) => set,
                None => {
                    let mut vocab: Vec<u32> = Vec::new();
                    for name in &issuer_names {
                        for unit in analyze(name).distinct_units() {
                            vocab.push(self.intern(unit));
                        }
                    }
                    vocab.sort_unstable();
                    vocab.dedup();
                    let set = self.issuer_vocab.len() as u32;
                    self.issuer_vocab.push(vocab.into_boxed_slice());
                    issuer_sets.insert(issuer_names.clone(), set);
                    set
                }
            };
            self.issuer_vocab_of.push(issuer_set);
            let extra = issuer_names
                .iter()
                .copied()
                .chain(std::iter::once(&*cert.country_or_region))
                .chain(cert.fields.iter().map(|f| &**f));
            for text in extra {
                if let Some(units) = extra_units.get(text) {
                    context.extend_from_slice(units);
                    continue;
                }
                let analyzed = analyze(text);
                let units: Box<[u32]> = analyzed
                    .distinct_units()
                    .into_iter()
                    .map(|unit| self.intern(unit))
                    .collect();
                context.extend_from_slice(&units);
                extra_units.insert(text, units);
            }
            context.sort_unstable();
            context.dedup();
            let synonyms = grades.iter().filter_map(|(when, add)| {
                when.iter()
                    .all(|u| context.binary_search(u).is_ok())
                    .then_some(add)
            });
            let added: Vec<u32> = synonyms.flatten().copied().collect();
            if !added.is_empty() {
                context.extend(added);
                context.sort_unstable();
                context.dedup();
            }
            self.context.extend_from_slice(&context);
        }
        self.cert_keys.push(self.keys.len() as u32);
        self.context_starts.push(self.context.len() as u32);
        // Give back growth room before the lists below are built beside these.
        self.keys.shrink_to_fit();
        self.key_units.shrink_to_fit();
        self.context.shrink_to_fit();
    }

    /// Postings by counting sort: keys in id order, then each list ordered by key length.
    fn build_postings(&mut self) {
        let vocab_len = self.texts.len();
        let mut starts = vec![0u32; vocab_len + 1];
        for &v in &self.key_units {
            starts[v as usize + 1] += 1;
        }
        for v in 0..vocab_len {
            starts[v + 1] += starts[v];
        }
        let mut fill = starts.clone();
        self.postings = vec![0; self.key_units.len()];
        for (key_id, key) in self.keys.iter().enumerate() {
            let units = &self.key_units[key.units.0 as usize..key.units.1 as usize];
            let layer = (units.len() as u32).min(MAX_LAYER);
            for &v in units {
                self.postings[fill[v as usize] as usize] = layer << KEY_BITS | key_id as u32;
                fill[v as usize] += 1;
            }
        }
        for v in 0..vocab_len {
            self.postings[starts[v] as usize..starts[v + 1] as usize].sort_unstable();
        }
        self.posting_starts = starts;
    }

    /// Where each list's key length changes, so a query finds its layers without searching.
    fn build_layer_runs(&mut self) {
        let vocab_len = self.texts.len();
        let mut runs = Vec::new();
        let mut run_starts = Vec::with_capacity(vocab_len + 1);
        run_starts.push(0u32);
        for v in 0..vocab_len as u32 {
            let mut layer = u32::MAX;
            for (offset, &posting) in self.postings_of(v).iter().enumerate() {
                if posting >> KEY_BITS != layer {
                    layer = posting >> KEY_BITS;
                    runs.push(layer << KEY_BITS | offset as u32);
                }
            }
            run_starts.push(runs.len() as u32);
        }
        runs.shrink_to_fit();
        self.layer_runs = runs;
        self.layer_run_starts = run_starts;
    }

    /// Each key under its rarest unit (fewest postings, then lowest id).
    fn build_anchors(&mut self) {
        let vocab_len = self.texts.len();
        let df = |v: u32| self.posting_starts[v as usize + 1] - self.posting_starts[v as usize];
        let anchor_of: Vec<u32> = self
            .keys
            .iter()
            .map(|key| {
                let units = &self.key_units[key.units.0 as usize..key.units.1 as usize];
                units
                    .iter()
                    .copied()
                    .min_by_key(|&v| (df(v), v))
                    .unwrap_or(0)
            })
            .collect();
        let mut starts = vec![0u32; vocab_len + 1];
        for &v in &anchor_of {
            starts[v as usize + 1] += 1;
        }
        for v in 0..vocab_len {
            starts[v + 1] += starts[v];
        }
        let mut fill = starts.clone();
        self.anchors = vec![0; anchor_of.len()];
        for (key_id, &v) in anchor_of.iter().enumerate() {
            self.anchors[fill[v as usize] as usize] = key_id as u32;
            fill[v as usize] += 1;
        }
        self.anchor_starts = starts;
    }

    /// Vocabulary id -> the certificates whose context holds it.
    fn build_context_postings(&mut self, certs: usize) {
        let vocab_len = self.texts.len();
        let mut counts = vec![0u32; vocab_len + 1];
        for &v in &self.context {
            counts[v as usize + 1] += 1;
        }
        for v in 0..vocab_len {
            counts[v + 1] += counts[v];
        }
        self.context_posting_starts = counts.clone();
        self.context_postings = vec![0; self.context.len()];
        for c in 0..certs {
            let (start, end) = (self.context_starts[c], self.context_starts[c + 1]);
            for &v in &self.context[start as usize..end as usize] {
                self.context_postings[counts[v as usize] as usize] = c as u32;
                counts[v as usize] += 1;
            }
        }
    }

    /// The one-character deletions of each Latin word, made in one reused buffer.
    fn build_deletes(&mut self) {
        let mut variant = String::new();
        for (id, text) in self.texts.iter().enumerate() {
            if text.chars().count() >= MIN_FUZZY_CHARS && !text.chars().any(crate::text::is_cjk) {
                for at in text.char_indices() {
                    self.deletes
                        .push((hash_str(deletion(text, at, &mut variant)), id as u32));
                }
            }
        }
        self.deletes.sort_unstable();
        self.deletes.dedup();
        self.texts.shrink_to_fit();
        self.deletes.shrink_to_fit();
    }

    /// Reduces `exact`, every key with the fingerprint of its compact form, to the first key of
    /// each compact form, sorted. Fails when a compact form is the key of two entries: the
    /// clashes come in key order, each naming the first entry with that form.
    pub(super) fn keep_first_of_each_compact_form(
        &mut self,
        certs: &[Certificate],
    ) -> Result<(), Vec<KeyClash>> {
        self.exact.sort_unstable();
        let mut clashes: Vec<(u32, KeyClash)> = Vec::new();
        let mut kept = 0;
        // Where the kept keys of the current fingerprint start.
        let mut group = 0;
        for read in 0..self.exact.len() {
            let (fingerprint, key_id) = self.exact[read];
            if kept == 0 || self.exact[kept - 1].0 != fingerprint {
                group = kept;
            } else {
                // The same fingerprint: the same compact form, unless the hashes collide.
                let compact = self.compact_of(certs, key_id);
                let same = self.exact[group..kept]
                    .iter()
                    .map(|&(_, k)| k)
                    .find(|&k| self.compact_of(certs, k) == compact);
                if let Some(first) = same {
                    let (first, second) = (
                        self.keys[first as usize].cert,
                        self.keys[key_id as usize].cert,
                    );
                    if first != second {
                        let clash = KeyClash {
                            text: compact,
                            first: certs[first as usize].id.clone(),
                            second: certs[second as usize].id.clone(),
                        };
                        clashes.push((key_id, clash));
                    }
                    continue;
                }
            }
            self.exact[kept] = (fingerprint, key_id);
            kept += 1;
        }
        self.exact.truncate(kept);
        self.exact.shrink_to_fit();
        if clashes.is_empty() {
            return Ok(());
        }
        clashes.sort_by_key(|&(key_id, _)| key_id);
        Err(clashes.into_iter().map(|(_, clash)| clash).collect())
    }

    /// Interns the distinct units of a key's text onto `key_units` and returns its compact
    /// form; `None` when the text has no units. The same as [`analyze`], without a `String`
    /// per unit, and for ASCII text (most names) word by word ([`ascii_words`]).
    pub(super) fn push_key_units(&mut self, text: &str) -> Option<String> {
        let start = self.key_units.len();
        let compact = if let Some(words) = ascii_words(text) {
            let mut compact = String::with_capacity(text.len());
            let mut word = String::new();
            for (_, raw) in words {
                word.clear();
                word.extend(raw.chars().map(|c| c.to_ascii_lowercase()));
                let id = self.intern(&word);
                compact.push_str(&word);
                if !self.key_units[start..].contains(&id) {
                    self.key_units.push(id);
                }
            }
            compact
        } else {
            // Interning is one id per text, so the first of each id is the first of each unit
            // text.
            for_each_unit_with_compact(text, |unit| {
                let id = self.intern(unit.text);
                if !self.key_units[start..].contains(&id) {
                    self.key_units.push(id);
                }
            })
        };
        (self.key_units.len() > start).then_some(compact)
    }

    pub(super) fn intern(&mut self, unit: &str) -> u32 {
        if let Some(&id) = self.vocab.get(unit) {
            return id;
        }
        let id = self.texts.len() as u32;
        self.vocab.insert(unit.into(), id);
        self.texts.push(unit.into());
        id
    }

    pub(super) fn units(&self, key: &Key) -> &[u32] {
        &self.key_units[key.units.0 as usize..key.units.1 as usize]
    }

    pub(super) fn postings_of(&self, vocab: u32) -> &[u32] {
        let v = vocab as usize;
        &self.postings[self.posting_starts[v] as usize..self.posting_starts[v + 1] as usize]
    }

    pub(super) fn layer_runs_of(&self, vocab: u32) -> &[u32] {
        let v = vocab as usize;
        &self.layer_runs[self.layer_run_starts[v] as usize..self.layer_run_starts[v + 1] as usize]
    }

    /// Whether some of `query_vocab` is a word of some issuer's name.
    pub(super) fn has_issuer_word(&self, query_vocab: &[Option<u32>]) -> bool {
        query_vocab.iter().flatten().any(|&v| {
            self.issuer_words
                .get(v as usize / 64)
                .is_some_and(|bits| bits & (1 << (v % 64)) != 0)
        })
    }

    /// The sorted vocabulary of `cert`'s issuers' names.
    pub(super) fn issuer_vocab_of(&self, cert: u32) -> &[u32] {
        let set = self.issuer_vocab_of[cert as usize];
        &self.issuer_vocab[set as usize]
    }

    /// The grade words in one language as units, each with the units of the same grade in
    /// the other (see [`GRADES`]): (units an entry's texts hold, units its context gains).
    fn grade_synonyms(&mut self) -> Vec<(Vec<u32>, Vec<u32>)> {
        let mut pairs = Vec::with_capacity(2 * GRADES.len());
        for &(english, chinese) in GRADES {
            let english: Vec<u32> = analyze(english)
                .distinct_units()
                .into_iter()
                .map(|u| self.intern(u))
                .collect();
            let chinese: Vec<u32> = analyze(chinese)
                .distinct_units()
                .into_iter()
                .map(|u| self.intern(u))
                .collect();
            pairs.push((english.clone(), chinese.clone()));
            pairs.push((chinese, english));
        }
        pairs
    }

    pub(super) fn context_of(&self, cert: u32) -> &[u32] {
        let c = cert as usize;
        &self.context[self.context_starts[c] as usize..self.context_starts[c + 1] as usize]
    }

    pub(super) fn context_postings_of(&self, vocab: u32) -> &[u32] {
        let v = vocab as usize;
        &self.context_postings
            [self.context_posting_starts[v] as usize..self.context_posting_starts[v + 1] as usize]
    }

    pub(super) fn compact_of(&self, certs: &[Certificate], key_id: u32) -> String {
        let key = &self.keys[key_id as usize];
        compact(key.field.text(&certs[key.cert as usize]))
    }

    /// The key whose compact form is `compact`, if any.
    pub(super) fn whole_key(&self, certs: &[Certificate], compact: &str) -> Option<u32> {
        let fingerprint = hash_str(compact);
        let start = self.exact.partition_point(|&(f, _)| f < fingerprint);
        self.exact[start..]
            .iter()
            .take_while(|&&(f, _)| f == fingerprint)
            .map(|&(_, key)| key)
            .find(|&key| {
                let key = &self.keys[key as usize];
                compact_equals(key.field.text(&certs[key.cert as usize]), compact)
            })
    }
}

/// Per certificate: its issuer names normalized, one per line, for the issuer filter. Entries
/// of the same bodies share one text.
fn normalized_issuers(certs: &[Certificate]) -> Vec<Arc<str>> {
    let mut by_issuers: FastMap<Vec<&str>, Arc<str>> = FastMap::default();
    certs
        .iter()
        .map(|cert| {
            let names: Vec<&str> = cert
                .issuers
                .iter()
                .flat_map(|i| [&*i.name_zh, &*i.name_en])
                .collect();
            let shared = by_issuers.entry(names).or_insert_with_key(|names| {
                let normalized: Vec<String> = names.iter().map(|n| normalize(n)).collect();
                normalized.join("\n").into()
            });
            Arc::clone(shared)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn key_units_are_those_of_analyze(
            parts in proptest::collection::vec(
                prop_oneof![
                    "[ -~]{0,12}",
                    "\\PC{0,6}",
                    proptest::sample::select(vec![
                        "of", "The", "CERTIFIED", "holder", "a", "AN", "cert", "Fellow", "fellow",
                        "ieee", "x1", "证书", "ＡＣＣＡ",
                    ]).prop_map(String::from),
                ],
                1..6,
            ),
            separator in "[ ()\\-_/.,]{1,2}",
        ) {
            let text = parts.join(&separator);
            let mut index = SearchIndex::default();
            index.push_key_units("of the holder");
            index.key_units.clear();
            let analyzed = analyze(&text);
            let compact = index.push_key_units(&text);
            let units: Vec<&str> = index.key_units.iter().map(|&v| &*index.texts[v as usize]).collect();
            prop_assert_eq!(units, analyzed.distinct_units());
            prop_assert_eq!(compact, (!analyzed.units.is_empty()).then_some(analyzed.compact));
        }
    }
}
