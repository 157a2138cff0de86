//! A forward proxy on loopback through which the tools that cannot be pinned (hg) reach the
//! network: every connection they open, the first and every redirect's, is to a host the
//! [`Guard`] checks then and there, and goes to the very addresses it checked. Without it a
//! public repository could redirect hg to an internal address.
//!
//! `CONNECT host:port` (https) is tunnelled; a plain-http request (`GET http://host/path`) is
//! forwarded only by the listener for modules `direct.insecure` names, one request per
//! connection (`Connection: close`), so a connection can never be reused for another host.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::guard::Guard;

/// Largest request head read from a tool.
const MAX_HEAD: usize = 16 * 1024;

/// The two listeners: https only, and https plus plain http.
pub struct Egress {
    secure: SocketAddr,
    insecure: SocketAddr,
}

impl Egress {
    /// Binds both listeners on loopback and serves them on the current runtime.
    pub async fn start(guard: Arc<Guard>) -> std::io::Result<Self> {
        let secure = TcpListener::bind("127.0.0.1:0").await?;
        let insecure = TcpListener::bind("127.0.0.1:0").await?;
        let addrs = Self {
            secure: secure.local_addr()?,
            insecure: insecure.local_addr()?,
        };
        tokio::spawn(serve(secure, guard.clone(), false));
        tokio::spawn(serve(insecure, guard, true));
        Ok(addrs)
    }

    /// The proxy a tool uses for a module (`insecure`: plain http allowed).
    pub fn addr(&self, insecure: bool) -> SocketAddr {
        if insecure { self.insecure } else { self.secure }
    }
}

