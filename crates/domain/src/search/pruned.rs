//! Ranking without scoring every entry that shares a word with the query: the sure entries,
//! then the best by partial score and by context, each found by a document-at-a-time MaxScore
//! walk that skips entries whose upper-bound score cannot place (see [`SearchIndex::search`]).
//!
//! A speed shortcut for large catalogs (100,000 entries: a search walks a few hundred postings
//! instead of tens of thousands). `small` is the plain way for few postings, and the tests in
//! `reference` check both give the results of scoring every entry, result for result.

use super::index::{KEY_BITS, KEY_MASK, MAX_LAYER};
use super::prepare::Prepared;
use super::score::{
    Eval, KeyAcc, QUALITY_PREFIX, SCORE_CONTEXT_MAX, SCORE_PARTIAL_MAX, SURE_HIT, quality_sum,
};
use super::{CertificateFilter, FastMap, FastSet, Ranked, SearchIndex};
use crate::model::Certificate;

impl SearchIndex {
    /// Ranks only the certificates that can make the results (see [`SearchIndex::search`]).
    pub(super) fn rank_pruned(
        &self,
        certs: &[Certificate],
        prepared: &Prepared,
        filter: &CertificateFilter,
        limit: usize,
    ) -> Ranked {
        let mut run = Run {
            index: self,
            query: prepared,
            evals: FastMap::default(),
        };
        let accepts = filter.acceptor(self, certs);
        let passes = |cert: u32| accepts(cert as usize);

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
        let entries: Vec<(u32, Eval)> = pool
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
        Ranked {
            entries,
            sure: sure.len(),
            ambiguous,
        }
    }
}

/// One search: the prepared query and the certificates evaluated so far.
pub(super) struct Run<'a> {
    pub(super) index: &'a SearchIndex,
    pub(super) query: &'a Prepared,
    pub(super) evals: FastMap<u32, Option<Eval>>,
}

impl Run<'_> {
    /// What key `key_id` matches of the query; `None` when nothing.
    pub(super) fn key_acc(&self, key_id: u32) -> Option<KeyAcc> {
        let key = &self.index.keys[key_id as usize];
        let mut acc = KeyAcc::default();
        let mut any = false;
        for (pos, unit) in self.index.units(key).iter().enumerate() {
            if let Ok(li) = self.query.lists.binary_search_by_key(unit, |l| l.vocab) {
                for &(qi, quality) in &self.query.lists[li].units {
                    acc.record(qi, quality, pos);
                    any = true;
                }
            }
        }
        any.then_some(acc)
    }

    /// Scores one certificate in full; `None` when none of its keys matches the query.
    pub(super) fn eval(&mut self, cert: u32) -> Option<Eval> {
        if let Some(eval) = self.evals.get(&cert) {
            return *eval;
        }
        let eval = self.compute(cert);
        self.evals.insert(cert, eval);
        eval
    }

    pub(super) fn compute(&self, cert: u32) -> Option<Eval> {
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
    pub(super) fn sure_certs(&mut self) -> Vec<u32> {
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
    pub(super) fn top_by_partial(
        &mut self,
        limit: usize,
        passes: &dyn Fn(u32) -> bool,
    ) -> Vec<u32> {
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
    pub(super) fn seeded(
        &self,
        limit: usize,
        passes: &dyn Fn(u32) -> bool,
    ) -> (TopK, FastSet<u32>) {
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
    pub(super) fn top_by_context(
        &mut self,
        limit: usize,
        passes: &dyn Fn(u32) -> bool,
    ) -> Vec<u32> {
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
    pub(super) fn count_covering(&mut self, enough: usize) -> usize {
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
                .filter(|l| l.units.iter().any(|&(i, q)| i == qi && q >= QUALITY_PREFIX))
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
pub(super) struct Reach {
    /// Query units some list matches exactly / by prefix / by typo tolerance.
    pub(super) exact: u64,
    pub(super) prefix: u64,
    pub(super) fuzzy: u64,
    /// Number of lists.
    pub(super) lists: u32,
    /// Largest quality sum of a single list.
    pub(super) top: f64,
}

impl Reach {
    /// The reach of one list whose vocabulary id matches query units `matches`.
    pub(super) fn of_list(matches: &[(usize, f64)]) -> Reach {
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

    pub(super) fn union(self, other: Reach) -> Reach {
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
pub(super) trait Bound {
    fn value(&self, reach: &Reach) -> f64;
}

/// Bound of the partial score of a key of `layer` units found in some of the query's lists.
/// The main term is computed like [`partial_candidate`] from inputs at least as large (a
/// query unit's best quality in the lists, at most as many key units matched as lists), so it
/// is never below the key's score, and equals it when the key matches like the lists say.
pub(super) struct PartialBound {
    /// Number of query units.
    pub(super) n: usize,
    pub(super) layer: u32,
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
pub(super) struct ContextBound {
    pub(super) n: usize,
}

impl Bound for ContextBound {
    fn value(&self, reach: &Reach) -> f64 {
        SCORE_CONTEXT_MAX * f64::from(reach.lists) / self.n as f64
    }
}

/// The best certificates so far, best first, by score then catalog order.
#[derive(Debug)]
pub(super) struct TopK {
    pub(super) limit: usize,
    pub(super) items: Vec<(f64, u32)>,
}

impl TopK {
    pub(super) fn new(limit: usize) -> TopK {
        TopK {
            limit: limit.max(1),
            items: Vec::new(),
        }
    }

    pub(super) fn full(&self) -> bool {
        self.items.len() >= self.limit
    }

    /// The last place, once full.
    pub(super) fn last(&self) -> Option<(f64, u32)> {
        if self.full() {
            self.items.last().copied()
        } else {
            None
        }
    }

    /// Whether a certificate scoring `score` would take a place.
    pub(super) fn may_enter(&self, score: f64, cert: u32) -> bool {
        self.last()
            .is_none_or(|(s, c)| score > s || (score == s && cert < c))
    }

    /// Offers a certificate; true when it took a place.
    pub(super) fn offer(&mut self, score: f64, cert: u32) -> bool {
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

    pub(super) fn certs(&self) -> Vec<u32> {
        self.items.iter().map(|&(_, c)| c).collect()
    }
}

/// Score floors for successive passes over the lists, from near the `highest` bound down to
/// nothing: a pass at a high floor only walks the rarest lists, which is quick, and usually
/// finds results good enough that the lower passes have little left to walk.
pub(super) fn floors(highest: f64) -> impl Iterator<Item = f64> {
    [0.8, 0.6, 0.4, 0.2, 0.0]
        .into_iter()
        .map(move |f| highest * f)
}

/// Document-at-a-time MaxScore over sorted id lists. `bound` gives the best score of an id
/// found in a set of lists, `ids` its certificate. Offers to `top` every certificate whose
/// bound is at least `floor` and may take a place (ties enter before the last place's
/// certificate). The longest lists that together cannot place an id are only
/// probed at the ids of the others, never walked.
pub(super) fn max_score(
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
pub(super) trait CertIds {
    fn cert_of(&self, id: u32) -> u32;
    /// The first id of `cert`.
    fn start_of(&self, cert: u32) -> u32;
    /// The first id past `cert`.
    fn end_of(&self, cert: u32) -> u32;
}

/// Postings of one layer: ids are `layer << KEY_BITS | key`.
pub(super) struct LayerKeys<'a> {
    pub(super) index: &'a SearchIndex,
    pub(super) layer: u32,
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
pub(super) struct Certs;

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
pub(super) fn seek(list: &[u32], pos: &mut usize, target: u32) {
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
