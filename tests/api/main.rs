//! Integration tests: the real server on port 0, real PostgreSQL (a fresh database per test) and
//! SQLite, a real go command and real git repositories, all over loopback.

mod auth;
mod browser;
mod direct_e2e;
mod direct_faults;
mod direct_fixture;
mod direct_fossil;
mod direct_hg;
mod direct_latest;
mod direct_svn;
mod e2e;
mod faults;
mod fetching;
mod fixture;
mod helpers;
mod object_blobs;
mod policy_e2e;
mod policy_hook;
mod protocol;
mod publish;
mod replicas;
mod s3;
mod scripted;
mod security_bounds;
mod security_direct;
mod security_leaks;
mod security_writes;
mod store;
mod sumdb;
mod sumdb_server;
mod sumdb_verify;
mod telemetry;
mod ui;
mod ui_browser;
mod ui_sessions;
mod upstream;
