//! Look-alikes: what a claim names that is not an entry of the list, but close to one — a
//! certification the catalog names as *not* listed ("CELTA" beside "DELTA"), or one an entry
//! is mutually recognised with (CICE beside CIBEP). Built once per catalog load.

use crate::model::{Certificate, NotListed};
use crate::rules::Rule;
use crate::search::AnalyzedQuery;
use crate::text::analyze;

/// A name as the checks compare it: its compact form and its distinct units.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Name {
    compact: String,
    units: Vec<Box<str>>,
}

impl Name {
    /// `None` for a name with no units (only punctuation or noise words).
    fn of(text: &str) -> Option<Name> {
        let analyzed = analyze(text);
        let units: Vec<Box<str>> = analyzed
            .distinct_units()
            .into_iter()
            .map(Box::from)
            .collect();
        (!units.is_empty()).then_some(Name {
            compact: analyzed.compact,
            units,
        })
    }

    /// Whether the query is this name, or holds every unit of it.
    fn in_query(&self, query: &AnalyzedQuery) -> bool {
        self.compact == query.compact() || self.units.iter().all(|unit| query.has_unit(unit))
    }
}

/// The names of one catalog's look-alikes.
#[derive(Debug, Default)]
pub struct LookAlikes {
    /// Per not-listed entry, its names.
    not_listed: Vec<Vec<Name>>,
    /// Certifications an entry is mutually recognised with: (name as written, name, entry).
    mutual: Vec<(String, Name, usize)>,
}

impl LookAlikes {
    pub(crate) fn build(certs: &[Certificate], not_listed: &[NotListed]) -> LookAlikes {
        let mutual = certs
            .iter()
            .enumerate()
            .flat_map(|(i, cert)| {
                cert.rules.iter().flat_map(move |rule| {
                    match rule {
                        Rule::MutualRecognition { names, .. } => names.as_slice(),
                        _ => &[],
                    }
                    .iter()
                    .map(move |name| (i, name))
                })
            })
            .filter_map(|(i, name)| Name::of(name).map(|n| (name.clone(), n, i)))
            .collect();
        let not_listed = not_listed
            .iter()
            .map(|entry| entry.names.iter().filter_map(|n| Name::of(n)).collect())
            .collect();
        LookAlikes { not_listed, mutual }
    }

    /// The not-listed entry one of whose names the query holds, if any.
    pub fn not_listed(&self, query: &AnalyzedQuery) -> Option<usize> {
        self.not_listed
            .iter()
            .position(|names| names.iter().any(|name| name.in_query(query)))
    }

    /// The entry mutually recognised with a certification the query names, and that name as
    /// the rule writes it.
    pub fn mutually_recognised(&self, query: &AnalyzedQuery) -> Option<(usize, &str)> {
        self.mutual
            .iter()
            .find(|(_, name, _)| name.in_query(query))
            .map(|(text, _, cert)| (*cert, text.as_str()))
    }
}
