//! Traces reach a real OTLP/HTTP receiver with the caller's trace ids and the span structure of a
//! fetch; metrics move with known traffic; a dead exporter changes nothing for clients.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use prost::Message;

use crate::fixture::go_fixture;
use crate::helpers::{database_url, esc, start_replica_with};
use crate::upstream::{Fault, TestUpstream};

#[derive(Debug, Clone)]
struct SpanRecord {
    trace_id: String,
    span_id: String,
    parent: String,
    name: String,
    attrs: HashMap<String, String>,
}

type Spans = Arc<Mutex<Vec<SpanRecord>>>;

/// Keeps the spans of one export request.
fn record(spans: &Spans, req: ExportTraceServiceRequest) {
    let mut out = spans.lock().expect("spans");
    for rs in req.resource_spans {
        for ss in rs.scope_spans {
            for s in ss.spans {
                let attrs = s
                    .attributes
                    .iter()
                    .map(|kv| {
                        let v = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                            Some(Value::StringValue(s)) => s.clone(),
                            Some(Value::IntValue(i)) => i.to_string(),
                            Some(Value::BoolValue(b)) => b.to_string(),
                            Some(Value::DoubleValue(d)) => d.to_string(),
                            other => format!("{other:?}"),
                        };
                        (kv.key.clone(), v)
                    })
                    .collect();
                out.push(SpanRecord {
                    trace_id: hex::encode(&s.trace_id),
                    span_id: hex::encode(&s.span_id),
                    parent: hex::encode(&s.parent_span_id),
                    name: s.name.clone(),
                    attrs,
                });
            }
        }
    }
}

/// An OTLP/HTTP trace receiver on loopback that keeps every span it is sent.
fn start_receiver() -> (u16, Spans) {
    let spans: Spans = Arc::default();
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind receiver");
    let port = listener.local_addr().expect("addr").port();
    let data = web::Data::new(spans.clone());
    let server = HttpServer::new(move || {
        App::new().app_data(data.clone()).route(
            "/v1/traces",
            web::post().to(|body: web::Bytes, spans: web::Data<Spans>| async move {
                let Ok(req) = ExportTraceServiceRequest::decode(body) else {
                    return HttpResponse::BadRequest().finish();
                };
                record(&spans, req);
                HttpResponse::Ok()
                    .content_type("application/x-protobuf")
                    .finish()
            }),
        )
    })
    .workers(1)
    .listen(listener)
    .expect("listen receiver")
    .disable_signals()
    .run();
    tokio::spawn(server);
    (port, spans)
}

/// An OTLP/gRPC trace receiver: the `TraceService/Export` unary call spoken over bare HTTP/2
/// (a 5-byte gRPC frame header, then the protobuf message; `grpc-status` in the trailers).
async fn start_grpc_receiver() -> (u16, Spans) {
    let spans: Spans = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind grpc receiver");
    let port = listener.local_addr().expect("addr").port();
    let kept = spans.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let spans = kept.clone();
            tokio::spawn(async move {
                let Ok(mut conn) = h2::server::handshake(socket).await else {
                    return;
                };
                while let Some(Ok((request, mut respond))) = conn.accept().await {
                    let spans = spans.clone();
                    tokio::spawn(async move {
                        let path = request.uri().path().to_string();
                        let mut body = request.into_body();
                        let mut data = Vec::new();
                        while let Some(Ok(chunk)) = body.data().await {
                            let _ = body.flow_control().release_capacity(chunk.len());
                            data.extend_from_slice(&chunk);
                        }
                        let ok = path
                            == "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
                            && data.len() >= 5
                            && data[0] == 0;
                        let decoded = ok
                            .then(|| ExportTraceServiceRequest::decode(&data[5..]).ok())
                            .flatten();
                        let status = match decoded {
                            Some(req) => {
                                record(&spans, req);
                                "0"
                            }
                            None => "3",
                        };
                        let head = http::Response::builder()
                            .status(200)
                            .header("content-type", "application/grpc")
                            .body(())
                            .expect("response");
                        let Ok(mut send) = respond.send_response(head, false) else {
                            return;
                        };
                        // An empty ExportTraceServiceResponse: a frame of length zero.
                        let _ = send.send_data(bytes::Bytes::from_static(&[0, 0, 0, 0, 0]), false);
                        let mut trailers = http::HeaderMap::new();
                        trailers.insert("grpc-status", http::HeaderValue::from_static(status));
                        let _ = send.send_trailers(trailers);
                    });
                }
            });
        }
    });
    (port, spans)
}

fn otel_env(port: u16) -> Vec<(&'static str, String)> {
    vec![
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://127.0.0.1:{port}"),
        ),
        ("OTEL_BSP_SCHEDULE_DELAY", "100".into()),
        ("OTEL_SERVICE_NAME", "agora-test".into()),
    ]
}

