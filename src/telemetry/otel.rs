//! Traces over OTLP (HTTP/protobuf, which Jaeger ingests natively on port 4318), configured by the
//! standard `OTEL_*` variables or the `[otel]` settings; off when no endpoint is set.
//! Export runs on the batch processor's own thread: a collector that is down or slow drops
//! spans, never requests.

use opentelemetry::global;
use opentelemetry::propagation::Extractor;
use opentelemetry_otlp::{SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;

use crate::config::OtelSettings;

/// Where spans go: the standard variables win over the settings file.
pub fn endpoint(settings: &OtelSettings) -> Option<String> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .or_else(|| env("OTEL_EXPORTER_OTLP_ENDPOINT"))
        .or_else(|| settings.endpoint.clone().filter(|v| !v.trim().is_empty()))
}

/// Builds the tracer provider. Must run outside an async runtime: the HTTP exporter owns a
/// blocking client.
pub fn provider(
    settings: &OtelSettings,
) -> Result<SdkTracerProvider, opentelemetry_otlp::ExporterBuildError> {
    global::set_text_map_propagator(TraceContextPropagator::new());
    let service_name =
        std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| settings.service_name.clone());
    let resource = Resource::builder().with_service_name(service_name).build();
    let mut builder = SdkTracerProvider::builder().with_resource(resource);
    if let Some(endpoint) = endpoint(settings) {
        let mut exporter = SpanExporter::builder().with_http();
        // The exporter reads the OTEL_* variables itself (appending /v1/traces to the generic
        // one); only an endpoint from the settings file needs passing in.
        if std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").is_none()
            && std::env::var_os("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_none()
        {
            exporter =
                exporter.with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')));
        }
        builder = builder.with_batch_exporter(exporter.build()?);
    }
    Ok(builder.build())
}

/// Reads W3C `traceparent`/`tracestate` from actix's headers.
pub struct HeaderExtractor<'a>(pub &'a actix_web::http::header::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}
