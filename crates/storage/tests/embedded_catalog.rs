//! The embedded catalog validates and matches the seed (attachment 5) on spot checks.

use certequiv_domain::TitleLevel;
use certequiv_storage::{EMBEDDED_CATALOG, load_text};

fn catalog() -> certequiv_domain::Catalog {
    load_text("embedded", EMBEDDED_CATALOG)
        .unwrap_or_else(|errors| panic!("embedded catalog invalid: {errors:?}"))
        .catalog
}

#[test]
fn has_33_entries_8_16_9_per_section_with_unique_ids() {
    let catalog = catalog();
    assert_eq!(catalog.certificates().len(), 33);
    assert_eq!([1, 2, 3].map(|s| catalog.section_count(s)), [8, 16, 9]);
    let mut ids: Vec<&str> = catalog
        .certificates()
        .iter()
        .map(|c| c.id.as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 33);
}

#[test]
fn levels_follow_the_remarks_not_the_section_heading() {
    let catalog = catalog();
    // Section 1's heading says 高级职称, every remark in it says 副高级职称.
    assert!(
        catalog
            .section(1)
            .unwrap()
            .title
            .contains("8项对应高级职称")
    );
    for cert in catalog.certificates() {
        let expected = if cert.section == 1 {
            TitleLevel::AssociateSenior
        } else {
            TitleLevel::Intermediate
        };
        assert_eq!(cert.title_level, expected, "{}", cert.id);
        assert!(
            cert.remark
                .contains(&format!("对应{}职称", expected.label_zh())),
            "{}",
            cert.id
        );
        assert!(cert.remark.starts_with(&*cert.work_scope), "{}", cert.id);
    }
}

#[test]
fn metadata_states_only_what_the_source_says() {
    let catalog = catalog();
    let meta = catalog.meta();
    assert_eq!(meta.id, "beijing-attachment-5");
    assert_eq!(
        meta.title,
        "部分国际职业资格与职称对应表（共计33项对应职称）"
    );
    assert_eq!(meta.jurisdiction, "北京市");
    assert_eq!(meta.source, "附件5");
    assert_eq!(meta.effective_from, None, "the source gives no date");
    assert_eq!(meta.effective_until, None);
}

/// One row = one field a reader can check against the seed text.
#[test]
fn spot_checks_against_the_seed() {
    let catalog = catalog();
    let get = |id: &str| {
        catalog
            .certificate(id)
            .unwrap_or_else(|| panic!("missing {id}"))
    };
    let rows: &[(&str, &str, String)] = &[
        ("ieee-fellow", "name_zh", get("ieee-fellow").name_zh.clone()),
        (
            "ieee-fellow",
            "issuer_en",
            get("ieee-fellow").issuers[0].name_en.to_string(),
        ),
        (
            "ieee-fellow",
            "country",
            get("ieee-fellow").country_or_region.to_string(),
        ),
        ("fcca", "name_zh", get("fcca").name_zh.clone()),
        ("fcca", "fields", get("fcca").fields.join("、")),
        (
            "rsc-fellow",
            "country",
            get("rsc-fellow").country_or_region.to_string(),
        ),
        (
            "iet-fellow",
            "issuer_zh",
            get("iet-fellow").issuers[0].name_zh.to_string(),
        ),
        ("iet-fellow", "fields", get("iet-fellow").fields.join("、")),
        (
            "leed-fellow",
            "issuer count",
            get("leed-fellow").issuers.len().to_string(),
        ),
        (
            "leed-fellow",
            "issuer 2 en",
            get("leed-fellow").issuers[1].name_en.to_string(),
        ),
        ("gdtp-senior", "name_zh", get("gdtp-senior").name_zh.clone()),
        (
            "cpa-australia",
            "name_zh",
            get("cpa-australia").name_zh.clone(),
        ),
        (
            "cpa-australia",
            "country",
            get("cpa-australia").country_or_region.to_string(),
        ),
        (
            "fashk",
            "country",
            get("fashk").country_or_region.to_string(),
        ),
        ("delta", "work_scope", get("delta").work_scope.to_string()),
        (
            "cibep",
            "issuer_zh",
            get("cibep").issuers[0].name_zh.to_string(),
        ),
        (
            "hcie-datacom",
            "issuer_en",
            get("hcie-datacom").issuers[0].name_en.to_string(),
        ),
        (
            "hcie-cloud-computing",
            "fields",
            get("hcie-cloud-computing").fields.join("、"),
        ),
        (
            "azure-solutions-architect-expert",
            "issuer_en",
            get("azure-solutions-architect-expert").issuers[0]
                .name_en
                .to_string(),
        ),
    ];
    let expected = [
        "IEEE会士证书（Fellow）",
        "The Institute of Electrical and Electronics Engineers",
        "",
        "ACCA资深会员证书（Fcca）",
        "金融、会计",
        "英国",
        "英国工程技术学会",
        "建筑与工程服务",
        "2",
        "Green Business Certification,Inc",
        "GDTP几何尺寸与公差专业人士认证（高级）",
        "CPA澳洲注册会计师资格（注册及资深注册会计师）",
        "澳大利亚",
        "中国香港",
        "可不受母语国限制，从事英语语言课程教学相关工作。",
        "北京北辰实业集团有限责任公司",
        "Huawei TECHNOLOGIES Co., Ltd.",
        "云计算",
        "Microsoft",
    ];
    assert_eq!(rows.len(), expected.len());
    for ((id, field, got), want) in rows.iter().zip(expected) {
        assert_eq!(got, want, "{id}.{field}");
    }
    assert_eq!(
        &*get("acca").remark,
        "从事金融、会计和财务管理相关工作。对应中级职称需符合相应职称系列（专业）级别的学历、年限等基本标准条件，申报高一级职称需取得中级会计专业技术资格，在京从事注册会计师业务，须通过中国注册会计师考试及在北京注册会计师协会注册后执业。中国注册会计师资质持证者，可免考9门ACCA会计师课程。"
    );
    assert_eq!(
        get("ieee-fellow").remark.matches("计算机工程").count(),
        2,
        "the source repeats it"
    );
}

