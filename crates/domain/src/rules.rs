//! Rules an entry carries beyond the basic series requirements, as data quoted from its remark.
//!
//! Every rule holds the verbatim sentence of the remark it rests on ([`Rule::quote`]); the
//! catalog refuses a rule whose quote is not in the remark, so no rule exists without a
//! citation.

/// A Chinese qualification that some remarks require.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DomesticQualification {
    /// 中级会计专业技术资格
    IntermediateAccounting,
    /// 高级会计专业技术资格
    SeniorAccounting,
    /// Passed the Chinese CPA exam (中国注册会计师考试).
    CicpaExam,
    /// Registered with 北京注册会计师协会.
    BicpaRegistration,
}

impl DomesticQualification {
    pub const ALL: [DomesticQualification; 4] = [
        DomesticQualification::IntermediateAccounting,
        DomesticQualification::SeniorAccounting,
        DomesticQualification::CicpaExam,
        DomesticQualification::BicpaRegistration,
    ];

    /// The label used in remarks and catalog files.
    pub fn label_zh(self) -> &'static str {
        match self {
            DomesticQualification::IntermediateAccounting => "中级会计专业技术资格",
            DomesticQualification::SeniorAccounting => "高级会计专业技术资格",
            DomesticQualification::CicpaExam => "中国注册会计师考试",
            DomesticQualification::BicpaRegistration => "北京注册会计师协会注册",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            DomesticQualification::IntermediateAccounting => {
                "the intermediate accounting professional qualification"
            }
            DomesticQualification::SeniorAccounting => {
                "the senior accounting professional qualification"
            }
            DomesticQualification::CicpaExam => "a pass in the Chinese CPA examination",
            DomesticQualification::BicpaRegistration => {
                "registration with the Beijing Institute of Certified Public Accountants"
            }
        }
    }

    pub fn from_label_zh(label: &str) -> Option<DomesticQualification> {
        Self::ALL.into_iter().find(|q| q.label_zh() == label)
    }

    /// Whether holding `self` meets a requirement of `required`: the same qualification, or a
    /// higher one of the same series. In the accounting series the senior qualification is
    /// only open to holders of the intermediate one, so it meets a requirement of it.
    pub fn meets(self, required: DomesticQualification) -> bool {
        use DomesticQualification::{IntermediateAccounting, SeniorAccounting};
        self == required || (self == SeniorAccounting && required == IntermediateAccounting)
    }

    /// Of `held`, the qualification that meets `required`: `required` itself when held, else
    /// a higher one of its series.
    pub fn met_by(
        required: DomesticQualification,
        held: &[DomesticQualification],
    ) -> Option<DomesticQualification> {
        held.iter()
            .copied()
            .find(|&h| h == required)
            .or_else(|| held.iter().copied().find(|h| h.meets(required)))
    }
}

/// A rule of one entry, with the remark sentence it rests on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// Applying for a level above the certificate's requires these domestic qualifications.
    DomesticAccountingForHigherTitle {
        requires: Vec<DomesticQualification>,
        quote: String,
    },
    /// Practising as a CPA in Beijing requires the Chinese CPA exam and BICPA registration.
    CicpaForBeijingPractice { quote: String },
    /// The entry is mutually recognised with these certifications, which are not on the list
    /// themselves: a claim of one needs HR's confirmation.
    MutualRecognition {
        names: Vec<String>,
        quote: String,
        note_en: String,
    },
    /// Information that changes no verdict (exam exemptions, related skill certificates).
    Note {
        code: String,
        quote: String,
        note_en: String,
    },
}

impl Rule {
    /// The verbatim remark sentence the rule rests on.
    pub fn quote(&self) -> &str {
        match self {
            Rule::DomesticAccountingForHigherTitle { quote, .. }
            | Rule::CicpaForBeijingPractice { quote }
            | Rule::MutualRecognition { quote, .. }
            | Rule::Note { quote, .. } => quote,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualification_labels_round_trip() {
        for q in DomesticQualification::ALL {
            assert_eq!(DomesticQualification::from_label_zh(q.label_zh()), Some(q));
        }
        assert_eq!(DomesticQualification::from_label_zh("会计"), None);
    }

    #[test]
    fn a_higher_qualification_of_the_same_series_meets_a_lower_requirement() {
        use DomesticQualification::*;
        // (held, required, meets)
        for (held, required, meets) in [
            (IntermediateAccounting, IntermediateAccounting, true),
            (SeniorAccounting, IntermediateAccounting, true),
            (SeniorAccounting, SeniorAccounting, true),
            (IntermediateAccounting, SeniorAccounting, false),
            (SeniorAccounting, CicpaExam, false),
            (CicpaExam, IntermediateAccounting, false),
            (BicpaRegistration, CicpaExam, false),
        ] {
            assert_eq!(held.meets(required), meets, "{held:?} for {required:?}");
        }
        assert_eq!(
            DomesticQualification::met_by(IntermediateAccounting, &[SeniorAccounting]),
            Some(SeniorAccounting)
        );
        assert_eq!(
            DomesticQualification::met_by(
                IntermediateAccounting,
                &[SeniorAccounting, IntermediateAccounting]
            ),
            Some(IntermediateAccounting)
        );
        assert_eq!(
            DomesticQualification::met_by(SeniorAccounting, &[IntermediateAccounting]),
            None
        );
    }
}
