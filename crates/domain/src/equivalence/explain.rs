//! The paragraphs an HR clerk pastes into a case file, in Chinese and English, and the reasons
//! given for each claim.

use std::fmt::Write as _;

use super::{Claim, ConditionStatus, Evaluation, Resolution, Verdict};
use crate::catalog::Catalog;
use crate::model::Certificate;

/// Why a claim resolved to `cert` by search, in Chinese and English.
pub(super) fn names_one_entry(cert: &Certificate) -> (String, String) {
    let mut zh = String::with_capacity(64 + cert.name_zh.len());
    zh.push_str("与清单");
    push_position_zh(&mut zh, cert);
    zh.push('“');
    zh.push_str(&cert.name_zh);
    zh.push_str("”唯一对应。");
    let mut en = String::with_capacity(64 + cert.name_en.len());
    en.push_str("Names exactly one entry: ");
    push_position_en(&mut en, cert);
    en.push_str(", ");
    en.push_str(&cert.name_en);
    en.push('.');
    (zh, en)
}

fn status_zh(status: ConditionStatus) -> &'static str {
    match status {
        ConditionStatus::Satisfied => "已满足",
        ConditionStatus::NotSatisfied => "不满足",
        ConditionStatus::ToVerify => "待核实",
    }
}

fn status_en(status: ConditionStatus) -> &'static str {
    match status {
        ConditionStatus::Satisfied => "satisfied",
        ConditionStatus::NotSatisfied => "not satisfied",
        ConditionStatus::ToVerify => "to be verified",
    }
}

/// Appends a name for an explanation: `name`, with the entry's abbreviation in `brackets` when
/// the name does not already carry it ("ACCA资深会员证书（Fcca）" needs no "（FCCA）").
fn push_display_name(out: &mut String, cert: &Certificate, name: &str, brackets: [&str; 2]) {
    out.push_str(name);
    if let Some(abbr) = cert.abbreviations.first()
        && !contains_ignoring_case(name, abbr)
    {
        out.push_str(brackets[0]);
        out.push_str(abbr);
        out.push_str(brackets[1]);
    }
}

/// Whether `haystack` contains `needle`, case aside; without allocating when `needle` is ASCII
/// (abbreviations are).
fn contains_ignoring_case(haystack: &str, needle: &str) -> bool {
    if !needle.is_ascii() {
        return haystack.to_lowercase().contains(&needle.to_lowercase());
    }
    let Some(first) = needle.as_bytes().first() else {
        return true;
    };
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w[0].eq_ignore_ascii_case(first) && w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Appends where the entry is on the list: "第1部分第8项".
fn push_position_zh(out: &mut String, cert: &Certificate) {
    let mut number = itoa::Buffer::new();
    out.push('第');
    out.push_str(number.format(cert.section));
    out.push_str("部分第");
    out.push_str(number.format(cert.item));
    out.push('项');
}

/// Appends where the entry is on the list: "section 1 item 8".
fn push_position_en(out: &mut String, cert: &Certificate) {
    let mut number = itoa::Buffer::new();
    out.push_str("section ");
    out.push_str(number.format(cert.section));
    out.push_str(" item ");
    out.push_str(number.format(cert.item));
}

/// Appends `text` as a clause joined into a sentence: first letter lower-cased, no full stop.
fn push_clause_en(out: &mut String, text: &str) {
    let text = text.trim_end_matches('.');
    let mut chars = text.chars();
    if let Some(first) = chars.next() {
        out.extend(first.to_lowercase());
        out.push_str(chars.as_str());
    }
}

pub(super) fn explain(
    catalog: &Catalog,
    claims: &[Claim],
    evaluation: &Evaluation,
) -> (String, String) {
    let certs = catalog.certificates();
    let mut zh = String::with_capacity(512);
    let mut en = String::with_capacity(512);
    for (claim, outcome) in claims.iter().zip(&evaluation.claims) {
        let typed = match claim {
            Claim::CertificateId(id) => id.as_str(),
            Claim::Text(text) => text.as_str(),
        };
        match (outcome.resolution, outcome.cert) {
            (Resolution::Resolved, Some(i)) => {
                let cert = &certs[i];
                // Pieces pushed one by one: `write!` with string arguments was a fifth of an
                // evaluation's instructions.
                zh.push_str("持有");
                push_display_name(&mut zh, cert, &cert.name_zh, ["（", "）"]);
                zh.push_str("，依据");
                zh.push_str(&catalog.meta().source);
                push_position_zh(&mut zh, cert);
                zh.push_str("，可对应");
                zh.push_str(cert.title_level.label_zh());
                zh.push_str("职称");
                push_display_name(&mut en, cert, &cert.name_en, [" (", ")"]);
                en.push_str(" corresponds to the ");
                en.push_str(cert.title_level.label_en());
                en.push_str(" title level under ");
                en.push_str(&catalog.meta().source);
                en.push(' ');
                push_position_en(&mut en, cert);
                for condition in evaluation.conditions.iter().filter(|c| c.cert == i) {
                    zh.push('；');
                    zh.push_str(condition.description_zh.trim_end_matches('。'));
                    zh.push('（');
                    zh.push_str(status_zh(condition.status));
                    zh.push('）');
                    en.push_str("; ");
                    push_clause_en(&mut en, &condition.description_en);
                    en.push_str(" (");
                    en.push_str(status_en(condition.status));
                    en.push(')');
                }
                zh.push('。');
                en.push_str(". ");
            }
            _ => {
                let _ = write!(zh, "“{typed}”：{}", outcome.reason_zh);
                let _ = write!(en, "{typed:?}: {} ", outcome.reason_en);
            }
        }
    }
    let verdict_zh = match evaluation.verdict {
        Verdict::Recognized => "结论：予以对应。",
        Verdict::RecognizedWithConditions => "结论：在核实上述条件后予以对应。",
        Verdict::NeedsConfirmation => "结论：需人工确认证书后再作判断。",
        Verdict::NotRecognized => "结论：不予对应。",
    };
    let verdict_en = match evaluation.verdict {
        Verdict::Recognized => "Verdict: recognized.",
        Verdict::RecognizedWithConditions => {
            "Verdict: recognized once the conditions above are verified."
        }
        Verdict::NeedsConfirmation => "Verdict: HR must confirm the certificate before deciding.",
        Verdict::NotRecognized => "Verdict: not recognized.",
    };
    zh.push_str(verdict_zh);
    en.push_str(verdict_en);
    (zh, en)
}