#[test]
fn no_bare_ambiguous_alias_exists() {
    let catalog = catalog();
    for cert in catalog.certificates() {
        for key in cert.abbreviations.iter().chain(&cert.aliases) {
            for banned in ["CPA", "精算师", "Fellow", "HCIE", "会士", "高级会员"] {
                assert_ne!(key, banned, "{} must not claim {banned:?}", cert.id);
            }
        }
    }
}

/// The rule codes an entry carries, as conditions and notes name them.
fn rule_code(rule: &certequiv_domain::rules::Rule) -> &str {
    use certequiv_domain::rules::Rule;
    match rule {
        Rule::DomesticAccountingForHigherTitle { .. } => {
            "DOMESTIC_ACCOUNTING_QUALIFICATION_FOR_HIGHER_TITLE"
        }
        Rule::CicpaForBeijingPractice { .. } => "CICPA_FOR_BEIJING_PRACTICE",
        Rule::MutualRecognition { .. } => "MUTUAL_RECOGNITION",
        Rule::Note { code, .. } => code,
    }
}

#[test]
fn the_embedded_cases_pass_and_pin_every_entry_and_every_rule() {
    use certequiv_domain::cases::{ExpectedCondition, check};
    let loaded = certequiv_storage::load_embedded(certequiv_storage::Cases::Enforce)
        .unwrap_or_else(|errors| panic!("embedded cases fail: {errors:#?}"));
    let catalog = &loaded.catalog;
    let cases = &loaded
        .cases
        .as_ref()
        .expect("the embedded catalog has cases")
        .cases;
    assert!(cases.len() > 33, "{} cases", cases.len());

    let mut pinned_entries = std::collections::HashSet::new();
    // (entry id, rule code) pinned by a case that resolves the entry (or, for a mutual
    // recognition, whose note comes from it) and expects the rule's condition or note.
    let mut pinned_rules = std::collections::HashSet::new();
    for case in cases {
        let outcome = check(catalog, case);
        assert!(outcome.passed(), "{}: {:?}", case.name, outcome.mismatches);
        let answer = outcome.answer.expect("passed");
        pinned_entries.extend(case.expect.resolved.iter().flatten().cloned());
        let expected_codes = case
            .expect
            .conditions
            .iter()
            .filter(|(_, e)| *e != ExpectedCondition::Absent)
            .map(|(code, _)| code.clone())
            .chain(case.expect.notes.iter().cloned());
        for code in expected_codes {
            let from_conditions = answer
                .conditions
                .iter()
                .filter(|(c, _, _)| *c == code)
                .map(|(_, id, _)| id.clone());
            let from_notes = answer
                .notes
                .iter()
                .filter(|(c, _)| *c == code)
                .map(|(_, id)| id.clone());
            for id in from_conditions.chain(from_notes) {
                pinned_rules.insert((id, code.clone()));
            }
        }
    }
    for cert in catalog.certificates() {
        assert!(
            pinned_entries.contains(&cert.id),
            "no case pins {}",
            cert.id
        );
        for rule in &cert.rules {
            let key = (cert.id.clone(), rule_code(rule).to_owned());
            assert!(pinned_rules.contains(&key), "no case pins {key:?}");
        }
    }
    let rules: usize = catalog.certificates().iter().map(|c| c.rules.len()).sum();
    assert_eq!(
        rules, 10,
        "FCCA 2, ACCA 3, CPA Australia 3, CIBEP 2: all pinned above"
    );
}
