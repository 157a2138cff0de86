//! The HTTP face: routes, request parsing, and the one error-to-status mapping.

pub mod body;
pub mod error;
pub mod handlers;
pub mod headers;
pub mod origin;
pub mod request;
pub mod route;
pub mod routes;
pub mod span;
pub mod startup;
pub mod tls;
