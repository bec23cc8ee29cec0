//! Synthetic catalogs of any size, for benchmarks and load tests of search and loading; built
//! only with the crate feature `synthetic`, never into the server.
//!
//! The real catalogs hold a few dozen entries; a catalog of 100,000 entries only exists here.
//! [`catalog_jsonl`] writes catalog file *text* in the JSON Lines format of large catalogs
//! (`crate::jsonl`), so a benchmark that loads it goes through the real parser, validation and
//! index build ([`crate::load_text_as`]).
//!
//! The entries look like the real ones: a Chinese name (a transliterated body name such as
//! "卡罗斯" + a profession + a grade, sometimes with "证书" or an English grade in brackets),
//! an English name, an abbreviation, an English and a Chinese alias, one or two issuers with a
//! Chinese and an English name, a country, fields, a work scope and a remark that opens with
//! it. Common words ("Fellow", "Institute", "会员", "工程师") are shared by many entries, as in
//! real lists, which is what makes a large catalog hard to search quickly.
//!
//! Validation refuses a name, abbreviation or alias that would name two entries (compared in
//! compact form: NFKC, lower case, no punctuation, spaces or noise words). Every entry `i`
//! therefore gets two serials that no other entry has:
//! - a five-character Latin code (`QX7K2`) that *ends* every Latin name, abbreviation and
//!   alias, so the last five characters of such a compact form tell the entry;
//! - a three-character transliterated body name (`卡罗斯`) drawn from characters that no other
//!   part of a Chinese name uses, so the one run of those characters in a Chinese key tells the
//!   entry.
//!
//! Both serials are bijections of the entry number (an odd multiplier modulo a power of two),
//! so they are unique without any bookkeeping, and look random rather than sequential.
//! Output is deterministic: the same `(entries, seed)` gives the same text, and entry `i`
//! depends only on `seed` and `i`, so a smaller catalog is a prefix of a larger one with the
//! same seed (a query built from `syn-000500` works at every size from 500 on).

use std::fmt::Write as _;

use certequiv_domain::Certificate;

/// Largest number of entries [`catalog_jsonl`] can make unique (64³ Chinese body names).
pub const MAX_ENTRIES: usize = 1 << 18;

/// Characters of the transliterated body names; none appears in any other part of a Chinese
/// key (professions, grades, "证书").
const BRAND_CHARS: [char; 64] = [
    '阿', '巴', '卡', '德', '埃', '菲', '格', '哈', '伊', '杰', '克', '拉', '马', '纳', '奥', '帕',
    '奎', '里', '萨', '塔', '乌', '维', '沃', '西', '亚', '泽', '贝', '迪', '恩', '弗', '吉', '霍',
    '库', '米', '尼', '欧', '佩', '普', '罗', '斯', '图', '瓦', '威', '休', '扬', '兹', '森', '顿',
    '伯', '莱', '蒙', '诺', '雷', '索', '托', '布', '丹', '汉', '柯', '莫', '桑', '邦', '韦', '琳',
];

/// Code alphabet: letters and digits without the look-alikes I, O, 0 and 1.
const CODE_CHARS: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
const CODE_LEN: usize = 5;

/// A profession: Chinese name, English plural, initials, fields, and the work it does.
struct Profession {
    zh: &'static str,
    en: &'static str,
    initials: &'static str,
    fields: &'static [&'static str],
    work: &'static str,
}

