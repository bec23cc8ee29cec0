//! Hong Kong and Taiwan wording of the list's vocabulary, for queries: 網路 is 网络 in another
//! region's words, not in another script, so [`super::script`] cannot fold it.
//!
//! A short list owned by this project, reviewed term by term against the catalog's wording,
//! rather than a phrase-conversion table: those rewrite far more than this list needs, change
//! text lengths, and get some of its words wrong (稽核 → 审核, where the list says 审计). Applied
//! to queries only; the catalog is written in the mainland terms already.

use std::borrow::Cow;

use super::is_cjk;
use super::script::simplified;

/// (regional term, the list's term), both in simplified script; longest first, so a term that
/// holds another is replaced whole.
const TERMS: &[(&str, &str)] = &[
    // The IEEE's name in Taiwan (电机, where the list says 电气).
    ("电机电子工程师学会", "电气电子工程师学会"),
    // The Actuarial Society of Hong Kong's own Chinese name.
    ("香港精算学会", "香港精算协会"),
    ("人工智慧", "人工智能"),
    ("云端运算", "云计算"),
    ("资料储存", "数据存储"),
    ("网路", "网络"),
    ("资讯", "信息"),
    ("稽核", "审计"),
];

/// `query` with the regional terms in it replaced by the list's; the query itself (borrowed)
/// when it holds none. Terms are found in the simplified form of the query, so 網路 and 网路
/// are both replaced; the text returned is then in simplified script.
pub fn to_mainland_terms(query: &str) -> Cow<'_, str> {
    // Most queries hold no character a term starts with: no copy for them.
    let starts_a_term = |c: char| {
        is_cjk(c) && {
            let c = simplified(c);
            TERMS.iter().any(|(regional, _)| regional.starts_with(c))
        }
    };
    if query.is_ascii() || !query.chars().any(starts_a_term) {
        return Cow::Borrowed(query);
    }
    let folded: String = query.chars().map(simplified).collect();
    if !TERMS.iter().any(|(regional, _)| folded.contains(regional)) {
        return Cow::Borrowed(query);
    }
    let mut text = folded;
    for (regional, mainland) in TERMS {
        if text.contains(regional) {
            text = text.replace(regional, mainland);
        }
    }
    Cow::Owned(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regional_terms_become_the_lists_terms() {
        for (query, expected) in [
            ("華為數通網路專家認證", "华为数通网络专家认证"),
            ("華為雲端運算專家認證", "华为云计算专家认证"),
            ("華為資料儲存專家認證", "华为数据存储专家认证"),
            ("資訊系統稽核師", "信息系统审计师"),
            ("人工智慧訓練師（高級）", "人工智能训练师（高级）"),
            ("電機電子工程師學會會士", "电气电子工程师学会会士"),
            ("香港精算學會正會員", "香港精算协会正会员"),
            ("华为数通网路专家", "华为数通网络专家"),
        ] {
            assert_eq!(to_mainland_terms(query), expected, "{query}");
        }
    }

    #[test]
    fn queries_without_regional_terms_are_borrowed_unchanged() {
        for query in ["FCCA", "會計師", "华为数通网络专家认证", "IEEE Fellow", ""] {
            assert!(matches!(to_mainland_terms(query), Cow::Borrowed(q) if q == query));
        }
    }

    #[test]
    fn the_lists_terms_are_not_regional_terms() {
        for (regional, mainland) in TERMS {
            assert!(
                !TERMS.iter().any(|(r, _)| mainland.contains(r)),
                "{regional}"
            );
            assert_eq!(
                regional.chars().map(simplified).collect::<String>(),
                *regional
            );
        }
    }
}
