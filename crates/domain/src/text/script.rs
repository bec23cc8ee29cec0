//! Traditional → simplified Chinese, one character at a time, so that 會計師 finds 会计师.
//!
//! The table is OpenCC's `TSCharacters` (Apache-2.0) as the `hanconv` crate ships it, compiled
//! in; a character with several simplified forms takes OpenCC's first (乾 → 干). Character for
//! character on purpose: a folded text has as many characters as the original, so a word's
//! character offsets still point into the text it came from (highlights stay right), and
//! phrase tables, which rewrite vocabulary (程式設計師 → 程序员) and change lengths, stay out of
//! the index. Words that differ between regions rather than scripts (網路 for 网络) are
//! [`super::regional`]'s, and apply to queries only. Simplified text is left as it is: the
//! table's simplified forms map to themselves (all but one rare character, 苧).
//!
//! Speed: the CJK Unified Ideographs block, where all but a few entries are, is looked up in a
//! dense array built on first use (84 KB); the rest by binary search. The plain reference is
//! the crate's table read into a map, and a test checks both agree on every entry.

use std::sync::LazyLock;

use hanconv::RawDictionary;

/// First and last character of the dense part of the table.
const BLOCK_START: u32 = 0x4E00;
const BLOCK_END: u32 = 0x9FFF;

struct Table {
    /// `block[c - BLOCK_START]` is the simplified form of `c` (itself when it has none).
    block: Box<[char]>,
    /// Entries outside the block, sorted by the traditional character.
    rest: Box<[(char, char)]>,
}

static TABLE: LazyLock<Table> = LazyLock::new(Table::build);

/// Each traditional character and its first simplified form, as the crate lists them.
fn entries() -> impl Iterator<Item = (char, char)> {
    RawDictionary::TSCharacters.iter().filter_map(|(from, to)| {
        let mut from_chars = from.chars();
        let mut to_chars = to.chars();
        match (from_chars.next(), from_chars.next(), to_chars.next()) {
            (Some(from), None, Some(to)) if to_chars.next().is_none() => Some((from, to)),
            _ => None,
        }
    })
}

impl Table {
    fn build() -> Table {
        let mut block: Box<[char]> = (BLOCK_START..=BLOCK_END)
            .map(|c| char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect();
        let mut rest = Vec::new();
        for (from, to) in entries() {
            match (from as u32).checked_sub(BLOCK_START) {
                Some(i) if from as u32 <= BLOCK_END => block[i as usize] = to,
                _ => rest.push((from, to)),
            }
        }
        rest.sort_unstable();
        rest.dedup_by_key(|&mut (from, _)| from);
        Table {
            block,
            rest: rest.into_boxed_slice(),
        }
    }
}

/// The simplified form of `c`; `c` itself when it has none (simplified characters, Latin...).
#[inline]
pub fn simplified(c: char) -> char {
    let code = c as u32;
    if !super::is_cjk(c) {
        return c;
    }
    let table = &*TABLE;
    if (BLOCK_START..=BLOCK_END).contains(&code) {
        return table.block[(code - BLOCK_START) as usize];
    }
    match table.rest.binary_search_by_key(&c, |&(from, _)| from) {
        Ok(i) => table.rest[i].1,
        Err(_) => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// The crate's table as a plain map, first entry of a character winning.
    fn reference() -> HashMap<char, char> {
        let mut map = HashMap::new();
        for (from, to) in entries() {
            map.entry(from).or_insert(to);
        }
        map
    }

    #[test]
    fn the_table_agrees_with_the_crate_for_every_character_it_lists() {
        let reference = reference();
        assert!(reference.len() > 4000, "{}", reference.len());
        for (&from, &to) in &reference {
            assert_eq!(simplified(from), to, "{from}");
        }
        for code in (0..0x3_0000).step_by(7) {
            if let Some(c) = char::from_u32(code) {
                assert_eq!(
                    simplified(c),
                    *reference.get(&c).unwrap_or(&c),
                    "U+{code:04X}"
                );
            }
        }
    }

    #[test]
    fn the_list_vocabulary_folds_to_the_list_wording() {
        for (traditional, simplified_text) in [
            ("會計師", "会计师"),
            ("認證", "认证"),
            ("網絡", "网络"),
            ("精算師", "精算师"),
            ("協會", "协会"),
            ("資深會員", "资深会员"),
            ("電氣電子工程師學會", "电气电子工程师学会"),
            ("華為數通網絡專家", "华为数通网络专家"),
            ("註冊國際商務會展專業人士", "注册国际商务会展专业人士"),
        ] {
            let folded: String = traditional.chars().map(simplified).collect();
            assert_eq!(folded, simplified_text);
        }
    }

    #[test]
    fn simplified_and_latin_text_is_left_as_it_is() {
        let text = "ACCA会计师证书 特许金融分析师 覆盖 著名 乾隆 于是 后来 干部 系统 准则 台风 「」〇 ＡＣＣＡ";
        let folded: String = text.chars().map(simplified).collect();
        assert_eq!(folded.chars().count(), text.chars().count());
        for (a, b) in text.chars().zip(folded.chars()) {
            if a != b {
                // Only characters that are traditional forms themselves may change.
                assert!(reference().contains_key(&a), "{a} -> {b}");
            }
        }
        assert_eq!(
            "ACCA会计师证书 特许金融分析师"
                .chars()
                .map(simplified)
                .collect::<String>(),
            "ACCA会计师证书 特许金融分析师"
        );
    }
}
