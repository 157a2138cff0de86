//! A GOPROXY upstream for tests: serves a static proxy tree from disk over loopback, counts every
//! request, and injects faults on demand.

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use bytes::Bytes;

#[derive(Clone, Debug)]
pub enum Fault {
    Status(u16),
    /// Answers after this long.
    Delay(Duration),
    /// Sends the first half of the body, then breaks the connection.
    Truncate,
    /// Answers 200 with this body instead of the file.
    Body(Bytes),
    /// Sends the first half of the body, then stalls until the fault is cleared.
    Stall,
}

#[derive(Default)]
struct State {
    root: PathBuf,
    faults: Mutex<HashMap<String, (Fault, Option<usize>)>>,
    hits: Mutex<Vec<String>>,
}

pub struct TestUpstream {
    pub port: u16,
    state: Arc<State>,
    handle: ServerHandle,
}

impl TestUpstream {
    /// Serves `root` (a GOPROXY directory tree) on a fresh loopback port.
    pub fn start(root: PathBuf) -> Self {
        let state = Arc::new(State {
            root,
            ..Default::default()
        });
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind upstream");
        let port = listener.local_addr().expect("addr").port();
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(serve))
        })
        .workers(2)
        .listen(listener)
        .expect("listen upstream")
        .disable_signals()
        .shutdown_timeout(1)
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            port,
            state,
            handle,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Fails requests whose path ends with `suffix`; `times` limits how many (None: always).
    pub fn fault(&self, suffix: &str, fault: Fault, times: Option<usize>) {
        self.state
            .faults
            .lock()
            .expect("faults")
            .insert(suffix.to_string(), (fault, times));
    }

    pub fn clear_faults(&self) {
        self.state.faults.lock().expect("faults").clear();
    }

    /// Every path requested so far.
    pub fn hits(&self) -> Vec<String> {
        self.state.hits.lock().expect("hits").clone()
    }

    pub fn hits_ending(&self, suffix: &str) -> usize {
        self.hits().iter().filter(|h| h.ends_with(suffix)).count()
    }

    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }
}

async fn serve(req: HttpRequest, state: web::Data<State>) -> HttpResponse {
    let path = req.uri().path().to_string();
    state.hits.lock().expect("hits").push(path.clone());
    let fault = {
        let mut faults = state.faults.lock().expect("faults");
        let key = faults.keys().find(|k| path.ends_with(k.as_str())).cloned();
        match key {
            Some(k) => {
                let (fault, times) = faults.get(&k).cloned().expect("present");
                match times {
                    Some(1) => {
                        faults.remove(&k);
                    }
                    Some(n) => {
                        faults.insert(k, (fault.clone(), Some(n - 1)));
                    }
                    None => {}
                }
                Some(fault)
            }
            None => None,
        }
    };
    // Test trees store paths percent-decoded (`!` escapes only); a `/rN/` prefix names the replica.
    let decoded = percent_encoding::percent_decode_str(&path)
        .decode_utf8_lossy()
        .into_owned();
    let rel = decoded.trim_start_matches('/');
    let rel = match rel.split_once('/') {
        Some((first, rest))
            if first.starts_with('r')
                && first[1..].chars().all(|c| c.is_ascii_digit())
                && !first[1..].is_empty() =>
        {
            rest
        }
        _ => rel,
    };
    let file = state.root.join(rel);
    let body = match std::fs::read(&file) {
        Ok(b) if !rel.contains("..") => Bytes::from(b),
        _ => {
            return HttpResponse::NotFound()
                .content_type("text/plain; charset=utf-8")
                .body(format!("not found: {rel}\n"));
        }
    };
    match fault {
        None => HttpResponse::Ok().body(body),
        Some(Fault::Status(code)) => {
            HttpResponse::build(actix_web::http::StatusCode::from_u16(code).expect("status"))
                .content_type("text/plain; charset=utf-8")
                .body(format!("injected {code}\n"))
        }
        Some(Fault::Delay(d)) => {
            tokio::time::sleep(d).await;
            HttpResponse::Ok().body(body)
        }
        Some(Fault::Body(b)) => HttpResponse::Ok().body(b),
        Some(Fault::Truncate) => {
            let half = body.slice(..body.len() / 2);
            let stream = futures::stream::iter(vec![
                Ok::<Bytes, std::io::Error>(half),
                Err(std::io::Error::other("injected truncation")),
            ]);
            HttpResponse::Ok()
                .no_chunking(body.len() as u64)
                .streaming(stream)
        }
        Some(Fault::Stall) => {
            let half = body.slice(..body.len() / 2);
            let state = state.clone();
            let suffix_path = path.clone();
            let stall = futures::stream::once(async move { Ok::<Bytes, std::io::Error>(half) })
                .chain(futures::stream::once(async move {
                    // Hold the connection open until the test clears the fault.
                    loop {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        let faults = state.faults.lock().expect("faults");
                        if !faults.keys().any(|k| suffix_path.ends_with(k.as_str())) {
                            break;
                        }
                    }
                    Err(std::io::Error::other("stall ended"))
                }));
            HttpResponse::Ok()
                .no_chunking(body.len() as u64)
                .streaming(stall)
        }
    }
}

use futures::StreamExt;
