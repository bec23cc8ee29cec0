//! What a search answers: each hit's entry, score, kind of match, the key it matched and
//! where in that key's text.

use smallvec::SmallVec;

use super::score::SURE_HIT;
use crate::model::Certificate;

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

/// The field of a certificate a result matched: a key of the index (a name, an abbreviation or
/// an alias), or the name of one of its issuers when the query names the issuer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyField {
    NameZh,
    NameEn,
    Abbreviation(usize),
    Alias(usize),
    IssuerZh(usize),
    IssuerEn(usize),
}

impl KeyField {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyField::NameZh => "name_zh",
            KeyField::NameEn => "name_en",
            KeyField::Abbreviation(_) => "abbreviations",
            KeyField::Alias(_) => "aliases",
            KeyField::IssuerZh(_) | KeyField::IssuerEn(_) => "issuers",
        }
    }

    /// The text of this field in `cert`.
    pub fn text(self, cert: &Certificate) -> &str {
        match self {
            KeyField::NameZh => &cert.name_zh,
            KeyField::NameEn => &cert.name_en,
            KeyField::Abbreviation(i) => cert.abbreviations.get(i).map_or("", |s| s),
            KeyField::Alias(i) => cert.aliases.get(i).map_or("", |s| s),
            KeyField::IssuerZh(i) => cert.issuers.get(i).map_or("", |s| &s.name_zh),
            KeyField::IssuerEn(i) => cert.issuers.get(i).map_or("", |s| &s.name_en),
        }
    }

    pub(super) fn kind(self) -> MatchKind {
        match self {
            KeyField::NameZh | KeyField::NameEn => MatchKind::Exact,
            KeyField::Abbreviation(_) => MatchKind::Abbreviation,
            KeyField::Alias(_) => MatchKind::Alias,
            KeyField::IssuerZh(_) | KeyField::IssuerEn(_) => MatchKind::Partial,
        }
    }
}

/// Half-open character ranges of a hit's matched text that the query matched, in text order:
/// nearly always a few, so kept in place.
pub type Highlights = SmallVec<[(usize, usize); 4]>;

/// One search result. `cert` indexes the catalog's certificates.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub cert: usize,
    pub score: f64,
    pub kind: MatchKind,
    pub field: KeyField,
    /// What of `field`'s text the query matched (empty when the search was asked for none).
    pub highlights: Highlights,
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
