//! Certificate search: an index built once per catalog load, and ranking that never overclaims.
//!
//! Strength, strongest first: the query *is* a name (EXACT), an abbreviation or an alias; the
//! query is such a key plus words that all belong to the same entry ("华为 HCIE-Datacom");
//! then partial matches by words/CJK bigrams, prefixes and, last, typo-tolerant matches.
//! Scores are calibrated so that one threshold means the same for every query: a *sure hit*
//! (score ≥ [`SURE_HIT`]) is given only to EXACT/ABBREVIATION/ALIAS matches of exactly one entry.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use crate::catalog::{Certificate, NotListed};
use crate::level::TitleLevel;
use crate::text::{
    Analyzed, analyze, compact, compact_equals, for_each_unit, for_each_unit_with_compact,
    normalize,
};

/// Score at or above which a result names its entry for sure.
pub const SURE_HIT: f64 = 0.9;
/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 256;
/// Query units beyond this many are ignored (a 256-character query has far fewer words).
const MAX_QUERY_UNITS: usize = 32;
/// Prefix expansions per query word, so a short prefix cannot fan out over a huge vocabulary.
const MAX_PREFIX_EXPANSIONS: usize = 16;
const MIN_PREFIX_CHARS: usize = 3;
const MIN_FUZZY_CHARS: usize = 4;
/// Up to this many postings for a query's words, every matching certificate is scored: that is
/// quicker than pruning when there are few (small catalogs, rare words).
const SMALL_VOLUME: usize = 256;

const SCORE_EXACT: f64 = 1.0;
const SCORE_ABBREVIATION: f64 = 0.98;
const SCORE_ALIAS: f64 = 0.96;
const SCORE_KEY_WITH_OWN_WORDS: f64 = 0.92;
/// Partial and fuzzy scores stay at or below this, well under [`SURE_HIT`].
const SCORE_PARTIAL_MAX: f64 = 0.85;
/// Best score when the query's words are spread over several texts of one entry.
const SCORE_CONTEXT_MAX: f64 = 0.765;
const QUALITY_EXACT: f64 = 1.0;
const QUALITY_PREFIX: f64 = 0.85;
const QUALITY_FUZZY: f64 = 0.75;

/// How a result matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchKind {
    Exact,
    Abbreviation,
    Alias,
    Partial,
    Fuzzy,
}

impl MatchKind {
    /// The kinds that may carry a sure score.
    pub fn names_entry(self) -> bool {
        matches!(
            self,
            MatchKind::Exact | MatchKind::Abbreviation | MatchKind::Alias
        )
    }
}

/// Which field of a certificate a result matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchedField {
    NameZh,
    NameEn,
    Abbreviation(usize),
    Alias(usize),
}

impl MatchedField {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchedField::NameZh => "name_zh",
            MatchedField::NameEn => "name_en",
            MatchedField::Abbreviation(_) => "abbreviations",
            MatchedField::Alias(_) => "aliases",
        }
    }

    /// The text of this field in `cert`.
    pub fn text(self, cert: &Certificate) -> &str {
        match self {
            MatchedField::NameZh => &cert.name_zh,
            MatchedField::NameEn => &cert.name_en,
            MatchedField::Abbreviation(i) => cert.abbreviations.get(i).map_or("", |s| s),
            MatchedField::Alias(i) => cert.aliases.get(i).map_or("", |s| s),
        }
    }

    fn kind(self) -> MatchKind {
        match self {
            MatchedField::NameZh | MatchedField::NameEn => MatchKind::Exact,
            MatchedField::Abbreviation(_) => MatchKind::Abbreviation,
            MatchedField::Alias(_) => MatchKind::Alias,
        }
    }
}

/// A search query: trimmed, non-empty, at most [`MAX_QUERY_CHARS`] characters, no control
/// characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryText(String);

/// Why a query was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {max} characters, got {got}")]
    TooLong { max: usize, got: usize },
    #[error("must not contain control characters")]
    ControlCharacter,
}

impl QueryText {
    pub fn parse(text: &str) -> Result<QueryText, QueryError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(QueryError::Empty);
        }
        let chars = trimmed.chars().count();
        if chars > MAX_QUERY_CHARS {
            return Err(QueryError::TooLong {
                max: MAX_QUERY_CHARS,
                got: chars,
            });
        }
        if trimmed.chars().any(char::is_control) {
            return Err(QueryError::ControlCharacter);
        }
        Ok(QueryText(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Restricts list and search results. `None` fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertificateFilter {
    pub section: Option<u32>,
    pub title_level: Option<TitleLevel>,
    /// A field term, compared exactly.
    pub field: Option<String>,
    /// Country or region, compared exactly.
    pub country_or_region: Option<String>,
    /// Text contained in an issuer name, compared after normalization.
    pub issuer: Option<String>,
}

impl CertificateFilter {
    /// Whether `cert` passes. Normalizes issuer names on the fly: the reference semantics;
    /// catalog listing and search use the prepared [`CertificateFilter::matcher`].
    pub fn matches(&self, cert: &Certificate) -> bool {
        self.matches_fields(cert)
            && self.issuer.as_deref().is_none_or(|needle| {
                let needle = normalize(needle);
                cert.issuers.iter().any(|i| {
                    normalize(&i.name_zh).contains(&needle)
                        || normalize(&i.name_en).contains(&needle)
                })
            })
    }

    /// Everything but the issuer.
    fn matches_fields(&self, cert: &Certificate) -> bool {
        self.section.is_none_or(|s| cert.section == s)
            && self.title_level.is_none_or(|l| cert.title_level == l)
            && self
                .field
                .as_deref()
                .is_none_or(|f| cert.fields.iter().any(|cf| **cf == *f))
            && self
                .country_or_region
                .as_deref()
                .is_none_or(|c| *cert.country_or_region == *c)
    }

    /// [`CertificateFilter::matches`] by position, without per-entry normalization: the index
    /// holds each entry's issuer names normalized at load time and the needle is normalized
    /// once per request, so filtering a large catalog folds no text per entry.
    pub(crate) fn matcher<'a>(
        &'a self,
        index: &'a SearchIndex,
        certs: &'a [Certificate],
    ) -> impl Fn(usize) -> bool + 'a {
        let needle = self.issuer.as_deref().map(normalize);
        let empty = self.is_empty();
        move |i: usize| {
            empty
                || (self.matches_fields(&certs[i])
                    && needle.as_deref().is_none_or(|needle| {
                        index
                            .issuers
                            .get(i)
                            .is_some_and(|names| names.split('\n').any(|n| n.contains(needle)))
                    }))
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == CertificateFilter::default()
    }
}

/// One search result. `cert` indexes the catalog's certificates.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub cert: usize,
    pub score: f64,
    pub kind: MatchKind,
    pub field: MatchedField,
    /// What of the matched field the query matched; [`crate::Catalog::highlights`] turns it
    /// into character ranges for those who show them (working them out costs a pass over
    /// the field's text, which evaluations, for one, never need).
    pub(crate) matched: Matched,
}

/// The key a hit matched and which of its units, the input of its highlights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Matched {
    key: u32,
    /// Bit j: the key's unit j was matched.
    units: u64,
    /// The query is this whole text.
    whole: bool,
}

impl SearchHit {
    pub fn is_sure(&self) -> bool {
        self.kind.names_entry() && self.score >= SURE_HIT
    }
}

/// The results of one search.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchOutcome {
    /// Best first.
    pub hits: Vec<SearchHit>,
    /// Several entries match every word of the query and none is a sure hit.
    pub ambiguous: bool,
}

impl SearchOutcome {
    /// The single entry the query names for sure, if any.
    pub fn sure_hit(&self) -> Option<&SearchHit> {
        self.hits.first().filter(|hit| hit.is_sure())
    }
}

/// Two entries that one text would name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyClash {
    pub text: String,
    pub first: String,
    pub second: String,
}

// FxHash (rustc-hash) for the index's maps: fast and deterministic. The keys are short texts
// and ids from the catalog files the operator ships, never from queries, so hash flooding is
// no concern.
type FastMap<K, V> = HashMap<K, V, rustc_hash::FxBuildHasher>;
type FastSet<T> = HashSet<T, rustc_hash::FxBuildHasher>;

/// Postings hold `layer << KEY_BITS | key id`, where the layer is the key's number of units
/// (capped at [`MAX_LAYER`]): sorted, a posting list runs by key length, then key id.
const KEY_BITS: u32 = 26;
const KEY_MASK: u32 = (1 << KEY_BITS) - 1;
const MAX_LAYER: u32 = (1 << (32 - KEY_BITS)) - 1;

/// A searchable text of one certificate: a name, an abbreviation or an alias.
#[derive(Debug)]
struct Key {
    cert: u32,
    field: MatchedField,
    /// Where the key's distinct vocabulary ids stand in [`SearchIndex::key_units`].
    units: (u32, u32),
}