const PROFESSIONS: &[Profession] = &[
    Profession {
        zh: "数据分析师",
        en: "Data Analysts",
        initials: "DA",
        fields: &["信息技术", "科技"],
        work: "数据分析、统计建模和商业智能",
    },
    Profession {
        zh: "精算师",
        en: "Actuaries",
        initials: "A",
        fields: &["金融", "保险"],
        work: "保险精算、风险评估和养老金规划",
    },
    Profession {
        zh: "管理会计师",
        en: "Management Accountants",
        initials: "MA",
        fields: &["会计", "金融"],
        work: "管理会计、成本控制和预算管理",
    },
    Profession {
        zh: "信息系统审计师",
        en: "Information Systems Auditors",
        initials: "ISA",
        fields: &["信息技术", "审计"],
        work: "信息系统审计、内部控制和信息安全管理",
    },
    Profession {
        zh: "结构工程师",
        en: "Structural Engineers",
        initials: "SE",
        fields: &["工程", "建筑"],
        work: "建筑结构设计、结构安全评估",
    },
    Profession {
        zh: "化学工程师",
        en: "Chemical Engineers",
        initials: "CHE",
        fields: &["工程", "化工"],
        work: "化工工艺设计、化学品安全和过程控制",
    },
    Profession {
        zh: "风险管理师",
        en: "Risk Managers",
        initials: "RM",
        fields: &["金融"],
        work: "企业风险管理、合规和内部控制",
    },
    Profession {
        zh: "项目管理师",
        en: "Project Managers",
        initials: "PM",
        fields: &["管理", "工程"],
        work: "项目计划、进度控制和项目组合管理",
    },
    Profession {
        zh: "财务规划师",
        en: "Financial Planners",
        initials: "FP",
        fields: &["金融"],
        work: "个人理财、财富管理和退休规划",
    },
    Profession {
        zh: "网络安全工程师",
        en: "Cybersecurity Engineers",
        initials: "CSE",
        fields: &["信息技术", "网络安全"],
        work: "网络安全防护、渗透测试和安全运营",
    },
    Profession {
        zh: "云计算架构师",
        en: "Cloud Architects",
        initials: "CA",
        fields: &["信息技术"],
        work: "云计算架构设计、云平台运维和迁移",
    },
    Profession {
        zh: "建筑师",
        en: "Architects",
        initials: "AR",
        fields: &["建筑", "工程"],
        work: "建筑设计、城市规划和绿色建筑",
    },
    Profession {
        zh: "测量师",
        en: "Surveyors",
        initials: "S",
        fields: &["建筑", "工程"],
        work: "工程测量、造价咨询和物业估价",
    },
    Profession {
        zh: "物流师",
        en: "Logistics Professionals",
        initials: "LP",
        fields: &["物流", "管理"],
        work: "供应链管理、物流规划和采购",
    },
    Profession {
        zh: "人力资源管理师",
        en: "Human Resource Professionals",
        initials: "HRP",
        fields: &["管理"],
        work: "人力资源规划、招聘和薪酬管理",
    },
    Profession {
        zh: "税务师",
        en: "Tax Advisers",
        initials: "TA",
        fields: &["会计", "法律"],
        work: "税务筹划、税务合规和税务咨询",
    },
    Profession {
        zh: "内部审计师",
        en: "Internal Auditors",
        initials: "IA",
        fields: &["审计", "会计"],
        work: "内部审计、公司治理和舞弊调查",
    },
    Profession {
        zh: "质量工程师",
        en: "Quality Engineers",
        initials: "QE",
        fields: &["工程", "制造"],
        work: "质量管理体系、质量检验和可靠性工程",
    },
    Profession {
        zh: "能源工程师",
        en: "Energy Engineers",
        initials: "EE",
        fields: &["工程", "能源"],
        work: "能源审计、节能改造和新能源开发",
    },
    Profession {
        zh: "医学物理师",
        en: "Medical Physicists",
        initials: "MP",
        fields: &["医疗卫生", "科技"],
        work: "放射治疗物理、医学影像和辐射防护",
    },
    Profession {
        zh: "环境工程师",
        en: "Environmental Engineers",
        initials: "ENV",
        fields: &["工程", "环境"],
        work: "环境影响评价、污染治理和生态修复",
    },
    Profession {
        zh: "金融分析师",
        en: "Financial Analysts",
        initials: "FA",
        fields: &["金融"],
        work: "投资分析、资产管理和证券研究",
    },
    Profession {
        zh: "电气工程师",
        en: "Electrical Engineers",
        initials: "EL",
        fields: &["工程", "能源"],
        work: "电气设计、电力系统和自动化控制",
    },
    Profession {
        zh: "软件工程师",
        en: "Software Engineers",
        initials: "SWE",
        fields: &["信息技术"],
        work: "软件开发、软件测试和系统架构",
    },
    Profession {
        zh: "机械工程师",
        en: "Mechanical Engineers",
        initials: "ME",
        fields: &["工程", "制造"],
        work: "机械设计、制造工艺和设备维护",
    },
    Profession {
        zh: "统计师",
        en: "Statisticians",
        initials: "ST",
        fields: &["科技"],
        work: "统计调查、统计分析和数据质量管理",
    },
    Profession {
        zh: "翻译师",
        en: "Translators",
        initials: "TR",
        fields: &["语言服务"],
        work: "笔译、口译和本地化",
    },
    Profession {
        zh: "营养师",
        en: "Dietitians",
        initials: "DT",
        fields: &["医疗卫生"],
        work: "临床营养、膳食指导和健康管理",
    },
];

