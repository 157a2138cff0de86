//! A scripted HTTP server for attack tests: bound to a chosen loopback address, it answers each
//! path prefix as told (a body, a redirect, files of a directory, slowly), and records every
//! request as it arrived (raw path and query) and how many ran at once.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use bytes::Bytes;

#[derive(Clone, Debug)]
pub enum Act {
    Body {
        status: u16,
        content_type: &'static str,
        body: Bytes,
    },
    /// 302 to this URL.
    Redirect(String),
    /// 301 to this URL (svn follows only a permanent move).
    Moved(String),
    /// Files under this directory, the route's prefix removed (git's dumb HTTP protocol).
    Dir(PathBuf),
    /// This answer after a delay.
    Slow(Duration, Box<Act>),
}

impl Act {
    pub fn text(status: u16, body: &str) -> Self {
        Self::Body {
            status,
            content_type: "text/plain; charset=utf-8",
            body: Bytes::from(body.to_string()),
        }
    }

    pub fn html(body: &str) -> Self {
        Self::Body {
            status: 200,
            content_type: "text/html; charset=utf-8",
            body: Bytes::from(body.to_string()),
        }
    }

    /// A go-get page with one `go-import` meta tag.
    pub fn go_import(prefix: &str, vcs: &str, url: &str) -> Self {
        Self::html(&format!(
            "<html><head><meta name=\"go-import\" content=\"{prefix} {vcs} {url}\"></head></html>"
        ))
    }
}

#[derive(Default)]
struct State {
    routes: Vec<(String, Act)>,
    hits: Mutex<Vec<String>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

pub struct Scripted {
    pub addr: SocketAddr,
    state: Arc<State>,
}

impl Scripted {
    /// Serves `routes` (longest matching prefix wins; anything else is 404) on `ip`, port 0.
    pub fn start(ip: &str, routes: Vec<(&str, Act)>) -> Self {
        let state = Arc::new(State {
            routes: routes
                .into_iter()
                .map(|(p, a)| (p.to_string(), a))
                .collect(),
            ..Default::default()
        });
        let listener = TcpListener::bind((ip, 0)).expect("bind scripted server");
        let addr = listener.local_addr().expect("addr");
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(serve))
        })
        .workers(2)
        .listen(listener)
        .expect("listen")
        .disable_signals()
        .shutdown_timeout(1)
        .run();
        tokio::spawn(server);
        Self { addr, state }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every request so far: its raw path, and `?query` when there was one.
    pub fn hits(&self) -> Vec<String> {
        self.state.hits.lock().expect("hits").clone()
    }

    /// The most requests that were being answered at the same time.
    pub fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }
}

async fn serve(req: HttpRequest, state: web::Data<State>) -> HttpResponse {
    let path = req.uri().path().to_string();
    let hit = match req.uri().query() {
        Some(q) => format!("{path}?{q}"),
        None => path.clone(),
    };
    state.hits.lock().expect("hits").push(hit);
    let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let route = state
        .routes
        .iter()
        .filter(|(prefix, _)| path.starts_with(prefix.as_str()))
        .max_by_key(|(prefix, _)| prefix.len())
        .cloned();
    let response = match route {
        Some((prefix, act)) => answer(&act, &path[prefix.len()..]).await,
        None => HttpResponse::NotFound().body("not found\n"),
    };
    state.in_flight.fetch_sub(1, Ordering::SeqCst);
    response
}

async fn answer(act: &Act, rest: &str) -> HttpResponse {
    let mut act = act.clone();
    loop {
        match act {
            Act::Slow(delay, inner) => {
                tokio::time::sleep(delay).await;
                act = *inner;
            }
            Act::Body {
                status,
                content_type,
                body,
            } => {
                return HttpResponse::build(
                    actix_web::http::StatusCode::from_u16(status).expect("status"),
                )
                .content_type(content_type)
                .body(body);
            }
            Act::Redirect(to) => {
                return HttpResponse::Found()
                    .insert_header((actix_web::http::header::LOCATION, to))
                    .finish();
            }
            Act::Moved(to) => {
                return HttpResponse::MovedPermanently()
                    .insert_header((actix_web::http::header::LOCATION, to))
                    .finish();
            }
            Act::Dir(dir) => {
                let rel = rest.trim_start_matches('/');
                if rel.contains("..") {
                    return HttpResponse::NotFound().finish();
                }
                return match std::fs::read(dir.join(rel)) {
                    Ok(data) => HttpResponse::Ok()
                        .content_type("application/octet-stream")
                        .body(data),
                    Err(_) => HttpResponse::NotFound().finish(),
                };
            }
        }
    }
}

/// A raw TCP listener that only counts the connections made to it (for protocols other than
/// HTTP, such as `git://`).
pub struct Tripwire {
    pub addr: SocketAddr,
    count: Arc<AtomicUsize>,
}

impl Tripwire {
    pub fn start(ip: &str, port: u16) -> std::io::Result<Self> {
        let listener = TcpListener::bind((ip, port))?;
        let addr = listener.local_addr()?;
        let count = Arc::new(AtomicUsize::new(0));
        let seen = count.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                seen.fetch_add(1, Ordering::SeqCst);
                drop(conn);
            }
        });
        Ok(Self { addr, count })
    }

    pub fn connections(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}
