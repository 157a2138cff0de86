//! The per-request root span: honours an incoming W3C `traceparent`, carries the fields handlers
//! fill in, and ends with one log line and the request metrics.

use std::time::Instant;

use actix_web::HttpMessage;
use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use opentelemetry::trace::TraceContextExt;
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RootSpanBuilder};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::metrics::METRICS;
use super::otel::HeaderExtractor;

pub struct RequestSpan;

struct Started(Instant);

/// The endpoint kind a handler recognised, for metrics.
#[derive(Clone, Copy)]
pub struct RequestKind(pub &'static str);

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        request.extensions_mut().insert(Started(Instant::now()));
        let span = tracing_actix_web::root_span!(
            request,
            kind = tracing::field::Empty,
            module = tracing::field::Empty,
            version = tracing::field::Empty,
            cache = tracing::field::Empty,
            trace_id = tracing::field::Empty
        );
        let parent = opentelemetry::global::get_text_map_propagator(|p| {
            p.extract(&HeaderExtractor(request.headers()))
        });
        if parent.span().span_context().is_valid() {
            let _ = span.set_parent(parent);
        }
        let trace_id = span.context().span().span_context().trace_id();
        if trace_id != opentelemetry::trace::TraceId::INVALID {
            span.record("trace_id", tracing::field::display(trace_id));
        }
        span
    }

    fn on_request_end<B: MessageBody>(
        span: Span,
        outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        let (status, elapsed, kind, bytes) = match outcome {
            Ok(resp) => {
                let ext = resp.request().extensions();
                let bytes = match resp.response().body().size() {
                    BodySize::Sized(n)
                        if resp.request().method() != actix_web::http::Method::HEAD =>
                    {
                        n
                    }
                    _ => 0,
                };
                (
                    resp.status().as_u16(),
                    ext.get::<Started>().map(|s| s.0.elapsed()),
                    ext.get::<RequestKind>().map(|k| k.0).unwrap_or("other"),
                    bytes,
                )
            }
            Err(e) => (
                e.as_response_error().status_code().as_u16(),
                None,
                "other",
                0,
            ),
        };
        METRICS
            .requests
            .with_label_values(&[kind, &status.to_string()])
            .inc();
        METRICS.bytes_served.inc_by(bytes);
        let duration_ms = elapsed.map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0);
        span.in_scope(|| tracing::info!(status, duration_ms, "request"));
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}