/// A grade: Chinese, English, post-nominal initial, and whether it maps to 副高级.
struct Grade {
    zh: &'static str,
    en: &'static str,
    initial: &'static str,
    senior: bool,
}

const GRADES: &[Grade] = &[
    Grade {
        zh: "会士",
        en: "Fellow",
        initial: "F",
        senior: true,
    },
    Grade {
        zh: "资深会员",
        en: "Chartered Fellow",
        initial: "CF",
        senior: true,
    },
    Grade {
        zh: "高级会员",
        en: "Senior Member",
        initial: "SM",
        senior: true,
    },
    Grade {
        zh: "会员",
        en: "Member",
        initial: "M",
        senior: false,
    },
    Grade {
        zh: "特许会员",
        en: "Chartered Member",
        initial: "CM",
        senior: false,
    },
    Grade {
        zh: "专家级",
        en: "Expert",
        initial: "E",
        senior: true,
    },
    Grade {
        zh: "专业级",
        en: "Professional",
        initial: "P",
        senior: false,
    },
];

/// Kinds of issuing body: Chinese suffix, English words before "of", initial.
const BODIES: &[(&str, &str, &str)] = &[
    ("学会", "Institute", "I"),
    ("协会", "Association", "A"),
    ("公会", "Society", "S"),
    ("特许学会", "Chartered Institute", "CI"),
    ("理事会", "Council", "C"),
    ("委员会", "Board", "B"),
];

/// Where a body is from: Chinese prefix, English adjective, initial, country or region.
const ORIGINS: &[(&str, &str, &str, &str)] = &[
    ("英国", "British", "B", "英国"),
    ("英国皇家", "Royal", "R", "英国"),
    ("美国", "American", "A", "美国"),
    ("澳大利亚", "Australian", "A", "澳大利亚"),
    ("加拿大", "Canadian", "C", "加拿大"),
    ("新加坡", "Singapore", "S", "新加坡"),
    ("德国", "German", "G", "德国"),
    ("香港", "Hong Kong", "HK", "中国香港"),
    ("国际", "International", "I", ""),
    ("全球", "Global", "G", ""),
    ("欧洲", "European", "E", "欧洲"),
    ("亚太", "Asia-Pacific", "AP", ""),
];

/// The kinds of query a benchmark mix holds, one of each, in the order of [`queries_for`].
pub const QUERY_KINDS: &[&str] = &[
    "abbreviation",
    "abbreviation-fullwidth",
    "name-zh",
    "name-en",
    "key+issuer",
    "common-en",
    "common-zh",
    "typo",
    "prefix",
    "mixed-script",
    "issuer-en",
    "no-match",
];

