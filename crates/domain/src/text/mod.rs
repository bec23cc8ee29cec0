//! Text normalization shared by indexing and querying, so both sides see the same units.
//!
//! Text is folded with Unicode NFKC (full-width `ＡＣＣＡ（高级）` becomes `acca(高级)`), lower-cased,
//! and split into words: runs of Latin letters/digits, and runs of CJK characters. Punctuation
//! and spaces only separate words. Noise words that applicants add ("证书", "certified", "holder")
//! are dropped. Matching works on *units*: each Latin word, and each CJK bigram (a CJK run of
//! one character is a unigram), because Chinese is not written with spaces.

mod regional;
mod script;

pub use regional::to_mainland_terms;
pub use script::simplified;

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

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

/// A word as [`for_each_word`] hands it out, borrowed from a scratch buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WordRef<'a> {
    /// Normalized text: lower-case Latin/digits, or CJK characters.
    pub text: &'a str,
    pub cjk: bool,
    /// Character offset in the original text of each character of `text`.
    pub origins: &'a [usize],
}

/// A unit as [`for_each_unit`] hands it out; see [`Unit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnitRef<'a> {
    pub text: &'a str,
    pub cjk: bool,
    pub start: usize,
    pub end: usize,
}

/// Folds one character of the original text (NFKC, lower case, combining marks dropped,
/// traditional Chinese to simplified) and passes on what it becomes: none, one or several
/// characters.
#[inline]
fn fold(original: char, mut f: impl FnMut(char)) {
    // Fast paths, same result as the general one below.
    if original.is_ascii() {
        return f(original.to_ascii_lowercase());
    }
    if ('\u{4E00}'..='\u{9FFF}').contains(&original) {
        return f(simplified(original));
    }
    // Full-width ASCII forms (ＡＣＣＡ, （）) are, under NFKC, the ASCII characters 0xFEE0 below.
    if ('\u{FF01}'..='\u{FF5E}').contains(&original)
        && let Some(ascii) = char::from_u32(original as u32 - 0xFEE0)
    {
        return f(ascii.to_ascii_lowercase());
    }
    // A character that passes the NFKC quick check is its own NFKC form.
    if is_nfkc_quick(std::iter::once(original)) == IsNormalized::Yes {
        for c in original.to_lowercase() {
            if !is_combining_mark(c) {
                f(simplified(c));
            }
        }
        return;
    }
    for folded in std::iter::once(original).nfkc() {
        for c in folded.to_lowercase() {
            if !is_combining_mark(c) {
                f(simplified(c));
            }
        }
    }
}

/// Calls `f` with each normalized word of `text`, noise removed, in text order. Allocates
/// nothing per word: the hot path of every search and evaluation.
pub fn for_each_word(text: &str, mut f: impl FnMut(WordRef<'_>)) {
    // Sized once: a word is never longer than the text (NFKC may expand a character, rarely).
    let mut buf = String::with_capacity(text.len());
    let mut origins: Vec<usize> = Vec::with_capacity(text.len());
    let mut cjk = false;
    let mut words = Words {
        f: &mut f,
        initials: String::new(),
        initial_origins: Vec::new(),
        joinable: false,
    };
    for (offset, original) in text.chars().enumerate() {
        fold(original, |c| {
            let class = if is_cjk(c) {
                Some(true)
            } else if c.is_alphanumeric() {
                Some(false)
            } else {
                None
            };
            match class {
                Some(class) => {
                    if class != cjk {
                        words.word(&mut buf, &mut origins, cjk);
                        cjk = class;
                    }
                    buf.push(c);
                    origins.push(offset);
                }
                None => {
                    words.word(&mut buf, &mut origins, cjk);
                    words.separator(c);
                }
            }
        });
    }
    words.word(&mut buf, &mut origins, cjk);
    words.end_initials();
}

/// Separators that may stand between the letters of an abbreviation: "c.i.a.", "C I A",
/// "C·I·A".
fn joins_initials(c: char) -> bool {
    c == '.' || c == '·' || c == '・' || c.is_whitespace()
}

/// Where [`for_each_word`] sends the words it cuts: passes them on, noise removed, and joins
/// runs of single letters that only [`joins_initials`] separators part ("c.i.a." is the word
/// "cia"). A lone letter stays a word of its own; letters next to longer words never join.
struct Words<'f, F> {
    f: &'f mut F,
    /// The single letters of the current run, and where each came from.
    initials: String,
    initial_origins: Vec<usize>,
    /// Only joining separators followed the last letter of the run.
    joinable: bool,
}