/// The search index of one catalog. Immutable once built.
///
/// Search cost does not grow with the catalog: instead of scoring every key that shares a word
/// with the query, [`SearchIndex::search`] ranks in passes that stop as soon as no entry left
/// can still reach the results (see [`SearchIndex::search`]), using postings ordered by key
/// length, because a short key that matches the query scores higher than a long one.
#[derive(Debug, Default)]
pub struct SearchIndex {
    keys: Vec<Key>,
    /// Distinct vocabulary ids of every key, key after key.
    key_units: Vec<u32>,
    /// Certificate `c` owns keys `cert_keys[c]..cert_keys[c + 1]` (keys are made in catalog
    /// order, so key ids ascend with certificates).
    cert_keys: Vec<u32>,
    /// (fingerprint of a compact form, key), sorted, for whole-query matches; a hit is
    /// confirmed against the key's text.
    exact: Vec<(u64, u32)>,
    vocab: FastMap<Box<str>, u32>,
    /// Vocabulary id -> text.
    texts: Vec<Box<str>>,
    /// Vocabulary ids sorted by text, for prefix expansion.
    sorted_vocab: Vec<u32>,
    /// Vocabulary id `v` -> keys containing it: `postings[posting_starts[v]..posting_starts[v + 1]]`
    /// (see [`KEY_BITS`]).
    postings: Vec<u32>,
    posting_starts: Vec<u32>,
    /// Vocabulary id `v` -> `layer << KEY_BITS | offset` where each layer of its postings
    /// starts: `layer_runs[layer_run_starts[v]..layer_run_starts[v + 1]]`.
    layer_runs: Vec<u32>,
    layer_run_starts: Vec<u32>,
    /// Vocabulary id `v` -> the keys whose rarest unit is `v` (ascending): a key made only of
    /// query words is among those of one of them.
    anchors: Vec<u32>,
    anchor_starts: Vec<u32>,
    /// (hash of a one-character deletion, Latin vocabulary id), sorted, for typo tolerance.
    deletes: Vec<(u64, u32)>,
    /// Per certificate: sorted vocabulary ids of all its texts (keys, issuers, country, fields),
    /// the words a query may add to a key and still name this entry:
    /// `context[context_starts[c]..context_starts[c + 1]]`.
    context: Vec<u32>,
    context_starts: Vec<u32>,
    /// Vocabulary id -> certificates whose context holds it, ascending.
    context_postings: Vec<u32>,
    context_posting_starts: Vec<u32>,
    /// Analyzed names of certificates known not to be on the list.
    not_listed: Vec<Vec<Analyzed>>,
    /// Certifications an entry is mutually recognised with: (name, analyzed name, entry).
    mutual: Vec<(String, Analyzed, u32)>,
    /// Per certificate: its issuer names normalized, one per line, for the issuer filter.
    issuers: Vec<Arc<str>>,
    /// Per certificate: where each unit of each of its keys is in the key's text, for
    /// highlights. Made the first time one of the entry's hits is shown, so the text is
    /// analysed once per catalog load, while the kept spans take less than
    /// [`KEEP_SPANS_BYTES`] (`span_bytes`); past that, highlights of entries not kept yet are
    /// worked out from the text for each hit shown.
    spans: Box<[OnceLock<Box<[Span]>>]>,
    span_bytes: AtomicUsize,
}

/// One unit of a key, where it is in the key's text.
#[derive(Debug, Clone, Copy)]
struct Span {
    key: u32,
    /// Position of the unit in the key's distinct units ([`SearchIndex::units`]).
    unit: u32,
    /// Half-open range of characters.
    start: u32,
    end: u32,
}

impl SearchIndex {
    /// Builds the index. Fails when one compact text would name two entries.
    pub(crate) fn build(
        certs: &[Certificate],
        not_listed: &[NotListed],
    ) -> Result<SearchIndex, Vec<KeyClash>> {
        let mut index = SearchIndex::default();
        // Lower-case ASCII words that `analyze` drops as noise.
        let mut noise: FastSet<Box<str>> = FastSet::default();
        // Issuers, countries and fields repeat across entries: analyze each text once.
        let mut extra_units: FastMap<&str, Box<[u32]>> = FastMap::default();
        let mut context: Vec<u32> = Vec::new();
        // Every name, abbreviation and alias makes at most one key.
        let most_keys: usize = certs
            .iter()
            .map(|c| 2 + c.abbreviations.len() + c.aliases.len())
            .sum();
        index.keys.reserve_exact(most_keys);
        index.exact.reserve_exact(most_keys);
        index.cert_keys.reserve(certs.len() + 1);
        index.context_starts.reserve(certs.len() + 1);
        for (ci, cert) in certs.iter().enumerate() {
            let ci = ci as u32;
            index.cert_keys.push(index.keys.len() as u32);
            index.context_starts.push(index.context.len() as u32);
            let fields = [MatchedField::NameZh, MatchedField::NameEn]
                .into_iter()
                .chain((0..cert.abbreviations.len()).map(MatchedField::Abbreviation))
                .chain((0..cert.aliases.len()).map(MatchedField::Alias));
            context.clear();
            for field in fields {
                let start = index.key_units.len();
                let Some(compact) = index.push_key_units(field.text(cert), &mut noise) else {
                    continue;
                };
                let end = index.key_units.len();
                let key_id = index.keys.len() as u32;
                assert!(key_id <= KEY_MASK, "too many names in one catalog");
                context.extend_from_slice(&index.key_units[start..end]);
                index.keys.push(Key {
                    cert: ci,
                    field,
                    units: (start as u32, end as u32),
                });
                index.exact.push((hash_str(&compact), key_id));
            }
            let extra = cert
                .issuers
                .iter()
                .flat_map(|i| [&*i.name_zh, &*i.name_en])
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
                    .map(|unit| index.intern(unit))
                    .collect();
                context.extend_from_slice(&units);
                extra_units.insert(text, units);
            }
            for rule in &cert.rules {
                if let crate::rules::Rule::MutualRecognition { names, .. } = rule {
                    for name in names {
                        let analyzed = analyze(name);
                        if !analyzed.units.is_empty() {
                            index.mutual.push((name.clone(), analyzed, ci));
                        }
                    }
                }
            }
            context.sort_unstable();
            context.dedup();
            index.context.extend_from_slice(&context);
        }
        index.cert_keys.push(index.keys.len() as u32);
        index.context_starts.push(index.context.len() as u32);
        // Give back growth room before the lists below are built beside these.
        index.keys.shrink_to_fit();
        index.key_units.shrink_to_fit();
        index.context.shrink_to_fit();
        index.keep_first_of_each_compact_form(certs)?;
        index.not_listed = not_listed
            .iter()
            .map(|entry| {
                entry
                    .names
                    .iter()
                    .map(|name| analyze(name))
                    .filter(|a| !a.units.is_empty())
                    .collect()
            })
            .collect();
        let vocab_len = index.texts.len();
        let mut sorted: Vec<u32> = (0..vocab_len as u32).collect();
        sorted.sort_unstable_by(|&a, &b| index.texts[a as usize].cmp(&index.texts[b as usize]));
        index.sorted_vocab = sorted;

        // Postings by counting sort: keys in id order, then each list ordered by key length.
        let mut starts = vec![0u32; vocab_len + 1];
        for &v in &index.key_units {
            starts[v as usize + 1] += 1;
        }
        for v in 0..vocab_len {
            starts[v + 1] += starts[v];
        }
        let mut fill = starts.clone();
        index.postings = vec![0; index.key_units.len()];
        for (key_id, key) in index.keys.iter().enumerate() {
            let units = &index.key_units[key.units.0 as usize..key.units.1 as usize];
            let layer = (units.len() as u32).min(MAX_LAYER);
            for &v in units {
                index.postings[fill[v as usize] as usize] = layer << KEY_BITS | key_id as u32;
                fill[v as usize] += 1;
            }
        }
        for v in 0..vocab_len {
            index.postings[starts[v] as usize..starts[v + 1] as usize].sort_unstable();
        }
        index.posting_starts = starts;

        // Where each list's key length changes, so a query finds its layers without searching.
        let mut runs = Vec::new();
        let mut run_starts = Vec::with_capacity(vocab_len + 1);
        run_starts.push(0u32);
        for v in 0..vocab_len as u32 {
            let mut layer = u32::MAX;
            for (offset, &posting) in index.postings_of(v).iter().enumerate() {
                if posting >> KEY_BITS != layer {
                    layer = posting >> KEY_BITS;
                    runs.push(layer << KEY_BITS | offset as u32);
                }
            }
            run_starts.push(runs.len() as u32);
        }
        runs.shrink_to_fit();
        index.layer_runs = runs;
        index.layer_run_starts = run_starts;

