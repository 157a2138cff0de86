//! The per-request root span: named by the kind of request (`GET list`, `GET zip`, `PUT zip`,
//! `GET sumdb`…) with OpenTelemetry's HTTP server attributes, honouring an incoming W3C
//! `traceparent`; it carries the fields handlers fill in and ends with one log line and the
//! request metrics.

use std::time::Instant;

use actix_web::HttpMessage;
use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use opentelemetry::trace::TraceContextExt;
use tracing::Span;
use tracing::field::Empty;
use tracing_actix_web::{RequestId, RootSpanBuilder};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::route::{Route, route_of};
use crate::telemetry::metrics::METRICS;
use crate::telemetry::otel::HeaderExtractor;

pub struct RequestSpan;

struct Started(Instant);

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let route = route_of(request.path());
        request.extensions_mut().insert(Started(Instant::now()));
        request.extensions_mut().insert(route);
        let method = request.method().as_str();
        let info = request.connection_info();
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(ToString::to_string)
            .unwrap_or_default();
        let span = tracing::info_span!(
            "HTTP request",
            otel.name = %format_args!("{method} {}", route.kind),
            otel.kind = "server",
            otel.status_code = Empty,
            http.request.method = %method,
            http.route = route.template,
            http.response.status_code = Empty,
            url.path = %request.path(),
            url.scheme = %info.scheme(),
            server.address = %info.host(),
            client.address = %info.realip_remote_addr().unwrap_or(""),
            user_agent.original = %request
                .headers()
                .get(actix_web::http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or(""),
            network.protocol.version = ?request.version(),
            error.type = Empty,
            request_id = %request_id,
            kind = route.kind,
            module = Empty,
            version = Empty,
            cache = Empty,
            trace_id = Empty,
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
                    ext.get::<Route>().map(|r| r.kind).unwrap_or("other"),
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
        span.record("http.response.status_code", status);
        // Server spans are errors for 5xx only: a 404 is an answer, not a failure.
        if status >= 500 {
            span.record("otel.status_code", "ERROR");
            span.record("error.type", tracing::field::display(status));
        }
        METRICS
            .requests
            .with_label_values(&[kind, &status.to_string()])
            .inc();
        METRICS.bytes_served.inc_by(bytes);
        let duration_ms = elapsed.map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0);
        span.in_scope(|| tracing::info!(status, duration_ms, "request"));
    }
}