impl<F: FnMut(WordRef<'_>)> Words<'_, F> {
    /// Takes the word in `buf` (if any) and clears it.
    fn word(&mut self, buf: &mut String, origins: &mut Vec<usize>, cjk: bool) {
        if buf.is_empty() {
            return;
        }
        let letter = is_letter(WordRef {
            text: buf,
            cjk,
            origins,
        });
        if cjk {
            self.end_initials();
            split_cjk_noise(buf, origins, self.f);
        } else if letter {
            if !self.joinable {
                self.end_initials();
            }
            self.initials.push_str(buf);
            self.initial_origins.extend_from_slice(origins);
            self.joinable = true;
        } else {
            self.end_initials();
            latin_word(buf, origins, self.f);
        }
        buf.clear();
        origins.clear();
    }

    fn separator(&mut self, c: char) {
        self.joinable &= joins_initials(c);
    }

    /// Passes on the run of single letters, joined.
    fn end_initials(&mut self) {
        if !self.initials.is_empty() {
            latin_word(&self.initials, &self.initial_origins, self.f);
            self.initials.clear();
            self.initial_origins.clear();
        }
        self.joinable = false;
    }
}

fn latin_word(text: &str, origins: &[usize], f: &mut impl FnMut(WordRef<'_>)) {
    if !LATIN_NOISE.contains(&text) {
        f(WordRef {
            text,
            cjk: false,
            origins,
        });
    }
}

/// Cuts a CJK run at the noise sequences in it, like spaces would.
fn split_cjk_noise(text: &str, origins: &[usize], f: &mut impl FnMut(WordRef<'_>)) {
    let mut emit = |start_byte: usize, end_byte: usize, start: usize, end: usize| {
        if start_byte < end_byte {
            f(WordRef {
                text: &text[start_byte..end_byte],
                cjk: true,
                origins: &origins[start..end],
            });
        }
    };
    let (mut start_byte, mut start) = (0, 0);
    let (mut byte, mut i) = (0, 0);
    while let Some(c) = text[byte..].chars().next() {
        let noise = CJK_NOISE
            .iter()
            .find(|noise| noise.starts_with(c) && text[byte..].starts_with(**noise));
        match noise {
            Some(noise) => {
                emit(start_byte, byte, start, i);
                byte += noise.len();
                i += noise.chars().count();
                (start_byte, start) = (byte, i);
            }
            None => {
                byte += c.len_utf8();
                i += 1;
            }
        }
    }
    emit(start_byte, text.len(), start, origins.len());
}

/// Calls `f` with each matching unit of `text`, in text order (units may repeat).
pub fn for_each_unit(text: &str, mut f: impl FnMut(UnitRef<'_>)) {
    for_each_word(text, |word| units_of(word, &mut f));
}

/// Calls `f` with each matching unit of `text`, in text order, and returns the compact form:
/// what [`analyze`] finds, without a `String` per unit (the path of the index build and of
/// query preparation).
pub(crate) fn for_each_unit_with_compact(text: &str, mut f: impl FnMut(UnitRef<'_>)) -> String {
    let mut compact = String::with_capacity(text.len());
    if let Some(words) = ascii_words(text) {
        // One unit per word, a character a byte, each lower-cased straight into `compact`: no
        // scratch buffers (most queries are ASCII).
        for (at, raw) in words {
            let from = compact.len();
            compact.extend(raw.chars().map(|c| c.to_ascii_lowercase()));
            f(UnitRef {
                text: &compact[from..],
                cjk: false,
                start: at,
                end: at + raw.len(),
            });
        }
        return compact;
    }
    for_each_word(text, |word| {
        compact.push_str(word.text);
        units_of(word, &mut f);
    });
    compact
}

fn units_of(word: WordRef<'_>, f: &mut impl FnMut(UnitRef<'_>)) {
    let (Some(&first), Some(&last)) = (word.origins.first(), word.origins.last()) else {
        return;
    };
    if !word.cjk || word.origins.len() == 1 {
        return f(UnitRef {
            text: word.text,
            cjk: word.cjk,
            start: first,
            end: last + 1,
        });
    }
    // Byte offsets of character boundaries after the first: bigram i is bounds i to i + 2.
    let mut bounds = word
        .text
        .char_indices()
        .map(|(b, _)| b)
        .skip(1)
        .chain([word.text.len()]);
    let (mut start, mut middle) = (0, bounds.next().unwrap_or(word.text.len()));
    for (i, end) in bounds.enumerate() {
        f(UnitRef {
            text: &word.text[start..end],
            cjk: true,
            start: word.origins[i],
            end: word.origins[i + 1] + 1,
        });
        (start, middle) = (middle, end);
    }
}

/// NFKC, lower case, punctuation and whitespace folded to single spaces, trimmed.
///
/// Two single letters that stay apart ("x!y") are written "x-y", not "x y", which would join
/// them when normalized again: normalizing normalized text changes nothing.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut after_letter = false;
    for_each_word(text, |word| {
        let letter = is_letter(word);
        if !out.is_empty() {
            out.push(if letter && after_letter { '-' } else { ' ' });
        }
        out.push_str(word.text);
        after_letter = letter;
    });
    out
}

/// A Latin word of one letter (one that [`Words`] could join with the next).
fn is_letter(word: WordRef<'_>) -> bool {
    let mut chars = word.text.chars();
    !word.cjk && matches!((chars.next(), chars.next()), (Some(c), None) if c.is_alphabetic())
}

/// The words of `text` concatenated without separators: [`Analyzed::compact`] alone.
pub fn compact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for_each_word(text, |word| out.push_str(word.text));
    out
}

/// Whether [`compact`] of `text` is `compact`, without making it: a whole-query match is
/// confirmed against a key's text once per search. ASCII text (most names) is read word by
/// word as [`for_each_word`] would cut it: runs of ASCII letters and digits, lower-cased, less
/// the noise words.
pub(crate) fn compact_equals(text: &str, compact: &str) -> bool {
    let Some(words) = ascii_words(text) else {
        let mut rest = Some(compact);
        for_each_word(text, |word| {
            rest = rest.and_then(|rest| rest.strip_prefix(word.text));
        });
        return rest.is_some_and(str::is_empty);
    };
    let mut rest = compact.as_bytes();
    for (_, raw) in words {
        let Some((head, tail)) = rest.split_at_checked(raw.len()) else {
            return false;
        };
        if !head
            .iter()
            .zip(raw.bytes())
            .all(|(&a, b)| a == b.to_ascii_lowercase())
        {
            return false;
        }
        rest = tail;
    }
    rest.is_empty()
}

/// The words of ASCII text, as [`for_each_word`] cuts them, with their byte offsets (a
/// character a byte): the runs of ASCII letters and digits, less the noise words (in any
/// case); lower-casing them is all the folding they need, since NFKC leaves ASCII as it is.
/// `None` when the text is not ASCII or has letters to join ("c.i.a."): then only
/// [`for_each_word`] cuts it right. The one place this rule is written: the fast paths for
/// ASCII names and queries use it, and a test checks it against `for_each_word`.
pub(crate) fn ascii_words(text: &str) -> Option<impl Iterator<Item = (usize, &str)>> {
    if !text.is_ascii() || has_initials(text) {
        return None;
    }
    let mut start = 0;
    Some(
        text.split(|c: char| !c.is_ascii_alphanumeric())
            .filter_map(move |raw| {
                let at = start;
                start += raw.len() + 1;
                let noise = LATIN_NOISE.iter().any(|n| n.eq_ignore_ascii_case(raw));
                (!raw.is_empty() && !noise).then_some((at, raw))
            }),
    )
}

/// Whether ASCII `text` has two single letters that only joining separators part.
fn has_initials(text: &str) -> bool {
    let bytes = text.as_bytes();
    // Just after a single letter, with only joining separators since.
    let mut after_letter = false;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_alphanumeric() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
                i += 1;
            }
            let letter = i - start == 1 && bytes[start].is_ascii_alphabetic();
            if letter && after_letter {
                return true;
            }
            after_letter = letter;
        } else {
            after_letter &= joins_initials(char::from(bytes[i]));
            i += 1;
        }
    }
    false
}

