//! Integration tests: the real server on port 0, real PostgreSQL (a fresh database per test) and
//! SQLite, a real go command and real git repositories, all over loopback.

mod direct_e2e;
mod direct_faults;
mod direct_fixture;
mod e2e;
mod faults;
mod fixture;
mod helpers;
mod protocol;
mod publish;
mod replicas;
mod store;
mod telemetry;
mod upstream;
