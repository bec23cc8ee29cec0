//! Review pages: one self-contained HTML file (no script, no external asset) presenting a
//! catalog as a policy officer reads it (`certequiv export --format html`), or a diff
//! (`certequiv diff --format html`). Everything from a catalog is escaped by maud; the only
//! raw text is the style sheet below.
//!
//! The pages carry `data-*` attributes that say what each element is (an entry and its id and
//! level, a changed field): the browser check (`tests/review/check.sh`) reads the DOM by them.

use certequiv_domain::cases::{self, Case, expected_condition_name, level_name, verdict_name};
use certequiv_domain::diff::{
    CatalogDiff, CatalogSide, Change, EntryChange, EntrySummary, FieldChange, MatchedBy,
    NotListedChange, RuleChange, SectionChange, Segment, SegmentKind,
};
use certequiv_domain::equivalence::{Applicant, Claim};
use certequiv_domain::rules::Rule;
use certequiv_domain::{Certificate, TitleLevel};
use certequiv_storage::{History, LoadedCatalog, Version};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::diff::DiffRun;

/// Screen and print styles. Chinese text falls back through the common CJK fonts of each
/// system to any sans-serif one.
const CSS: &str = r#"
:root { color-scheme: light; --line: #c8c8c8; --soft: #f5f5f3; --accent: #7a4b00; }
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC",
  "Hiragino Sans GB", "Microsoft YaHei", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei",
  system-ui, sans-serif; color: #1b1b1b; line-height: 1.6; max-width: 64rem;
  margin: 1.5rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin: 0 0 .4rem; }
