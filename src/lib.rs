//! Agora: a Go module proxy that keeps modules in PostgreSQL (or SQLite) and fetches each missing
//! version once across all its replicas.

pub mod admin;
pub mod app;
pub mod auth;
pub mod cache;
pub mod cli;
pub mod clock;
pub mod config;
pub mod error;
pub mod escape;
pub mod fetch;
pub mod http;
pub mod intake;
pub mod policy;
pub mod publish;
pub mod redact;
pub mod service;
pub mod store;
pub mod sumdb;
pub mod telemetry;
pub mod transfer;
pub mod ui;
pub mod upstream;

/// Picks the TLS crypto provider (ring) for every HTTP client in the process: upstreams, trace
/// export. Call before building any client; a second call is harmless.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
