//! The query as the search accepts it, and the query analysed once into the units every part
//! of a search (and the look-alike checks of an evaluation) works from.

use smallvec::SmallVec;

use crate::text::for_each_unit_with_compact;

/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 256;
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

/// A query's distinct units, in first-seen order, and its compact form (its words without
/// separators): made once per query, read by the search and the look-alike checks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnalyzedQuery {
    /// The distinct units, one after the other: one buffer instead of a `String` per unit.
    texts: String,
    /// Where each unit ends in `texts`.
    ends: SmallVec<[u32; 32]>,
    compact: String,
}

impl AnalyzedQuery {
    pub fn of(query: &QueryText) -> AnalyzedQuery {
        let mut texts = String::with_capacity(2 * query.as_str().len());
        let mut ends: SmallVec<[u32; 32]> = SmallVec::new();
        let compact = for_each_unit_with_compact(query.as_str(), |unit| {
            let mut start = 0;
            for &end in &ends {
                if texts[start..end as usize] == *unit.text {
                    return;
                }
                start = end as usize;
            }
            texts.push_str(unit.text);
            ends.push(texts.len() as u32);
        });
        AnalyzedQuery {
            texts,
            ends,
            compact,
        }
    }

    /// The distinct units, in first-seen order.
    pub fn units(&self) -> impl Iterator<Item = &str> {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let unit = &self.texts[start..end as usize];
            start = end as usize;
            unit
        })
    }

    pub fn unit_count(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn has_unit(&self, unit: &str) -> bool {
        self.units().any(|u| u == unit)
    }

    /// The words concatenated without separators: the form exact matching compares.
    pub fn compact(&self) -> &str {
        &self.compact
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::analyze;

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

    proptest::proptest! {
        #[test]
        fn analysis_has_the_distinct_units_and_compact_form_of_analyze(
            text in "([ -~]|[ＡＣＦｆ证书精算师华为会员（）éﬁ]|certified|The|OF){1,40}"
        ) {
            if let Ok(query) = QueryText::parse(&text) {
                let analyzed = AnalyzedQuery::of(&query);
                let reference = analyze(query.as_str());
                let units: Vec<&str> = analyzed.units().collect();
                proptest::prop_assert_eq!(units, reference.distinct_units());
                proptest::prop_assert_eq!(analyzed.compact(), reference.compact.as_str());
            }
        }
    }
}