async fn serve(listener: TcpListener, guard: Arc<Guard>, plain_http: bool) {
    loop {
        let Ok((conn, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let guard = guard.clone();
        tokio::spawn(async move {
            if let Err(reason) = handle(conn, &guard, plain_http).await {
                tracing::info!(%reason, "egress proxy refused a connection");
            }
        });
    }
}

/// A request line's target: where to connect, and for plain http what to send there.
#[derive(Debug, PartialEq, Eq)]
pub enum Target {
    Tunnel {
        host: String,
        port: u16,
    },
    Forward {
        host: String,
        port: u16,
        path: String,
    },
}

/// Parses a proxy request's first line (`CONNECT h:p HTTP/1.1`, `GET http://h[:p]/x HTTP/1.1`).
pub fn parse_target(line: &str) -> Result<(String, Target), String> {
    let mut f = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (f.next(), f.next(), f.next(), f.next())
    else {
        return Err(format!("malformed request line {line:?}"));
    };
    if !version.starts_with("HTTP/1.") || method.is_empty() {
        return Err(format!("malformed request line {line:?}"));
    }
    if method == "CONNECT" {
        let (host, port) = split_host_port(target, None)?;
        return Ok((method.to_string(), Target::Tunnel { host, port }));
    }
    let rest = target
        .strip_prefix("http://")
        .ok_or_else(|| format!("not an absolute http URL: {target:?}"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.contains('@') {
        return Err("credentials in a proxied URL".into());
    }
    let (host, port) = split_host_port(authority, Some(80))?;
    Ok((
        method.to_string(),
        Target::Forward {
            host,
            port,
            path: path.to_string(),
        },
    ))
}

fn split_host_port(authority: &str, default: Option<u16>) -> Result<(String, u16), String> {
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => match p.parse::<u16>() {
            Ok(p) => (h, Some(p)),
            Err(_) if p.is_empty() => (h, default),
            Err(_) => return Err(format!("bad port in {authority:?}")),
        },
        _ => (authority, default),
    };
    let port = port.ok_or_else(|| format!("no port in {authority:?}"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || host.contains(['/', ' ', '@']) {
        return Err(format!("bad host in {authority:?}"));
    }
    Ok((host.to_string(), port))
}

/// Answers the tool with `status` and the reason (hg shows it), and fails with the reason.
async fn refuse(conn: &mut TcpStream, status: &str, reason: String) -> Result<(), String> {
    let body = format!("agora: {reason}\n");
    let resp = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = conn.write_all(resp.as_bytes()).await;
    Err(reason)
}

async fn handle(mut conn: TcpStream, guard: &Guard, plain_http: bool) -> Result<(), String> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 4096];
    let end = loop {
        let n = tokio::time::timeout(guard.timeout, conn.read(&mut buf))
            .await
            .map_err(|_| "request head timed out".to_string())?
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("closed before a request".into());
        }
        head.extend_from_slice(&buf[..n]);
        if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if head.len() > MAX_HEAD {
            return Err("request head too large".into());
        }
    };
    let text = String::from_utf8_lossy(&head[..end]).into_owned();
    let mut lines = text.split("\r\n");
    let first = lines.next().unwrap_or_default();
    let (method, target) = match parse_target(first) {
        Ok(t) => t,
        Err(e) => return refuse(&mut conn, "400 Bad Request", e).await,
    };
    let (host, port) = match &target {
        Target::Tunnel { host, port } | Target::Forward { host, port, .. } => (host.clone(), *port),
    };
    if matches!(target, Target::Forward { .. }) && !plain_http {
        return refuse(
            &mut conn,
            "403 Forbidden",
            format!("plain http to {host} is not allowed for this module (direct.insecure)"),
        )
        .await;
    }
    let addrs = match guard.addresses(&host, port).await {
        // An operator's host override gives the address; the port is the one asked for.
        Ok(a) => a
            .into_iter()
            .map(|a| SocketAddr::new(a.ip(), port))
            .collect::<Vec<_>>(),
        Err(e) => return refuse(&mut conn, "403 Forbidden", e.to_string()).await,
    };
    let mut upstream =
        match tokio::time::timeout(guard.timeout, TcpStream::connect(&addrs[..])).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                return refuse(&mut conn, "502 Bad Gateway", format!("{host}:{port}: {e}")).await;
            }
            Err(_) => {
                return refuse(&mut conn, "504 Gateway Timeout", format!("{host}:{port}")).await;
            }
        };
    match target {
        Target::Tunnel { .. } => {
            conn.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                .await
                .map_err(|e| e.to_string())?;
            // Bytes the tool sent after the head belong to the tunnel.
            upstream
                .write_all(&head[end..])
                .await
                .map_err(|e| e.to_string())?;
        }
        Target::Forward { path, .. } => {
            let mut out = format!("{method} {path} HTTP/1.1\r\n");
            for l in lines.filter(|l| !l.is_empty()) {
                let name = l.split(':').next().unwrap_or_default().to_ascii_lowercase();
                if name.starts_with("proxy-") || name == "connection" || name == "keep-alive" {
                    continue;
                }
                out.push_str(l);
                out.push_str("\r\n");
            }
            out.push_str("Connection: close\r\n\r\n");
            upstream
                .write_all(out.as_bytes())
                .await
                .map_err(|e| e.to_string())?;
            upstream
                .write_all(&head[end..])
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    tokio::io::copy_bidirectional(&mut conn, &mut upstream)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines() {
        let tunnel = |h: &str, p| {
            Ok((
                "CONNECT".to_string(),
                Target::Tunnel {
                    host: h.into(),
                    port: p,
                },
            ))
        };
        let forward = |m: &str, h: &str, p, path: &str| {
            Ok((
                m.to_string(),
                Target::Forward {
                    host: h.into(),
                    port: p,
                    path: path.into(),
                },
            ))
        };
        type Parsed = Result<(String, Target), ()>;
        let cases: Vec<(&str, Parsed)> = vec![
            (
                "CONNECT example.com:443 HTTP/1.1",
                tunnel("example.com", 443),
            ),
            ("CONNECT [::1]:8443 HTTP/1.1", tunnel("::1", 8443)),
            (
                "GET http://example.com/r?cmd=capabilities HTTP/1.1",
                forward("GET", "example.com", 80, "/r?cmd=capabilities"),
            ),
            (
                "POST http://127.0.0.1:8000 HTTP/1.1",
                forward("POST", "127.0.0.1", 8000, "/"),
            ),
            ("CONNECT example.com HTTP/1.1", Err(())),
            ("GET /relative HTTP/1.1", Err(())),
            ("GET https://example.com/ HTTP/1.1", Err(())),
            ("GET http://user:pw@example.com/ HTTP/1.1", Err(())),
            ("GET http://example.com:x/ HTTP/1.1", Err(())),
            ("GET http://example.com/ SPDY/3", Err(())),
            ("GET  http://example.com/ HTTP/1.1", Err(())),
            ("", Err(())),
        ];
        for (line, want) in cases {
            assert_eq!(parse_target(line).map_err(|_| ()), want, "{line:?}");
        }
    }
}
