//! Text normalization shared by indexing and querying, so both sides see the same units.
//!
//! Text is folded with Unicode NFKC (full-width `ＡＣＣＡ（高级）` becomes `acca(高级)`), lower-cased,
//! and split into words: runs of Latin letters/digits, and runs of CJK characters. Punctuation
//! and spaces only separate words. Noise words that applicants add ("证书", "certified", "holder")
//! are dropped. Matching works on *units*: each Latin word, and each CJK bigram (a CJK run of
//! one character is a unigram), because Chinese is not written with spaces.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Latin words that carry no meaning for identifying a certificate.
const LATIN_NOISE: &[&str] = &[
    "a",
    "an",
    "and",
    "cert",
    "certificate",
    "certificates",
    "certification",
    "certified",
    "credential",
    "holder",
    "of",
    "the",
];

/// CJK sequences applicants add around a name; they split a run like a space would.
const CJK_NOISE: &[&str] = &["持证人", "证书", "认证", "持有"];

/// A word of normalized text and where it came from in the original string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// Normalized text: lower-case Latin/digits, or CJK characters.
    pub text: String,
    pub cjk: bool,
    /// Character offset in the original text of each character of `text`.
    pub origins: Vec<usize>,
}

/// One matching unit: a Latin word or a CJK bigram/unigram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    pub text: String,
    pub cjk: bool,
    /// Half-open range of character offsets in the original text.
    pub start: usize,
    pub end: usize,
}

/// The normalized view of a piece of text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Analyzed {
    /// Every unit, in text order (may repeat).
    pub units: Vec<Unit>,
    /// The words concatenated without separators: the form exact matching compares.
    pub compact: String,
}

impl Analyzed {
    /// The distinct unit texts, in first-seen order.
    pub fn distinct_units(&self) -> Vec<&str> {
        let mut seen: Vec<&str> = Vec::with_capacity(self.units.len());
        for unit in &self.units {
            if !seen.contains(&unit.text.as_str()) {
                seen.push(&unit.text);
            }
        }
        seen
    }
}

/// True for characters of scripts written without spaces between words.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // Hiragana, Katakana
        | 0x3400..=0x4DBF    // CJK Extension A
        | 0x4E00..=0x9FFF    // CJK Unified Ideographs
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xF900..=0xFAFF    // CJK Compatibility Ideographs
        | 0x20000..=0x3FFFF) // CJK Extensions B and later
}

/// NFKC, lower case, punctuation and whitespace folded to single spaces, trimmed.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in words(text) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&word.text);
    }
    out
}

/// ASCII and CJK Unified Ideographs, which NFKC leaves as they are and lower-casing changes
/// at most by ASCII case: most catalog text, folded without an NFKC iterator per character.
fn folds_to_itself(c: char) -> bool {
    c.is_ascii() || ('\u{4E00}'..='\u{9FFF}').contains(&c)
}

/// Splits text into normalized words, noise removed.
pub fn words(text: &str) -> Vec<Word> {
    let mut raw: Vec<Word> = Vec::new();
    let mut current: Option<Word> = None;
    let mut push = |c: char, offset: usize| {
        if is_combining_mark(c) {
            return;
        }
        let class = if is_cjk(c) {
            Some(true)
        } else if c.is_alphanumeric() {
            Some(false)
        } else {
            None
        };
        match (class, current.as_mut()) {
            (Some(cjk), Some(word)) if word.cjk == cjk => {
                word.text.push(c);
                word.origins.push(offset);
            }
            (Some(cjk), _) => {
                raw.extend(current.take());
                current = Some(Word {
                    text: c.to_string(),
                    cjk,
                    origins: vec![offset],
                });
            }
            (None, _) => raw.extend(current.take()),
        }
    };
    for (offset, original) in text.chars().enumerate() {
        if folds_to_itself(original) {
            push(original.to_ascii_lowercase(), offset);
            continue;
        }
        for folded in std::iter::once(original).nfkc() {
            for c in folded.to_lowercase() {
                push(c, offset);
            }
        }
    }
    raw.extend(current);

    let mut out = Vec::with_capacity(raw.len());
    for word in raw {
        if word.cjk {
            split_cjk_noise(word, &mut out);
        } else if !LATIN_NOISE.contains(&word.text.as_str()) {
            out.push(word);
        }
    }
    out
}

fn split_cjk_noise(word: Word, out: &mut Vec<Word>) {
    let chars: Vec<char> = word.text.chars().collect();
    let mut start = 0;
    let mut i = 0;
    // Byte offset of `chars[i]` in `word.text`: a char sequence starts with a noise word
    // exactly when its UTF-8 text does, so no noise word is collected into chars.
    let mut byte = 0;
    while i < chars.len() {
        let rest = &word.text[byte..];
        match CJK_NOISE.iter().find(|noise| rest.starts_with(**noise)) {
            Some(noise) => {
                push_cjk(&chars[start..i], &word.origins[start..i], out);
                i += noise.chars().count();
                byte += noise.len();
                start = i;
            }
            None => {
                byte += chars[i].len_utf8();
                i += 1;
            }
        }
    }
    push_cjk(&chars[start..], &word.origins[start..], out);
}

