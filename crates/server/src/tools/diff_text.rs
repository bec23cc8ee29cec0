//! `certequiv diff` as text (default; coloured only on a terminal) and as Markdown (for a
//! pull-request comment). Title level changes come first in each catalog and are marked `!!`
//! (text) or listed in their own table (Markdown); text changes show their token diff inline,
//! `[-removed-]{+added+}` in text, `~~removed~~` and `**added**` in Markdown.

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};
use certequiv_domain::diff::{
    CatalogDiff, CatalogSide, Change, EntryChange, EntrySummary, FieldChange, MatchedBy,
    NotListedChange, RuleChange, SectionChange, Segment, SegmentKind,
};

use super::diff::DiffRun;

/// The text report; `color` adds ANSI styles (the command passes true only for a terminal).
pub fn render_text(run: &DiffRun, color: bool) -> String {
    let paint = Paint { color };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        paint.bold(&format!("--- old: {}", run.old_label))
    );
    let _ = writeln!(
        out,
        "{}",
        paint.bold(&format!("+++ new: {}", run.new_label))
    );
    if !run.changed() {
        let _ = writeln!(out, "no change");
    }
    for diff in &run.pairs {
        text_catalog(&mut out, diff, &paint);
    }
    for side in &run.added {
        let _ = writeln!(
            out,
            "\n{}",
            paint.added(&format!("+ catalog {}", side_line(side)))
        );
    }
    for side in &run.removed {
        let _ = writeln!(
            out,
            "\n{}",
            paint.removed(&format!("- catalog {}", side_line(side)))
        );
    }
    out
}

fn side_line(side: &CatalogSide) -> String {
    format!(
        "{} {} ({} entries, etag {})",
        side.id, side.title, side.entries, side.etag
    )
}

fn summary_line(diff: &CatalogDiff) -> String {
    let (added, removed, changed) = diff.counts();
    format!(
        "{changed} changed, {added} added, {removed} removed, {} unchanged",
        diff.unchanged_entries
    )
}

fn ids(old: &EntrySummary, new: &EntrySummary) -> String {
    if old.id == new.id {
        new.id.clone()
    } else {
        format!("{} → {}", old.id, new.id)
    }
}

fn text_catalog(out: &mut String, diff: &CatalogDiff, paint: &Paint) {
    let title = if diff.old.id == diff.new.id {
        format!("catalog {}", diff.new.id)
    } else {
        format!("catalog {} → {}", diff.old.id, diff.new.id)
    };
    let _ = writeln!(out, "\n{}: {}", paint.bold(&title), summary_line(diff));
    if diff.is_empty() {
        let _ = writeln!(out, "  no change");
        return;
    }
    let levels: Vec<_> = diff.level_changes().collect();
    if !levels.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            paint.level(&format!("!! title level changes: {}", levels.len()))
        );
        for (old, new) in levels {
            let _ = writeln!(
                out,
                "  {} {}  {}: {} → {}",
                paint.level("!!"),
                ids(old, new),
                new.name_zh,
                old.title_level.label_zh(),
                paint.level(new.title_level.label_zh())
            );
        }
    }
    if !diff.meta.is_empty() {
        let _ = writeln!(out, "metadata:");
        for field in &diff.meta {
            text_field(out, "  ~ ", field, paint);
        }
    }
    if !diff.sections.is_empty() {
        let _ = writeln!(out, "sections:");
        for change in &diff.sections {
            match change {
                SectionChange::Added(s) => {
                    let line = format!("  + {} {}{}", s.number, s.ordinal, s.title);
                    let _ = writeln!(out, "{}", paint.added(&line));
                }
                SectionChange::Removed(s) => {
                    let line = format!("  - {} {}{}", s.number, s.ordinal, s.title);
                    let _ = writeln!(out, "{}", paint.removed(&line));
                }
                SectionChange::Changed { number, fields } => {
                    let _ = writeln!(out, "  ~ section {number}");
                    for field in fields {
                        text_field(out, "      ", field, paint);
                    }
                }
            }
        }
    }
    if !diff.entries.is_empty() {
        let _ = writeln!(out, "entries:");
    }
    for change in &diff.entries {
        match change {
            EntryChange::Added { entry } => {
                let line = format!("  + {}", entry_line(entry));
                let _ = writeln!(out, "{}", paint.added(&line));
            }
            EntryChange::Removed { entry } => {
                let line = format!("  - {}", entry_line(entry));
                let _ = writeln!(out, "{}", paint.removed(&line));
            }
            EntryChange::Changed {
                old,
                new,
                matched_by,
                fields,
                rules,
            } => {
                let via = match matched_by {
                    MatchedBy::Id => String::new(),
                    MatchedBy::Supersedes => format!(
                        " [supersedes {}]",
                        new.supersedes.as_deref().unwrap_or_default()
                    ),
                };
                let _ = writeln!(
                    out,
                    "  ~ {}  {} ({}.{}){via}",
                    ids(old, new),
                    new.name_zh,
                    new.section,
                    new.item
                );
                for field in fields {
                    text_field(out, "      ", field, paint);
                }
                for rule in rules {
                    match rule {
                        RuleChange::Added(r) => {
                            let line = format!("      + rule {}: {}", r.code, r.quote);
                            let _ = writeln!(out, "{}", paint.added(&line));
                        }
                        RuleChange::Removed(r) => {
                            let line = format!("      - rule {}: {}", r.code, r.quote);
                            let _ = writeln!(out, "{}", paint.removed(&line));
                        }
                        RuleChange::Changed { code, fields } => {
                            let _ = writeln!(out, "      ~ rule {code}");
                            for field in fields {
                                text_field(out, "          ", field, paint);
                            }
                        }
                    }
                }
            }
        }
    }
    if !diff.not_listed.is_empty() {
        let _ = writeln!(out, "not listed:");
        for change in &diff.not_listed {
            match change {
                NotListedChange::Added(n) => {
                    let line = format!("  + {}", n.names.join(", "));
                    let _ = writeln!(out, "{}", paint.added(&line));
                }
                NotListedChange::Removed(n) => {
                    let line = format!("  - {}", n.names.join(", "));
                    let _ = writeln!(out, "{}", paint.removed(&line));
                }
                NotListedChange::Changed { name, fields } => {
                    let _ = writeln!(out, "  ~ {name}");
                    for field in fields {
                        text_field(out, "      ", field, paint);
                    }
                }
            }
        }
    }
}

