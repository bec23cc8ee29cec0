//! Restricting list and search results: by section, title level, field, country or region,
//! and issuer.

use super::SearchIndex;
use crate::level::TitleLevel;
use crate::model::Certificate;
use crate::text::normalize;

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
    /// catalog listing and search use the prepared [`CertificateFilter::acceptor`].
    pub fn accepts(&self, cert: &Certificate) -> bool {
        self.accepts_fields(cert)
            && self.issuer.as_deref().is_none_or(|needle| {
                let needle = normalize(needle);
                cert.issuers.iter().any(|i| {
                    normalize(&i.name_zh).contains(&needle)
                        || normalize(&i.name_en).contains(&needle)
                })
            })
    }

    /// Everything but the issuer.
    pub(super) fn accepts_fields(&self, cert: &Certificate) -> bool {
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

    /// [`CertificateFilter::accepts`] by position, without per-entry normalization: the index
    /// holds each entry's issuer names normalized at load time and the needle is normalized
    /// once per request, so filtering a large catalog folds no text per entry.
    pub(crate) fn acceptor<'a>(
        &'a self,
        index: &'a SearchIndex,
        certs: &'a [Certificate],
    ) -> impl Fn(usize) -> bool + 'a {
        let needle = self.issuer.as_deref().map(normalize);
        let empty = self.is_empty();
        move |i: usize| {
            empty
                || (self.accepts_fields(&certs[i])
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::catalog::test_support::{cert, parts};

    #[test]
    fn issuer_filter_folds_width_and_case_like_the_reference_semantics() {
        let catalog = Catalog::new(parts(vec![
            cert("a", 1, 1, "甲", "A"),
            cert("b", 1, 2, "乙", "B"),
            cert("c", 2, 1, "丙", "C"),
        ]))
        .unwrap();
        for (needle, expected) in [("ＳＯＭＥ society", 3), ("某协会", 3), ("Other Body", 0)]
        {
            let filter = CertificateFilter {
                issuer: Some(needle.into()),
                ..CertificateFilter::default()
            };
            let accepts = filter.acceptor(catalog.index(), catalog.certificates());
            let by_acceptor = (0..catalog.certificates().len())
                .filter(|&i| accepts(i))
                .count();
            let by_reference = catalog
                .certificates()
                .iter()
                .filter(|c| filter.accepts(c))
                .count();
            assert_eq!(
                (by_acceptor, by_reference),
                (expected, expected),
                "{needle}"
            );
            assert_eq!(catalog.list(&filter, 0, 10).0.len(), expected, "{needle}");
        }
    }
}
