//! Pure domain logic of certequiv: the catalog model, text normalization and search, and the
//! equivalence rules. No I/O and no gRPC here, so every rule is testable as a plain function.
#![forbid(unsafe_code)]

pub mod cases;
pub mod catalog;
pub mod diff;
pub mod equivalence;
pub mod level;
pub mod rules;
pub mod search;
pub mod text;

pub use catalog::{
    Catalog, CatalogMeta, CatalogParts, Certificate, EntryRef, Issuer, NotListed, Section,
    Violation,
};
pub use level::TitleLevel;
pub use search::{CertificateFilter, MatchKind, MatchedField, QueryText, SearchHit, SearchOutcome};

impl Catalog {
    /// Searches this catalog; see [`search`] for the ranking.
    pub fn search(
        &self,
        query: &QueryText,
        filter: &CertificateFilter,
        limit: usize,
    ) -> SearchOutcome {
        self.index()
            .search(self.certificates(), query, filter, limit)
    }

    /// Half-open character ranges of the hit's matched field (`hit.field`) that the query
    /// matched. The hit must come from a search of this catalog (a hit of another one gets
    /// wrong or no ranges).
    pub fn highlights(&self, hit: &SearchHit) -> Vec<(usize, usize)> {
        self.highlights_as(hit, |start, end| (start, end))
    }

    /// [`Catalog::highlights`], each range made into a `T` by `span` (so a caller that needs
    /// its own type builds one `Vec`, not two).
    pub fn highlights_as<T>(&self, hit: &SearchHit, span: impl FnMut(usize, usize) -> T) -> Vec<T> {
        self.index()
            .highlights(self.certificates(), hit.matched, span)
    }

    /// Positions of the certificates matching `filter` from position `start` on, at most
    /// `limit`, and the position to continue from when more remain.
    pub fn list(
        &self,
        filter: &CertificateFilter,
        start: usize,
        limit: usize,
    ) -> (Vec<usize>, Option<usize>) {
        let matches = filter.matcher(self.index(), self.certificates());
        let mut page = Vec::with_capacity(limit.min(self.certificates().len()));
        for i in (start..self.certificates().len()).filter(|&i| matches(i)) {
            if page.len() == limit {
                return (page, Some(i));
            }
            page.push(i);
        }
        (page, None)
    }
}
