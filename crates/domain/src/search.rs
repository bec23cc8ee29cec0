//! Certificate search: an index built once per catalog load, and ranking that never overclaims.
//!
//! Strength, strongest first: the query *is* a name (EXACT), an abbreviation or an alias; the
//! query is such a key plus words that all belong to the same entry ("华为 HCIE-Datacom");
//! then partial matches by words/CJK bigrams, prefixes and, last, typo-tolerant matches.
//! Scores are calibrated so that one threshold means the same for every query: a *sure hit*
//! (score ≥ [`SURE_HIT`]) is given only to EXACT/ABBREVIATION/ALIAS matches of exactly one entry.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use crate::catalog::{Certificate, NotListed};
use crate::level::TitleLevel;
use crate::text::{Analyzed, analyze, normalize};

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
    pub fn matches(&self, cert: &Certificate) -> bool {
        self.section.is_none_or(|s| cert.section == s)
            && self.title_level.is_none_or(|l| cert.title_level == l)
            && self
                .field
                .as_deref()
                .is_none_or(|f| cert.fields.iter().any(|cf| cf == f))
            && self
                .country_or_region
                .as_deref()
                .is_none_or(|c| cert.country_or_region == c)
            && self.issuer.as_deref().is_none_or(|needle| {
                let needle = normalize(needle);
                cert.issuers.iter().any(|i| {
                    normalize(&i.name_zh).contains(&needle)
                        || normalize(&i.name_en).contains(&needle)
                })
            })
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
    /// Half-open character ranges in the matched field's text.
    pub highlights: Vec<(usize, usize)>,
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

/// A searchable text of one certificate: a name, an abbreviation or an alias.
#[derive(Debug)]
struct Key {
    cert: u32,
    field: MatchedField,
    /// Distinct vocabulary ids of the key's units.
    units: Box<[u32]>,
}

/// The search index of one catalog. Immutable once built.
#[derive(Debug, Default)]
pub struct SearchIndex {
    keys: Vec<Key>,
    /// Compact form -> key, for whole-query matches.
    exact: HashMap<Box<str>, u32>,
    vocab: HashMap<Box<str>, u32>,
    /// Vocabulary id -> text.
    texts: Vec<Box<str>>,
    /// Vocabulary ids sorted by text, for prefix expansion.
    sorted_vocab: Vec<u32>,
    /// Vocabulary id -> keys containing it.
    postings: Vec<Vec<u32>>,
    /// Hash of a one-character deletion -> Latin vocabulary ids, for typo tolerance.
    deletes: HashMap<u64, Vec<u32>>,
    /// Per certificate: sorted vocabulary ids of all its texts (keys, issuers, country, fields),
    /// the words a query may add to a key and still name this entry.
    context: Vec<Box<[u32]>>,
    /// Analyzed names of certificates known not to be on the list.
    not_listed: Vec<Vec<Analyzed>>,
    /// Certifications an entry is mutually recognised with: (name, analyzed name, entry).
    mutual: Vec<(String, Analyzed, u32)>,
}

impl SearchIndex {
    /// Builds the index. Fails when one compact text would name two entries.
    pub(crate) fn build(
        certs: &[Certificate],
        not_listed: &[NotListed],
    ) -> Result<SearchIndex, Vec<KeyClash>> {
        let mut index = SearchIndex::default();
        let mut clashes = Vec::new();
        for (ci, cert) in certs.iter().enumerate() {
            let ci = ci as u32;
            let fields = [MatchedField::NameZh, MatchedField::NameEn]
                .into_iter()
                .chain((0..cert.abbreviations.len()).map(MatchedField::Abbreviation))
                .chain((0..cert.aliases.len()).map(MatchedField::Alias));
            let mut context: Vec<u32> = Vec::new();
            for field in fields {
                let analyzed = analyze(field.text(cert));
                if analyzed.units.is_empty() {
                    continue;
                }
                let units = index.intern_all(&analyzed);
                context.extend_from_slice(&units);
                let key_id = index.keys.len() as u32;
                for &unit in &units {
                    index.postings[unit as usize].push(key_id);
                }
                index.keys.push(Key {
                    cert: ci,
                    field,
                    units,
                });
                match index.exact.get(analyzed.compact.as_str()) {
                    None => {
                        index.exact.insert(analyzed.compact.into(), key_id);
                    }
                    Some(&other) => {
                        let other_cert = index.keys[other as usize].cert;
                        if other_cert != ci {
                            clashes.push(KeyClash {
                                text: analyzed.compact,
                                first: certs[other_cert as usize].id.clone(),
                                second: cert.id.clone(),
                            });
                        }
                    }
                }
            }
            let extra = cert
                .issuers
                .iter()
                .flat_map(|i| [i.name_zh.as_str(), i.name_en.as_str()])
                .chain(std::iter::once(cert.country_or_region.as_str()))
                .chain(cert.fields.iter().map(String::as_str));
            for text in extra {
                let units = index.intern_all(&analyze(text));
                context.extend_from_slice(&units);
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
            index.context.push(context.into_boxed_slice());
        }
        if !clashes.is_empty() {
            return Err(clashes);
        }
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
        let mut sorted: Vec<u32> = (0..index.texts.len() as u32).collect();
        sorted.sort_unstable_by(|&a, &b| index.texts[a as usize].cmp(&index.texts[b as usize]));
        index.sorted_vocab = sorted;
        for (id, text) in index.texts.iter().enumerate() {
            let id = id as u32;
            if text.chars().count() >= MIN_FUZZY_CHARS && !text.chars().any(crate::text::is_cjk) {
                for variant in deletions(text) {
                    index
                        .deletes
                        .entry(hash_str(&variant))
                        .or_default()
                        .push(id);
                }
            }
        }
        for ids in index.deletes.values_mut() {
            ids.sort_unstable();
            ids.dedup();
        }
        Ok(index)
    }

    fn intern_all(&mut self, analyzed: &Analyzed) -> Box<[u32]> {
        let mut ids: Vec<u32> = analyzed
            .distinct_units()
            .into_iter()
            .map(|unit| self.intern(unit))
            .collect();
        ids.dedup();
        ids.into_boxed_slice()
    }

    fn intern(&mut self, unit: &str) -> u32 {
        if let Some(&id) = self.vocab.get(unit) {
            return id;
        }
        let id = self.postings.len() as u32;
        self.vocab.insert(unit.into(), id);
        self.texts.push(unit.into());
        self.postings.push(Vec::new());
        id
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
    pub fn search(
        &self,
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
        let mut query_vocab: Vec<Option<u32>> = Vec::with_capacity(query_units.len());
        for (qi, unit) in query_units.iter().enumerate() {
            let exact = self.vocab.get(*unit).copied();
            query_vocab.push(exact);
            for (vocab_id, quality) in self.expand(unit, exact) {
                for &key_id in &self.postings[vocab_id as usize] {
                    accs.entry(key_id).or_default().record(
                        qi,
                        quality,
                        &self.keys[key_id as usize],
                        vocab_id,
                    );
                }
            }
        }

        let mut best: HashMap<u32, Candidate> = HashMap::new();
        let whole_key = self.exact.get(analyzed.compact.as_str()).copied();
        if let Some(key_id) = whole_key {
            let key = &self.keys[key_id as usize];
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
            let key = &self.keys[key_id as usize];
            let candidate = self.score(key_id, key, acc, &query_vocab);
            match best.get(&key.cert) {
                Some(current) if !candidate.beats(current) => {}
                _ => {
                    best.insert(key.cert, candidate);
                }
            }
        }

        // Words can come from several texts of one entry ("电气电子工程师学会" is the issuer,
        // "会士" the name): coverage of the query by everything the entry says, a little below
        // a single key covering it.
        for (&cert, candidate) in best.iter_mut() {
            if candidate.score >= SURE_HIT {
                continue;
            }
            let context = &self.context[cert as usize];
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
                let key = &self.keys[c.key as usize];
                let highlights =
                    self.highlights(certs, key, accs.get(&c.key), whole_key == Some(c.key));
                SearchHit {
                    cert: ci as usize,
                    score: c.score,
                    kind: c.kind,
                    field: key.field,
                    highlights,
                }
            })
            .collect();
        SearchOutcome { hits, ambiguous }
    }

    /// Vocabulary entries a query unit matches, with the quality of each match.
    fn expand(&self, unit: &str, exact: Option<u32>) -> Vec<(u32, f64)> {
        let mut out: Vec<(u32, f64)> = exact.map(|id| (id, QUALITY_EXACT)).into_iter().collect();
        if unit.chars().any(crate::text::is_cjk) {
            return out;
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
            let probes = std::iter::once(unit.to_owned()).chain(deletions(unit));
            for probe in probes {
                let Some(ids) = self.deletes.get(&hash_str(&probe)) else {
                    continue;
                };
                for &id in ids {
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
            for probe in deletions(unit) {
                if let Some(&id) = self.vocab.get(probe.as_str())
                    && !out.iter().any(|(o, _)| *o == id)
                {
                    out.push((id, QUALITY_FUZZY));
                }
            }
        }
        out
    }

    fn score(
        &self,
        key_id: u32,
        key: &Key,
        acc: &KeyAcc,
        query_vocab: &[Option<u32>],
    ) -> Candidate {
        let n_query = query_vocab.len();
        let key_units = key.units.len().max(1);
        let key_all_exact = acc.key_exact_mask.count_ones() as usize == key.units.len();
        if key_all_exact && key.field.kind().names_entry() {
            let context = &self.context[key.cert as usize];
            let own_words = (0..n_query).all(|qi| {
                acc.exact_mask & (1 << qi) != 0
                    || query_vocab[qi].is_some_and(|v| context.binary_search(&v).is_ok())
            });
            if own_words {
                return Candidate {
                    key: key_id,
                    score: SCORE_KEY_WITH_OWN_WORDS,
                    kind: key.field.kind(),
                    covers_query: true,
                };
            }
        }
        let mut quality = 0.0;
        let mut fuzzy = false;
        for qi in 0..n_query {
            let bit = 1u64 << qi;
            if acc.exact_mask & bit != 0 {
                quality += QUALITY_EXACT;
            } else if acc.prefix_mask & bit != 0 {
                quality += QUALITY_PREFIX;
            } else if acc.fuzzy_mask & bit != 0 {
                quality += QUALITY_FUZZY;
                fuzzy = true;
            }
        }
        let query_cover = quality / n_query as f64;
        let key_cover = (acc.key_any_mask.count_ones() as f64 / key_units as f64).min(1.0);
        let score = SCORE_PARTIAL_MAX * query_cover * (0.6 + 0.4 * key_cover);
        let full = (1u64 << n_query) - 1;
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

    fn highlights(
        &self,
        certs: &[Certificate],
        key: &Key,
        acc: Option<&KeyAcc>,
        whole: bool,
    ) -> Vec<(usize, usize)> {
        let text = key.field.text(&certs[key.cert as usize]);
        if whole {
            // The query is this whole text: highlight all of it, noise words included.
            return vec![(0, text.chars().count())];
        }
        let analyzed = analyze(text);
        let mut spans: Vec<(usize, usize)> = Vec::new();
        for unit in &analyzed.units {
            let hit = acc.is_some_and(|acc| {
                self.vocab.get(unit.text.as_str()).is_some_and(|id| {
                    key.units
                        .iter()
                        .position(|u| u == id)
                        .is_some_and(|pos| pos < 64 && acc.key_any_mask & (1 << pos) != 0)
                })
            });
            if !hit {
                continue;
            }
            match spans.last_mut() {
                Some(last) if unit.start <= last.1 => last.1 = last.1.max(unit.end),
                _ => spans.push((unit.start, unit.end)),
            }
        }
        spans
    }
}

/// What one key matched of the query.
#[derive(Debug, Default)]
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
    fn record(&mut self, qi: usize, quality: f64, key: &Key, vocab_id: u32) {
        let bit = 1u64 << qi;
        if quality >= QUALITY_EXACT {
            self.exact_mask |= bit;
        } else if quality >= QUALITY_PREFIX {
            self.prefix_mask |= bit;
        } else {
            self.fuzzy_mask |= bit;
        }
        if let Some(pos) = key.units.iter().position(|&u| u == vocab_id)
            && pos < 64
        {
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

fn deletions(word: &str) -> impl Iterator<Item = String> + '_ {
    let chars: Vec<char> = word.chars().collect();
    (0..chars.len()).map(move |skip| {
        chars
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != skip)
            .map(|(_, c)| *c)
            .collect()
    })
}

fn hash_str(text: &str) -> u64 {
    // DefaultHasher::new() uses fixed keys, so the index is the same on every run.
    let mut hasher = DefaultHasher::new();
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
}