fn entry_line(entry: &EntrySummary) -> String {
    format!(
        "{}  {} ({}.{}) {}",
        entry.id,
        entry.name_zh,
        entry.section,
        entry.item,
        entry.title_level.label_zh()
    )
}

fn text_field(out: &mut String, indent: &str, field: &FieldChange, paint: &Paint) {
    let name = field.field;
    let _ = match &field.change {
        Change::Level { old, new } => writeln!(
            out,
            "{indent}{} {}: {} → {}",
            paint.level("!!"),
            paint.level(name),
            old.label_zh(),
            paint.level(new.label_zh())
        ),
        Change::Text { segments, .. } => {
            writeln!(out, "{indent}{name}: {}", text_segments(segments, paint))
        }
        Change::List { removed, added, .. } => {
            let mut parts: Vec<String> = removed
                .iter()
                .map(|v| paint.removed(&format!("- {v}")))
                .collect();
            parts.extend(added.iter().map(|v| paint.added(&format!("+ {v}"))));
            if parts.is_empty() {
                parts.push("order changed".into());
            }
            writeln!(out, "{indent}{name}: {}", parts.join("; "))
        }
        Change::Value { old, new } => {
            writeln!(out, "{indent}{name}: {} → {}", or_none(old), or_none(new))
        }
    };
}

fn or_none(value: &str) -> &str {
    if value.is_empty() { "(none)" } else { value }
}

fn text_segments(segments: &[Segment], paint: &Paint) -> String {
    segments
        .iter()
        .map(|s| match s.kind {
            SegmentKind::Same => s.text.clone(),
            SegmentKind::Removed => paint.removed(&format!("[-{}-]", s.text)),
            SegmentKind::Added => paint.added(&format!("{{+{}+}}", s.text)),
        })
        .collect()
}

/// ANSI styles, or none.
struct Paint {
    color: bool,
}

impl Paint {
    fn with(&self, style: Style, text: &str) -> String {
        if self.color {
            format!("{style}{text}{style:#}")
        } else {
            text.to_owned()
        }
    }

    fn bold(&self, text: &str) -> String {
        self.with(Style::new().bold(), text)
    }

    fn added(&self, text: &str) -> String {
        self.with(Style::new().fg_color(Some(AnsiColor::Green.into())), text)
    }

    fn removed(&self, text: &str) -> String {
        self.with(Style::new().fg_color(Some(AnsiColor::Red.into())), text)
    }

    fn level(&self, text: &str) -> String {
        let style = Style::new().bold().fg_color(Some(AnsiColor::Yellow.into()));
        self.with(style, text)
    }
}

/// The Markdown report, for a pull-request comment.
pub fn render_markdown(run: &DiffRun) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## certequiv diff\n\n`{}` → `{}`\n",
        code(&run.old_label),
        code(&run.new_label)
    );
    if !run.changed() {
        let _ = writeln!(out, "No change.");
    }
    for diff in &run.pairs {
        markdown_catalog(&mut out, diff);
    }
    for side in &run.added {
        let _ = writeln!(
            out,
            "\n### Added catalog `{}`\n\n{}",
            code(&side.id),
            md(&side_line(side))
        );
    }
    for side in &run.removed {
        let _ = writeln!(
            out,
            "\n### Removed catalog `{}`\n\n{}",
            code(&side.id),
            md(&side_line(side))
        );
    }
    out
}