        // Each key under its rarest unit (fewest postings, then lowest id).
        let df = |v: u32| index.posting_starts[v as usize + 1] - index.posting_starts[v as usize];
        let anchor_of: Vec<u32> = index
            .keys
            .iter()
            .map(|key| {
                let units = &index.key_units[key.units.0 as usize..key.units.1 as usize];
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
        index.anchors = vec![0; anchor_of.len()];
        for (key_id, &v) in anchor_of.iter().enumerate() {
            index.anchors[fill[v as usize] as usize] = key_id as u32;
            fill[v as usize] += 1;
        }
        index.anchor_starts = starts;

        let mut counts = vec![0u32; vocab_len + 1];
        for &v in &index.context {
            counts[v as usize + 1] += 1;
        }
        for v in 0..vocab_len {
            counts[v + 1] += counts[v];
        }
        index.context_posting_starts = counts.clone();
        index.context_postings = vec![0; index.context.len()];
        for c in 0..certs.len() {
            let (start, end) = (index.context_starts[c], index.context_starts[c + 1]);
            for &v in &index.context[start as usize..end as usize] {
                index.context_postings[counts[v as usize] as usize] = c as u32;
                counts[v as usize] += 1;
            }
        }

        // The one-character deletions of each word, made in one reused buffer.
        let mut variant = String::new();
        for (id, text) in index.texts.iter().enumerate() {
            if text.chars().count() >= MIN_FUZZY_CHARS && !text.chars().any(crate::text::is_cjk) {
                for at in text.char_indices() {
                    index
                        .deletes
                        .push((hash_str(deletion(text, at, &mut variant)), id as u32));
                }
            }
        }
        index.deletes.sort_unstable();
        index.deletes.dedup();
        index.texts.shrink_to_fit();
        index.deletes.shrink_to_fit();
        index.mutual.shrink_to_fit();
        // Entries of the same bodies share one normalized text.
        let mut by_issuers: FastMap<Vec<&str>, Arc<str>> = FastMap::default();
        index.issuers = certs
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
            .collect();
        index.spans = certs.iter().map(|_| OnceLock::new()).collect();
        Ok(index)
    }

    /// Reduces `exact`, every key with the fingerprint of its compact form, to the first key of
    /// each compact form, sorted. Fails when a compact form is the key of two entries: the
    /// clashes come in key order, each naming the first entry with that form.
    fn keep_first_of_each_compact_form(
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
    /// form; `None` when the text has no units. The same as [`analyze`], with a shortcut for
    /// ASCII text (most names): NFKC leaves ASCII as it is, so its words are the runs of ASCII
    /// letters and digits, lower-cased, less the words `analyze` drops as noise.
    fn push_key_units(&mut self, text: &str, noise: &mut FastSet<Box<str>>) -> Option<String> {
        let start = self.key_units.len();
        let compact = if text.is_ascii() {
            let mut compact = String::with_capacity(text.len());
            let mut word = String::new();
            for raw in text.split(|c: char| !c.is_ascii_alphanumeric()) {
                if raw.is_empty() {
                    continue;
                }
                word.clear();
                word.extend(raw.chars().map(|c| c.to_ascii_lowercase()));
                let id = match self.vocab.get(word.as_str()) {
                    Some(&id) => id,
                    None if noise.contains(word.as_str()) => continue,
                    None if analyze(&word).units.is_empty() => {
                        noise.insert(word.as_str().into());
                        continue;
                    }
                    None => self.intern(&word),
                };
                compact.push_str(&word);
                if !self.key_units[start..].contains(&id) {
                    self.key_units.push(id);
                }
            }
            compact
        } else {
            // `analyze` and `distinct_units`, without a `String` per unit: interning is one id
            // per text, so the first of each id is the first of each unit text.
            for_each_unit_with_compact(text, |unit| {
                let id = self.intern(unit.text);
                if !self.key_units[start..].contains(&id) {
                    self.key_units.push(id);
                }
            })
        };
        (self.key_units.len() > start).then_some(compact)
    }

    fn intern(&mut self, unit: &str) -> u32 {
        if let Some(&id) = self.vocab.get(unit) {
            return id;
        }
        let id = self.texts.len() as u32;
        self.vocab.insert(unit.into(), id);
        self.texts.push(unit.into());
        id
    }

    fn units(&self, key: &Key) -> &[u32] {
        &self.key_units[key.units.0 as usize..key.units.1 as usize]
    }

    fn postings_of(&self, vocab: u32) -> &[u32] {
        let v = vocab as usize;
        &self.postings[self.posting_starts[v] as usize..self.posting_starts[v + 1] as usize]
    }

    fn layer_runs_of(&self, vocab: u32) -> &[u32] {
        let v = vocab as usize;
        &self.layer_runs[self.layer_run_starts[v] as usize..self.layer_run_starts[v + 1] as usize]
    }

    fn context_of(&self, cert: u32) -> &[u32] {
        let c = cert as usize;
        &self.context[self.context_starts[c] as usize..self.context_starts[c + 1] as usize]
    }

    fn context_postings_of(&self, vocab: u32) -> &[u32] {
        let v = vocab as usize;
        &self.context_postings
            [self.context_posting_starts[v] as usize..self.context_posting_starts[v + 1] as usize]
    }

    fn compact_of(&self, certs: &[Certificate], key_id: u32) -> String {
        let key = &self.keys[key_id as usize];
        compact(key.field.text(&certs[key.cert as usize]))
    }

    /// The key whose compact form is `compact`, if any.
    fn whole_key(&self, certs: &[Certificate], compact: &str) -> Option<u32> {
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

    /// The not-listed entry one of whose names the query contains, if any.
    pub fn not_listed_match(&self, query: &QueryText) -> Option<usize> {
        let query = analyze(query.as_str());
        self.not_listed
            .iter()
            .position(|names| names.iter().any(|name| contains_name(&query, name)))
    }

    /// The entry mutually recognised with a certification the query names, and that name.
    pub fn mutual_recognition_match(&self, query: &QueryText) -> Option<(usize, String)> {
        let query = analyze(query.as_str());
        self.mutual
            .iter()
            .find(|(_, name, _)| contains_name(&query, name))
            .map(|(text, _, cert)| (*cert as usize, text.clone()))
    }

    /// Searches `certs` (the catalog this index was built from).
    ///
    /// An entry's score is the best of: its sure candidates (a key that is the whole query, or
    /// a key plus the entry's own words), the partial score of its best key, and the share of
    /// the query its texts cover (context). The results are the best `limit` entries by
    /// score, then catalog order. They are found without scoring every entry that shares a
    /// word with the query:
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
    /// the same results as scoring every entry (a test compares both).
    pub fn search(
        &self,
        certs: &[Certificate],
        query: &QueryText,
        filter: &CertificateFilter,
        limit: usize,
    ) -> SearchOutcome {
        let Some(prepared) = self.prepare(certs, query) else {
            return SearchOutcome::default();
        };
        if limit == 0 {
            return SearchOutcome::default();
        }
        let volume = self.volume(&prepared);
        if volume <= SMALL_VOLUME {
            self.search_all(certs, &prepared, volume, filter, limit)
        } else {
            self.search_pruned(certs, &prepared, filter, limit)
        }
    }

    /// Postings of all the query's lists.
    fn volume(&self, prepared: &Prepared) -> usize {
        prepared
            .lists
            .iter()
            .map(|l| self.postings_of(l.vocab).len())
            .sum()
    }

    /// Scores every certificate that has a key matching the query: quickest when few do.
    /// Works from the postings themselves: each (key, list) pair is one match of the key, so
    /// only the keys that match are scored, and none needs a look-up in the query's lists.
    fn search_all(
        &self,
        certs: &[Certificate],
        prepared: &Prepared,
        volume: usize,
        filter: &CertificateFilter,
        limit: usize,
    ) -> SearchOutcome {
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
            for &(qi, quality) in &list.matches {
                acc.record(qi, quality, pos);
            }
        }
        let mut ranked: Vec<(u32, Eval)> = Vec::with_capacity(accs.len());
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
                ranked.push((cert, eval));
            }
        }
        let sure = ranked
            .iter()
            .filter(|(_, e)| e.best.score >= SURE_HIT)
            .count();
        let covering = ranked.iter().filter(|(_, e)| e.best.covers_query).count();
        let ambiguous = sure != 1 && covering >= 2;
        self.finish(certs, prepared, ranked, sure, ambiguous, filter, limit)
    }

    /// Ranks only the certificates that can make the results (see [`SearchIndex::search`]).
    fn search_pruned(
        &self,
        certs: &[Certificate],
        prepared: &Prepared,
        filter: &CertificateFilter,
        limit: usize,
    ) -> SearchOutcome {
        let mut run = Run {
            index: self,
            query: prepared,
            evals: FastMap::default(),
        };
        let matches = filter.matcher(self, certs);
        let passes = |cert: u32| matches(cert as usize);

        let sure = run.sure_certs();
        let by_partial = run.top_by_partial(limit, &passes);
        let by_context = run.top_by_context(limit, &passes);
        let mut pool: Vec<u32> = sure
            .iter()
            .copied()
            .chain(by_partial)
            .chain(by_context)
            .collect();
        pool.sort_unstable();
        pool.dedup();
        let ranked: Vec<(u32, Eval)> = pool
            .into_iter()
            .filter_map(|cert| run.eval(cert).map(|e| (cert, e)))
            .collect();
        // The top is sure exactly when one entry is; then nothing is ambiguous. Two sure
        // entries both cover the query.
        let ambiguous = match sure.len() {
            0 => run.count_covering(2) >= 2,
            1 => false,
            _ => true,
        };
        self.finish(
            certs,
            prepared,
            ranked,
            sure.len(),
            ambiguous,
            filter,
            limit,
        )
    }

    /// The outcome from the certificates that can make the results, `sure` of them sure.
    #[allow(clippy::too_many_arguments)]
    fn finish(
        &self,
        certs: &[Certificate],
        prepared: &Prepared,
        mut ranked: Vec<(u32, Eval)>,
        sure: usize,
        ambiguous: bool,
        filter: &CertificateFilter,
        limit: usize,
    ) -> SearchOutcome {
        ranked.sort_by(|(ca, a), (cb, b)| b.best.score.total_cmp(&a.best.score).then(ca.cmp(cb)));
        let matches = filter.matcher(self, certs);
        if sure > 1 {
            for (_, e) in ranked.iter_mut() {
                e.best.score = e.best.score.min(SCORE_PARTIAL_MAX);
            }
        }
        let hits = ranked
            .into_iter()
            .filter(|(ci, _)| matches(*ci as usize))
            .take(limit)
            .map(|(ci, e)| {
                let key = &self.keys[e.best.key as usize];
                SearchHit {
                    cert: ci as usize,
                    score: e.best.score,
                    kind: e.best.kind,
                    field: key.field,
                    matched: Matched {
                        key: e.best.key,
                        units: e.acc.key_any_mask,
                        whole: prepared.whole_key == Some(e.best.key),
                    },
                }
            })
            .collect();
        SearchOutcome { hits, ambiguous }
    }

    /// The query's units, what each matches in the vocabulary, and its whole-query key.
    fn prepare(&self, certs: &[Certificate], query: &QueryText) -> Option<Prepared> {
        // The distinct units (the first MAX_QUERY_UNITS of them), one after the other in one
        // buffer: `analyze` and `distinct_units` would make a `String` per unit.
        let mut unit_texts = String::with_capacity(2 * query.as_str().len());
        let mut ends = [0usize; MAX_QUERY_UNITS];
        let mut n = 0;
        let compact = for_each_unit_with_compact(query.as_str(), |unit| {
            let mut start = 0;
            for &end in &ends[..n] {
                if unit_texts[start..end] == *unit.text {
                    return;
                }
                start = end;
            }
            if n < MAX_QUERY_UNITS {
                unit_texts.push_str(unit.text);
                ends[n] = unit_texts.len();
                n += 1;
            }
        });
        let unit_ends = &ends[..n];
        if unit_ends.is_empty() {
            return None;
        }
        let mut lists: Vec<QueryList> = Vec::new();
        let mut query_vocab: Vec<Option<u32>> = Vec::with_capacity(unit_ends.len());
        let mut expanded: Vec<(u32, f64)> = Vec::new();
        let mut start = 0;
        for (qi, &end) in unit_ends.iter().enumerate() {
            let unit = &unit_texts[start..end];
            start = end;
            let exact = self.vocab.get(unit).copied();
            query_vocab.push(exact);
            expanded.clear();
            self.expand(unit, exact, &mut expanded);
            for &(vocab, quality) in &expanded {
                match lists.iter_mut().find(|l| l.vocab == vocab) {
                    Some(list) => list.matches.push((qi, quality)),
                    None => lists.push(QueryList {
                        vocab,
                        matches: smallvec::smallvec![(qi, quality)],
                        reach: Reach::default(),
                    }),
                }
            }
        }
        for list in &mut lists {
            list.reach = Reach::of_list(&list.matches);
        }
        lists.sort_unstable_by_key(|l| l.vocab);
        let mut exact_vocab: Vec<u32> = query_vocab.iter().flatten().copied().collect();
        exact_vocab.sort_unstable();
        exact_vocab.dedup();
        let whole_key = self.whole_key(certs, &compact);
        Some(Prepared {
            n: unit_ends.len(),
            query_vocab,
            lists,
            exact_vocab,
            whole_key,
        })
    }

