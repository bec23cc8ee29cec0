//! The levels of the Chinese professional title (职称) system.

use std::fmt;

/// A professional title level, ordered from lowest to highest so that `max()` picks the
/// level a set of certificates supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TitleLevel {
    /// 员级
    Elementary,
    /// 助理级 (初级)
    Assistant,
    /// 中级
    Intermediate,
    /// 副高级
    AssociateSenior,
    /// 正高级
    Senior,
}

impl TitleLevel {
    /// Every level, lowest first.
    pub const ALL: [TitleLevel; 5] = [
        TitleLevel::Elementary,
        TitleLevel::Assistant,
        TitleLevel::Intermediate,
        TitleLevel::AssociateSenior,
        TitleLevel::Senior,
    ];

    /// The Chinese label used in policy text and catalog files.
    pub fn label_zh(self) -> &'static str {
        match self {
            TitleLevel::Elementary => "员级",
            TitleLevel::Assistant => "助理级",
            TitleLevel::Intermediate => "中级",
            TitleLevel::AssociateSenior => "副高级",
            TitleLevel::Senior => "正高级",
        }
    }

    /// An English label for explanations.
    pub fn label_en(self) -> &'static str {
        match self {
            TitleLevel::Elementary => "elementary",
            TitleLevel::Assistant => "assistant",
            TitleLevel::Intermediate => "intermediate",
            TitleLevel::AssociateSenior => "associate senior",
            TitleLevel::Senior => "senior",
        }
    }

    /// Parses a Chinese label; "初级" is accepted as the common name of 助理级.
    pub fn from_label_zh(label: &str) -> Option<TitleLevel> {
        match label {
            "初级" => Some(TitleLevel::Assistant),
            _ => Self::ALL
                .into_iter()
                .find(|level| level.label_zh() == label),
        }
    }
}

impl fmt::Display for TitleLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label_zh())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_ordered_lowest_to_highest() {
        let mut sorted = TitleLevel::ALL;
        sorted.sort();
        assert_eq!(sorted, TitleLevel::ALL);
        assert!(TitleLevel::AssociateSenior > TitleLevel::Intermediate);
    }

    #[test]
    fn chinese_labels_round_trip() {
        for level in TitleLevel::ALL {
            assert_eq!(TitleLevel::from_label_zh(level.label_zh()), Some(level));
        }
        assert_eq!(
            TitleLevel::from_label_zh("初级"),
            Some(TitleLevel::Assistant)
        );
        assert_eq!(TitleLevel::from_label_zh("高级"), None);
    }
}
