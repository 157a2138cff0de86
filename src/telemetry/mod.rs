//! Logs, traces and metrics. Logs go through `tracing`: one line per request with module, version,
//! cache result, status, duration, request id and trace id, as text or JSON. Spans also go to an
//! OpenTelemetry layer (exported over OTLP when an endpoint is configured), each layer with its
//! own filter so a quiet log level never starves the traces.

pub mod metrics;
pub mod otel;

use std::io::IsTerminal;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::{LogFormat, LogSettings, OtelSettings};

/// Flushes and stops span export; call once the server has stopped.
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
    /// The gRPC exporter's runtime: dropped only after the last spans are flushed.
    runtime: Option<tokio::runtime::Runtime>,
}

impl Telemetry {
    pub fn shutdown(self) {
        if let Some(Err(e)) = self.provider.map(|p| p.shutdown()) {
            eprintln!("agora: flushing traces: {e}");
        }
        drop(self.runtime);
    }
}

/// Installs the global subscriber. Call outside any async runtime. `RUST_LOG` overrides the
/// configured log level; spans of agora and of requests reach the tracer at `info` regardless.
/// An OTLP protocol agora does not speak is an error: traces are never silently dropped.
pub fn init(log: &LogSettings, otel: &OtelSettings) -> anyhow::Result<Telemetry> {
    otel::protocol(otel).map_err(anyhow::Error::msg)?;
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&log.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let fmt = match log.format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(false)
            .with_span_list(true)
            .boxed(),
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .compact()
            .with_ansi(std::io::stdout().is_terminal())
            .boxed(),
    };
    // Spans cost a little on every request: build them only when they go somewhere.
    let (provider, runtime) = match otel::endpoint(otel) {
        None => (None, None),
        Some(_) => {
            let (p, rt) = otel::provider(otel)?;
            (Some(p), rt)
        }
    };
    let otel_layer = provider.as_ref().map(|p| {
        tracing_opentelemetry::layer()
            .with_tracer(p.tracer("agora"))
            .with_filter(EnvFilter::new("warn,agora=info,tracing_actix_web=info"))
    });
    // A second init (tests) keeps the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(fmt.with_filter(filter))
        .with(otel_layer)
        .try_init();
    Ok(Telemetry { provider, runtime })
}
