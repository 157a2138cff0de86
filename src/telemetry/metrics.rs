//! Prometheus metrics, served at `/metrics`.

use std::sync::LazyLock;

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    /// Requests by endpoint kind (`list`, `info`, `mod`, `zip`, `latest`, `other`) and status.
    pub requests: IntCounterVec,
    /// Proxy answers by where they came from: `hit`, `miss`, `pass`.
    pub cache: IntCounterVec,
    /// Fetches of a whole version from the upstream, by outcome (`stored`, `not_found`, `error`).
    pub fetches: IntCounterVec,
    pub fetch_seconds: Histogram,
    /// Waits for the cluster-wide fetch lock, by outcome (`acquired`, `stored_by_other`, `timeout`).
    pub lock_waits: IntCounterVec,
    pub lock_wait_seconds: Histogram,
    pub bytes_served: IntCounter,
    /// Database connections by pool (`serve`, `fill`) and state (`idle`, `in_use`), read at scrape.
    pub db_connections: IntGaugeVec,
    /// git processes running now (direct mode).
    pub git_processes: IntGauge,
    pub upstream_request_seconds: HistogramVec,
    /// Blob store operations (`put`, `get`, `presign`) by outcome (`ok`, `missing`, `error`).
    pub blob_ops: IntCounterVec,
    /// Time per blob store operation (for `get`, until the first byte can be read).
    pub blob_op_seconds: HistogramVec,
    /// Zips written to the blob store (a put of a stored zip writes nothing).
    pub blob_uploads: IntCounter,
    /// Zip bytes written to the blob store.
    pub blob_bytes_put: IntCounter,
    /// Checksum database answers by kind (`lookup`, `tile`) and result (`hit`, `miss`,
    /// `not_found`, `private`).
    pub sumdb: IntCounterVec,
    /// Fetched versions checked against the checksum database, by result (`ok`, `mismatch`,
    /// `not_found`, `unavailable`, `private`).
    pub sumdb_verifications: IntCounterVec,
    /// Sign-ins on the web pages by outcome (`ok`, `invalid`, `throttled`).
    pub logins: IntCounterVec,
}

fn build() -> Result<Metrics, prometheus::Error> {
    let registry = Registry::new_custom(Some("agora".into()), None)?;
    let requests = IntCounterVec::new(
        Opts::new(
            "http_requests_total",
            "HTTP requests by endpoint kind and status",
        ),
        &["kind", "status"],
    )?;
    let cache = IntCounterVec::new(
        Opts::new("cache_requests_total", "Proxy answers by cache result"),
        &["result"],
    )?;
    let fetches = IntCounterVec::new(
        Opts::new(
            "upstream_fetches_total",
            "Version fetches from the upstream by outcome",
        ),
        &["outcome"],
    )?;
    let fetch_seconds = Histogram::with_opts(
        HistogramOpts::new(
            "upstream_fetch_duration_seconds",
            "Time to fetch, verify and store a version",
        )
        .buckets(vec![
            0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
        ]),
    )?;
    let lock_waits = IntCounterVec::new(
        Opts::new(
            "lock_waits_total",
            "Waits for the cluster-wide fetch lock by outcome",
        ),
        &["outcome"],
    )?;
    let lock_wait_seconds = Histogram::with_opts(
        HistogramOpts::new(
            "lock_wait_duration_seconds",
            "Time waiting for the cluster-wide fetch lock",
        )
        .buckets(vec![0.001, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0, 120.0]),
    )?;
    let bytes_served = IntCounter::new("bytes_served_total", "Response body bytes sent")?;
    let db_connections = IntGaugeVec::new(
        Opts::new("db_connections", "Database pool connections"),
        &["pool", "state"],
    )?;
    let git_processes = IntGauge::new("git_processes", "git processes running")?;
    let upstream_request_seconds = HistogramVec::new(
        HistogramOpts::new(
            "upstream_request_duration_seconds",
            "Upstream requests by endpoint kind",
        )
        .buckets(vec![0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0]),
        &["kind"],
    )?;
    let blob_ops = IntCounterVec::new(
        Opts::new("blob_operations_total", "Blob store operations by outcome"),
        &["op", "outcome"],
    )?;
    let blob_op_seconds = HistogramVec::new(
        HistogramOpts::new(
            "blob_operation_duration_seconds",
            "Blob store operations (get: until the first byte)",
        )
        .buckets(vec![0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 30.0]),
        &["op"],
    )?;
    let blob_uploads = IntCounter::new("blob_uploads_total", "Zips written to the blob store")?;
    let blob_bytes_put = IntCounter::new(
        "blob_bytes_put_total",
        "Zip bytes written to the blob store",
    )?;
    let sumdb = IntCounterVec::new(
        Opts::new(
            "sumdb_requests_total",
            "Checksum database answers by kind and result",
        ),
        &["kind", "result"],
    )?;
    let sumdb_verifications = IntCounterVec::new(
        Opts::new(
            "sumdb_verifications_total",
            "Fetched versions checked against the checksum database by result",
        ),
        &["result"],
    )?;
    let logins = IntCounterVec::new(
        Opts::new("ui_logins_total", "Sign-ins on the web pages by outcome"),
        &["outcome"],
    )?;
    registry.register(Box::new(logins.clone()))?;
    registry.register(Box::new(sumdb.clone()))?;
    registry.register(Box::new(sumdb_verifications.clone()))?;
    registry.register(Box::new(requests.clone()))?;
    registry.register(Box::new(cache.clone()))?;
    registry.register(Box::new(fetches.clone()))?;
    registry.register(Box::new(fetch_seconds.clone()))?;
    registry.register(Box::new(lock_waits.clone()))?;
    registry.register(Box::new(lock_wait_seconds.clone()))?;
    registry.register(Box::new(bytes_served.clone()))?;
    registry.register(Box::new(db_connections.clone()))?;
    registry.register(Box::new(git_processes.clone()))?;
    registry.register(Box::new(upstream_request_seconds.clone()))?;
    registry.register(Box::new(blob_ops.clone()))?;
    registry.register(Box::new(blob_op_seconds.clone()))?;
    registry.register(Box::new(blob_uploads.clone()))?;
    registry.register(Box::new(blob_bytes_put.clone()))?;
    Ok(Metrics {
        registry,
        requests,
        cache,
        fetches,
        fetch_seconds,
        lock_waits,
        lock_wait_seconds,
        bytes_served,
        db_connections,
        git_processes,
        upstream_request_seconds,
        blob_ops,
        blob_op_seconds,
        blob_uploads,
        blob_bytes_put,
        sumdb,
        sumdb_verifications,
        logins,
    })
}

/// The process's metrics. Names and labels are fixed at compile time, so building them cannot
/// fail at run time; if it ever did, the process could not report anything, so it stops loudly.
pub static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    build().expect("metric definitions are valid")
});

impl Metrics {
    /// The text exposition format.
    pub fn render(&self) -> Result<String, prometheus::Error> {
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }
}