fn markdown_catalog(out: &mut String, diff: &CatalogDiff) {
    let title = if diff.old.id == diff.new.id {
        format!("`{}`", code(&diff.new.id))
    } else {
        format!("`{}` → `{}`", code(&diff.old.id), code(&diff.new.id))
    };
    let _ = writeln!(out, "### Catalog {title}\n\n**{}**\n", summary_line(diff));
    if diff.is_empty() {
        return;
    }
    let levels: Vec<_> = diff.level_changes().collect();
    if !levels.is_empty() {
        let _ = writeln!(
            out,
            "#### ⚠️ Title level changes\n\n| entry | name | old level | new level |\n|---|---|---|---|"
        );
        for (old, new) in levels {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | **{}** |",
                code(&ids(old, new)),
                md(&new.name_zh),
                old.title_level.label_zh(),
                new.title_level.label_zh()
            );
        }
        out.push('\n');
    }
    if !diff.meta.is_empty() {
        let _ = writeln!(out, "#### Metadata\n");
        for field in &diff.meta {
            md_field(out, "", field);
        }
        out.push('\n');
    }
    if !diff.sections.is_empty() {
        let _ = writeln!(out, "#### Sections\n");
        for change in &diff.sections {
            let _ = match change {
                SectionChange::Added(s) => writeln!(
                    out,
                    "- **added** section {} {}{}",
                    s.number,
                    md(&s.ordinal),
                    md(&s.title)
                ),
                SectionChange::Removed(s) => writeln!(
                    out,
                    "- **removed** section {} {}{}",
                    s.number,
                    md(&s.ordinal),
                    md(&s.title)
                ),
                SectionChange::Changed { number, fields } => {
                    let _ = writeln!(out, "- section {number}");
                    for field in fields {
                        md_field(out, "  ", field);
                    }
                    Ok(())
                }
            };
        }
        out.push('\n');
    }
    if !diff.entries.is_empty() {
        let _ = writeln!(out, "#### Entries\n");
    }
    for change in &diff.entries {
        let _ = match change {
            EntryChange::Added { entry } => {
                writeln!(out, "- **added** {}", md_entry(entry))
            }
            EntryChange::Removed { entry } => {
                writeln!(out, "- **removed** {}", md_entry(entry))
            }
            EntryChange::Changed {
                old,
                new,
                matched_by,
                fields,
                rules,
            } => {
                let via = match matched_by {
                    MatchedBy::Id => String::new(),
                    MatchedBy::Supersedes => format!(
                        " (supersedes `{}`)",
                        code(new.supersedes.as_deref().unwrap_or_default())
                    ),
                };
                let _ = writeln!(
                    out,
                    "- **changed** `{}` {} ({}.{}){via}",
                    code(&ids(old, new)),
                    md(&new.name_zh),
                    new.section,
                    new.item
                );
                for field in fields {
                    md_field(out, "  ", field);
                }
                for rule in rules {
                    let _ = match rule {
                        RuleChange::Added(r) => writeln!(
                            out,
                            "  - rule `{}` **added**: {}",
                            code(&r.code),
                            md(&r.quote)
                        ),
                        RuleChange::Removed(r) => writeln!(
                            out,
                            "  - rule `{}` **removed**: ~~{}~~",
                            code(&r.code),
                            md(&r.quote)
                        ),
                        RuleChange::Changed { code: c, fields } => {
                            let _ = writeln!(out, "  - rule `{}` changed", code(c));
                            for field in fields {
                                md_field(out, "    ", field);
                            }
                            Ok(())
                        }
                    };
                }
                Ok(())
            }
        };
    }
    if !diff.not_listed.is_empty() {
        let _ = writeln!(out, "\n#### Not listed\n");
        for change in &diff.not_listed {
            let _ = match change {
                NotListedChange::Added(n) => {
                    writeln!(out, "- **added** {}", md(&n.names.join(", ")))
                }
                NotListedChange::Removed(n) => {
                    writeln!(out, "- **removed** {}", md(&n.names.join(", ")))
                }
                NotListedChange::Changed { name, fields } => {
                    let _ = writeln!(out, "- {}", md(name));
                    for field in fields {
                        md_field(out, "  ", field);
                    }
                    Ok(())
                }
            };
        }
    }
    out.push('\n');
}

fn md_entry(entry: &EntrySummary) -> String {
    format!(
        "`{}` {} ({}.{}), {}",
        code(&entry.id),
        md(&entry.name_zh),
        entry.section,
        entry.item,
        entry.title_level.label_zh()
    )
}

