//! Highlights: which characters of a hit's matched text the query matched. Each entry's unit
//! positions are worked out the first time one of its hits is shown, and kept within a byte
//! budget ([`KEEP_SPANS_BYTES`]).

use super::SearchIndex;
use super::hit::Highlights;
use crate::model::Certificate;
use crate::text::for_each_unit;

/// One unit of a key, where it is in the key's text.
#[derive(Debug, Clone, Copy)]
pub(super) struct Span {
    pub(super) key: u32,
    /// Position of the unit in the key's distinct units ([`SearchIndex::units`]).
    pub(super) unit: u32,
    /// Half-open range of characters.
    pub(super) start: u32,
    pub(super) end: u32,
}

/// The key a hit matched and which of its units: what its highlights are made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct HitKey {
    pub(super) key: u32,
    /// Bit j: the key's unit j was matched.
    pub(super) units: u64,
    /// The query is this whole text.
    pub(super) whole: bool,
}

impl SearchIndex {
    /// Half-open character ranges of the hit key's text that the query matched.
    pub(super) fn highlights(&self, certs: &[Certificate], hit: HitKey) -> Highlights {
        let Some(key) = self.keys.get(hit.key as usize) else {
            return Highlights::new();
        };
        let Some(cert) = certs.get(key.cert as usize) else {
            return Highlights::new();
        };
        if hit.whole {
            // The query is this whole text: highlight all of it, noise words included.
            return smallvec::smallvec![(0, key.field.text(cert).chars().count())];
        }
        if hit.units == 0 {
            return Highlights::new();
        }
        let of_key =
            |spans: &[Span]| merged(hit, spans.iter().copied().filter(|s| s.key == hit.key));
        match self.spans.get_or_make(
            key.cert as usize,
            || self.spans_of(certs, key.cert),
            |spans| std::mem::size_of_val(&**spans),
        ) {
            Ok(kept) => of_key(kept),
            Err(made) => of_key(&made),
        }
    }

    /// Calls `f` with each unit of key `key_id` (of certificate `cert`) that is one of the
    /// key's units, in text order.
    pub(super) fn for_each_span(&self, key_id: u32, cert: &Certificate, mut f: impl FnMut(Span)) {
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

    /// The unit spans of every key of certificate `cert`, in key then text order.
    fn spans_of(&self, certs: &[Certificate], cert: u32) -> Box<[Span]> {
        let c = cert as usize;
        let mut spans = Vec::new();
        for key_id in self.cert_keys[c]..self.cert_keys[c + 1] {
            self.for_each_span(key_id, &certs[c], |span| spans.push(span));
        }
        spans.into_boxed_slice()
    }
}

/// The character ranges of the spans (of one key, in text order) whose units `matched`
/// holds, adjacent or overlapping ones joined, each made into a `T` by `span`.
pub(super) fn merged(hit: HitKey, spans: impl Iterator<Item = Span>) -> Highlights {
    let mut out = Highlights::new();
    // The range being extended; it goes out when the next one does not overlap it.
    let mut open: Option<(usize, usize)> = None;
    for s in spans.filter(|s| s.unit < 64 && hit.units & (1 << s.unit) != 0) {
        let (start, end) = (s.start as usize, s.end as usize);
        match &mut open {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => out.extend(open.replace((start, end))),
        }
    }
    out.extend(open);
    out
}

/// Bytes of highlight spans an index keeps (16 bytes a unit of a key, about 440 an entry of
/// the synthetic catalogs: every entry of a catalog of some 20,000, as before the budget, and
/// the entries shown first of a larger one).
pub(super) const KEEP_SPANS_BYTES: usize = 9 << 20;