/// One query of each kind of [`QUERY_KINDS`], built from the synthetic entry `target`
/// (benchmarks use `syn-000500`, which every catalog of 500 entries or more has).
///
/// # Panics
/// When `target` is not an entry [`catalog_jsonl`] wrote (it relies on their shape).
pub fn queries_for(target: &Certificate) -> Vec<String> {
    let abbreviation = &target.abbreviations[0];
    let issuer = &target.issuers[0];
    let fullwidth: String = abbreviation
        .to_lowercase()
        .chars()
        .map(|c| match c {
            '!'..='~' => char::from_u32(c as u32 + 0xFEE0).unwrap_or(c),
            c => c,
        })
        .collect();
    // One letter dropped from the longest word of the issuer: "Engineers" -> "Enineers".
    let words: Vec<&str> = issuer.name_en.split(' ').collect();
    let longest = words
        .iter()
        .copied()
        .max_by_key(|w| w.len())
        .unwrap_or_default();
    let typo: Vec<String> = words
        .iter()
        .map(|&w| {
            if w == longest {
                format!("{}{}", &w[..2], &w[3..])
            } else {
                w.to_owned()
            }
        })
        .collect();
    // The first letters of the grade and of the profession's last word: "Memb Engin".
    let first_word = target.name_en.split(' ').next().unwrap_or_default();
    let prefix = format!(
        "{} {}",
        &first_word[..first_word.len().min(4)],
        &longest[..longest.len().min(5)]
    );
    // Body acronym and Chinese grade: "GASWE 会员".
    let acronym = target.aliases[0].split(' ').next().unwrap_or_default();
    let grade_zh: String = target.aliases[1].chars().skip(3).collect();
    vec![
        abbreviation.clone(),
        fullwidth,
        target.name_zh.clone(),
        target.name_en.clone(),
        format!("{} {abbreviation}", issuer.name_zh),
        "Institute Fellow".to_owned(),
        "高级会员".to_owned(),
        typo.join(" "),
        prefix,
        format!("{acronym} {grade_zh}"),
        issuer.name_en.to_string(),
        "Zyxwvut Qponmlk".to_owned(),
    ]
}

/// The id of the catalog [`catalog_jsonl`] writes for `entries` entries.
pub fn catalog_id(entries: usize) -> String {
    format!("synthetic-{entries}")
}

/// Catalog file text (JSON Lines, the format of large catalogs) with `entries` synthetic
/// certificates, ids `syn-000001`, `syn-000002`, …, spread over sections 1 to 3. Every name,
/// abbreviation and alias names one entry only, so the text loads with [`crate::load_text_as`].
///
/// # Panics
/// When `entries` exceeds [`MAX_ENTRIES`].
pub fn catalog_jsonl(entries: usize, seed: u64) -> String {
    assert!(
        entries <= MAX_ENTRIES,
        "at most {MAX_ENTRIES} synthetic entries can be unique, asked for {entries}"
    );
    let mut out = String::with_capacity(700 * entries + 1_000);
    // JSON has no comments: the title and source say that this is not a real list.
    let _ = writeln!(
        out,
        r#"{{"catalog":{{"id":{id},"title":{title},"jurisdiction":"合成测试","source":"certequiv_storage::synthetic (seed {seed})"}},"sections":[{{"number":1,"ordinal":"（一）","title":"合成急需紧缺清单（对应副高级职称）"}},{{"number":2,"ordinal":"（二）","title":"合成境外职业资格清单（对应中级职称）"}},{{"number":3,"ordinal":"（三）","title":"合成出海职业认证清单（对应中级职称）"}}]}}"#,
        id = quote(&catalog_id(entries)),
        title = quote(&format!("合成测试目录（{entries}项）")),
    );
    let serials = Serials::new(seed);
    let mut items = [0u32; 3];
    for i in 0..entries {
        let entry = Entry::new(i, seed, &serials, &mut items);
        entry.write(&mut out);
    }
    out
}

/// The two per-entry serials: bijections of the entry number.
struct Serials {
    code_mul: u64,
    code_add: u64,
    brand_mul: u64,
    brand_add: u64,
}

impl Serials {
    fn new(seed: u64) -> Serials {
        let mut state = seed ^ 0x5EED_CE47_E01A_u64;
        Serials {
            code_mul: splitmix64(&mut state) | 1,
            code_add: splitmix64(&mut state),
            brand_mul: splitmix64(&mut state) | 1,
            brand_add: splitmix64(&mut state),
        }
    }

    /// Five characters of [`CODE_CHARS`]: 32⁵ = 2²⁵ distinct values.
    fn code(&self, i: usize) -> String {
        let mask = (1u64 << (5 * CODE_LEN)) - 1;
        let mut value = (i as u64)
            .wrapping_mul(self.code_mul)
            .wrapping_add(self.code_add)
            & mask;
        let mut code = String::with_capacity(CODE_LEN);
        for _ in 0..CODE_LEN {
            code.push(char::from(CODE_CHARS[(value & 31) as usize]));
            value >>= 5;
        }
        code
    }

