//! Conversions between `certequiv.v1` wire types and the domain, one place per type: requests
//! into parsed requests ([`request`], `TryFrom`), domain results into answers ([`response`]).
//! Page tokens have a module of their own ([`crate::page_token`]).

pub mod request;
pub mod response;
