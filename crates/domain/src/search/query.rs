//! The query as the search accepts it, and the query analysed once into the units every part
//! of a search (and the look-alike checks of an evaluation) works from.

use smallvec::SmallVec;

use crate::text::{for_each_unit_with_compact, to_mainland_terms};

/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 256;
/// A search query: whitespace (line breaks and tabs of pasted text included) folded to single
/// spaces, trimmed, non-empty, at most [`MAX_QUERY_CHARS`] characters, and no character that
/// cannot be text (NUL, the other C0 controls, DEL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryText(String);

/// Why a query was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {max} characters, got {got}")]
    TooLong { max: usize, got: usize },
    #[error("must not contain control characters other than whitespace (found U+{0:04X})")]
    ControlCharacter(u32),
}

impl QueryText {
    pub fn parse(text: &str) -> Result<QueryText, QueryError> {
        if let Some(c) = text.chars().find(|&c| cannot_be_text(c)) {
            return Err(QueryError::ControlCharacter(c as u32));
        }
        let mut folded = String::with_capacity(text.len());
        for word in text.split(char::is_whitespace).filter(|w| !w.is_empty()) {
            if !folded.is_empty() {
                folded.push(' ');
            }
            folded.push_str(word);
        }
        if folded.is_empty() {
            return Err(QueryError::Empty);
        }
        let chars = folded.chars().count();
        if chars > MAX_QUERY_CHARS {
            return Err(QueryError::TooLong {
                max: MAX_QUERY_CHARS,
                got: chars,
            });
        }
        Ok(QueryText(folded))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// NUL, the C0 controls other than whitespace (tab, line feed, vertical tab, form feed,
/// carriage return) and DEL: bytes no pasted text holds. C1 controls (U+0080–U+009F) are let
/// through: mis-decoded Windows-1252 quotes land there, and search reads them as separators.
fn cannot_be_text(c: char) -> bool {
    (c < ' ' && !c.is_whitespace()) || c == '\u{7f}'
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
    /// The query's units, regional terms first put in the list's words (網路 → 网络).
    pub fn of(query: &QueryText) -> AnalyzedQuery {
        let text = to_mainland_terms(query.as_str());
        let mut texts = String::with_capacity(2 * text.len());
        let mut ends: SmallVec<[u32; 32]> = SmallVec::new();
        let compact = for_each_unit_with_compact(&text, |unit| {
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
            Err(QueryError::ControlCharacter(0))
        );
        assert_eq!(
            QueryText::parse("FCCA\u{7}"),
            Err(QueryError::ControlCharacter(7))
        );
        assert_eq!(
            QueryText::parse(&"字".repeat(256)).map(|q| q.as_str().chars().count()),
            Ok(256)
        );
    }

    #[test]
    fn pasted_whitespace_folds_to_single_spaces() {
        for (pasted, folded) in [
            ("ACM高级会员\n证书", "ACM高级会员 证书"),
            ("ACM高级会员\r\n证书", "ACM高级会员 证书"),
            ("\tIEEE\t\tFellow\n", "IEEE Fellow"),
            ("CFA\u{a0}\u{3000}证书", "CFA 证书"),
            ("Senior\u{2028}Member\u{85}", "Senior Member"),
            ("FRM\u{0b}\u{0c}", "FRM"),
            ("\u{93}CIA\u{94}", "\u{93}CIA\u{94}"),
        ] {
            assert_eq!(QueryText::parse(pasted).map(|q| q.0), Ok(folded.into()));
        }
        assert_eq!(QueryText::parse("\n\t \r\n"), Err(QueryError::Empty));
        assert_eq!(
            QueryText::parse("CIA\u{7f}"),
            Err(QueryError::ControlCharacter(0x7f))
        );
        // The length limit counts the folded query: a wrapped cell is not longer for its breaks.
        let wrapped = format!("{}\n\n\n\n{}", "字".repeat(128), "字".repeat(127));
        assert!(QueryText::parse(&wrapped).is_ok());
    }

    proptest::proptest! {
        #[test]
        fn analysis_has_the_distinct_units_and_compact_form_of_analyze(
            text in "([ -~]|[ＡＣＦｆ证书精算师华为会员（）éﬁ]|certified|The|OF){1,40}"
        ) {
            if let Ok(query) = QueryText::parse(&text) {
                let analyzed = AnalyzedQuery::of(&query);
                let reference = analyze(&to_mainland_terms(query.as_str()));
                let units: Vec<&str> = analyzed.units().collect();
                proptest::prop_assert_eq!(units, reference.distinct_units());
                proptest::prop_assert_eq!(analyzed.compact(), reference.compact.as_str());
            }
        }
    }
}