    /// Three characters of [`BRAND_CHARS`]: 64³ = 2¹⁸ distinct values.
    fn brand(&self, i: usize) -> String {
        let mut value = (i as u64)
            .wrapping_mul(self.brand_mul)
            .wrapping_add(self.brand_add)
            & (MAX_ENTRIES as u64 - 1);
        let mut brand = String::with_capacity(9);
        for _ in 0..3 {
            brand.push(BRAND_CHARS[(value & 63) as usize]);
            value >>= 6;
        }
        brand
    }
}

/// One synthetic certificate, before it is written out.
struct Entry {
    number: usize,
    section: u32,
    item: u32,
    name_zh: String,
    name_en: String,
    abbreviations: Vec<String>,
    aliases: Vec<String>,
    issuers: Vec<(String, String)>,
    country: &'static str,
    fields: Vec<&'static str>,
    work_scope: String,
    senior: bool,
}

impl Entry {
    fn new(i: usize, seed: u64, serials: &Serials, items: &mut [u32; 3]) -> Entry {
        let mut rng = seed ^ (i as u64).wrapping_mul(0xA24B_AED4_963E_E407);
        let mut pick = |n: usize| (splitmix64(&mut rng) % n as u64) as usize;
        let profession = &PROFESSIONS[pick(PROFESSIONS.len())];
        let grade = &GRADES[pick(GRADES.len())];
        let (body_zh, body_en, body_initial) = BODIES[pick(BODIES.len())];
        let (origin_zh, origin_en, origin_initial, country) = ORIGINS[pick(ORIGINS.len())];
        let style = pick(4);
        let with_partner = pick(10) == 0;
        let extra_field = pick(3) == 0;
        let other_field = PROFESSIONS[pick(PROFESSIONS.len())].fields[0];

        let code = serials.code(i);
        let brand = serials.brand(i);
        let section = if grade.senior { 1 } else { 2 + pick(2) as u32 };
        items[section as usize - 1] += 1;

        let body_acronym = format!(
            "{origin_initial}{body_initial}{}",
            profession.initials.to_ascii_uppercase()
        );
        let issuer_en = format!("{origin_en} {body_en} of {}", profession.en);
        let issuer_zh = format!("{origin_zh}{}{body_zh}", profession.zh);
        let name_zh = match style {
            0 => format!("{brand}{}{}", profession.zh, grade.zh),
            1 => format!("{brand}{}{}证书", profession.zh, grade.zh),
            2 => format!("{brand}{}{}（{}）", profession.zh, grade.zh, grade.en),
            _ => format!("{brand}{}认证{}", profession.zh, grade.zh),
        };
        let name_en = format!("{} of the {issuer_en} ({code})", grade.en);
        let mut abbreviations = vec![format!("{}{body_acronym}-{code}", grade.initial)];
        if style == 3 {
            abbreviations.push(format!("{body_acronym}-{code}"));
        }
        let aliases = vec![
            format!("{body_acronym} {} {code}", grade.en),
            format!("{brand}{}", grade.zh),
        ];
        let mut issuers = vec![(issuer_zh, issuer_en)];
        if with_partner {
            issuers.push((
                format!("中国{}协会", profession.zh),
                format!("China Association of {}", profession.en),
            ));
        }
        let mut fields = profession.fields.to_vec();
        if extra_field && !fields.contains(&other_field) {
            fields.push(other_field);
        }
        Entry {
            number: i + 1,
            section,
            item: items[section as usize - 1],
            name_zh,
            name_en,
            abbreviations,
            aliases,
            issuers,
            country,
            fields,
            work_scope: format!("从事{}等相关工作。", profession.work),
            senior: grade.senior,
        }
    }

