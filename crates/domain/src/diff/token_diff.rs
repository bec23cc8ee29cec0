//! The token diff of two texts. Tokens are what a reader sees as units: a Latin word, a
//! number, one CJK character, one punctuation mark, a run of spaces.

use similar::{Algorithm, DiffTag, capture_diff_slices};

use super::{Segment, SegmentKind};
use crate::text::is_cjk;

/// The tokens of a text: a run of Latin letters and digits (a word or a number), a run of
/// spaces, or any other single character (a CJK character, a punctuation mark).
pub fn tokens(text: &str) -> Vec<&str> {
    #[derive(PartialEq)]
    enum Class {
        Word,
        Space,
        Single,
    }
    let class = |c: char| {
        if c.is_alphanumeric() && !is_cjk(c) {
            Class::Word
        } else if c.is_whitespace() {
            Class::Space
        } else {
            Class::Single
        }
    };
    let mut out = Vec::new();
    let mut start = 0;
    let mut current: Option<Class> = None;
    for (at, c) in text.char_indices() {
        let this = class(c);
        let joins = current
            .as_ref()
            .is_some_and(|cur| *cur == this && this != Class::Single);
        if !joins && at > start {
            out.push(&text[start..at]);
            start = at;
        }
        current = Some(this);
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// The token diff of two texts, as runs of kept, removed and added text (a removal before the
/// addition that replaces it).
pub fn text_diff(old: &str, new: &str) -> Vec<Segment> {
    let (a, b) = (tokens(old), tokens(new));
    let mut segments: Vec<Segment> = Vec::new();
    let mut push = |kind: SegmentKind, parts: &[&str]| {
        if parts.is_empty() {
            return;
        }
        match segments.last_mut() {
            Some(last) if last.kind == kind => last.text.push_str(&parts.concat()),
            _ => segments.push(Segment {
                kind,
                text: parts.concat(),
            }),
        }
    };
    for op in capture_diff_slices(Algorithm::Patience, &a, &b) {
        let (tag, old_range, new_range) = op.as_tag_tuple();
        match tag {
            DiffTag::Equal => push(SegmentKind::Same, &a[old_range]),
            DiffTag::Delete => push(SegmentKind::Removed, &a[old_range]),
            DiffTag::Insert => push(SegmentKind::Added, &b[new_range]),
            DiffTag::Replace => {
                push(SegmentKind::Removed, &a[old_range]);
                push(SegmentKind::Added, &b[new_range]);
            }
        }
    }
    merge_scattered(segments)
}

/// Folds a one-token kept run between two changes into them, so that "高级会计" → "中级会计"
/// reads as one replacement rather than alternating fragments.
fn merge_scattered(segments: Vec<Segment>) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::with_capacity(segments.len());
    let changed = |s: Option<&Segment>| s.is_some_and(|s| s.kind != SegmentKind::Same);
    for i in 0..segments.len() {
        let segment = &segments[i];
        let short = segment.kind == SegmentKind::Same && tokens(&segment.text).len() == 1;
        if short
            && changed(i.checked_sub(1).and_then(|p| segments.get(p)))
            && changed(segments.get(i + 1))
        {
            // The kept token goes into both the removed and the added text around it.
            let removed = Segment {
                kind: SegmentKind::Removed,
                text: segment.text.clone(),
            };
            let added = Segment {
                kind: SegmentKind::Added,
                text: segment.text.clone(),
            };
            append(&mut out, removed);
            append(&mut out, added);
        } else {
            append(&mut out, segment.clone());
        }
    }
    // Put each run of changes in the order removed, then added.
    let mut ordered: Vec<Segment> = Vec::with_capacity(out.len());
    let mut removed = String::new();
    let mut added = String::new();
    for segment in out {
        match segment.kind {
            SegmentKind::Removed => removed.push_str(&segment.text),
            SegmentKind::Added => added.push_str(&segment.text),
            SegmentKind::Same => {
                flush(&mut ordered, &mut removed, &mut added);
                ordered.push(segment);
            }
        }
    }
    flush(&mut ordered, &mut removed, &mut added);
    ordered
}

fn append(out: &mut Vec<Segment>, segment: Segment) {
    match out.last_mut() {
        Some(last) if last.kind == segment.kind => last.text.push_str(&segment.text),
        _ => out.push(segment),
    }
}

fn flush(out: &mut Vec<Segment>, removed: &mut String, added: &mut String) {
    for (kind, text) in [(SegmentKind::Removed, removed), (SegmentKind::Added, added)] {
        if !text.is_empty() {
            out.push(Segment {
                kind,
                text: std::mem::take(text),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(segments: &[Segment]) -> String {
        segments
            .iter()
            .map(|s| match s.kind {
                SegmentKind::Same => s.text.clone(),
                SegmentKind::Removed => format!("[-{}-]", s.text),
                SegmentKind::Added => format!("{{+{}+}}", s.text),
            })
            .collect()
    }

    #[test]
    fn tokens_are_latin_words_and_single_cjk_characters() {
        assert_eq!(
            tokens("ACCA会计师 Fellow，2024年"),
            ["ACCA", "会", "计", "师", " ", "Fellow", "，", "2024", "年"]
        );
        assert_eq!(tokens(""), Vec::<&str>::new());
        assert_eq!(tokens("a  b"), ["a", "  ", "b"]);
    }

    #[test]
    fn text_diffs_show_what_changed_at_character_level_in_chinese() {
        let table = [
            (
                "申报高一级职称需取得高级会计专业技术资格",
                "申报高一级职称需取得中级会计专业技术资格",
                "申报高一级职称需取得[-高-]{+中+}级会计专业技术资格",
            ),
            (
                "可免考9门ACCA会计师课程。",
                "可免考8门ACCA会计师课程。",
                "可免考[-9-]{+8+}门ACCA会计师课程。",
            ),
            (
                "Fellow of the IEEE",
                "Senior Member of the IEEE",
                "[-Fellow-]{+Senior Member+} of the IEEE",
            ),
            (
                "从事金融工作。",
                "从事金融工作。另有说明。",
                "从事金融工作。{+另有说明。+}",
            ),
            ("甲乙丙", "丁乙戊", "[-甲乙丙-]{+丁乙戊+}"),
        ];
        for (old, new, expected) in table {
            let segments = text_diff(old, new);
            assert_eq!(render(&segments), expected, "{old} -> {new}");
            let kept_or = |kind| {
                segments
                    .iter()
                    .filter(|s| s.kind == SegmentKind::Same || s.kind == kind)
                    .map(|s| s.text.as_str())
                    .collect::<String>()
            };
            assert_eq!(kept_or(SegmentKind::Removed), old);
            assert_eq!(kept_or(SegmentKind::Added), new);
        }
    }
}
