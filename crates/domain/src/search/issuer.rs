//! Queries that name an issuer: "国际计算机协会" or "Association for Computing Machinery" means
//! the entries that body issues, not whichever entry shares most of its words.
//!
//! An issuer's name is not a key of the index: it names a body, not a certificate, so it never
//! makes a sure hit, and several entries share it. A query whose compact form is exactly an
//! issuer's name (Chinese or English, as the catalog writes it) puts that issuer's entries
//! first, in catalog order, at the best partial score, flagged ambiguous when there are several;
//! the other results follow as ranked.

use super::hit::{Highlights, KeyField, MatchKind, SearchHit, SearchOutcome};
use super::score::SCORE_PARTIAL_MAX;
use super::{CertificateFilter, SearchIndex, hash_str};
use crate::model::Certificate;
use crate::text::{compact, compact_equals};

/// One issuer name of one certificate: (fingerprint of its compact form, certificate, which
/// name: `2 * issuer + 1` for the English one).
pub(super) type IssuerName = (u64, u32, u32);

/// Every issuer name of every certificate, sorted by fingerprint, then certificate.
pub(super) fn issuer_names(certs: &[Certificate]) -> Vec<IssuerName> {
    let mut names = Vec::new();
    for (ci, cert) in certs.iter().enumerate() {
        for (i, issuer) in cert.issuers.iter().enumerate() {
            for (which, text) in [(2 * i, &issuer.name_zh), (2 * i + 1, &issuer.name_en)] {
                let compact = compact(text);
                if !compact.is_empty() {
                    names.push((hash_str(&compact), ci as u32, which as u32));
                }
            }
        }
    }
    names.sort_unstable();
    // An entry counts once per name, however many of its issuers write it alike.
    names.dedup_by_key(|&mut (fingerprint, cert, _)| (fingerprint, cert));
    names.shrink_to_fit();
    names
}

fn field_of(which: u32) -> KeyField {
    let issuer = (which / 2) as usize;
    if which.is_multiple_of(2) {
        KeyField::IssuerZh(issuer)
    } else {
        KeyField::IssuerEn(issuer)
    }
}

impl SearchIndex {
    /// Puts the entries of the issuer the query names (its compact form is `query_compact`)
    /// first in `outcome`, unless the query names an entry for sure.
    pub(super) fn with_issuer_entries(
        &self,
        certs: &[Certificate],
        query_compact: &str,
        filter: &CertificateFilter,
        limit: usize,
        highlights: bool,
        outcome: &mut SearchOutcome,
    ) {
        if outcome.sure_hit().is_some() || query_compact.is_empty() {
            return;
        }
        let fingerprint = hash_str(query_compact);
        let start = self
            .issuer_names
            .partition_point(|&(f, _, _)| f < fingerprint);
        let accepts = filter.acceptor(self, certs);
        let mut named: Vec<SearchHit> = Vec::new();
        let mut count = 0;
        // Entries of one body write its name alike: a text equal to one confirmed is confirmed.
        let mut confirmed: Option<&str> = None;
        for &(_, cert, which) in self.issuer_names[start..]
            .iter()
            .take_while(|&&(f, _, _)| f == fingerprint)
        {
            if named.len() >= limit && count >= 2 {
                break;
            }
            let field = field_of(which);
            let text = field.text(&certs[cert as usize]);
            let same = confirmed == Some(text) || compact_equals(text, query_compact);
            if !same || !accepts(cert as usize) {
                continue;
            }
            confirmed = Some(text);
            count += 1;
            if named.len() < limit {
                named.push(SearchHit {
                    cert: cert as usize,
                    score: SCORE_PARTIAL_MAX,
                    kind: MatchKind::Partial,
                    field,
                    highlights: if highlights {
                        Highlights::from_slice(&[(0, text.chars().count())])
                    } else {
                        Highlights::new()
                    },
                });
            }
        }
        if count == 0 {
            return;
        }
        let rest: Vec<SearchHit> = std::mem::take(&mut outcome.hits)
            .into_iter()
            .filter(|hit| !named.iter().any(|n| n.cert == hit.cert))
            .collect();
        named.extend(rest);
        named.truncate(limit);
        outcome.hits = named;
        outcome.ambiguous = count >= 2;
    }
}
