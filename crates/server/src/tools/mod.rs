//! The catalog maintainer's tools behind `certequiv diff`, `export --format html` and `schema`:
//! loading catalogs for review (cases attached, not enforced) and rendering what they say as
//! text, Markdown, JSON and self-contained HTML. The computations are the domain's
//! (`certequiv_domain::diff`, `certequiv_domain::cases`); these modules only present them.

pub mod diff;
pub mod diff_json;
pub mod diff_text;
pub mod html;