fn md_field(out: &mut String, indent: &str, field: &FieldChange) {
    let name = field.field;
    let _ = match &field.change {
        Change::Level { old, new } => writeln!(
            out,
            "{indent}- ⚠️ **{name}: {} → {}**",
            old.label_zh(),
            new.label_zh()
        ),
        Change::Text { segments, .. } => {
            let text: String = segments
                .iter()
                .map(|s| match s.kind {
                    SegmentKind::Same => md(&s.text),
                    SegmentKind::Removed => format!("~~{}~~", md(&s.text)),
                    SegmentKind::Added => format!("**{}**", md(&s.text)),
                })
                .collect();
            writeln!(out, "{indent}- {name}: {text}")
        }
        Change::List { removed, added, .. } => {
            let mut parts: Vec<String> = removed.iter().map(|v| format!("~~{}~~", md(v))).collect();
            parts.extend(added.iter().map(|v| format!("**+{}**", md(v))));
            if parts.is_empty() {
                parts.push("order changed".into());
            }
            writeln!(out, "{indent}- {name}: {}", parts.join(", "))
        }
        Change::Value { old, new } => writeln!(
            out,
            "{indent}- {name}: {} → {}",
            md(or_none(old)),
            md(or_none(new))
        ),
    };
}

/// Text safe in Markdown: every character Markdown (or HTML in it) could read as syntax is
/// escaped, line breaks become spaces.
fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '~' | '[' | ']' | '(' | ')' | '#' | '|' | '!' | '<' | '>'
            | '{' | '}' | '+' | '-' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// Text inside a code span: backticks cannot be escaped there, so they are replaced.
fn code(text: &str) -> String {
    text.replace('`', "'").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::tools::diff::{DiffInput, run};

    fn editions_run() -> DiffRun {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../storage/tests/data/editions");
        run(&DiffInput::Paths {
            old: dir.join("bj-test-2024.toml"),
            new: dir.join("bj-test-2025.toml"),
        })
        .unwrap()
    }

    #[test]
    fn text_puts_level_changes_first_and_marks_them() {
        let text = render_text(&editions_run(), false);
        assert!(!text.contains('\u{1b}'), "no colour off a terminal");
        let lines: Vec<&str> = text.lines().collect();
        let first_change = lines
            .iter()
            .position(|l| l.starts_with("!! title level changes: 1"));
        let entries = lines.iter().position(|l| *l == "entries:");
        assert!(first_change < entries, "{text}");
        assert!(
            text.contains("  !! acca → acca-member  ACCA会计师证书: 中级 → 副高级"),
            "{text}"
        );
        assert!(
            text.contains("  ~ acca → acca-member  ACCA会计师证书 (1.1) [supersedes bj-test-2024/acca]\n      !! title_level: 中级 → 副高级\n"),
            "{text}"
        );
        assert!(text.contains("对应[-中-]{+副高+}级职称"), "{text}");
        assert!(
            text.contains("  + cisa  CISA注册信息系统审计师认证 (2.1) 中级"),
            "{text}"
        );
        assert!(
            text.contains("  - delta  DELTA英语语言教师文凭 (1.3) 中级"),
            "{text}"
        );
        assert!(text.contains("      aliases: + ACCA会员"), "{text}");
        assert!(
            text.contains("      ~ rule DOMESTIC_ACCOUNTING_QUALIFICATION_FOR_HIGHER_TITLE"),
            "{text}"
        );
        assert!(
            text.contains("effective_until: 2024-12-31 → (none)"),
            "{text}"
        );
    }

    #[test]
    fn colour_is_only_added_when_asked_for() {
        let text = render_text(&editions_run(), true);
        assert!(text.contains("\u{1b}["), "{text}");
    }

    #[test]
    fn markdown_lists_level_changes_in_a_table_and_escapes_text() {
        let text = render_markdown(&editions_run());
        assert!(text.contains("#### ⚠️ Title level changes"), "{text}");
        assert!(
            text.contains("| `acca → acca-member` | ACCA会计师证书 | 中级 | **副高级** |"),
            "{text}"
        );
        assert!(text.contains("对应~~中~~**副高**级职称"), "{text}");
        assert!(text.contains("- **added** `cisa`"), "{text}");
        assert_eq!(md("a*b_c<d>|[e](f)"), "a\\*b\\_c\\<d\\>\\|\\[e\\]\\(f\\)");
        assert_eq!(code("a`b"), "a'b");
    }

    #[test]
    fn no_change_says_so() {
        let file = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../storage/catalogs/beijing-attachment-5.toml");
        let same = run(&DiffInput::Paths {
            old: file.clone(),
            new: file,
        })
        .unwrap();
        assert!(render_text(&same, false).contains("no change"));
        assert!(render_markdown(&same).contains("No change."));
    }
}
