//! The conditions and notes an entry's remark attaches to a recognised claim, each quoting the
//! part of the remark it rests on.

use std::ops::Range;

use super::{
    Applicant, BasicConditions, ClaimOutcome, Condition, ConditionStatus, Note, Quote, codes,
};
use crate::catalog::Catalog;
use crate::level::TitleLevel;
use crate::model::Certificate;
use crate::rules::{DomesticQualification, Rule};
use crate::text::normalize;

/// Appends the conditions of the entry at `i` to `out`.
pub(super) fn certificate_conditions(
    catalog: &Catalog,
    i: usize,
    cert: &Certificate,
    applicant: &Applicant,
    out: &mut Vec<Condition>,
) {
    let level = cert.title_level;
    out.push(Condition {
        code: codes::BASIC_SERIES_REQUIREMENTS,
        description_zh: [
            "需符合相应职称系列（专业）",
            level.label_zh(),
            "级别的学历、年限等基本标准条件。",
        ]
        .concat(),
        description_en: [
            "Must meet the education and years-of-experience requirements of the corresponding title series at the ",
            level.label_en(),
            " level.",
        ]
        .concat(),
        status: match applicant.basic_conditions {
            BasicConditions::Confirmed => ConditionStatus::Satisfied,
            BasicConditions::NotMet => ConditionStatus::NotSatisfied,
            BasicConditions::Unknown => ConditionStatus::ToVerify,
        },
        cert: i,
        quote: Quote::Remark(clause_containing(&cert.remark, "基本标准条件")),
        blocking: true,
    });
    out.push(Condition {
        code: codes::WORK_FIELD,
        description_zh: ["需从事该证书对应的工作：", &cert.work_scope].concat(),
        description_en: [
            "Must work in the certificate's scope (fields: ",
            &cert.fields.join("、"),
            ").",
        ]
        .concat(),
        status: work_field_status(catalog, cert, applicant.work_field.as_deref()),
        cert: i,
        quote: Quote::WorkScope,
        blocking: true,
    });
    for (r, rule) in cert.rules.iter().enumerate() {
        let quote = || Quote::Remark(catalog.quote_range(i, r).unwrap_or_default());
        match rule {
            Rule::DomesticAccountingForHigherTitle { requires, .. } => {
                let Some(target) = applicant.target.filter(|t| *t > level) else {
                    continue;
                };
                let held = &applicant.domestic_qualifications;
                let met: Vec<Option<DomesticQualification>> = requires
                    .iter()
                    .map(|&q| DomesticQualification::met_by(q, held))
                    .collect();
                let (higher_zh, higher_en) = higher_held(requires, &met);
                out.push(Condition {
                    code: codes::DOMESTIC_ACCOUNTING_QUALIFICATION_FOR_HIGHER_TITLE,
                    description_zh: format!(
                        "申报高一级职称（{}）需取得{}。{higher_zh}",
                        target.label_zh(),
                        labels_zh(requires)
                    ),
                    description_en: format!(
                        "Applying for a higher title ({}) requires {}.{higher_en}",
                        target.label_en(),
                        labels_en(requires)
                    ),
                    status: status_of(met.iter().all(Option::is_some)),
                    cert: i,
                    quote: quote(),
                    // Governs the application above the certificate's level, which
                    // TARGET_LEVEL_EXCEEDS_CATALOG already refuses; it does not take away the
                    // level the certificate itself corresponds to.
                    blocking: false,
                });
            }
            Rule::CicpaForBeijingPractice { .. } => {
                if !applicant.intends_cpa_practice_in_beijing {
                    continue;
                }
                let needed = [
                    DomesticQualification::CicpaExam,
                    DomesticQualification::BicpaRegistration,
                ];
                let held = needed
                    .iter()
                    .all(|q| applicant.domestic_qualifications.contains(q));
                out.push(Condition {
                    code: codes::CICPA_FOR_BEIJING_PRACTICE,
                    description_zh: "在京从事注册会计师业务，须通过中国注册会计师考试及在北京注册会计师协会注册后执业。".into(),
                    description_en: "Practising as a CPA in Beijing requires passing the Chinese CPA examination and registering with the Beijing Institute of Certified Public Accountants.".into(),
                    status: status_of(held),
                    cert: i,
                    quote: quote(),
                    // Concerns the right to practise, not the title equivalence itself.
                    blocking: false,
                });
            }
            Rule::MutualRecognition { .. } | Rule::Note { .. } => {}
        }
    }
}

