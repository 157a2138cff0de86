//! The database's own life: reachability, migrations, pools.

use async_trait::async_trait;

use super::StoreError;

pub struct PoolStats {
    pub name: &'static str,
    pub size: u32,
    pub idle: usize,
}

#[async_trait]
pub trait Database: Send + Sync {
    /// Answers through the readiness pool, never queueing behind requests.
    async fn ping(&self) -> Result<(), StoreError>;
    /// Applies pending migrations.
    async fn migrate(&self) -> Result<(), StoreError>;
    /// Whether every migration this build knows has been applied.
    async fn migrations_current(&self) -> Result<bool, StoreError>;
    /// Opens the connections the first requests will need, so a cold miss does not also pay for
    /// connecting (on PostgreSQL a new session costs tens of milliseconds, TLS included).
    /// Failures are only logged: readiness reports a database that is down.
    async fn warm(&self) {}
    /// Closes the pools, letting running queries finish.
    async fn close(&self);
    /// Connection counts per pool, for metrics.
    fn pool_stats(&self) -> Vec<PoolStats> {
        Vec::new()
    }
}
