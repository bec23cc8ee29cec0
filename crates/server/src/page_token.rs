//! `ListCertificates` page tokens (AIP-158): where the next page starts, bound to the catalog
//! version and filter it was issued for, so a token replayed against other data is refused
//! instead of silently skipping or repeating entries.
//!
//! A token is `v1|catalog id|etag|filter hash|offset` in URL-safe base64: opaque to clients,
//! but not a secret (it says nothing the answer did not).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use certequiv_domain::{Catalog, CertificateFilter};
use sha2::{Digest, Sha256};

use crate::error::Violations;

const FIELD: &str = "page_token";
const FOREIGN: &str = "is not a token issued by this service";

/// The token for the page of `catalog`'s entries matching `filter` that starts at `offset`.
pub fn issue(catalog: &Catalog, filter: &CertificateFilter, offset: usize) -> String {
    let raw = format!(
        "v1|{}|{}|{}|{offset}",
        catalog.id(),
        catalog.etag(),
        filter_hash(filter)
    );
    URL_SAFE_NO_PAD.encode(raw)
}

/// Where the page `token` asks for starts: 0 for no token, else the offset it was issued
/// with, if it was issued for this catalog version and this filter.
pub fn resume(
    token: &str,
    catalog: &Catalog,
    filter: &CertificateFilter,
) -> Result<usize, Violations> {
    if token.is_empty() {
        return Ok(0);
    }
    let invalid = |why: &str| Violations::one(FIELD, why);
    let text = URL_SAFE_NO_PAD
        .decode(token.as_bytes())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| invalid(FOREIGN))?;
    let parts: Vec<&str> = text.split('|').collect();
    let ["v1", catalog_id, etag, hash, offset] = parts.as_slice() else {
        return Err(invalid(FOREIGN));
    };
    if *catalog_id != catalog.id() || *etag != catalog.etag() {
        return Err(invalid(
            "was issued for another catalog or catalog version; start from the first page",
        ));
    }
    if *hash != filter_hash(filter) {
        return Err(invalid(
            "was issued for another filter; keep the filter unchanged between pages",
        ));
    }
    offset
        .parse::<usize>()
        .ok()
        .filter(|&o| o <= catalog.certificates().len())
        .ok_or_else(|| invalid(FOREIGN))
}

fn filter_hash(filter: &CertificateFilter) -> String {
    let digest = Sha256::digest(format!("{filter:?}").as_bytes());
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn embedded() -> certequiv_storage::LoadedCatalog {
        certequiv_storage::load_text("embedded", certequiv_storage::EMBEDDED_CATALOG)
            .expect("the embedded catalog loads")
    }

    fn refusal(token: &str, catalog: &Catalog, filter: &CertificateFilter) -> String {
        let violations = resume(token, catalog, filter).expect_err(token);
        let [(field, description)] = violations.as_slice() else {
            panic!("{violations:?}");
        };
        assert_eq!(field, FIELD);
        description.clone()
    }

    #[test]
    fn a_token_resumes_where_it_was_issued() {
        let loaded = embedded();
        let catalog = &loaded.catalog;
        let filter = CertificateFilter::default();
        assert_eq!(resume("", catalog, &filter), Ok(0));
        for offset in [0, 1, 20, catalog.certificates().len()] {
            let token = issue(catalog, &filter, offset);
            assert_eq!(resume(&token, catalog, &filter), Ok(offset), "{token}");
        }
    }

    #[test]
    fn tokens_for_other_data_or_not_ours_are_refused() {
        let loaded = embedded();
        let catalog = &loaded.catalog;
        let filter = CertificateFilter::default();
        let other_filter = CertificateFilter {
            section: Some(1),
            ..CertificateFilter::default()
        };
        let forge = |raw: &str| URL_SAFE_NO_PAD.encode(raw);
        let past_the_end = issue(catalog, &filter, catalog.certificates().len() + 1);
        let other_etag = forge(&format!(
            "v1|{}|other|{}|0",
            catalog.id(),
            filter_hash(&filter)
        ));
        let cases = [
            ("not base64 !", FOREIGN),
            (&forge("v2|a|b|c|0"), FOREIGN),
            (&forge("v1|too|few"), FOREIGN),
            (&past_the_end, FOREIGN),
            (
                &other_etag,
                "was issued for another catalog or catalog version; start from the first page",
            ),
            (
                &issue(catalog, &other_filter, 0),
                "was issued for another filter; keep the filter unchanged between pages",
            ),
        ];
        for (token, expected) in cases {
            assert_eq!(refusal(token, catalog, &filter), expected, "{token}");
        }
    }
}