h2 { font-size: 1.3rem; border-bottom: 2px solid #333; padding-bottom: .2rem; margin-top: 2rem; }
h3 { font-size: 1.1rem; margin: 0; }
.en { color: #555; font-size: .92em; }
header.page { border-bottom: 3px double #333; padding-bottom: .8rem; }
dl.meta, dl.fields { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: .6rem 0; }
dl.meta dt, dl.fields dt { color: #555; }
dl.meta dd, dl.fields dd { margin: 0; }
nav.toc ol { columns: 2; padding-left: 1.4rem; }
article.entry, article.entry-change { border: 1px solid var(--line); border-radius: 4px;
  padding: .7rem 1rem; margin: .9rem 0; break-inside: avoid; page-break-inside: avoid; }
.position { color: #555; font-size: .9em; margin-right: .5em; }
.level { display: inline-block; border: 1px solid currentColor; border-radius: 3px;
  padding: 0 .45em; font-weight: bold; white-space: nowrap; }
.level-associate-senior, .level-senior { color: #8a1c1c; }
.level-intermediate { color: #1c4f8a; }
.level-assistant, .level-elementary { color: #35622b; }
blockquote.quote { margin: .3rem 0; padding: .2rem .8rem; border-left: 3px solid #888;
  background: var(--soft); }
ul.rules { padding-left: 1.2rem; }
ul.rules li { margin: .4rem 0; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .9em; }
table { border-collapse: collapse; width: 100%; margin: .6rem 0; }
th, td { border: 1px solid var(--line); padding: .3rem .5rem; vertical-align: top; text-align: left;
  overflow-wrap: anywhere; }
table.cases { table-layout: fixed; font-size: .92em; }
table.cases col.n { width: 2.5em; } table.cases col.name { width: 27%; }
table.cases col.claims { width: 12%; } table.cases col.applicant { width: 17%; }
table.cases col.outcome { width: 13%; }
th { background: var(--soft); }
tr.fail td { background: #fdecea; }
.outcome-pass { color: #1d6b2a; font-weight: bold; }
.outcome-fail { color: #a01515; font-weight: bold; }
del { background: #fbd5d5; text-decoration: line-through; }
ins { background: #d3f2d6; text-decoration: none; }
.change-added { border-left: 5px solid #2c8a3b; }
.change-removed { border-left: 5px solid #b02a2a; }
.change-changed { border-left: 5px solid #888; }
.level-change { border: 2px solid var(--accent); background: #fff7e8; }
.marker { color: var(--accent); font-weight: bold; }
.summary { font-size: 1.05rem; font-weight: bold; }
footer { margin-top: 2rem; color: #666; font-size: .85em; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 10.5pt; }
  nav.toc { display: none; }
  h2 { break-after: avoid; page-break-after: avoid; }
  a { color: inherit; text-decoration: none; }
  tr { break-inside: avoid; page-break-inside: avoid; }
  del, ins { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"#;

fn page(title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="zh-Hans" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="generator" content=(concat!("certequiv ", env!("CARGO_PKG_VERSION")));
                title { (title) }
                style { (PreEscaped(CSS)) }
            }
            body { (body) }
        }
    }
    .into_string()
}

fn level_class(level: TitleLevel) -> &'static str {
    match level {
        TitleLevel::Elementary => "level level-elementary",
        TitleLevel::Assistant => "level level-assistant",
        TitleLevel::Intermediate => "level level-intermediate",
        TitleLevel::AssociateSenior => "level level-associate-senior",
        TitleLevel::Senior => "level level-senior",
    }
}

fn level(level: TitleLevel) -> Markup {
    html! { span class=(level_class(level)) data-level=(level.label_zh()) { (level.label_zh()) } }
}

fn day(d: Option<jiff::civil::Date>, absent: &str) -> String {
    d.map_or_else(|| absent.to_owned(), |d| d.to_string())
}

/// The review page of one catalog: metadata, sections with every entry, the not-listed
/// section and the expected-verdict cases with the engine's answer to each.
pub fn catalog_page(loaded: &LoadedCatalog) -> String {
    let catalog = &loaded.catalog;
    let meta = catalog.meta();
    let body = html! {
        header.page {
            h1 { (meta.title) }
            dl.meta {
                dt { "目录 Catalog" } dd { code { (meta.id) } }
                dt { "地区 Jurisdiction" } dd { (meta.jurisdiction) }
                @if !meta.source.is_empty() { dt { "来源 Source" } dd { (meta.source) } }
                dt { "有效期 In force" }
                dd { (day(meta.effective_from, "（未注明起始日 no start date stated）")) " — " (day(meta.effective_until, "（未注明截止日 open-ended）")) }
                dt { "条目 Entries" } dd data-entry-count=(catalog.certificates().len()) { (catalog.certificates().len()) }
                dt { "版本 Etag" } dd { code { (catalog.etag()) } }
                dt { "文件 File" } dd { code { (loaded.origin) } }
            }
        }
        nav.toc {
            h2 { "目录 Contents" }
            ol {
                @for section in catalog.sections() {
                    li { a href={ "#section-" (section.number) } { (section.ordinal) (section.title) } " (" (catalog.section_count(section.number)) ")" }
                }
                li { a href="#not-listed" { "不在清单中的证书 Not on the list" } }
                li { a href="#cases" { "预期结论用例 Expected-verdict cases" } }
            }
        }
        @for section in catalog.sections() {
            section.catalog-section id={ "section-" (section.number) } data-section=(section.number) {
                h2 { (section.ordinal) (section.title) }
                @for (position, cert) in catalog.certificates().iter().enumerate().filter(|(_, c)| c.section == section.number) {
                    (entry(cert, loaded.history(position)))
                }
            }
        }
        section id="not-listed" {
            h2 { "不在清单中的证书 Certificates not on the list" }
            @if catalog.not_listed().is_empty() {
                p { "（无 none）" }
            } @else {
                table {
                    thead { tr { th { "名称 Names" } th { "说明 Note" } } }
                    tbody {
                        @for entry in catalog.not_listed() {
                            tr.not-listed {
                                td { (entry.names.join("、")) }
                                td { (entry.note_zh) @if !entry.note_en.is_empty() { br; span.en { (entry.note_en) } } }
                            }
                        }
                    }
                }
            }
        }
        section id="cases" {
            h2 { "预期结论用例 Expected-verdict cases" }
            (cases_table(loaded))
        }
        footer { "certequiv export --format html · " (meta.id) " · etag " (catalog.etag()) }
    };
    page(&meta.title, body)
}

fn entry(cert: &Certificate, history: Option<&History>) -> Markup {
    html! {
        article.entry id={ "entry-" (cert.id) } data-entry-id=(cert.id) data-title-level=(cert.title_level.label_zh()) {
            h3 {
                span.position { "第" (cert.section) "部分 第" (cert.item) "项" }
                (cert.name_zh) " " (level(cert.title_level))
            }
            @if !cert.name_en.is_empty() { div.en { (cert.name_en) } }
            dl.fields {
                dt { "编号 Id" } dd { code { (cert.id) } }
                dt { "颁发机构 Issuers" }
                dd {
                    @for (i, issuer) in cert.issuers.iter().enumerate() {
                        @if i > 0 { br; }
                        (issuer.name_zh) @if !issuer.name_en.is_empty() { " " span.en { (issuer.name_en) } }
                    }
                }
                @if !cert.country_or_region.is_empty() { dt { "国家（地区） Country" } dd { (cert.country_or_region) } }
                @if !cert.fields.is_empty() { dt { "领域 Fields" } dd { (cert.fields.join("、")) } }
                @if !cert.abbreviations.is_empty() { dt { "缩写 Abbreviations" } dd { (cert.abbreviations.join(", ")) } }
                @if !cert.aliases.is_empty() { dt { "别名 Aliases" } dd { (cert.aliases.join(", ")) } }
                dt { "工作范围 Work scope" } dd { (cert.work_scope) }
                dt { "备注 Remark" } dd.remark { (cert.remark) }
            }
            @if !cert.rules.is_empty() {
                ul.rules {
                    @for rule in &cert.rules { li.rule data-rule=(rule_code(rule)) { (rule_markup(rule)) } }
                }
            }
            @if let Some(history) = history { (history_markup(history)) }
        }
    }
}

fn rule_code(rule: &Rule) -> &str {
    match rule {
        Rule::DomesticAccountingForHigherTitle { .. } => {
            "DOMESTIC_ACCOUNTING_QUALIFICATION_FOR_HIGHER_TITLE"
        }
        Rule::CicpaForBeijingPractice { .. } => "CICPA_FOR_BEIJING_PRACTICE",
        Rule::MutualRecognition { .. } => "MUTUAL_RECOGNITION",
        Rule::Note { code, .. } => code,
    }
}

fn rule_markup(rule: &Rule) -> Markup {
    let what = match rule {
        Rule::DomesticAccountingForHigherTitle { requires, .. } => html! {
            "申报高一级职称需取得 "
            (requires.iter().map(|q| q.label_zh()).collect::<Vec<_>>().join("、"))
        },
        Rule::CicpaForBeijingPractice { .. } => {
            html! { "在京从事注册会计师业务：须通过中国注册会计师考试并在北京注册会计师协会注册" }
        }
        Rule::MutualRecognition { names, note_en, .. } => html! {
            "互认 Mutual recognition: " (names.join("、"))
            @if !note_en.is_empty() { br; span.en { (note_en) } }
        },
        Rule::Note { note_en, .. } => html! {
            "说明 Note" @if !note_en.is_empty() { ": " span.en { (note_en) } }
        },
    };
    html! {
        code { (rule_code(rule)) } " — " (what)
        blockquote.quote { "“" (rule.quote()) "”" }
    }
}

fn version_markup(version: &Version) -> Markup {
    html! {
        code { (version.entry) }
        @if let Some(details) = &version.details {
            " " (details.name_zh) " " (level(details.title_level))
            " （" (day(details.effective_from, "…")) " — " (day(details.effective_until, "…")) "）"
        } @else {
            " " span.en { "（该目录未加载 catalog not loaded）" }
        }
    }
}

fn history_markup(history: &History) -> Markup {
    html! {
        div.history {
            @if !history.supersedes.is_empty() {
                div data-history="supersedes" {
                    "取代 Supersedes: "
                    @for (i, version) in history.supersedes.iter().enumerate() {
                        @if i > 0 { " ← " }
                        (version_markup(version))
                    }
                }
            }
            @if !history.superseded_by.is_empty() {
                div data-history="superseded-by" {
                    "被取代 Superseded by: "
                    @for (i, version) in history.superseded_by.iter().enumerate() {
                        @if i > 0 { "; " }
                        (version_markup(version))
                    }
                }
            }
        }
    }
}

fn claims_text(claims: &[Claim]) -> String {
    claims
        .iter()
        .map(|claim| match claim {
            Claim::CertificateId(id) => format!("id {id}"),
            Claim::Text(text) => format!("“{}”", text.as_str()),
        })
        .collect::<Vec<_>>()
        .join("；")
}

fn applicant_text(applicant: &Applicant) -> Vec<String> {
    let mut parts = Vec::new();
    if let Some(target) = applicant.target {
        parts.push(format!("申报 {}", target.label_zh()));
    }
    parts.push(format!(
        "基本条件 {}",
        cases::basic_conditions_name(applicant.basic_conditions)
    ));
    if let Some(field) = &applicant.work_field {
        parts.push(format!("从事 {field}"));
    }
    if !applicant.domestic_qualifications.is_empty() {
        let held: Vec<&str> = applicant
            .domestic_qualifications
            .iter()
            .map(|q| q.label_zh())
            .collect();
        parts.push(format!("持有 {}", held.join("、")));
    }
    if applicant.intends_cpa_practice_in_beijing {
        parts.push("拟在京从事注册会计师业务".to_owned());
    }
    parts
}

fn expectation_text(case: &Case) -> Vec<String> {
    let expect = &case.expect;
    let mut parts = Vec::new();
    if let Some(verdict) = expect.verdict {
        parts.push(verdict_name(verdict).to_owned());
    }
    if let Some(level) = expect.highest_level {
        parts.push(format!("最高 {}", level_name(level)));
    }
    if let Some(resolved) = &expect.resolved {
        parts.push(format!("对应条目 [{}]", resolved.join(", ")));
    }
    for (code, expected) in &expect.conditions {
        parts.push(format!("{code} = {}", expected_condition_name(*expected)));
    }
    if !expect.notes.is_empty() {
        parts.push(format!("说明 {}", expect.notes.join(", ")));
    }
    parts
}

fn cases_table(loaded: &LoadedCatalog) -> Markup {
    let Some(file) = &loaded.cases else {
        return html! { p { "此目录没有预期结论用例。 This catalog has no expected-verdict cases." } };
    };
    let outcomes: Vec<_> = file
        .cases
        .iter()
        .map(|case| cases::check(&loaded.catalog, case))
        .collect();
    let failing = outcomes.iter().filter(|o| !o.passed()).count();
    html! {
        p.summary data-cases=(file.cases.len()) data-failing=(failing) {
            (file.cases.len()) " 个用例，" (failing) " 个未通过 · "
            (file.cases.len()) " cases, " (failing) " failing"
        }
        p { "用例文件 Cases file: " code { (file.origin) } }
        table.cases {
            colgroup {
                col.n; col.name; col.claims; col.applicant; col.expected; col.outcome;
            }
            thead { tr {
                th { "#" } th { "情形 Case" } th { "证书 Claims" } th { "申请人 Applicant" }
                th { "预期 Expected" } th { "结果 Engine" }
            } }
            tbody {
                @for (i, (case, outcome)) in file.cases.iter().zip(&outcomes).enumerate() {
                    tr.case.fail[!outcome.passed()] data-outcome=(if outcome.passed() { "pass" } else { "fail" }) {
                        td { (i + 1) }
                        td { (case.name) }
                        td { (claims_text(&case.claims)) }
                        td { @for part in applicant_text(&case.applicant) { (part) br; } }
                        td { @for part in expectation_text(case) { (part) br; } }
                        td {
                            @if outcome.passed() {
                                span.outcome-pass { "通过 pass" }
                            } @else {
                                span.outcome-fail { "未通过 FAIL" }
                                @for mismatch in &outcome.mismatches { br; (mismatch.to_string()) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The review page of a diff.
pub fn diff_page(run: &DiffRun) -> String {
    let body = html! {
        header.page {
            h1 { "目录变更 Catalog changes" }
            dl.meta {
                dt { "原 Old" } dd { code { (run.old_label) } }
                dt { "新 New" } dd { code { (run.new_label) } }
            }
            @if !run.changed() { p.summary data-changed="false" { "无变更 No change." } }
        }
        @for diff in &run.pairs { (catalog_diff(diff)) }
        @for side in &run.added {
            section.catalog-added { h2 { "新增目录 Added catalog: " code { (side.id) } } p { (side_text(side)) } }
        }
        @for side in &run.removed {
            section.catalog-removed { h2 { "删除目录 Removed catalog: " code { (side.id) } } p { (side_text(side)) } }
        }
        footer { "certequiv diff --format html" }
    };
    page("目录变更 Catalog changes", body)
}

fn side_text(side: &CatalogSide) -> String {
    format!(
        "{}（{} 条 entries, etag {}）",
        side.title, side.entries, side.etag
    )
}

fn catalog_diff(diff: &CatalogDiff) -> Markup {
    let (added, removed, changed) = diff.counts();
    let levels: Vec<_> = diff.level_changes().collect();
    html! {
        section.catalog-diff data-old-catalog=(diff.old.id) data-new-catalog=(diff.new.id) data-changed=(!diff.is_empty()) {
            h2 { code { (diff.old.id) } " → " code { (diff.new.id) } }
            dl.meta {
                dt { "原 Old" } dd { (side_text(&diff.old)) }
                dt { "新 New" } dd { (side_text(&diff.new)) }
            }
            p.summary {
                (changed) " 条变更 changed · " (added) " 条新增 added · " (removed) " 条删除 removed · "
                (diff.unchanged_entries) " 条未变 unchanged"
            }
            @if !levels.is_empty() {
                h3 { span.marker { "⚠ " } "职称级别变更 Title level changes" }
                table id="level-changes" {
                    thead { tr { th { "条目 Entry" } th { "名称 Name" } th { "原级别 Old" } th { "新级别 New" } } }
                    tbody {
                        @for (old, new) in levels {
                            tr.level-change data-entry-id=(new.id) data-old-level=(old.title_level.label_zh()) data-new-level=(new.title_level.label_zh()) {
                                td { code { (ids(old, new)) } }
                                td { (new.name_zh) }
                                td { (level(old.title_level)) }
                                td { (level(new.title_level)) }
                            }
                        }
                    }
                }
            }
            @if !diff.meta.is_empty() {
                h3 { "目录信息 Metadata" }
                (fields_table(&diff.meta))
            }
            @if !diff.sections.is_empty() {
                h3 { "部分 Sections" }
                ul {
                    @for change in &diff.sections {
                        @match change {
                            SectionChange::Added(s) => li.change-added { "新增 added: " (s.number) " " (s.ordinal) (s.title) },
                            SectionChange::Removed(s) => li.change-removed { "删除 removed: " (s.number) " " (s.ordinal) (s.title) },
                            SectionChange::Changed { number, fields } => li { "第" (number) "部分 section " (number) (fields_table(fields)) },
                        }
                    }
                }
            }
            @if !diff.entries.is_empty() {
                h3 { "条目 Entries" }
                @for change in &diff.entries { (entry_change(change)) }
            }
            @if !diff.not_listed.is_empty() {
                h3 { "不在清单中的证书 Not listed" }
                ul {
                    @for change in &diff.not_listed {
                        @match change {
                            NotListedChange::Added(n) => li.change-added { "新增 added: " (n.names.join("、")) },
                            NotListedChange::Removed(n) => li.change-removed { "删除 removed: " (n.names.join("、")) },
                            NotListedChange::Changed { name, fields } => li { (name) (fields_table(fields)) },
                        }
                    }
                }
            }
        }
    }
}

fn ids(old: &EntrySummary, new: &EntrySummary) -> String {
    if old.id == new.id {
        new.id.clone()
    } else {
        format!("{} → {}", old.id, new.id)
    }
}

fn summary_markup(entry: &EntrySummary) -> Markup {
    html! {
        span.position { "第" (entry.section) "部分 第" (entry.item) "项" }
        (entry.name_zh) " " (level(entry.title_level)) " " code { (entry.id) }
    }
}

fn entry_change(change: &EntryChange) -> Markup {
    match change {
        EntryChange::Added { entry } => html! {
            article.entry-change.change-added data-change="added" data-entry-id=(entry.id) {
                h3 { "新增 Added · " (summary_markup(entry)) }
            }
        },
        EntryChange::Removed { entry } => html! {
            article.entry-change.change-removed data-change="removed" data-entry-id=(entry.id) {
                h3 { "删除 Removed · " (summary_markup(entry)) }
            }
        },
        EntryChange::Changed {
            old,
            new,
            matched_by,
            fields,
            rules,
        } => {
            let level_changed = old.title_level != new.title_level;
            html! {
                article.entry-change.change-changed.level-change[level_changed] data-change="changed" data-entry-id=(new.id) data-old-entry-id=(old.id) {
                    h3 { "变更 Changed · " (summary_markup(new)) }
                    @if *matched_by == MatchedBy::Supersedes {
                        p { "原条目 Was " code { (old.id) } "（新条目以 supersedes = " code { (new.supersedes.as_deref().unwrap_or_default()) } " 注明所取代的条目）" }
                    }
                    (fields_table(fields))
                    @if !rules.is_empty() {
                        table.rules {
                            thead { tr { th { "规则 Rule" } th { "变更 Change" } } }
                            tbody {
                                @for rule in rules {
                                    @match rule {
                                        RuleChange::Added(r) => tr.change-added data-rule=(r.code) { td { code { (r.code) } } td { ins { "新增 added: “" (r.quote) "”" } } },
                                        RuleChange::Removed(r) => tr.change-removed data-rule=(r.code) { td { code { (r.code) } } td { del { "删除 removed: “" (r.quote) "”" } } },
                                        RuleChange::Changed { code, fields } => tr data-rule=(code) { td { code { (code) } } td { (fields_table(fields)) } },
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn fields_table(fields: &[FieldChange]) -> Markup {
    html! {
        table.fields {
            thead { tr { th { "字段 Field" } th { "变更 Change" } } }
            tbody {
                @for field in fields {
                    tr data-field=(field.field) {
                        td { code { (field.field) } }
                        td { (field_change(&field.change)) }
                    }
                }
            }
        }
    }
}

fn field_change(change: &Change) -> Markup {
    match change {
        Change::Level { old, new } => html! {
            span.marker { "⚠ " } (level(*old)) " → " (level(*new))
            span data-old-level=(old.label_zh()) data-new-level=(new.label_zh()) {}
        },
        Change::Text { segments, .. } => html! { (segments_markup(segments)) },
        Change::List { removed, added, .. } => html! {
            @for value in removed { del { (value) } " " }
            @for value in added { ins { (value) } " " }
            @if removed.is_empty() && added.is_empty() { "顺序变更 order changed" }
        },
        Change::Value { old, new } => html! {
            @if old.is_empty() { "（无 none）" } @else { del { (old) } }
            " → "
            @if new.is_empty() { "（无 none）" } @else { ins { (new) } }
        },
    }
}

fn segments_markup(segments: &[Segment]) -> Markup {
    html! {
        @for segment in segments {
            @match segment.kind {
                SegmentKind::Same => (segment.text),
                SegmentKind::Removed => del { (segment.text) },
                SegmentKind::Added => ins { (segment.text) },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use certequiv_storage::{Cases, Source, load_source};

    use super::*;
    use crate::tools::diff::{DiffInput, run};

    fn count(html: &str, needle: &str) -> usize {
        html.matches(needle).count()
    }

    #[test]
    fn the_catalog_page_shows_every_entry_rule_and_case_and_nothing_external() {
        let set = load_source(&Source::Embedded, "北京市", Cases::Attach).unwrap();
        let html = catalog_page(&set.catalogs()[0]);
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert_eq!(count(&html, "<article class=\"entry\""), 33);
        assert_eq!(count(&html, "data-section="), 3);
        assert_eq!(count(&html, "<li class=\"rule\""), 10);
        assert!(html.contains("“申报高一级职称需取得高级会计专业技术资格”"));
        assert_eq!(count(&html, "<tr class=\"not-listed\">"), 10);
        assert!(html.contains("data-failing=\"0\""));
        assert_eq!(
            count(&html, "data-outcome=\"pass\""),
            count(&html, "<tr class=\"case")
        );
        // Self-contained: no script, no link, no remote or relative URL to fetch.
        for forbidden in ["<script", "<link", "src=", "http://", "https://", "url("] {
            assert!(!html.contains(forbidden), "{forbidden}");
        }
        assert!(html.contains("@media print"));
        assert!(html.contains("\"Noto Sans CJK SC\""));
    }

    #[test]
    fn catalog_text_is_escaped() {
        let text = certequiv_storage::EMBEDDED_CATALOG.replace(
            "name_zh = \"ACM杰出会员\"",
            "name_zh = \"ACM杰出会员<script>alert(1)</script>&amp;\"",
        );
        let loaded = certequiv_storage::load_text("x.toml", &text).unwrap();
        let html = catalog_page(&loaded);
        assert!(!html.contains("<script>"));
        assert!(html.contains("ACM杰出会员&lt;script&gt;alert(1)&lt;/script&gt;&amp;amp;"));
        assert!(html.contains("此目录没有预期结论用例"));
    }

    #[test]
    fn the_history_of_an_entry_is_on_the_page() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../storage/tests/data/editions");
        let set = load_source(&Source::Dir(dir), "北京市", Cases::Attach).unwrap();
        let html = catalog_page(set.get("bj-test-2025").unwrap());
        assert!(html.contains("data-history=\"supersedes\""));
        assert!(html.contains("<code>bj-test-2024/acca</code> ACCA会计师证书"));
        assert!(html.contains("<code>bj-test-2023/acca</code> <span class=\"en\">（该目录未加载"));
        let html = catalog_page(set.get("bj-test-2024").unwrap());
        assert!(html.contains("data-history=\"superseded-by\""));
    }

    #[test]
    fn the_diff_page_marks_the_level_change() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../storage/tests/data/editions");
        let run = run(&DiffInput::Paths {
            old: dir.join("bj-test-2024.toml"),
            new: dir.join("bj-test-2025.toml"),
        })
        .unwrap();
        let html = diff_page(&run);
        assert!(html.contains(
            "<tr class=\"level-change\" data-entry-id=\"acca-member\" data-old-level=\"中级\" data-new-level=\"副高级\">"
        ));
        assert!(html.contains("data-change=\"added\" data-entry-id=\"cisa\""));
        assert!(html.contains("data-change=\"removed\" data-entry-id=\"delta\""));
        assert!(html.contains("对应<del>中</del><ins>副高</ins>级职称"));
        assert!(!html.contains("<script"));
    }
}