    /// Writes the entry as one line of a JSON Lines catalog.
    fn write(&self, out: &mut String) {
        let level = if self.senior { "副高级" } else { "中级" };
        let remark = format!(
            "{}对应{level}职称需符合相应职称系列（专业）级别的学历、年限等基本标准条件。",
            self.work_scope
        );
        let issuers: Vec<String> = self
            .issuers
            .iter()
            .map(|(zh, en)| format!(r#"{{"name_zh":{},"name_en":{}}}"#, quote(zh), quote(en)))
            .collect();
        let _ = writeln!(
            out,
            r#"{{"id":"syn-{:06}","section":{},"item":{},"name_zh":{},"name_en":{},"abbreviations":{},"aliases":{},"country_or_region":{},"fields":{},"work_scope":{},"title_level":"{level}","remark":{},"issuers":[{}]}}"#,
            self.number,
            self.section,
            self.item,
            quote(&self.name_zh),
            quote(&self.name_en),
            array(&self.abbreviations),
            array(&self.aliases),
            quote(self.country),
            array(&self.fields),
            quote(&self.work_scope),
            quote(&remark),
            issuers.join(","),
        );
    }
}

/// A JSON string.
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c < ' ' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn array<S: AsRef<str>>(items: &[S]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| quote(s.as_ref())).collect();
    format!("[{}]", quoted.join(","))
}

/// SplitMix64: a tiny, well-mixed deterministic generator; enough for test data.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::{Format, load_text_as};

    #[test]
    fn a_thousand_entries_parse_validate_and_index() {
        let text = catalog_jsonl(1_000, 7);
        assert_eq!(
            text.lines().count(),
            1_001,
            "a header and one line an entry"
        );
        let loaded = load_text_as(Format::Jsonl, "synthetic.jsonl", &text)
            .unwrap_or_else(|e| panic!("{e:?}"));
        let catalog = &loaded.catalog;
        assert_eq!(catalog.id(), catalog_id(1_000));
        assert_eq!(catalog.certificates().len(), 1_000);
        assert!(catalog.certificate("syn-000001").is_some());
        assert!(catalog.certificate("syn-001000").is_some());
        for section in 1..=3 {
            assert!(
                catalog.section_count(section) > 0,
                "section {section} empty"
            );
        }
        for cert in catalog.certificates() {
            assert!(cert.remark.starts_with(&*cert.work_scope), "{}", cert.id);
            assert!(!cert.abbreviations.is_empty() && !cert.aliases.is_empty());
        }
    }

    #[test]
    fn output_is_deterministic_and_smaller_catalogs_are_prefixes() {
        assert_eq!(catalog_jsonl(200, 3), catalog_jsonl(200, 3));
        assert_ne!(catalog_jsonl(200, 3), catalog_jsonl(200, 4));
        let small = catalog_jsonl(100, 3);
        let large = catalog_jsonl(300, 3);
        let body = |text: &str| text.split_once('\n').map(|(_, b)| b.to_owned());
        assert!(
            body(&large)
                .unwrap_or_default()
                .starts_with(&body(&small).unwrap_or_default())
        );
    }

    #[test]
    fn strings_are_written_as_json_reads_them() {
        for text in [
            "",
            "甲 \"Ｑ\" \\ 乙",
            "tab\tline\ncr\r\u{1}\u{1f}",
            "\u{7f}é",
        ] {
            let read: String = serde_json::from_str(&quote(text)).unwrap();
            assert_eq!(read, text);
        }
        let read: Vec<String> = serde_json::from_str(&array(&["a", "\"b\""])).unwrap();
        assert_eq!(read, ["a", "\"b\""]);
    }

    #[test]
    fn serials_are_unique_up_to_the_maximum() {
        let serials = Serials::new(42);
        let mut codes = HashSet::new();
        let mut brands = HashSet::new();
        for i in 0..MAX_ENTRIES {
            assert!(codes.insert(serials.code(i)), "code of {i} repeats");
            assert!(brands.insert(serials.brand(i)), "brand of {i} repeats");
        }
    }

    #[test]
    fn body_name_characters_appear_nowhere_else_in_a_chinese_key() {
        let mut others: String = PROFESSIONS.iter().map(|p| p.zh).collect();
        others.extend(GRADES.iter().map(|g| g.zh));
        others.push_str("证书认证（）");
        let distinct: HashSet<char> = BRAND_CHARS.iter().copied().collect();
        assert_eq!(distinct.len(), BRAND_CHARS.len());
        for c in others.chars() {
            assert!(!distinct.contains(&c), "{c} is also a body-name character");
        }
    }
}
