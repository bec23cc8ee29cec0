//! The plain reference the fast search is checked against: every key that shares a unit with
//! the query scored, highlights worked out from the key's text; and the tests that the small
//! and pruned rankings, and highlights from kept spans, give exactly its answers.

use std::collections::{HashMap, HashSet};

use proptest::prelude::*;

use super::*;
use crate::catalog::Catalog;
use crate::catalog::test_support::{cert, parts};
use crate::text::{analyze, for_each_unit};
use index::KEY_MASK;
use prepare::MAX_QUERY_UNITS;
use pruned::Run;
use score::{Candidate, KeyAcc, SCORE_ABBREVIATION, SCORE_ALIAS, SCORE_EXACT};

/// Search as it was before MaxScore: every key that shares a unit with the query is
/// scored. The reference the fast search must equal, result for result.
fn exhaustive(
    index: &SearchIndex,
    certs: &[Certificate],
    query: &QueryText,
    filter: &CertificateFilter,
    limit: usize,
) -> SearchOutcome {
    let analyzed = analyze(&crate::text::to_mainland_terms(query.as_str()));
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
    // Per certificate, the best partial score of its keys.
    let mut partial: HashMap<u32, f64> = HashMap::new();
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
        let part = score::partial_candidate(key_id, index.units(key).len(), acc, query_vocab.len());
        let best_part = partial.entry(key.cert).or_insert(0.0);
        *best_part = best_part.max(part.score);
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
        let context_score = index.context_score(cert, &query_vocab);
        if context_score > candidate.score {
            candidate.score = context_score;
            candidate.kind = MatchKind::Partial;
        }
    }
    let mut ranked: Vec<(u32, Candidate)> = best.into_iter().collect();
    ranked.sort_by(|(ca, a), (cb, b)| b.score.total_cmp(&a.score).then(ca.cmp(cb)));
    let sure = ranked.iter().filter(|(_, c)| c.score >= SURE_HIT).count();
    // Two sure entries make none sure: their scores are capped below SURE_HIT (after ranking).
    let ambiguous = (sure > 1 || ranked.first().is_some_and(|(_, c)| c.score < SURE_HIT))
        && ranked.iter().filter(|(_, c)| c.covers_query).count() >= 2;
    let mut window: Vec<(u32, Candidate)> = ranked
        .into_iter()
        .filter(|(ci, _)| filter.accepts(&certs[*ci as usize]))
        .take(limit)
        .collect();
    // Ties: the query names the entry's issuer, then the best partial score of its keys.
    window.sort_by(|(ca, a), (cb, b)| {
        let brand = |c: &u32| index.names_issuer(*c, &query_vocab);
        let part = |c: &u32| partial.get(c).copied().unwrap_or(0.0);
        b.score
            .total_cmp(&a.score)
            .then(brand(cb).cmp(&brand(ca)))
            .then(part(cb).total_cmp(&part(ca)))
            .then(ca.cmp(cb))
    });
    if sure > 1 {
        for (_, c) in window.iter_mut() {
            c.score = c.score.min(SCORE_PARTIAL_MAX);
        }
    }
    let hits = window
        .into_iter()
        .map(|(ci, c)| {
            let key = &index.keys[c.key as usize];
            let hit_key = HitKey {
                key: c.key,
                units: accs.get(&c.key).map_or(0, |acc| acc.key_any_mask),
                whole: whole_key == Some(c.key),
            };
            SearchHit {
                cert: ci as usize,
                score: c.score,
                kind: c.kind,
                field: key.field,
                highlights: highlights_from_text(index, certs, hit_key),
            }
        })
        .collect();
    let mut outcome = SearchOutcome { hits, ambiguous };
    index.with_issuer_entries(certs, &analyzed.compact, filter, limit, true, &mut outcome);
    outcome
}

