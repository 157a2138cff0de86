//! Traces over OTLP, over gRPC (the collector's and Jaeger's `:4317`) or HTTP/protobuf (`:4318`),
//! configured by the standard `OTEL_*` variables or the `[otel]` settings; off when no endpoint
//! is set. Export runs on the batch processor's own thread (and, for gRPC, a one-thread runtime of
//! its own): a collector that is down or slow drops spans, never requests.

use opentelemetry::global;
use opentelemetry::propagation::Extractor;
use opentelemetry_otlp::{SpanExporter, WithExportConfig, WithTonicConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;

use crate::config::{OtelSettings, OtlpProtocol as Protocol};

fn env(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.trim().is_empty())
}

/// Where spans go: the standard variables win over the settings file.
pub fn endpoint(settings: &OtelSettings) -> Option<String> {
    env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .or_else(|| env("OTEL_EXPORTER_OTLP_ENDPOINT"))
        .or_else(|| settings.endpoint.clone().filter(|v| !v.trim().is_empty()))
}

/// How spans go: `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, then `OTEL_EXPORTER_OTLP_PROTOCOL`, then
/// `otel.protocol`; each must name a protocol agora speaks.
pub fn protocol(settings: &OtelSettings) -> Result<Protocol, String> {
    for key in [
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
    ] {
        if let Some(v) = env(key) {
            return Protocol::parse(&v).map_err(|e| format!("{key}: {e}"));
        }
    }
    Ok(settings.protocol)
}

/// The tracer provider, and for gRPC the runtime its client lives on (keep it until the provider
/// is shut down). Must run outside an async runtime: the HTTP exporter owns a blocking client.
pub fn provider(
    settings: &OtelSettings,
) -> anyhow::Result<(SdkTracerProvider, Option<tokio::runtime::Runtime>)> {
    let protocol = protocol(settings).map_err(anyhow::Error::msg)?;
    global::set_text_map_propagator(TraceContextPropagator::new());
    let service_name =
        std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| settings.service_name.clone());
    let resource = Resource::builder().with_service_name(service_name).build();
    let mut builder = SdkTracerProvider::builder().with_resource(resource);
    let Some(endpoint) = endpoint(settings) else {
        return Ok((builder.build(), None));
    };
    // The exporters read the OTEL_* endpoint variables themselves (the HTTP one appending
    // /v1/traces to the generic one); only an endpoint from the settings file is passed in.
    let from_settings = env("OTEL_EXPORTER_OTLP_ENDPOINT").is_none()
        && env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_none();
    let mut runtime = None;
    let exporter = match protocol {
        Protocol::HttpProtobuf => {
            let mut exporter = SpanExporter::builder().with_http();
            if from_settings {
                exporter =
                    exporter.with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')));
            }
            exporter.build()?
        }
        Protocol::Grpc => {
            // tonic's channel needs a Tokio runtime to live on, apart from the server's.
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("otlp-grpc")
                .enable_all()
                .build()?;
            let _entered = rt.enter();
            let mut exporter = SpanExporter::builder().with_tonic();
            if from_settings {
                exporter = exporter.with_endpoint(endpoint.trim_end_matches('/').to_string());
            }
            if endpoint.starts_with("https://") {
                exporter = exporter.with_tls_config(
                    opentelemetry_otlp::tonic_types::transport::ClientTlsConfig::new()
                        .with_webpki_roots(),
                );
            }
            let built = exporter.build()?;
            runtime = Some(rt);
            built
        }
    };
    builder = builder.with_batch_exporter(exporter);
    Ok((builder.build(), runtime))
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

#[cfg(test)]
mod tests {
    use super::Protocol;

    #[test]
    fn protocols() {
        assert_eq!(Protocol::parse("grpc"), Ok(Protocol::Grpc));
        assert_eq!(Protocol::parse("http/protobuf"), Ok(Protocol::HttpProtobuf));
        for bad in ["http/json", "http", "GRPC", ""] {
            assert!(Protocol::parse(bad).is_err(), "{bad}");
        }
    }
}