fn push_cjk(chars: &[char], origins: &[usize], out: &mut Vec<Word>) {
    if !chars.is_empty() {
        out.push(Word {
            text: chars.iter().collect(),
            cjk: true,
            origins: origins.to_vec(),
        });
    }
}

/// Normalizes text and cuts it into matching units.
pub fn analyze(text: &str) -> Analyzed {
    let words = words(text);
    let mut analyzed = Analyzed::default();
    for word in &words {
        analyzed.compact.push_str(&word.text);
        if !word.cjk {
            analyzed.units.push(Unit {
                text: word.text.clone(),
                cjk: false,
                start: word.origins[0],
                end: word.origins[word.origins.len() - 1] + 1,
            });
            continue;
        }
        let chars: Vec<char> = word.text.chars().collect();
        if chars.len() == 1 {
            analyzed.units.push(Unit {
                text: word.text.clone(),
                cjk: true,
                start: word.origins[0],
                end: word.origins[0] + 1,
            });
            continue;
        }
        for i in 0..chars.len() - 1 {
            analyzed.units.push(Unit {
                text: chars[i..i + 2].iter().collect(),
                cjk: true,
                start: word.origins[i],
                end: word.origins[i + 1] + 1,
            });
        }
    }
    analyzed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit_texts(text: &str) -> Vec<String> {
        analyze(text).units.into_iter().map(|u| u.text).collect()
    }

    #[test]
    fn full_width_and_case_fold_to_ascii_lower_case() {
        assert_eq!(normalize("ＡＣＣＡ资深会员"), "acca 资深会员");
        assert_eq!(normalize("  Fcca "), "fcca");
    }

    #[test]
    fn punctuation_separates_words() {
        assert_eq!(normalize("HCIE-Datacom"), "hcie datacom");
        assert_eq!(normalize("CPA (Australia)"), "cpa australia");
        assert_eq!(normalize("人工智能训练师（高级）"), "人工智能训练师 高级");
    }

    #[test]
    fn noise_words_are_dropped_on_both_sides() {
        assert_eq!(normalize("CISA certified holder"), "cisa");
        assert_eq!(normalize("IEEE会士证书（Fellow）"), "ieee 会士 fellow");
        assert_eq!(normalize("FCCA持证人"), "fcca");
        assert_eq!(normalize("Fellow of the IEEE"), "fellow ieee");
    }

    #[test]
    fn compact_form_ignores_separators() {
        assert_eq!(
            analyze("HCIE Datacom").compact,
            analyze("hcie-datacom").compact
        );
        assert_eq!(analyze("华为 HCIE-Datacom").compact, "华为hciedatacom");
    }

    #[test]
    fn cjk_is_cut_into_bigrams_and_latin_into_words() {
        assert_eq!(unit_texts("精算师"), ["精算", "算师"]);
        assert_eq!(unit_texts("澳洲CPA"), ["澳洲", "cpa"]);
        assert_eq!(unit_texts("华 IEEE"), ["华", "ieee"]);
    }

    #[test]
    fn unit_offsets_point_into_the_original_text() {
        let text = "ＡＣＣＡ资深会员";
        let analyzed = analyze(text);
        let acca = &analyzed.units[0];
        assert_eq!((acca.start, acca.end), (0, 4));
        let last = analyzed
            .units
            .last()
            .map(|u| (u.text.as_str(), u.start, u.end));
        assert_eq!(last, Some(("会员", 6, 8)));
    }

    #[test]
    fn characters_that_fold_to_themselves_do() {
        let chars = (0..0x80).chain(0x4E00..=0x9FFF).filter_map(char::from_u32);
        for c in chars {
            assert!(folds_to_itself(c));
            let folded: String = std::iter::once(c)
                .nfkc()
                .flat_map(char::to_lowercase)
                .collect();
            assert_eq!(folded, c.to_ascii_lowercase().to_string(), "{c:?}");
        }
        assert!(!folds_to_itself('\u{F900}') && !folds_to_itself('Ａ'));
    }

    proptest::proptest! {
        #[test]
        fn normalization_is_idempotent_and_offsets_stay_in_the_text(text in "\\PC{0,256}") {
            let once = normalize(&text);
            proptest::prop_assert_eq!(normalize(&once), once.clone());
            let chars = text.chars().count();
            for unit in analyze(&text).units {
                proptest::prop_assert!(unit.start < unit.end && unit.end <= chars, "{:?}", unit);
            }
        }
    }

    #[test]
    fn empty_and_symbol_only_text_has_no_units() {
        assert!(analyze("").units.is_empty());
        assert!(analyze(" -()（）。 ").units.is_empty());
        assert!(analyze("证书").units.is_empty());
    }
}