    /// Vocabulary entries a query unit matches, with the quality of each match, onto `out`
    /// (empty).
    fn expand(&self, unit: &str, exact: Option<u32>, out: &mut Vec<(u32, f64)>) {
        out.extend(exact.map(|id| (id, QUALITY_EXACT)));
        if unit.chars().any(crate::text::is_cjk) {
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

    /// Scores certificate `cert` from what each of its matching keys matches (`keys`, in key
    /// order, none left out); `whole_acc` gives what the whole-query key matches when it is
    /// one of them. `None` when nothing of it matches.
    fn eval_of(
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
        let context = self.context_of(cert);
        let covered = query
            .query_vocab
            .iter()
            .filter(|v| v.is_some_and(|v| context.binary_search(&v).is_ok()))
            .count();
        let context_score = SCORE_CONTEXT_MAX * covered as f64 / query.query_vocab.len() as f64;
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

    /// The candidate a key makes: sure when the key is all query words and the rest of the
    /// query is the entry's own words, partial otherwise.
    #[cfg(test)]
    fn score(
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
    fn sure_candidate(
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

    /// Half-open character ranges of a hit's matched field that the query matched, each made
    /// into a `T` by `span`. `matched` must come from a search of this index; anything else
    /// gets no highlights.
    pub(crate) fn highlights<T>(
        &self,
        certs: &[Certificate],
        matched: Matched,
        mut span: impl FnMut(usize, usize) -> T,
    ) -> Vec<T> {
        let Some(key) = self.keys.get(matched.key as usize) else {
            return Vec::new();
        };
        let Some(cert) = certs.get(key.cert as usize) else {
            return Vec::new();
        };
        if matched.whole {
            // The query is this whole text: highlight all of it, noise words included.
            return vec![span(0, key.field.text(cert).chars().count())];
        }
        if matched.units == 0 {
            return Vec::new();
        }
        match self.spans_of(certs, key.cert) {
            Some(kept) => merged(
                matched,
                kept.iter().copied().filter(|s| s.key == matched.key),
                span,
            ),
            None => {
                // Over the budget: this key's spans from the text, as spans_of makes them.
                let mut spans = Vec::new();
                self.for_each_span(matched.key, cert, |s| spans.push(s));
                merged(matched, spans.into_iter(), span)
            }
        }
    }

    /// Calls `f` with each unit of key `key_id` (of certificate `cert`) that is one of the
    /// key's units, in text order.
    fn for_each_span(&self, key_id: u32, cert: &Certificate, mut f: impl FnMut(Span)) {
        let key = &self.keys[key_id as usize];
        let units = self.units(key);
        for_each_unit(key.field.text(cert), |unit| {
            // A key has a few units: comparing texts beats hashing into the vocabulary.
            if let Some(pos) = units
                .iter()
                .position(|&u| *self.texts[u as usize] == *unit.text)
            {
                f(Span {
                    key: key_id,
                    unit: pos as u32,
                    start: unit.start as u32,
                    end: unit.end as u32,
                });
            }
        });
    }

    /// The unit spans of every key of certificate `cert`, in key then text order: kept, or
    /// made and kept; `None` when they are not kept and the budget is spent.
    fn spans_of(&self, certs: &[Certificate], cert: u32) -> Option<&[Span]> {
        let slot = self.spans.get(cert as usize)?;
        if let Some(kept) = slot.get() {
            return Some(kept);
        }
        // A soft limit: hits shown at the same moment may pass it by an entry each.
        if self.span_bytes.load(Ordering::Relaxed) >= KEEP_SPANS_BYTES {
            return None;
        }
        let c = cert as usize;
        let mut spans = Vec::new();
        for key_id in self.cert_keys[c]..self.cert_keys[c + 1] {
            self.for_each_span(key_id, &certs[c], |span| spans.push(span));
        }
        let bytes = spans.len() * std::mem::size_of::<Span>();
        if slot.set(spans.into_boxed_slice()).is_ok() {
            self.span_bytes.fetch_add(bytes, Ordering::Relaxed);
        }
        slot.get().map(|kept| &**kept)
    }
}

/// The partial candidate of a key with `key_units` units: how much of the query it matches,
/// and how well, times how much of the key the query matches.
fn partial_candidate(key_id: u32, key_units: usize, acc: &KeyAcc, n_query: usize) -> Candidate {
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

/// A query ready to run: its units and the vocabulary each matches.
#[derive(Debug)]
struct Prepared {
    /// Number of query units.
    n: usize,
    /// Per query unit, the vocabulary id it equals.
    query_vocab: Vec<Option<u32>>,
    /// Every vocabulary id some unit matches, ascending.
    lists: Vec<QueryList>,
    /// The vocabulary ids query units equal, ascending.
    exact_vocab: Vec<u32>,
    /// The key whose compact form is the whole query.
    whole_key: Option<u32>,
}

/// One vocabulary id a query matches: which query units match it, and how well.
#[derive(Debug)]
struct QueryList {
    vocab: u32,
    matches: Matches,
    /// What an id in this list can match, for bounds.
    reach: Reach,
}

/// The (query unit, quality) pairs of one [`QueryList`]: nearly always one, so the first few
/// are kept in place (a `Vec` per list was a good part of the allocations of a small search).
type Matches = smallvec::SmallVec<[(usize, f64); 2]>;

/// Everything search needs to know about one certificate for one query.
#[derive(Debug, Clone, Copy)]
struct Eval {
    /// The entry's result: its best key candidate, raised by context.
    best: Candidate,
    /// What the best key matched, for highlights.
    acc: KeyAcc,
    /// Best partial score of its keys (whether or not a key is sure).
    partial: f64,
    /// Score for the share of the query its texts cover.
    context: f64,
}

/// One search: the prepared query and the certificates evaluated so far.
struct Run<'a> {
    index: &'a SearchIndex,
    query: &'a Prepared,
    evals: FastMap<u32, Option<Eval>>,
}

impl Run<'_> {
    /// What key `key_id` matches of the query; `None` when nothing.
    fn key_acc(&self, key_id: u32) -> Option<KeyAcc> {
        let key = &self.index.keys[key_id as usize];
        let mut acc = KeyAcc::default();
        let mut any = false;
        for (pos, unit) in self.index.units(key).iter().enumerate() {
            if let Ok(li) = self.query.lists.binary_search_by_key(unit, |l| l.vocab) {
                for &(qi, quality) in &self.query.lists[li].matches {
                    acc.record(qi, quality, pos);
                    any = true;
                }
            }
        }
        any.then_some(acc)
    }

    /// Scores one certificate in full; `None` when none of its keys matches the query.
    fn eval(&mut self, cert: u32) -> Option<Eval> {
        if let Some(eval) = self.evals.get(&cert) {
            return *eval;
        }
        let eval = self.compute(cert);
        self.evals.insert(cert, eval);
        eval
    }

    fn compute(&self, cert: u32) -> Option<Eval> {
        let c = cert as usize;
        let keys = self.index.cert_keys[c]..self.index.cert_keys[c + 1];
        self.index.eval_of(
            self.query,
            cert,
            |whole| self.key_acc(whole).unwrap_or_default(),
            keys.filter_map(|key_id| self.key_acc(key_id).map(|acc| (key_id, acc))),
        )
    }

    /// Every certificate with a sure score, whatever the filter.
    fn sure_certs(&mut self) -> Vec<u32> {
        let index = self.index;
        let query = self.query;
        let mut sure = Vec::new();
        if let Some(whole) = query.whole_key {
            let cert = index.keys[whole as usize].cert;
            if self.eval(cert).is_some_and(|e| e.best.score >= SURE_HIT) {
                sure.push(cert);
            }
        }
        // A key with its own words is made of query words only, so it is anchored at one.
        for &v in &query.exact_vocab {
            let v = v as usize;
            let (start, end) = (index.anchor_starts[v], index.anchor_starts[v + 1]);
            for &key_id in &index.anchors[start as usize..end as usize] {
                let key = &index.keys[key_id as usize];
                let all_query_words = index
                    .units(key)
                    .iter()
                    .all(|u| query.exact_vocab.binary_search(u).is_ok());
                if all_query_words
                    && !sure.contains(&key.cert)
                    && self
                        .eval(key.cert)
                        .is_some_and(|e| e.best.score >= SURE_HIT)
                {
                    sure.push(key.cert);
                }
            }
        }
        sure
    }

    /// The certificates passing the filter that can still make the results by partial score,
    /// at most `limit`, together with those already scored that rank among them (see
    /// [`Run::seeded`]).
    fn top_by_partial(&mut self, limit: usize, passes: &dyn Fn(u32) -> bool) -> Vec<u32> {
        let index = self.index;
        let query = self.query;
        let lists: Vec<&[u32]> = query
            .lists
            .iter()
            .map(|l| index.postings_of(l.vocab))
            .collect();
        // Each list's part for each layer (one key length) it has postings in.
        let mut parts: Vec<Vec<&[u32]>> = vec![Vec::new(); MAX_LAYER as usize + 1];
        for (j, (list, l)) in lists.iter().zip(&query.lists).enumerate() {
            let runs = index.layer_runs_of(l.vocab);
            for (k, &run) in runs.iter().enumerate() {
                let start = (run & KEY_MASK) as usize;
                let end = runs
                    .get(k + 1)
                    .map_or(list.len(), |&r| (r & KEY_MASK) as usize);
                let of_layer = &mut parts[(run >> KEY_BITS) as usize];
                if of_layer.is_empty() {
                    of_layer.resize(lists.len(), &[]);
                }
                of_layer[j] = &list[start..end];
            }
        }
        // Layers by the best score a key of theirs can reach, best first: keys shorter than
        // the query hold only some of its words, longer ones match less of themselves.
        let reaches: Vec<Reach> = query.lists.iter().map(|l| l.reach).collect();
        let bound = |layer| PartialBound { n: query.n, layer };
        let mut layers: Vec<(f64, u32)> = (1..=MAX_LAYER)
            .filter(|&layer| !parts[layer as usize].is_empty())
            .map(|layer| {
                let held = parts[layer as usize]
                    .iter()
                    .zip(&reaches)
                    .filter(|(part, _)| !part.is_empty())
                    .fold(Reach::default(), |a, (_, &r)| a.union(r));
                (bound(layer).value(&held), layer)
            })
            .collect();
        layers.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let (mut top, mut offered) = self.seeded(limit, passes);
        let highest = layers.first().map_or(0.0, |&(best, _)| best);
        for floor in floors(highest) {
            for &(best, layer) in &layers {
                if best < floor || !top.may_enter(best, 0) {
                    break;
                }
                max_score(
                    &parts[layer as usize],
                    &reaches,
                    &bound(layer),
                    floor,
                    &LayerKeys { index, layer },
                    &mut top,
                    &mut |cert| {
                        if !offered.insert(cert) || !passes(cert) {
                            return None;
                        }
                        self.eval(cert).map(|e| e.partial)
                    },
                );
            }
            if top.last().is_some_and(|(score, _)| score >= floor) {
                break;
            }
        }
        top.certs()
    }

    /// A top list holding the certificates evaluated so far, by the score [`SearchIndex::finish`]
    /// ranks them by (before it caps sure scores), and the set of them. A walk seeded so only
    /// looks for entries that can still make the results: an entry's best score is its
    /// partial or its context score, so one that ranks in the results by either is still found
    /// by the walk of that score.
    fn seeded(&self, limit: usize, passes: &dyn Fn(u32) -> bool) -> (TopK, FastSet<u32>) {
        let mut top = TopK::new(limit);
        let mut offered: FastSet<u32> = FastSet::default();
        for (&cert, eval) in &self.evals {
            offered.insert(cert);
            if let Some(eval) = eval
                && passes(cert)
            {
                top.offer(eval.best.score, cert);
            }
        }
        (top, offered)
    }

    /// The certificates passing the filter that can still make the results by context score,
    /// at most `limit`, together with those already scored that rank among them (see
    /// [`Run::seeded`]).
    fn top_by_context(&mut self, limit: usize, passes: &dyn Fn(u32) -> bool) -> Vec<u32> {
        let index = self.index;
        let query = self.query;
        let lists: Vec<&[u32]> = query
            .exact_vocab
            .iter()
            .map(|&v| index.context_postings_of(v))
            .collect();
        let (mut top, mut offered) = self.seeded(limit, passes);
        // Each list is one word of the query: all a list adds to the bound is itself.
        let one = Reach {
            lists: 1,
            ..Reach::default()
        };
        let reaches = vec![one; lists.len()];
        let bound = ContextBound { n: query.n };
        let highest = bound.value(&Reach {
            lists: lists.len() as u32,
            ..Reach::default()
        });
        for floor in floors(highest) {
            max_score(
                &lists,
                &reaches,
                &bound,
                floor,
                &Certs,
                &mut top,
                &mut |cert| {
                    if !offered.insert(cert) || !passes(cert) {
                        return None;
                    }
                    self.eval(cert).map(|e| e.context)
                },
            );
            if top.last().is_some_and(|(score, _)| score >= floor) {
                break;
            }
        }
        top.certs()
    }

    /// How many certificates whose best candidate covers the query there are, counting up to
    /// `enough`.
    fn count_covering(&mut self, enough: usize) -> usize {
        let mut found: FastSet<u32> = self
            .evals
            .iter()
            .filter(|(_, e)| e.is_some_and(|e| e.best.covers_query))
            .map(|(&c, _)| c)
            .collect();
        if found.len() >= enough {
            return found.len();
        }
        // A covering key matches every query unit exactly or by prefix: walk the lists of the
        // unit with the fewest postings.
        let index = self.index;
        let query = self.query;
        let mut rarest: Option<(usize, Vec<u32>)> = None;
        for qi in 0..query.n {
            let vocab: Vec<u32> = query
                .lists
                .iter()
                .filter(|l| {
                    l.matches
                        .iter()
                        .any(|&(i, q)| i == qi && q >= QUALITY_PREFIX)
                })
                .map(|l| l.vocab)
                .collect();
            let total = vocab.iter().map(|&v| index.postings_of(v).len()).sum();
            if vocab.is_empty() {
                return found.len();
            }
            if rarest.as_ref().is_none_or(|(t, _)| total < *t) {
                rarest = Some((total, vocab));
            }
        }
        let Some((_, vocab)) = rarest else {
            return found.len();
        };
        let full = (1u64 << query.n) - 1;
        let mut checked: FastSet<u32> = FastSet::default();
        // A key is in a list once, so only keys of several lists need remembering. Longest
        // keys first: a key holding every query unit is seldom short.
        let several = vocab.len() > 1;
        for v in vocab {
            for &posting in index.postings_of(v).iter().rev() {
                let key_id = posting & KEY_MASK;
                if several && !checked.insert(key_id) {
                    continue;
                }
                let Some(acc) = self.key_acc(key_id) else {
                    continue;
                };
                if (acc.exact_mask | acc.prefix_mask) & full != full {
                    continue;
                }
                let cert = index.keys[key_id as usize].cert;
                if self.eval(cert).is_some_and(|e| e.best.covers_query) {
                    found.insert(cert);
                    if found.len() >= enough {
                        return found.len();
                    }
                }
            }
        }
        found.len()
    }
}

/// What an id found in a set of query lists can match at most: the union of what each list
/// matches. Cheap to combine, so a bound over any set of lists costs the same.
#[derive(Debug, Clone, Copy, Default)]
struct Reach {
    /// Query units some list matches exactly / by prefix / by typo tolerance.
    exact: u64,
    prefix: u64,
    fuzzy: u64,
    /// Number of lists.
    lists: u32,
    /// Largest quality sum of a single list.
    top: f64,
}

impl Reach {
    /// The reach of one list whose vocabulary id matches query units `matches`.
    fn of_list(matches: &[(usize, f64)]) -> Reach {
        let mut acc = KeyAcc::default();
        let mut sum = 0.0;
        for &(qi, quality) in matches {
            acc.record(qi, quality, 64);
            sum += quality;
        }
        Reach {
            exact: acc.exact_mask,
            prefix: acc.prefix_mask,
            fuzzy: acc.fuzzy_mask,
            lists: 1,
            top: sum,
        }
    }

    fn union(self, other: Reach) -> Reach {
        Reach {
            exact: self.exact | other.exact,
            prefix: self.prefix | other.prefix,
            fuzzy: self.fuzzy | other.fuzzy,
            lists: self.lists + other.lists,
            top: self.top.max(other.top),
        }
    }
}

/// An upper bound of the score of an id found in (at most) a set of lists, from their reach.
trait Bound {
    fn value(&self, reach: &Reach) -> f64;
}

/// Bound of the partial score of a key of `layer` units found in some of the query's lists.
/// The main term is computed like [`partial_candidate`] from inputs at least as large (a
/// query unit's best quality in the lists, at most as many key units matched as lists), so it
/// is never below the key's score, and equals it when the key matches like the lists say.
struct PartialBound {
    /// Number of query units.
    n: usize,
    layer: u32,
}

impl Bound for PartialBound {
    fn value(&self, reach: &Reach) -> f64 {
        let n = self.n;
        let mut quality = quality_sum(reach.exact, reach.prefix, reach.fuzzy, n);
        // A key of `layer` units is in at most `layer` lists: when there are more, it matches
        // at most that many lists' worth. Kept above its exact value by a margin so float
        // rounding cannot put it below a real score. Not for the last layer, which also holds
        // keys of more units than MAX_LAYER.
        if self.layer < MAX_LAYER && reach.lists > self.layer {
            let most = f64::from(self.layer) * reach.top + 1e-9;
            if most < quality {
                quality = most;
            }
        }
        let query_cover = quality / n as f64;
        let key_cover = (f64::from(reach.lists) / f64::from(self.layer.max(1))).min(1.0);
        let score = SCORE_PARTIAL_MAX * query_cover * (0.6 + 0.4 * key_cover);
        score.clamp(0.0, SCORE_PARTIAL_MAX)
    }
}

/// Bound of the context score of a certificate whose texts hold the words of some lists: the
/// context score itself.
struct ContextBound {
    n: usize,
}

impl Bound for ContextBound {
    fn value(&self, reach: &Reach) -> f64 {
        SCORE_CONTEXT_MAX * f64::from(reach.lists) / self.n as f64
    }
}

/// Sum of the best match quality of each of the first `n` query units, in unit order (the
/// order matters for float rounding: bounds and scores must add up the same way).
fn quality_sum(exact: u64, prefix: u64, fuzzy: u64, n: usize) -> f64 {
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

/// The best certificates so far, best first, by score then catalog order.
#[derive(Debug)]
struct TopK {
    limit: usize,
    items: Vec<(f64, u32)>,
}

impl TopK {
    fn new(limit: usize) -> TopK {
        TopK {
            limit: limit.max(1),
            items: Vec::new(),
        }
    }

    fn full(&self) -> bool {
        self.items.len() >= self.limit
    }

    /// The last place, once full.
    fn last(&self) -> Option<(f64, u32)> {
        if self.full() {
            self.items.last().copied()
        } else {
            None
        }
    }

    /// Whether a certificate scoring `score` would take a place.
    fn may_enter(&self, score: f64, cert: u32) -> bool {
        self.last()
            .is_none_or(|(s, c)| score > s || (score == s && cert < c))
    }

    /// Offers a certificate; true when it took a place.
    fn offer(&mut self, score: f64, cert: u32) -> bool {
        if !self.may_enter(score, cert) {
            return false;
        }
        let at = self
            .items
            .partition_point(|&(s, c)| s > score || (s == score && c < cert));
        self.items.insert(at, (score, cert));
        self.items.truncate(self.limit);
        true
    }

    fn certs(&self) -> Vec<u32> {
        self.items.iter().map(|&(_, c)| c).collect()
    }
}

/// The character ranges of the spans (of one key, in text order) whose units `matched`
/// holds, adjacent or overlapping ones joined, each made into a `T` by `span`.
fn merged<T>(
    matched: Matched,
    spans: impl Iterator<Item = Span>,
    mut span: impl FnMut(usize, usize) -> T,
) -> Vec<T> {
    let mut out = Vec::new();
    // The range being extended; it goes out when the next one does not overlap it.
    let mut open: Option<(usize, usize)> = None;
    for s in spans.filter(|s| s.unit < 64 && matched.units & (1 << s.unit) != 0) {
        let (start, end) = (s.start as usize, s.end as usize);
        match &mut open {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => {
                if let Some((start, end)) = open.replace((start, end)) {
                    out.push(span(start, end));
                }
            }
        }
    }
    out.extend(open.map(|(start, end)| span(start, end)));
    out
}

/// Bytes of highlight spans an index keeps (16 bytes a unit of a key, about 440 an entry of
/// the synthetic catalogs: every entry of a catalog of some 20,000, as before the budget, and
/// the entries shown first of a larger one).
const KEEP_SPANS_BYTES: usize = 9 << 20;

/// Score floors for successive passes over the lists, from near the `highest` bound down to
/// nothing: a pass at a high floor only walks the rarest lists, which is quick, and usually
/// finds results good enough that the lower passes have little left to walk.
fn floors(highest: f64) -> impl Iterator<Item = f64> {
    [0.8, 0.6, 0.4, 0.2, 0.0]
        .into_iter()
        .map(move |f| highest * f)
}

/// Document-at-a-time MaxScore over sorted id lists. `bound` gives the best score of an id
/// found in a set of lists, `ids` its certificate. Offers to `top` every certificate whose
/// bound is at least `floor` and may take a place (ties enter before the last place's
/// certificate). The longest lists that together cannot place an id are only
/// probed at the ids of the others, never walked.
fn max_score(
    lists: &[&[u32]],
    reaches: &[Reach],
    bound: &impl Bound,
    floor: f64,
    ids: &impl CertIds,
    top: &mut TopK,
    offer: &mut dyn FnMut(u32) -> Option<f64>,
) {
    let mut order: Vec<usize> = (0..lists.len()).filter(|&j| !lists[j].is_empty()).collect();
    order.sort_unstable_by_key(|&j| lists[j].len());
    // suffix[i]: the reach of order[i..].
    let mut suffix = vec![Reach::default(); order.len() + 1];
    for i in (0..order.len()).rev() {
        suffix[i] = suffix[i + 1].union(reaches[order[i]]);
    }
    let mut pos = vec![0usize; lists.len()];
    // order[..essential] are walked; an id only in the others cannot take a place.
    let mut essential = order.len();
    let mut stale = true;
    // The first id of the last place's certificate: ties enter only before it.
    let mut last_start = u32::MAX;
    // Whether the walk is past it, so ties can no longer enter.
    let mut past_last = false;
    let enters = |top: &TopK, value: f64, id: u32, last_start: u32| {
        value >= floor
            && top
                .last()
                .is_none_or(|(s, _)| value > s || (value == s && id < last_start))
    };
    let mut present: Vec<usize> = Vec::with_capacity(lists.len());
    while let Some(next) = order[..essential]
        .iter()
        .filter_map(|&j| lists[j].get(pos[j]).copied())
        .min()
    {
        let now_past = next >= last_start;
        if stale || (now_past && !past_last) {
            if stale {
                last_start = top.last().map_or(u32::MAX, |(_, c)| ids.start_of(c));
            }
            past_last = next >= last_start;
            stale = false;
            let before = essential;
            essential = order.len();
            while essential > 0 {
                let value = bound.value(&suffix[essential - 1]);
                if enters(top, value, next, last_start) {
                    break;
                }
                essential -= 1;
            }
            if essential != before {
                continue;
            }
        }
        present.clear();
        let mut reach = Reach::default();
        for &j in &order[..essential] {
            if lists[j].get(pos[j]) == Some(&next) {
                present.push(j);
                reach = reach.union(reaches[j]);
            }
        }
        // Probe the other lists, rarest first, while they can still make the id enter.
        let mut hopeless = false;
        for (i, &j) in order.iter().enumerate().skip(essential) {
            seek(lists[j], &mut pos[j], next);
            if lists[j].get(pos[j]) == Some(&next) {
                present.push(j);
                reach = reach.union(reaches[j]);
                continue;
            }
            if !enters(
                top,
                bound.value(&reach.union(suffix[i + 1])),
                next,
                last_start,
            ) {
                hopeless = true;
                break;
            }
        }
        if !hopeless && enters(top, bound.value(&reach), next, last_start) {
            let cert = ids.cert_of(next);
            if let Some(score) = offer(cert)
                && top.offer(score, cert)
            {
                stale = true;
            }
            let end = ids.end_of(cert);
            for &j in &order[..essential] {
                seek(lists[j], &mut pos[j], end);
            }
        } else {
            for &j in &present {
                if lists[j].get(pos[j]) == Some(&next) {
                    pos[j] += 1;
                }
            }
        }
    }
}

/// How the ids of the lists [`max_score`] walks map to certificates; a certificate's ids are
/// consecutive.
trait CertIds {
    fn cert_of(&self, id: u32) -> u32;
    /// The first id of `cert`.
    fn start_of(&self, cert: u32) -> u32;
    /// The first id past `cert`.
    fn end_of(&self, cert: u32) -> u32;
}

/// Postings of one layer: ids are `layer << KEY_BITS | key`.
struct LayerKeys<'a> {
    index: &'a SearchIndex,
    layer: u32,
}

impl CertIds for LayerKeys<'_> {
    fn cert_of(&self, id: u32) -> u32 {
        self.index.keys[(id & KEY_MASK) as usize].cert
    }

    fn start_of(&self, cert: u32) -> u32 {
        self.layer << KEY_BITS | self.index.cert_keys[cert as usize]
    }

    fn end_of(&self, cert: u32) -> u32 {
        self.layer << KEY_BITS | self.index.cert_keys[cert as usize + 1]
    }
}

/// Ids that are certificates.
struct Certs;

impl CertIds for Certs {
    fn cert_of(&self, id: u32) -> u32 {
        id
    }

    fn start_of(&self, cert: u32) -> u32 {
        cert
    }

    fn end_of(&self, cert: u32) -> u32 {
        cert + 1
    }
}

/// Moves `pos` to the first element of `list` not below `target` (galloping).
fn seek(list: &[u32], pos: &mut usize, target: u32) {
    if list.get(*pos).is_none_or(|&x| x >= target) {
        return;
    }
    let mut step = 1;
    while *pos + step < list.len() && list[*pos + step] < target {
        step *= 2;
    }
    let low = *pos + step / 2;
    let high = (*pos + step + 1).min(list.len());
    *pos = low + list[low..high].partition_point(|&x| x < target);
}

/// What one key matched of the query.
#[derive(Debug, Default, Clone, Copy)]
struct KeyAcc {
    /// Bit i: query unit i matched this key exactly / by prefix / by typo tolerance.
    exact_mask: u64,
    prefix_mask: u64,
    fuzzy_mask: u64,
    /// Bit j: the key's unit j was matched (any quality) / exactly.
    key_any_mask: u64,
    key_exact_mask: u64,
}

impl KeyAcc {
    /// Whether any query unit matched the key.
    fn matched_any(&self) -> bool {
        self.exact_mask | self.prefix_mask | self.fuzzy_mask != 0
    }

    /// Query unit `qi` matched the key's unit at `pos` with `quality`.
    fn record(&mut self, qi: usize, quality: f64, pos: usize) {
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
struct Candidate {
    key: u32,
    score: f64,
    kind: MatchKind,
    /// Every query unit matched (exactly or by prefix) in this key.
    covers_query: bool,
}

impl Candidate {
    fn beats(&self, other: &Candidate) -> bool {
        self.score > other.score || (self.score == other.score && self.key < other.key)
    }
}

/// Whether the query is the name, or holds every unit of it.
fn contains_name(query: &Analyzed, name: &Analyzed) -> bool {
    let query_units = query.distinct_units();
    name.compact == query.compact
        || name
            .distinct_units()
            .iter()
            .all(|unit| query_units.contains(unit))
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

    fn sample() -> Catalog {
        let mut fcca = cert(
            "fcca",
            1,
            1,
            "ACCA资深会员证书（Fcca）",
            "Fellow Chartered Certified Accountant",
        );
        fcca.abbreviations.push("FCCA".into());
        let mut acca = cert("acca", 2, 1, "ACCA会计师证书", "ACCA Member");
        acca.abbreviations.push("ACCA".into());
        let ieee = cert("ieee-fellow", 1, 2, "IEEE会士证书（Fellow）", "IEEE Fellow");
        Catalog::new(parts(vec![fcca, acca, ieee])).unwrap()
    }

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

    #[test]
    fn issuer_filter_folds_width_and_case_like_the_reference_semantics() {
        let catalog = sample();
        for (needle, expected) in [("ＳＯＭＥ society", 3), ("某协会", 3), ("Other Body", 0)]
        {
            let filter = CertificateFilter {
                issuer: Some(needle.into()),
                ..CertificateFilter::default()
            };
            let matches = filter.matcher(catalog.index(), catalog.certificates());
            let by_matcher = (0..catalog.certificates().len())
                .filter(|&i| matches(i))
                .count();
            let by_reference = catalog
                .certificates()
                .iter()
                .filter(|c| filter.matches(c))
                .count();
            assert_eq!((by_matcher, by_reference), (expected, expected), "{needle}");
            assert_eq!(catalog.list(&filter, 0, 10).0.len(), expected, "{needle}");
        }
    }

    #[test]
    fn queries_are_validated() {
        assert_eq!(QueryText::parse("  "), Err(QueryError::Empty));
        assert!(matches!(
            QueryText::parse(&"a".repeat(257)),
            Err(QueryError::TooLong { .. })
        ));
        assert_eq!(
            QueryText::parse("a\u{0}b"),
            Err(QueryError::ControlCharacter)
        );
        assert_eq!(
            QueryText::parse(&"字".repeat(256)).map(|q| q.as_str().chars().count()),
            Ok(256)
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

    /// Search as it was before MaxScore: every key that shares a unit with the query is
    /// scored. The reference the fast search must equal, result for result.
    fn exhaustive(
        index: &SearchIndex,
        certs: &[Certificate],
        query: &QueryText,
        filter: &CertificateFilter,
        limit: usize,
    ) -> SearchOutcome {
        let analyzed = analyze(query.as_str());
        let mut query_units = analyzed.distinct_units();
        query_units.truncate(MAX_QUERY_UNITS);
        if query_units.is_empty() || limit == 0 {
            return SearchOutcome::default();
        }
        let mut accs: HashMap<u32, KeyAcc> = HashMap::new();
        let mut query_vocab: Vec<Option<u32>> = Vec::new();
        for (qi, unit) in query_units.iter().enumerate() {
            let exact = index.vocab.get(*unit).copied();
            query_vocab.push(exact);
            let mut expanded = Vec::new();
            index.expand(unit, exact, &mut expanded);
            for (vocab_id, quality) in expanded {
                for &posting in index.postings_of(vocab_id) {
                    let key_id = posting & KEY_MASK;
                    let units = index.units(&index.keys[key_id as usize]);
                    let pos = units.iter().position(|&u| u == vocab_id).unwrap();
                    accs.entry(key_id).or_default().record(qi, quality, pos);
                }
            }
        }
        let mut best: HashMap<u32, Candidate> = HashMap::new();
        let whole_key = index.whole_key(certs, &analyzed.compact);
        if let Some(key_id) = whole_key {
            let key = &index.keys[key_id as usize];
            let score = match key.field.kind() {
                MatchKind::Exact => SCORE_EXACT,
                MatchKind::Abbreviation => SCORE_ABBREVIATION,
                _ => SCORE_ALIAS,
            };
            best.insert(
                key.cert,
                Candidate {
                    key: key_id,
                    score,
                    kind: key.field.kind(),
                    covers_query: true,
                },
            );
        }
        for (&key_id, acc) in &accs {
            let key = &index.keys[key_id as usize];
            let candidate = index.score(key_id, key, acc, &query_vocab);
            match best.get(&key.cert) {
                Some(current) if !candidate.beats(current) => {}
                _ => {
                    best.insert(key.cert, candidate);
                }
            }
        }
        for (&cert, candidate) in best.iter_mut() {
            if candidate.score >= SURE_HIT {
                continue;
            }
            let context = index.context_of(cert);
            let covered = query_vocab
                .iter()
                .filter(|v| v.is_some_and(|v| context.binary_search(&v).is_ok()))
                .count();
            let context_score = SCORE_CONTEXT_MAX * covered as f64 / query_vocab.len() as f64;
            if context_score > candidate.score {
                candidate.score = context_score;
                candidate.kind = MatchKind::Partial;
            }
        }
        let mut ranked: Vec<(u32, Candidate)> = best.into_iter().collect();
        ranked.sort_by(|(ca, a), (cb, b)| b.score.total_cmp(&a.score).then(ca.cmp(cb)));
        let sure = ranked.iter().filter(|(_, c)| c.score >= SURE_HIT).count();
        if sure > 1 {
            for (_, c) in ranked.iter_mut() {
                c.score = c.score.min(SCORE_PARTIAL_MAX);
            }
        }
        let ambiguous = ranked.first().is_some_and(|(_, c)| c.score < SURE_HIT)
            && ranked.iter().filter(|(_, c)| c.covers_query).count() >= 2;
        let hits = ranked
            .into_iter()
            .filter(|(ci, _)| filter.matches(&certs[*ci as usize]))
            .take(limit)
            .map(|(ci, c)| {
                let key = &index.keys[c.key as usize];
                SearchHit {
                    cert: ci as usize,
                    score: c.score,
                    kind: c.kind,
                    field: key.field,
                    matched: Matched {
                        key: c.key,
                        units: accs.get(&c.key).map_or(0, |acc| acc.key_any_mask),
                        whole: whole_key == Some(c.key),
                    },
                }
            })
            .collect();
        SearchOutcome { hits, ambiguous }
    }

    fn assert_same_as_exhaustive(
        catalog: &Catalog,
        query: &str,
        filter: &CertificateFilter,
        limit: usize,
    ) {
        let Ok(query) = QueryText::parse(query) else {
            return;
        };
        let (index, certs) = (catalog.index(), catalog.certificates());
        let reference = exhaustive(index, certs, &query, filter, limit);
        let outcome = catalog.search(&query, filter, limit);
        assert_eq!(
            outcome, reference,
            "query {query:?}, limit {limit}, {filter:?}"
        );
        if let Some(prepared) = index.prepare(certs, &query) {
            let pruned = index.search_pruned(certs, &prepared, filter, limit);
            assert_eq!(
                pruned, reference,
                "pruned: query {query:?}, limit {limit}, {filter:?}"
            );
            let volume = index.volume(&prepared);
            let all = index.search_all(certs, &prepared, volume, filter, limit);
            assert_eq!(
                all, reference,
                "all: query {query:?}, limit {limit}, {filter:?}"
            );
        }
    }

    /// A catalog of `n` entries built like large real lists: every name unique, but most of
    /// their words ("Fellow", "Institute", "会员", "工程师") shared by many entries, some short
    /// keys, and issuers shared across entries.
    fn crowded(n: usize) -> Catalog {
        const GRADES: [(&str, &str); 5] = [
            ("Fellow", "会士"),
            ("Senior Member", "高级会员"),
            ("Member", "会员"),
            ("Chartered Fellow", "资深会员"),
            ("Expert", "专家级"),
        ];
        const PROFESSIONS: [(&str, &str); 7] = [
            ("Data Analysts", "数据分析师"),
            ("Actuaries", "精算师"),
            ("Structural Engineers", "结构工程师"),
            ("Software Engineers", "软件工程师"),
            ("Management Accountants", "管理会计师"),
            ("Risk Managers", "风险管理师"),
            ("Surveyors", "测量师"),
        ];
        const BODIES: [&str; 4] = ["Institute", "Association", "Society", "Chartered Institute"];
        const ORIGINS: [&str; 4] = ["British", "Royal", "American", "Global"];
        const BRAND: [char; 16] = [
            '阿', '巴', '卡', '德', '埃', '菲', '格', '哈', '伊', '杰', '克', '拉', '马', '纳',
            '奥', '帕',
        ];
        let certs = (0..n)
            .map(|i| {
                let (grade_en, grade_zh) = GRADES[i % GRADES.len()];
                let (prof_en, prof_zh) = PROFESSIONS[(i / 3) % PROFESSIONS.len()];
                let body = BODIES[(i / 7) % BODIES.len()];
                let origin = ORIGINS[(i / 11) % ORIGINS.len()];
                let code: String = [i / 676, (i / 26) % 26, i % 26]
                    .iter()
                    .map(|&d| char::from(b'a' + d as u8))
                    .collect();
                let brand: String = [i / 256, (i / 16) % 16, i % 16]
                    .iter()
                    .map(|&d| BRAND[d % 16])
                    .collect();
                let mut c = cert(
                    &format!("c{i}"),
                    1 + (i % 2) as u32,
                    1 + i as u32,
                    &format!("{brand}{prof_zh}{grade_zh}"),
                    &format!("{grade_en} of the {origin} {body} of {prof_en} Q{code}"),
                );
                c.abbreviations.push(format!("{}{code}", &grade_en[..1]));
                c.aliases.push(format!("{brand}{grade_zh}"));
                if i % 5 == 0 {
                    c.aliases.push(format!("{origin} {grade_en} X{code}"));
                }
                c.issuers[0].name_en = format!("{origin} {body} of {prof_en}").into();
                c.issuers[0].name_zh = format!("{prof_zh}协会").into();
                if i % 4 == 0 {
                    c.fields = vec!["工程".into()];
                }
                c
            })
            .collect();
        Catalog::new(parts(certs)).unwrap()
    }

    fn crowded_400() -> &'static Catalog {
        static CATALOG: std::sync::OnceLock<Catalog> = std::sync::OnceLock::new();
        CATALOG.get_or_init(|| crowded(400))
    }

    /// Highlights worked out from the hit's field text directly, as they were before spans
    /// were kept per entry.
    fn highlights_from_text(catalog: &Catalog, hit: &SearchHit) -> Vec<(usize, usize)> {
        let index = catalog.index();
        let key = &index.keys[hit.matched.key as usize];
        let text = key.field.text(&catalog.certificates()[key.cert as usize]);
        if hit.matched.whole {
            return vec![(0, text.chars().count())];
        }
        let units = index.units(key);
        let mut spans: Vec<(usize, usize)> = Vec::new();
        for_each_unit(text, |unit| {
            let hit = index.vocab.get(unit.text).is_some_and(|id| {
                units
                    .iter()
                    .position(|u| u == id)
                    .is_some_and(|pos| pos < 64 && hit.matched.units & (1 << pos) != 0)
            });
            if hit {
                match spans.last_mut() {
                    Some(last) if unit.start <= last.1 => last.1 = last.1.max(unit.end),
                    _ => spans.push((unit.start, unit.end)),
                }
            }
        });
        spans
    }

    #[test]
    fn highlights_from_kept_spans_equal_highlights_from_the_text() {
        let catalog = crowded_400();
        let mut compared = 0;
        for query in [
            "Fellow",
            "高级会员",
            "Royal Institue of Actuaries",
            "Instit Fell",
            "软件工程师 Expert",
            "精算师协会 会士",
            "Expert Fellow Member",
            "Data",
        ] {
            let query = QueryText::parse(query).unwrap();
            for hit in catalog
                .search(&query, &CertificateFilter::default(), 50)
                .hits
            {
                let highlights = catalog.highlights(&hit);
                assert_eq!(
                    highlights,
                    highlights_from_text(catalog, &hit),
                    "{query:?} {hit:?}"
                );
                // The path of entries not kept once the span budget is spent.
                let index = catalog.index();
                let key = &index.keys[hit.matched.key as usize];
                let mut spans = Vec::new();
                index.for_each_span(
                    hit.matched.key,
                    &catalog.certificates()[key.cert as usize],
                    |span| spans.push(span),
                );
                if !hit.matched.whole {
                    assert_eq!(
                        merged(hit.matched, spans.into_iter(), |s, e| (s, e)),
                        highlights
                    );
                }
                compared += usize::from(!highlights.is_empty());
            }
        }
        let sample = sample();
        for query in ["FCCA", "ACCA 资深会员", "Fellow Chartered", "fcca 证书"] {
            let query = QueryText::parse(query).unwrap();
            for hit in sample
                .search(&query, &CertificateFilter::default(), 10)
                .hits
            {
                let highlights = sample.highlights(&hit);
                assert_eq!(highlights, highlights_from_text(&sample, &hit));
                compared += usize::from(!highlights.is_empty());
            }
        }
        assert!(
            compared > 100,
            "only {compared} hits with highlights compared"
        );
    }

    #[test]
    fn fast_search_equals_exhaustive_search_on_a_crowded_catalog() {
        let catalog = crowded(2_000);
        let mut queries: Vec<String> = [
            "Fellow",
            "Institute Fellow",
            "Senior Member",
            "高级会员",
            "会员",
            "工程师",
            "会士 Fellow",
            "Royal Institute of Actuaries",
            "Royal Institue of Actuaries",
            "Felow",
            "Instit Fell",
            "Memb Engin",
            "Chartered",
            "Software Engineers Expert",
            "软件工程师 Expert",
            "Global Society",
            "Zyxwvut Qponmlk",
            "数据分析师 American",
            "Data",
            "Analysts Actuaries Engineers Surveyors Managers",
            "Q",
            "Expert Fellow Member",
            // Words only an issuer or a field holds: context decides.
            "精算师协会 会士",
            "测量师协会 资深会员 Royal",
            "金融 会员",
            "工程 Fellow Institute",
            "协会",
            "软件工程师协会 Expert Global",
        ]
        .map(String::from)
        .to_vec();
        for i in [0usize, 1, 7, 499, 1_000, 1_999] {
            let c = &catalog.certificates()[i];
            queries.push(c.name_zh.clone());
            queries.push(c.name_en.clone());
            queries.push(c.abbreviations[0].clone());
            queries.push(c.aliases[0].clone());
            queries.push(format!("{} {}", c.issuers[0].name_en, c.abbreviations[0]));
            queries.push(format!("{} {}", c.issuers[0].name_zh, c.aliases[0]));
            queries.push(c.name_en.replace("of", "").replacen('e', "", 1));
            queries.push(c.abbreviations[0].to_lowercase().replacen('a', "", 1));
        }
        let (section_two, engineering) = (section_two(), engineering());
        for query in &queries {
            for limit in [1, 3, 10, 50] {
                assert_same_as_exhaustive(&catalog, query, &CertificateFilter::default(), limit);
            }
            assert_same_as_exhaustive(&catalog, query, &section_two, 10);
            assert_same_as_exhaustive(&catalog, query, &engineering, 5);
        }
    }

    #[test]
    fn two_sure_keys_in_one_query_stay_ambiguous_like_before() {
        let catalog = crowded(300);
        let a = &catalog.certificates()[10];
        let b = &catalog.certificates()[20];
        let query = format!("{} {}", a.abbreviations[0], b.abbreviations[0]);
        assert_same_as_exhaustive(&catalog, &query, &CertificateFilter::default(), 10);
    }

    proptest! {
        #[test]
        fn fast_search_equals_exhaustive_search(
            words in proptest::collection::vec(
                proptest::sample::select(vec![
                    "fellow", "felow", "member", "senior", "institute", "instit", "royal",
                    "actuaries", "engineers", "engin", "software", "会员", "高级", "会士", "工程师",
                    "数据", "阿巴", "qaab", "qabc", "fabc", "x", "chartered", "global", "of",
                    "证书", "ACCA", "fcca", "ieee", "zzzz",
                ]),
                1..5,
            ),
            limit in 1usize..12,
        ) {
            assert_same_as_exhaustive(crowded_400(), &words.join(" "), &CertificateFilter::default(), limit);
            assert_same_as_exhaustive(&sample(), &words.join(" "), &CertificateFilter::default(), limit);
        }

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
            let mut noise = FastSet::default();
            index.push_key_units("of the holder", &mut noise);
            index.key_units.clear();
            let analyzed = analyze(&text);
            let compact = index.push_key_units(&text, &mut noise);
            let units: Vec<&str> = index.key_units.iter().map(|&v| &*index.texts[v as usize]).collect();
            prop_assert_eq!(units, analyzed.distinct_units());
            prop_assert_eq!(compact, (!analyzed.units.is_empty()).then_some(analyzed.compact));
        }

        #[test]
        fn fast_search_equals_exhaustive_search_on_any_text(query in "\\PC{1,40}") {
            assert_same_as_exhaustive(&sample(), &query, &CertificateFilter::default(), 5);
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
            .prepare(catalog.certificates(), &query)
            .unwrap();
        assert!(catalog.index().volume(&prepared) > SMALL_VOLUME);
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

    /// A small deterministic generator (xorshift), so the random catalogs below are the same
    /// on every run.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
            from[self.below(from.len())]
        }
    }

    const WORDS: [&str; 16] = [
        "fellow",
        "fellows",
        "fell",
        "member",
        "members",
        "senior",
        "institute",
        "instituted",
        "royal",
        "engineer",
        "engineers",
        "data",
        "global",
        "society",
        "expert",
        "chartered",
    ];
    /// Prefixes and one-typo forms of [`WORDS`].
    const QUERY_WORDS: [&str; 12] = [
        "fel", "memb", "instit", "felow", "membr", "enginer", "glob", "soci", "exper", "chart",
        "royl", "seni",
    ];
    const CJK: [&str; 10] = ["会", "员", "高", "级", "工", "程", "师", "数", "据", "士"];

    /// Entries whose names share words and prefixes; one in eight has a name of more than
    /// `MAX_LAYER` and 64 distinct units.
    fn random_catalog(rng: &mut Rng, n: usize) -> Catalog {
        let mut aliases_seen: HashSet<String> = HashSet::new();
        let certs = (0..n)
            .map(|i| {
                let mut en: Vec<String> = (0..1 + rng.below(7))
                    .map(|_| rng.pick(&WORDS).to_owned())
                    .collect();
                if rng.below(8) == 0 {
                    for _ in 0..70 + rng.below(30) {
                        en.push(format!("l{}", rng.below(400)));
                    }
                }
                en.push(format!("q{i}x"));
                let mut zh: String = (0..1 + rng.below(6)).map(|_| rng.pick(&CJK)).collect();
                zh.push_str(&format!("Z{i}"));
                let section = 1 + rng.below(2) as u32;
                let mut c = cert(&format!("c{i}"), section, 1 + i as u32, &zh, &en.join(" "));
                if rng.below(3) == 0 {
                    c.abbreviations.push(format!("ab{i}"));
                }
                if rng.below(4) == 0 {
                    let words: Vec<&str> =
                        (0..1 + rng.below(3)).map(|_| rng.pick(&WORDS)).collect();
                    c.aliases.push(format!("{} y{i}", words.join(" ")));
                }
                if rng.below(3) == 0 {
                    // Shared aliases would make the catalog invalid: keep the first of each.
                    let words: Vec<&str> =
                        (0..1 + rng.below(2)).map(|_| rng.pick(&WORDS)).collect();
                    let alias = words.join(" ");
                    if aliases_seen.insert(crate::text::compact(&alias)) {
                        c.aliases.push(alias);
                    }
                }
                if rng.below(3) == 0 {
                    c.fields = vec!["工程".into()];
                }
                if rng.below(2) == 0 {
                    c.issuers[0].name_en =
                        format!("{} {}", rng.pick(&WORDS), rng.pick(&WORDS)).into();
                }
                c
            })
            .collect();
        Catalog::new(parts(certs)).unwrap()
    }

    /// Two abbreviations and words (several sure entries), a whole name, a run of a name's
    /// words (up to 40: past the 32-unit cap), or random words, prefixes, typos and bigrams.
    fn random_query(rng: &mut Rng, catalog: &Catalog) -> String {
        let certs = catalog.certificates();
        match rng.below(6) {
            0 => {
                let mut query: Vec<String> = (0..2)
                    .map(|_| certs[rng.below(certs.len())].id.replace('c', "ab"))
                    .collect();
                for _ in 0..rng.below(3) {
                    query.push(rng.pick(&WORDS).to_owned());
                }
                query.join(" ")
            }
            1 => certs[rng.below(certs.len())].name_en.clone(),
            2 => {
                let name = &certs[rng.below(certs.len())].name_en;
                let words: Vec<&str> = name.split(' ').collect();
                let take = 1 + rng.below(words.len().min(40));
                let start = rng.below(words.len() - take + 1);
                words[start..start + take].join(" ")
            }
            _ => {
                let most = if rng.below(3) == 0 { 40 } else { 6 };
                (0..1 + rng.below(most))
                    .map(|_| match rng.below(5) {
                        0 => rng.pick(&QUERY_WORDS).to_owned(),
                        1 => format!("l{}", rng.below(400)),
                        2 => [rng.pick(&CJK), rng.pick(&CJK)].concat(),
                        _ => rng.pick(&WORDS).to_owned(),
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            }
        }
    }

    fn section_two() -> CertificateFilter {
        CertificateFilter {
            section: Some(2),
            ..CertificateFilter::default()
        }
    }

    fn engineering() -> CertificateFilter {
        CertificateFilter {
            field: Some("工程".into()),
            ..CertificateFilter::default()
        }
    }

    #[test]
    fn fast_search_equals_exhaustive_search_on_random_catalogs() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let (section_two, engineering) = (section_two(), engineering());
        let (mut several_sure, mut at_unit_cap) = (0, 0);
        for _ in 0..20 {
            let size = 50 + rng.below(350);
            let catalog = random_catalog(&mut rng, size);
            for _ in 0..200 {
                let query = random_query(&mut rng, &catalog);
                let limit = [1, 1, 2, 3, 5, 10][rng.below(6)];
                let filter = match rng.below(4) {
                    0 => &section_two,
                    1 => &engineering,
                    _ => &CertificateFilter::default(),
                };
                if let Ok(parsed) = QueryText::parse(&query)
                    && let Some(prepared) = catalog.index().prepare(catalog.certificates(), &parsed)
                {
                    let mut run = Run {
                        index: catalog.index(),
                        query: &prepared,
                        evals: FastMap::default(),
                    };
                    several_sure += usize::from(run.sure_certs().len() > 1);
                    at_unit_cap += usize::from(prepared.n == MAX_QUERY_UNITS);
                }
                assert_same_as_exhaustive(&catalog, &query, filter, limit);
            }
        }
        // The generator reaches the cases the pruning has special rules for.
        assert!(several_sure > 0, "no query with several sure entries");
        assert!(at_unit_cap > 0, "no query at the unit cap");
    }
}