pub(super) fn certificate_notes<'c>(
    catalog: &'c Catalog,
    i: usize,
) -> impl Iterator<Item = Note<'c>> {
    let cert = &catalog.certificates()[i];
    (0..cert.rules.len()).filter_map(move |r| note_of(catalog, i, r))
}

/// The note of the entry at `i` whose mutual-recognition rule names what the claim says.
pub(super) fn mutual_recognition_note<'c>(
    catalog: &'c Catalog,
    outcome: &ClaimOutcome,
) -> Option<Note<'c>> {
    let i = outcome.mutually_recognised_with?;
    let cert = &catalog.certificates()[i];
    (0..cert.rules.len())
        .filter(|&r| matches!(cert.rules[r], Rule::MutualRecognition { .. }))
        .find_map(|r| note_of(catalog, i, r))
}

/// The informational note a rule gives, if it is one (notes and mutual recognitions).
fn note_of(catalog: &Catalog, i: usize, r: usize) -> Option<Note<'_>> {
    let cert = &catalog.certificates()[i];
    let (code, quote, note_en) = match &cert.rules[r] {
        Rule::Note {
            code,
            quote,
            note_en,
        } => (code.as_str(), quote, note_en),
        Rule::MutualRecognition { quote, note_en, .. } => {
            (codes::MUTUAL_RECOGNITION, quote, note_en)
        }
        Rule::DomesticAccountingForHigherTitle { .. } | Rule::CicpaForBeijingPractice { .. } => {
            return None;
        }
    };
    Some(Note {
        code,
        text_zh: quote,
        text_en: note_en,
        cert: i,
        quote: Quote::Remark(catalog.quote_range(i, r).unwrap_or_default()),
    })
}

pub(super) fn target_exceeds(i: usize, cert: &Certificate, target: TitleLevel) -> Condition {
    Condition {
        code: codes::TARGET_LEVEL_EXCEEDS_CATALOG,
        description_zh: format!(
            "申报的{}职称高于清单对应的最高级别（{}）；本清单不对应更高级别的职称。",
            target.label_zh(),
            cert.title_level.label_zh()
        ),
        description_en: format!(
            "The target level ({}) is above the highest level the list supports ({}); the list grants no more than it states.",
            target.label_en(),
            cert.title_level.label_en()
        ),
        status: ConditionStatus::NotSatisfied,
        cert: i,
        quote: Quote::Remark(clause_containing(&cert.remark, "职称")),
        blocking: true,
    }
}

/// WORK_FIELD is conservative: NOT_SATISFIED only when the applicant's field is one of the
/// catalog's own field terms and has nothing to do with this certificate.
fn work_field_status(
    catalog: &Catalog,
    cert: &Certificate,
    work_field: Option<&str>,
) -> ConditionStatus {
    let Some(work_field) = work_field.map(str::trim).filter(|w| !w.is_empty()) else {
        return ConditionStatus::ToVerify;
    };
    let wanted = normalize(work_field);
    // The entry's texts were normalized at load; a text that was not (none, while the catalog
    // is consistent) is normalized here.
    let normalized = |text: &str| {
        catalog
            .normalized(text)
            .map_or_else(|| normalize(text).into(), std::borrow::Cow::Borrowed)
    };
    let related = cert.fields.iter().any(|f| {
        let f = normalized(f);
        !f.is_empty() && (wanted.contains(&*f) || f.contains(&*wanted))
    }) || (wanted.chars().count() >= 2
        && normalized(&cert.work_scope).contains(&*wanted));
    if related {
        return ConditionStatus::Satisfied;
    }
    if catalog.has_field_term(&wanted) {
        ConditionStatus::NotSatisfied
    } else {
        ConditionStatus::ToVerify
    }
}