fn trace(spans: &Spans, trace_id: &str) -> Vec<SpanRecord> {
    spans
        .lock()
        .expect("spans")
        .iter()
        .filter(|s| s.trace_id == trace_id)
        .cloned()
        .collect()
}

fn child<'a>(spans: &'a [SpanRecord], parent: &SpanRecord, name: &str) -> &'a SpanRecord {
    spans
        .iter()
        .find(|s| s.parent == parent.span_id && s.name == name)
        .unwrap_or_else(|| panic!("no span {name:?} under {:?} in {spans:#?}", parent.name))
}

async fn get(client: &reqwest::Client, url: String, trace_id: &str, span_id: &str) -> u16 {
    let resp = client
        .get(url)
        .header("traceparent", format!("00-{trace_id}-{span_id}-01"))
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    let _ = resp.bytes().await;
    status
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn a_cold_fetch_across_two_replicas_can_be_followed_span_by_span(pool: sqlx::PgPool) {
    let (port, spans) = start_receiver();
    let url = database_url(&pool);
    let upstream = TestUpstream::start(go_fixture().tree.clone());
    upstream.fault(
        "big/@v/v1.0.0.zip",
        Fault::Delay(Duration::from_millis(1500)),
        None,
    );
    let data = tempfile::tempdir().expect("tmp");
    let env = otel_env(port);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let a = start_replica_with(&url, &upstream.url(), data.path(), &env);
    let b = start_replica_with(&url, &upstream.url(), data.path(), &env);
    let zip = format!("/{}/@v/v1.0.0.zip", esc("github.com/agoratest/big"));
    let client = crate::helpers::client();

    let (trace_a, trace_b, trace_c) = (
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "5cf92f3577b34da6a3ce929d0e0e4737",
        "6df92f3577b34da6a3ce929d0e0e4738",
    );
    let cold_a = tokio::spawn({
        let (client, url) = (client.clone(), format!("{}{zip}", a.address));
        async move { get(&client, url, trace_a, "00f067aa0ba902b7").await }
    });
    for _ in 0..200 {
        if upstream.hits_ending(".zip") > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let cold_b = get(
        &client,
        format!("{}{zip}", b.address),
        trace_b,
        "00f067aa0ba902b8",
    )
    .await;
    assert_eq!(cold_a.await.expect("join"), 200);
    assert_eq!(cold_b, 200);
    assert_eq!(
        get(
            &client,
            format!("{}{zip}", a.address),
            trace_c,
            "00f067aa0ba902b9"
        )
        .await,
        200
    );
    assert_eq!(upstream.hits_ending(".zip"), 1);

    // Spans are batched every 100 ms; wait for the three traces.
    let arrived = |t: &str, caller: &str| trace(&spans, t).iter().any(|s| s.parent == caller);
    for _ in 0..200 {
        if arrived(trace_a, "00f067aa0ba902b7")
            && arrived(trace_b, "00f067aa0ba902b8")
            && arrived(trace_c, "00f067aa0ba902b9")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Replica A fetched: request → fetch → lock, upstream calls, verification, store write.
    let a_spans = trace(&spans, trace_a);
    let server_a = a_spans
        .iter()
        .find(|s| s.parent == "00f067aa0ba902b7")
        .unwrap_or_else(|| panic!("no server span under the caller's span: {a_spans:#?}"));
    assert_eq!(
        server_a.attrs.get("module").map(String::as_str),
        Some("github.com/agoratest/big")
    );
    assert_eq!(
        server_a.attrs.get("version").map(String::as_str),
        Some("v1.0.0")
    );
    assert_eq!(
        server_a.attrs.get("cache").map(String::as_str),
        Some("miss")
    );
    let fetch = child(&a_spans, server_a, "fetch");
    assert_eq!(
        fetch.attrs.get("module").map(String::as_str),
        Some("github.com/agoratest/big")
    );
    for name in [
        "lock_wait",
        "upstream_info",
        "upstream_mod",
        "upstream_zip",
        "verify",
    ] {
        child(&a_spans, fetch, name);
    }
    let write = child(&a_spans, fetch, "store_write");
    assert!(
        write
            .attrs
            .get("bytes")
            .and_then(|b| b.parse::<u64>().ok())
            .is_some_and(|b| b > 20 << 20),
        "{write:?}"
    );

    // Replica B waited on A's lock and fetched nothing itself.
    let b_spans = trace(&spans, trace_b);
    let server_b = b_spans
        .iter()
        .find(|s| s.parent == "00f067aa0ba902b8")
        .unwrap_or_else(|| panic!("no server span for B: {b_spans:#?}"));
    let fetch_b = child(&b_spans, server_b, "fetch");
    child(&b_spans, fetch_b, "lock_wait");
    assert!(
        !b_spans.iter().any(|s| s.name == "upstream_zip"),
        "B fetched: {b_spans:#?}"
    );

    // The warm request is a hit, in its caller's trace.
    let c_spans = trace(&spans, trace_c);
    let server_c = c_spans
        .iter()
        .find(|s| s.parent == "00f067aa0ba902b9")
        .unwrap_or_else(|| panic!("no server span for C: {c_spans:#?}"));
    assert_eq!(server_c.attrs.get("cache").map(String::as_str), Some("hit"));
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn metrics_move_with_known_traffic(pool: sqlx::PgPool) {
    let url = database_url(&pool);
    let upstream = TestUpstream::start(go_fixture().tree.clone());
    let data = tempfile::tempdir().expect("tmp");
    let app = start_replica_with(&url, &upstream.url(), data.path(), &[]);
    let client = crate::helpers::client();
    let caps = esc("github.com/Agora-Test/Caps");
    let zip_len = std::fs::metadata(go_fixture().tree.join(&caps).join("@v/v1.0.0.zip"))
        .expect("zip")
        .len() as f64;
    for (path, want) in [
        (format!("/{caps}/@v/list"), 200),
        (format!("/{caps}/@v/v1.0.0.zip"), 200),
        (format!("/{caps}/@v/v1.0.0.zip"), 200),
        (format!("/{caps}/@v/v1.0.0.info"), 200),
        ("/example.com/none/@v/v1.0.0.info".to_string(), 404),
        ("/Bad/@v/list".to_string(), 400),
    ] {
        let resp = client
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status().as_u16(), want, "{path}");
        // Read whole: a zip's response ends once its version is stored.
        resp.bytes().await.expect("body");
    }
    let text = client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let checks = [
        (
            "agora_http_requests_total{kind=\"zip\",status=\"200\"}",
            Some(2.0),
        ),
        (
            "agora_http_requests_total{kind=\"list\",status=\"200\"}",
            Some(1.0),
        ),
        (
            "agora_http_requests_total{kind=\"info\",status=\"200\"}",
            Some(1.0),
        ),
        (
            "agora_http_requests_total{kind=\"info\",status=\"404\"}",
            Some(1.0),
        ),
        (
            "agora_http_requests_total{kind=\"list\",status=\"400\"}",
            Some(1.0),
        ),
        ("agora_cache_requests_total{result=\"miss\"}", Some(2.0)),
        ("agora_cache_requests_total{result=\"hit\"}", Some(2.0)),
        (
            "agora_upstream_fetches_total{outcome=\"stored\"}",
            Some(1.0),
        ),
        // The unknown module's version was looked for upstream too.
        (
            "agora_upstream_fetches_total{outcome=\"not_found\"}",
            Some(1.0),
        ),
        ("agora_upstream_fetches_total{outcome=\"error\"}", None),
        ("agora_lock_waits_total{outcome=\"acquired\"}", Some(2.0)),
        ("agora_upstream_fetch_duration_seconds_count", Some(2.0)),
        (
            "agora_upstream_request_duration_seconds_count{kind=\"zip\"}",
            Some(1.0),
        ),
        (
            "agora_upstream_request_duration_seconds_count{kind=\"info\"}",
            Some(2.0),
        ),
        (
            "agora_upstream_request_duration_seconds_count{kind=\"mod\"}",
            Some(1.0),
        ),
        (
            "agora_upstream_request_duration_seconds_count{kind=\"list\"}",
            Some(1.0),
        ),
    ];
    for (name, want) in checks {
        assert_eq!(
            crate::helpers::metric(&text, name),
            want,
            "{name} in\n{text}"
        );
    }
    assert!(
        crate::helpers::metric(&text, "agora_bytes_served_total").unwrap_or(0.0) >= 2.0 * zip_len,
        "{text}"
    );
    assert!(
        text.contains("agora_db_connections{pool=\"serve\",state=\"idle\"}"),
        "{text}"
    );
    let version: serde_json::Value = serde_json::from_slice(
        &client
            .get(format!("{}/version", app.address))
            .send()
            .await
            .expect("version")
            .bytes()
            .await
            .expect("body"),
    )
    .expect("json");
    assert_eq!(version["version"], env!("CARGO_PKG_VERSION"));
    assert!(version["commit"].as_str().is_some_and(|c| !c.is_empty()));
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn a_dead_exporter_changes_nothing_for_clients(pool: sqlx::PgPool) {
    let url = database_url(&pool);
    let upstream = TestUpstream::start(go_fixture().tree.clone());
    let data = tempfile::tempdir().expect("tmp");
    // Nothing listens on port 9 of loopback: every export fails.
    let mut app = start_replica_with(
        &url,
        &upstream.url(),
        data.path(),
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9"),
            ("OTEL_BSP_SCHEDULE_DELAY", "50"),
        ],
    );
    let client = crate::helpers::client();
    let caps = esc("github.com/Agora-Test/Caps");
    for i in 0..300 {
        let file = ["info", "mod", "zip"][i % 3];
        let resp = client
            .get(format!("{}/{caps}/@v/v1.0.0.{file}", app.address))
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status().as_u16(), 200, "request {i}");
    }
    // And it still stops cleanly on SIGTERM, flushing into the void.
    let pid = app.child.id().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    for _ in 0..300 {
        if app.child.try_wait().expect("wait").is_some() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("agora did not stop within 30 s of SIGTERM with a dead exporter");
}

/// Every kind of request leaves a root span named for it, with OpenTelemetry's HTTP attributes,
/// over either OTLP transport.
#[sqlx::test(migrations = "migrations/postgres")]
async fn spans_arrive_over_grpc_and_http_named_by_kind(pool: sqlx::PgPool) {
    let url = database_url(&pool);
    let upstream = TestUpstream::start(go_fixture().tree.clone());
    let (http_port, http_spans) = start_receiver();
    let (grpc_port, grpc_spans) = start_grpc_receiver().await;
    let data = tempfile::tempdir().expect("tmp");
    let caps = esc("github.com/Agora-Test/Caps");
    let client = crate::helpers::client();
    for (protocol, port, spans) in [
        ("grpc", grpc_port, &grpc_spans),
        ("http/protobuf", http_port, &http_spans),
    ] {
        let mut env = otel_env(port);
        env.push(("OTEL_EXPORTER_OTLP_PROTOCOL", protocol.into()));
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let replica = start_replica_with(&url, &upstream.url(), data.path(), &env);
        let requests = [
            ("GET", format!("/{caps}/@v/list"), "GET list", 200),
            ("GET", format!("/{caps}/@v/v1.0.0.info"), "GET info", 200),
            ("GET", format!("/{caps}/@v/v1.0.0.mod"), "GET mod", 200),
            ("GET", format!("/{caps}/@v/v1.0.0.zip"), "GET zip", 200),
            ("HEAD", format!("/{caps}/@v/v1.0.0.zip"), "HEAD zip", 200),
            // The fixture's upstream has no @latest: the stored version answers.
            ("GET", format!("/{caps}/@latest"), "GET latest", 200),
            ("PUT", format!("/{caps}/@v/v9.0.0.zip"), "PUT zip", 401),
            (
                "GET",
                "/sumdb/sum.golang.org/supported".to_string(),
                "GET sumdb",
                200,
            ),
            ("GET", "/Bad/@v/list".to_string(), "GET list", 400),
        ];
        for (i, (method, path, _, status)) in requests.iter().enumerate() {
            let trace_id = format!("{:032x}", 0xabc0 + i);
            let resp = client
                .request(
                    method.parse().expect("method"),
                    format!("{}{path}", replica.address),
                )
                .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
                .send()
                .await
                .expect("request");
            assert_eq!(
                resp.status().as_u16(),
                *status,
                "{protocol} {method} {path}"
            );
        }
        let root = |i: usize| {
            let trace_id = format!("{:032x}", 0xabc0 + i);
            trace(spans, &trace_id)
                .into_iter()
                .find(|s| s.parent == "00f067aa0ba902b7")
        };
        for _ in 0..200 {
            if (0..requests.len()).all(|i| root(i).is_some()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        for (i, (method, path, name, status)) in requests.iter().enumerate() {
            let span = root(i).unwrap_or_else(|| panic!("{protocol}: no root span for {path}"));
            assert_eq!(span.name, *name, "{protocol} {path}");
            let attr = |k: &str| span.attrs.get(k).map(String::as_str);
            assert_eq!(attr("http.request.method"), Some(*method), "{span:?}");
            assert_eq!(attr("url.path"), Some(path.as_str()), "{span:?}");
            assert_eq!(
                attr("http.response.status_code"),
                Some(status.to_string().as_str()),
                "{span:?}"
            );
            assert!(
                attr("http.route").is_some_and(|r| r.starts_with('/')),
                "{span:?}"
            );
            assert_eq!(attr("url.scheme"), Some("http"), "{span:?}");
        }
    }
}

#[test]
fn an_unknown_otlp_protocol_stops_the_start() {
    let data = tempfile::tempdir().expect("tmp");
    let db = format!("sqlite://{}", data.path().join("a.db").display());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_agora"))
        .arg("serve")
        .env("AGORA_LISTEN", "127.0.0.1:0")
        .env("AGORA_DATABASE_URL", &db)
        .env("AGORA_DATA_DIR", data.path())
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
        .output()
        .expect("run agora");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("OTEL_EXPORTER_OTLP_PROTOCOL") && err.contains("http/json"),
        "{err}"
    );
}