/// Three entries of the real list, for small tests.
pub(super) fn sample() -> Catalog {
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

pub(super) fn assert_same_as_exhaustive(
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
    let analyzed = AnalyzedQuery::of(&query);
    if let Some(prepared) = index.prepare(certs, &analyzed) {
        let compact = analyzed.compact();
        let ranked = index.rank_pruned(certs, &prepared, filter, limit);
        let mut pruned = index.finish(certs, &prepared, ranked, filter, limit, true);
        index.with_issuer_entries(certs, compact, filter, limit, true, &mut pruned);
        assert_eq!(
            pruned, reference,
            "pruned: query {query:?}, limit {limit}, {filter:?}"
        );
        let volume = index.volume(&prepared);
        let ranked = index.rank_all(&prepared, volume);
        let mut all = index.finish(certs, &prepared, ranked, filter, limit, true);
        index.with_issuer_entries(certs, compact, filter, limit, true, &mut all);
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
        '阿', '巴', '卡', '德', '埃', '菲', '格', '哈', '伊', '杰', '克', '拉', '马', '纳', '奥',
        '帕',
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

/// Highlights worked out from the key's text directly, as they were before spans were kept
/// per entry.
fn highlights_from_text(index: &SearchIndex, certs: &[Certificate], hit: HitKey) -> Highlights {
    let key = &index.keys[hit.key as usize];
    let text = key.field.text(&certs[key.cert as usize]);
    if hit.whole {
        return smallvec::smallvec![(0, text.chars().count())];
    }
    let units = index.units(key);
    let mut spans = Highlights::new();
    for_each_unit(text, |unit| {
        let matched = index.vocab.get(unit.text).is_some_and(|id| {
            units
                .iter()
                .position(|u| u == id)
                .is_some_and(|pos| pos < 64 && hit.units & (1 << pos) != 0)
        });
        if matched {
            match spans.last_mut() {
                Some(last) if unit.start <= last.1 => last.1 = last.1.max(unit.end),
                _ => spans.push((unit.start, unit.end)),
            }
        }
    });
    spans
}

#[test]
fn highlights_past_the_span_budget_are_the_kept_ones() {
    let catalog = crowded_400();
    let certs = catalog.certificates();
    let mut unkept = SearchIndex::build(certs).unwrap();
    unkept.spans = crate::budget::BudgetedSlots::new(certs.len(), 0);
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
        let kept = catalog.search(&query, &CertificateFilter::default(), 50);
        let made = unkept.search(
            certs,
            &AnalyzedQuery::of(&query),
            &CertificateFilter::default(),
            50,
            true,
        );
        assert_eq!(kept, made, "{query:?}");
        compared += kept
            .hits
            .iter()
            .filter(|h| !h.highlights.is_empty())
            .count();
    }
    assert_eq!(unkept.spans.kept_bytes(), 0);
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
    fn fast_search_equals_exhaustive_search_on_any_text(query in "\\PC{1,40}") {
        assert_same_as_exhaustive(&sample(), &query, &CertificateFilter::default(), 5);
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
    "fel", "memb", "instit", "felow", "membr", "enginer", "glob", "soci", "exper", "chart", "royl",
    "seni",
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
                let words: Vec<&str> = (0..1 + rng.below(3)).map(|_| rng.pick(&WORDS)).collect();
                c.aliases.push(format!("{} y{i}", words.join(" ")));
            }
            if rng.below(3) == 0 {
                // Shared aliases would make the catalog invalid: keep the first of each.
                let words: Vec<&str> = (0..1 + rng.below(2)).map(|_| rng.pick(&WORDS)).collect();
                let alias = words.join(" ");
                if aliases_seen.insert(crate::text::compact(&alias)) {
                    c.aliases.push(alias);
                }
            }
            if rng.below(3) == 0 {
                c.fields = vec!["工程".into()];
            }
            if rng.below(2) == 0 {
                c.issuers[0].name_en = format!("{} {}", rng.pick(&WORDS), rng.pick(&WORDS)).into();
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
                && let Some(prepared) = catalog
                    .index()
                    .prepare(catalog.certificates(), &AnalyzedQuery::of(&parsed))
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
