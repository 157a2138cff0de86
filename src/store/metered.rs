//! Metrics and spans around any blob store: puts, gets and presigned URLs, timed and counted by
//! outcome, whichever backend holds the bytes.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tracing::{Instrument, info_span};

use super::blobs::Put;
use super::{Blob, BlobList, BlobRef, BlobStore, StoreError};
use crate::telemetry::metrics::METRICS;

pub struct Metered(pub Arc<dyn BlobStore>);

fn record<T>(op: &str, started: Instant, result: &Result<T, StoreError>) {
    let outcome = match result {
        Ok(_) => "ok",
        Err(StoreError::MissingBlob(_)) => "missing",
        Err(_) => "error",
    };
    METRICS.blob_ops.with_label_values(&[op, outcome]).inc();
    METRICS
        .blob_op_seconds
        .with_label_values(&[op])
        .observe(started.elapsed().as_secs_f64());
}

#[async_trait]
impl BlobStore for Metered {
    async fn put(&self, blob: &BlobRef, file: &Path) -> Result<Put, StoreError> {
        let started = Instant::now();
        let span = info_span!("blob_put", size = blob.size, backend = %self.0.describe());
        let result = self.0.put(blob, file).instrument(span).await;
        record("put", started, &result);
        if let Ok(Put::Written) = result {
            METRICS.blob_uploads.inc();
            METRICS.blob_bytes_put.inc_by(blob.size);
        }
        result
    }

    async fn open(&self, blob: &BlobRef) -> Result<Blob, StoreError> {
        let started = Instant::now();
        let span = info_span!("blob_get", size = blob.size, backend = %self.0.describe());
        let result = self.0.open(blob).instrument(span).await;
        record("get", started, &result);
        result
    }

    async fn delete(&self, blob: &BlobRef) -> Result<(), StoreError> {
        self.0.delete(blob).await
    }

    async fn contains(&self, blob: &BlobRef) -> Result<bool, StoreError> {
        self.0.contains(blob).await
    }

    fn list(&self) -> BlobList {
        self.0.list()
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.0.ping().await
    }

    async fn presign(&self, blob: &BlobRef, ttl: Duration) -> Result<Option<String>, StoreError> {
        let started = Instant::now();
        let result = self
            .0
            .presign(blob, ttl)
            .instrument(info_span!("blob_presign"))
            .await;
        record("presign", started, &result);
        result
    }

    fn describe(&self) -> String {
        self.0.describe()
    }
}