/// Splits text into normalized words, noise removed.
pub fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    for_each_word(text, |word| {
        out.push(Word {
            text: word.text.to_owned(),
            cjk: word.cjk,
            origins: word.origins.to_vec(),
        })
    });
    out
}

/// Normalizes text and cuts it into matching units.
pub fn analyze(text: &str) -> Analyzed {
    let mut analyzed = Analyzed::default();
    for_each_word(text, |word| {
        analyzed.compact.push_str(word.text);
        units_of(word, &mut |unit: UnitRef<'_>| {
            analyzed.units.push(Unit {
                text: unit.text.to_owned(),
                cjk: unit.cjk,
                start: unit.start,
                end: unit.end,
            })
        });
    });
    analyzed
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first implementation (one `String` and `Vec` per word and unit), kept as the
    /// reference the allocation-free one is checked against.
    mod reference {
        use super::super::*;

        /// NFKC, lower case, punctuation and whitespace folded to single spaces, trimmed.
        pub fn normalize(text: &str) -> String {
            let words = words(text);
            let letter = |w: &Word| {
                !w.cjk && w.text.chars().count() == 1 && w.text.chars().all(char::is_alphabetic)
            };
            let mut out = String::with_capacity(text.len());
            for (i, word) in words.iter().enumerate() {
                if i > 0 {
                    out.push(if letter(&words[i - 1]) && letter(word) {
                        '-'
                    } else {
                        ' '
                    });
                }
                out.push_str(&word.text);
            }
            out
        }

        /// Splits text into normalized words, noise removed.
        pub fn words(text: &str) -> Vec<Word> {
            let mut raw: Vec<Word> = Vec::new();
            // Per word of `raw`: only joining separators stood between it and the word before.
            let mut soft_before: Vec<bool> = Vec::new();
            let mut soft = true;
            let mut current: Option<Word> = None;
            for (offset, original) in text.chars().enumerate() {
                for folded in std::iter::once(original).nfkc() {
                    for c in folded.to_lowercase() {
                        if is_combining_mark(c) {
                            continue;
                        }
                        let c = simplified(c);
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
                                soft_before.push(soft);
                                soft = true;
                                current = Some(Word {
                                    text: c.to_string(),
                                    cjk,
                                    origins: vec![offset],
                                });
                            }
                            (None, _) => {
                                raw.extend(current.take());
                                soft &= joins_initials(c);
                            }
                        }
                    }
                }
            }
            raw.extend(current);

            // Runs of single letters with only joining separators between them are one word.
            let letter = |w: &Word| {
                let mut chars = w.text.chars();
                !w.cjk
                    && matches!((chars.next(), chars.next()), (Some(c), None) if c.is_alphabetic())
            };
            // (word, made of single letters only)
            let mut runs: Vec<(Word, bool)> = Vec::with_capacity(raw.len());
            for (word, soft) in raw.into_iter().zip(soft_before) {
                let single = letter(&word);
                match runs.last_mut() {
                    Some((run, true)) if single && soft => {
                        run.text.push_str(&word.text);
                        run.origins.extend(word.origins);
                    }
                    _ => runs.push((word, single)),
                }
            }
            let joined: Vec<Word> = runs.into_iter().map(|(word, _)| word).collect();

            let mut out = Vec::with_capacity(joined.len());
            for word in joined {
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
            while i < chars.len() {
                let noise_len = CJK_NOISE.iter().find_map(|noise| {
                    let n: Vec<char> = noise.chars().collect();
                    chars[i..].starts_with(&n).then_some(n.len())
                });
                match noise_len {
                    Some(len) => {
                        push_cjk(&chars[start..i], &word.origins[start..i], out);
                        i += len;
                        start = i;
                    }
                    None => i += 1,
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
    }

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
    fn the_fast_paths_of_fold_agree_with_nfkc_and_lower_case() {
        // ASCII and the CJK Unified Ideographs: NFKC leaves them as they are and lower-casing
        // changes at most ASCII case; the fast paths skip both and only fold the script.
        let chars = (0..0x80).chain(0x4E00..=0x9FFF).filter_map(char::from_u32);
        for c in chars {
            let general: String = std::iter::once(c)
                .nfkc()
                .flat_map(char::to_lowercase)
                .map(simplified)
                .collect();
            let mut fast = String::new();
            fold(c, |c| fast.push(c));
            assert_eq!(fast, general, "{c:?}");
        }
    }

    #[test]
    fn dotted_and_spaced_letters_join_into_one_word() {
        for (text, expected) in [
            ("c.i.a.", "cia"),
            ("C I A", "cia"),
            ("C. I. A.", "cia"),
            ("h.c.i.e.", "hcie"),
            ("Ｃ．Ｉ．Ａ．", "cia"),
            ("C·I·A", "cia"),
            ("F.R.S.C.", "frsc"),
            // A lone letter stays a word; noise as before.
            ("A Fellow", "fellow"),
            ("CPA (Australia)", "cpa australia"),
            // Letters next to longer words do not join them.
            ("C IA", "c ia"),
            ("ACCA F", "acca f"),
            // Only dots, middle dots and whitespace join: "x-y" stays two words.
            ("C-I-A", "c-i"),
            ("C/I A", "c ia"),
            // Chinese between letters parts them.
            ("A类B类", "类 b 类"),
        ] {
            assert_eq!(normalize(text), expected, "{text}");
        }
        let joined = &words("c.i.a.")[0];
        assert_eq!(joined.origins, [0, 2, 4]);
    }

    #[test]
    fn traditional_text_is_analysed_as_its_simplified_form_at_the_same_offsets() {
        let traditional = analyze("ＩＥＥＥ會士證書");
        let simplified = analyze("ＩＥＥＥ会士证书");
        assert_eq!(traditional, simplified);
        assert_eq!(normalize("英國皇家化學會 會員"), "英国皇家化学会 会员");
    }

    proptest::proptest! {
        #[test]
        fn allocation_free_analysis_equals_the_reference(
            text in "(\\PC|[\u{FF00}-\u{FF65}]|[aA0 ＡＣＦｆ证书持证人认证持有精算师华为会员證書認證會員華為師-（）.éﬁ㈱Ⅻİ\u{0301}\u{3000}]|certified|the|Of){0,40}"
        ) {
            proptest::prop_assert_eq!(analyze(&text), reference::analyze(&text));
            proptest::prop_assert_eq!(words(&text), reference::words(&text));
            proptest::prop_assert_eq!(normalize(&text), reference::normalize(&text));
            proptest::prop_assert_eq!(compact(&text), reference::analyze(&text).compact);
            let mut streamed = Vec::new();
            for_each_unit(&text, |u| streamed.push((u.text.to_owned(), u.cjk, u.start, u.end)));
            let owned: Vec<_> = reference::analyze(&text)
                .units
                .into_iter()
                .map(|u| (u.text, u.cjk, u.start, u.end))
                .collect();
            proptest::prop_assert_eq!(streamed, owned);
        }

        #[test]
        fn units_with_compact_are_those_of_analyze(
            text in "([ -~]|[ＡＣＦｆ证书精算师华为会员（）éﬁ]|certified|The|OF|a|An){0,24}"
        ) {
            let mut units = Vec::new();
            let compact = for_each_unit_with_compact(&text, |u| {
                units.push(Unit { text: u.text.to_owned(), cjk: u.cjk, start: u.start, end: u.end })
            });
            proptest::prop_assert_eq!(Analyzed { units, compact }, analyze(&text));
        }

        #[test]
        fn compact_equals_is_compact_then_compare(
            text in "([ -~]|[ＡＣＦｆ证书持证人精算师华为会员（）éﬁ]|certified|The|OF){0,16}",
            other in "([a-z0-9]|[证书精算师华为会员]|the|certified){0,8}",
            take in 0usize..20,
        ) {
            let made = compact(&text);
            proptest::prop_assert!(compact_equals(&text, &made));
            for candidate in [
                other.clone(),
                made.chars().take(take).collect::<String>(),
                format!("{made}{other}"),
                format!("{other}{made}"),
            ] {
                proptest::prop_assert_eq!(compact_equals(&text, &candidate), made == candidate);
            }
        }

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

    proptest::proptest! {
        #[test]
        fn ascii_words_are_the_words_of_for_each_word(
            text in "([ -~]|certified|The|OF|a|An|HOLDER|C\\.I\\.A\\.|h c i e){0,24}"
        ) {
            let mut slow = Vec::new();
            for_each_word(&text, |w| slow.push((w.origins[0], w.text.to_owned())));
            match ascii_words(&text) {
                Some(words) => {
                    let fast: Vec<(usize, String)> =
                        words.map(|(at, w)| (at, w.to_ascii_lowercase())).collect();
                    proptest::prop_assert_eq!(fast, slow);
                }
                // Letters to join: some word of for_each_word is letters from apart.
                None => {
                    let mut joined = false;
                    for_each_word(&text, |w| {
                        joined |= w.origins.windows(2).any(|p| p[1] > p[0] + 1);
                    });
                    proptest::prop_assert!(joined);
                }
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