pub(super) fn overall_status(conditions: &[Condition]) -> ConditionStatus {
    if conditions
        .iter()
        .any(|c| c.blocking && c.status == ConditionStatus::NotSatisfied)
    {
        ConditionStatus::NotSatisfied
    } else if conditions
        .iter()
        .all(|c| c.status == ConditionStatus::Satisfied)
    {
        ConditionStatus::Satisfied
    } else {
        ConditionStatus::ToVerify
    }
}

fn status_of(held: bool) -> ConditionStatus {
    if held {
        ConditionStatus::Satisfied
    } else {
        ConditionStatus::NotSatisfied
    }
}

/// What the description adds when a requirement is met by a higher qualification than the
/// one named: which is held, and why it counts (zh, en); empty otherwise.
fn higher_held(
    requires: &[DomesticQualification],
    met: &[Option<DomesticQualification>],
) -> (String, String) {
    let (mut zh, mut en) = (String::new(), String::new());
    for (&required, held) in requires.iter().zip(met) {
        if let Some(held) = held.filter(|&h| h != required) {
            zh.push_str(&format!(
                "申请人持有{}，高于所要求的{}（取得{}须先具备{}），视为满足。",
                held.label_zh(),
                required.label_zh(),
                held.label_zh(),
                required.label_zh()
            ));
            en.push_str(&format!(
                " The applicant holds {}, which is above {} and open only to its holders, so the requirement is met.",
                held.label_en(),
                required.label_en()
            ));
        }
    }
    (zh, en)
}

fn labels_zh(quals: &[DomesticQualification]) -> String {
    quals
        .iter()
        .map(|q| q.label_zh())
        .collect::<Vec<_>>()
        .join("、")
}

fn labels_en(quals: &[DomesticQualification]) -> String {
    quals
        .iter()
        .map(|q| q.label_en())
        .collect::<Vec<_>>()
        .join(" and ")
}

/// Marks that end a clause of a remark.
const CLAUSE_ENDS: [char; 2] = ['。', '，'];

/// Where in `text` the clause that contains `needle` is (bytes), or the whole text: from after
/// the mark before it to its closing "。" (kept) or "，" (dropped). `needle` holds no mark, so
/// this is the clause around its first occurrence.
pub(super) fn clause_containing(text: &str, needle: &str) -> Range<usize> {
    debug_assert!(
        !needle.contains(CLAUSE_ENDS),
        "{needle:?} holds a clause mark"
    );
    // memmem, not `str::find`: on a remark the two-way searcher's setup costs more.
    let Some(at) = memchr::memmem::find(text.as_bytes(), needle.as_bytes()) else {
        return 0..text.len();
    };
    let start = text[..at]
        .char_indices()
        .rev()
        .find(|(_, c)| CLAUSE_ENDS.contains(c))
        .map_or(0, |(p, c)| p + c.len_utf8());
    let end = match text[at..]
        .char_indices()
        .find(|(_, c)| CLAUSE_ENDS.contains(c))
    {
        Some((p, '。')) => at + p + '。'.len_utf8(),
        Some((p, _)) => at + p,
        None => text.len(),
    };
    start..end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clause_containing_cuts_at_the_marks_around_the_needle() {
        let remark = "从事会计工作。对应副高级职称需符合基本标准条件，取得资格后可申报。另有说明。";
        let table = [
            ("基本标准条件", "对应副高级职称需符合基本标准条件"),
            ("职称", "对应副高级职称需符合基本标准条件"),
            ("从事", "从事会计工作。"),
            ("另有", "另有说明。"),
            ("申报", "取得资格后可申报。"),
            ("不在其中", remark),
        ];
        for (needle, clause) in table {
            assert_eq!(
                &remark[clause_containing(remark, needle)],
                clause,
                "needle {needle:?}"
            );
        }
        let none = "无标点的备注";
        assert_eq!(&none[clause_containing(none, "备注")], none);
        let commas = "末尾，逗号，";
        assert_eq!(&commas[clause_containing(commas, "逗号")], "逗号");
    }
}
