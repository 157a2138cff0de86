//! A forward proxy on loopback through which the tools that cannot be pinned (hg, svn, fossil)
//! reach the network: every connection they open through it is to a host the [`Guard`] checks
//! then and there, and goes to the very addresses it checked. Without it a public repository
//! could redirect a tool to an internal address.
//!
//! `CONNECT host:port` (https) is tunnelled; a plain-http request (`GET http://host/path`) is
//! forwarded only by the listener for modules `direct.insecure` names, one request per
//! connection (`Connection: close`), so a connection can never be reused for another host.
//!
//! hg sends every redirect's request through the proxy again, so its proxy lets redirects
//! through. svn and fossil do not (svn follows a move to any scheme, `svn://` or `file://`;
//! fossil connects to a redirect's target directly): their proxy answers a redirect with an
//! error instead, so they never learn where it pointed. To see an https answer at all, their
//! proxy intercepts the TLS ([`Interceptor`]): the tool trusts a certificate authority of this
//! process only, and agora makes the TLS connection to the host itself.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::guard::Guard;
use super::intercept::Interceptor;

/// Largest request head read from a tool.
const MAX_HEAD: usize = 16 * 1024;

/// The listeners: https only, https plus plain http, and (intercepting only) plain http sent
/// on over TLS.
pub struct Egress {
    secure: SocketAddr,
    insecure: SocketAddr,
    upgrade: Option<SocketAddr>,
    inspect: Option<Arc<Interceptor>>,
}

/// What a listener passes on.
#[derive(Debug, Clone, Copy)]
struct Rules {
    /// How an absolute-form `GET http://…` request is passed on, if at all.
    forward: Forward,
    /// Whether a forwarded answer may be a redirect (the tool proxies its target again).
    redirects: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Forward {
    Refused,
    Plain,
    /// Over TLS to the host: the tool was given `http://host:port` for `https://host:port`.
    OverTls,
}

impl Egress {
    /// Binds the listeners on loopback and serves them on the current runtime.
    ///
    /// Without `inspect`, https is tunnelled and forwarded redirects reach the tool: only for a
    /// tool that proxies their targets too (hg). With it, https is intercepted and every answer
    /// inspected: a redirect is answered with an error (svn, fossil). A tool then either trusts
    /// [`Egress::ca_file`] or sends its https requests as plain http to [`Egress::upgrading`].
    pub async fn start(guard: Arc<Guard>, inspect: Option<Interceptor>) -> std::io::Result<Self> {
        let secure = TcpListener::bind("127.0.0.1:0").await?;
        let insecure = TcpListener::bind("127.0.0.1:0").await?;
        let inspect = inspect.map(Arc::new);
        let upgrade = match inspect {
            Some(_) => Some(TcpListener::bind("127.0.0.1:0").await?),
            None => None,
        };
        let addrs = Self {
            secure: secure.local_addr()?,
            insecure: insecure.local_addr()?,
            upgrade: upgrade.as_ref().map(TcpListener::local_addr).transpose()?,
            inspect: inspect.clone(),
        };
        let rules = |forward| Rules {
            forward,
            redirects: inspect.is_none(),
        };
        tokio::spawn(serve(
            secure,
            guard.clone(),
            rules(Forward::Refused),
            inspect.clone(),
        ));
        if let Some(upgrade) = upgrade {
            tokio::spawn(serve(
                upgrade,
                guard.clone(),
                rules(Forward::OverTls),
                inspect.clone(),
            ));
        }
        tokio::spawn(serve(
            insecure,
            guard,
            rules(Forward::Plain),
            inspect.clone(),
        ));
        Ok(addrs)
    }

    /// An intercepting proxy (for svn and fossil), trusting what the guard's settings trust.
    pub async fn inspecting(guard: Arc<Guard>) -> std::io::Result<Self> {
        let inspect = Interceptor::new(&guard.trust).map_err(std::io::Error::other)?;
        Self::start(guard, Some(inspect)).await
    }

    /// The proxy a tool uses for a module (`insecure`: plain http allowed).
    pub fn addr(&self, insecure: bool) -> SocketAddr {
        if insecure { self.insecure } else { self.secure }
    }

    /// The listener of an intercepting proxy that sends plain-http requests on over TLS.
    pub fn upgrading(&self) -> Option<SocketAddr> {
        self.upgrade
    }

    /// The authority an intercepting proxy's tools must trust.
    pub fn ca_file(&self) -> Option<&Path> {
        self.inspect.as_deref().map(Interceptor::ca_file)
    }
}

async fn serve(
    listener: TcpListener,
    guard: Arc<Guard>,
    rules: Rules,
    inspect: Option<Arc<Interceptor>>,
) {
    loop {
        let Ok((conn, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let guard = guard.clone();
        let inspect = inspect.clone();
        tokio::spawn(async move {
            if let Err(reason) = handle(conn, &guard, rules, inspect.as_deref()).await {
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
        let (host, port) = split_host_port(connect_authority(target), None)?;
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

/// A CONNECT target as fossil (2.21) writes it for a URL with a port, `host:8443:8443`: the
/// port once. Anything else is as it was.
fn connect_authority(target: &str) -> &str {
    if let Some((rest, port)) = target.rsplit_once(':')
        && let Some((host, again)) = rest.rsplit_once(':')
        && again == port
        && !host.contains(':')
        && !port.is_empty()
        && port.bytes().all(|b| b.is_ascii_digit())
    {
        return &target[..host.len() + 1 + port.len()];
    }
    target
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
    // A bracketed host is an IPv6 address; any other host has no colon or bracket.
    let host = match host.strip_prefix('[') {
        Some(inner) => inner
            .strip_suffix(']')
            .filter(|h| h.parse::<std::net::Ipv6Addr>().is_ok())
            .ok_or_else(|| format!("bad host in {authority:?}"))?,
        None if host.contains([':', '[', ']']) => {
            return Err(format!("bad host in {authority:?}"));
        }
        None => host,
    };
    if host.is_empty() || host.contains(['/', ' ', '@']) {
        return Err(format!("bad host in {authority:?}"));
    }
    Ok((host.to_string(), port))
}

/// Answers the tool with `status` and the reason (hg shows it), and fails with the reason.
async fn refuse<W: AsyncWrite + Unpin>(
    conn: &mut W,
    status: &str,
    reason: String,
) -> Result<(), String> {
    let body = format!("agora: {reason}\n");
    let resp = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = conn.write_all(resp.as_bytes()).await;
    Err(reason)
}

/// Reads a request head (up to the blank line) from `conn`: the head and any bytes after it.
async fn read_head<R: AsyncRead + Unpin>(
    conn: &mut R,
    timeout: Duration,
) -> Result<(Vec<u8>, usize), String> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(timeout, conn.read(&mut buf))
            .await
            .map_err(|_| "request head timed out".to_string())?
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("closed before a request".into());
        }
        head.extend_from_slice(&buf[..n]);
        if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            return Ok((head, i + 4));
        }
        if head.len() > MAX_HEAD {
            return Err("request head too large".into());
        }
    }
}

async fn handle(
    mut conn: TcpStream,
    guard: &Guard,
    rules: Rules,
    intercept: Option<&Interceptor>,
) -> Result<(), String> {
    let (head, end) = read_head(&mut conn, guard.timeout).await?;
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
    if matches!(target, Target::Forward { .. }) && rules.forward == Forward::Refused {
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
    let exchange = Exchange {
        host: &host,
        port,
        timeout: guard.timeout,
        redirects: rules.redirects,
    };
    match (target, intercept) {
        (Target::Forward { path, .. }, Some(tls)) if rules.forward == Forward::OverTls => {
            let upstream = match tls.connect(&host, upstream).await {
                Ok(u) => u,
                Err(e) => return refuse(&mut conn, "502 Bad Gateway", e).await,
            };
            exchange
                .forward(conn, &head[end..], &method, &path, lines, upstream)
                .await
        }
        (Target::Forward { path, .. }, _) => {
            exchange
                .forward(conn, &head[end..], &method, &path, lines, upstream)
                .await
        }
        (Target::Tunnel { .. }, Some(tls)) => {
            // The tool waits for this answer before its TLS handshake, so nothing it sent is
            // lost; bytes sent early would be a client that does not speak CONNECT.
            if end != head.len() {
                return refuse(
                    &mut conn,
                    "400 Bad Request",
                    "bytes before the tunnel".into(),
                )
                .await;
            }
            conn.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                .await
                .map_err(|e| e.to_string())?;
            let mut tool = tls.accept(&host, conn).await?;
            let upstream = match tls.connect(&host, upstream).await {
                Ok(u) => u,
                Err(e) => return refuse(&mut tool, "502 Bad Gateway", e).await,
            };
            let (head, end) = read_head(&mut tool, guard.timeout).await?;
            let text = String::from_utf8_lossy(&head[..end]).into_owned();
            let mut lines = text.split("\r\n");
            let first = lines.next().unwrap_or_default();
            let (method, path) = match parse_origin_form(first) {
                Ok(t) => t,
                Err(e) => return refuse(&mut tool, "400 Bad Request", e).await,
            };
            exchange
                .forward(tool, &head[end..], &method, &path, lines, upstream)
                .await
        }
        (Target::Tunnel { .. }, None) => {
            conn.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                .await
                .map_err(|e| e.to_string())?;
            // Bytes the tool sent after the head belong to the tunnel.
            upstream
                .write_all(&head[end..])
                .await
                .map_err(|e| e.to_string())?;
            tokio::io::copy_bidirectional(&mut conn, &mut upstream)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
    }
}

/// A request line inside an intercepted tunnel (`GET /path HTTP/1.1`): its method and path.
fn parse_origin_form(line: &str) -> Result<(String, String), String> {
    let mut f = line.split(' ');
    match (f.next(), f.next(), f.next(), f.next()) {
        (Some(method), Some(path), Some(version), None)
            if !method.is_empty()
                && method.bytes().all(|b| b.is_ascii_uppercase())
                && path.starts_with('/')
                && version.starts_with("HTTP/1.") =>
        {
            Ok((method.to_string(), path.to_string()))
        }
        _ => Err(format!("malformed request line {line:?}")),
    }
}

/// One request passed on to a host at a checked address, and its answer passed back.
struct Exchange<'a> {
    host: &'a str,
    port: u16,
    timeout: Duration,
    /// Whether a redirect answer may reach the tool.
    redirects: bool,
}

impl Exchange<'_> {
    /// Sends the request (its head rewritten for the host: hop-by-hop and proxy headers dropped,
    /// `Connection: close`), then the body as the tool sends it, and passes the answer back.
    async fn forward<'l, T, U>(
        &self,
        tool: T,
        early: &[u8],
        method: &str,
        path: &str,
        lines: impl Iterator<Item = &'l str>,
        mut upstream: U,
    ) -> Result<(), String>
    where
        T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
        U: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
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
        upstream.write_all(early).await.map_err(|e| e.to_string())?;
        if self.redirects {
            let (mut tool, mut upstream) = (tool, upstream);
            return tokio::io::copy_bidirectional(&mut tool, &mut upstream)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string());
        }
        self.answer_without_redirects(tool, upstream).await
    }
}
/// A response head's status code (`HTTP/1.1 301 Moved Permanently`).
fn status_of(head: &[u8]) -> Option<u16> {
    let line = head.split(|&b| b == b'\r' || b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut f = line.split(' ');
    match (f.next(), f.next()) {
        (Some(v), Some(code)) if v.starts_with("HTTP/") && code.len() == 3 => code.parse().ok(),
        _ => None,
    }
}

/// Whether an answer with this status may reach a tool that must not follow redirects: any
/// final answer but a redirect (3xx other than 304 Not Modified) or a protocol switch, which
/// would leave the rest of the connection unread.
fn passes(status: u16) -> bool {
    (100..600).contains(&status)
        && status != 101
        && (!(300..400).contains(&status) || status == 304)
}

impl Exchange<'_> {
    /// Passes the upstream's answer on unless it is a redirect, which is answered with an error
    /// instead (its target is never told to the tool). The tool's request body keeps flowing
    /// meanwhile; interim answers (`100 Continue`) pass, each checked the same way. The final
    /// answer says `Connection: close`, as it is: the tool must not send another request here.
    async fn answer_without_redirects<T, U>(&self, tool: T, upstream: U) -> Result<(), String>
    where
        T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
        U: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (host, port, timeout) = (self.host, self.port, self.timeout);
        let (mut from_tool, mut to_tool) = tokio::io::split(tool);
        let (mut from_up, mut to_up) = tokio::io::split(upstream);
        let body = tokio::spawn(async move {
            let _ = tokio::io::copy(&mut from_tool, &mut to_up).await;
            let _ = to_up.shutdown().await;
        });
        let result = async {
            let mut buf = [0u8; 4096];
            let mut pending = Vec::new();
            loop {
                let end = loop {
                    if let Some(i) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                    if pending.len() > MAX_HEAD {
                        return refuse(
                            &mut to_tool,
                            "502 Bad Gateway",
                            format!("{host}:{port}: answer head too large"),
                        )
                        .await;
                    }
                    let n = match tokio::time::timeout(timeout, from_up.read(&mut buf)).await {
                        Ok(Ok(n)) => n,
                        Ok(Err(e)) => return Err(format!("{host}:{port}: {e}")),
                        Err(_) => {
                            return refuse(
                                &mut to_tool,
                                "504 Gateway Timeout",
                                format!("{host}:{port}"),
                            )
                            .await;
                        }
                    };
                    if n == 0 {
                        return Err(format!("{host}:{port} closed without an answer"));
                    }
                    pending.extend_from_slice(&buf[..n]);
                };
                let status = status_of(&pending[..end]).unwrap_or(0);
                if !passes(status) {
                    return refuse(
                        &mut to_tool,
                        "502 Bad Gateway",
                        format!("{host}:{port} answered {status}: redirects are not followed"),
                    )
                    .await;
                }
                let head = if status >= 200 {
                    closing(&pending[..end])
                } else {
                    pending[..end].to_vec()
                };
                to_tool.write_all(&head).await.map_err(|e| e.to_string())?;
                pending.drain(..end);
                if status >= 200 {
                    break;
                }
            }
            to_tool
                .write_all(&pending)
                .await
                .map_err(|e| e.to_string())?;
            tokio::io::copy(&mut from_up, &mut to_tool)
                .await
                .map_err(|e| e.to_string())?;
            to_tool.shutdown().await.map_err(|e| e.to_string())
        }
        .await;
        body.abort();
        result
    }
}

/// A final answer's head with its connection headers replaced by `Connection: close`.
fn closing(head: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(head);
    let mut out = String::with_capacity(head.len() + 20);
    for (i, line) in text.split("\r\n").filter(|l| !l.is_empty()).enumerate() {
        let name = line
            .split(':')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if i > 0 && (name == "connection" || name == "keep-alive") {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    out.into_bytes()
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
                "CONNECT fossil.test:8443:8443 HTTP/1.1",
                tunnel("fossil.test", 8443),
            ),
            ("CONNECT fossil.test:8443:443 HTTP/1.1", Err(())),
            ("CONNECT [::1]:8443:8443 HTTP/1.1", Err(())),
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

    #[test]
    fn answers_that_pass_without_redirects() {
        for (head, status, pass) in [
            (&b"HTTP/1.1 200 OK\r\n\r\n"[..], Some(200), true),
            (b"HTTP/1.0 404 Not Found\r\n\r\n", Some(404), true),
            (b"HTTP/1.1 100 Continue\r\n\r\n", Some(100), true),
            (b"HTTP/1.1 304 Not Modified\r\n\r\n", Some(304), true),
            (b"HTTP/1.1 301 Moved Permanently\r\n", Some(301), false),
            (b"HTTP/1.1 302 Found\r\n", Some(302), false),
            (b"HTTP/1.1 307\r\n", Some(307), false),
            (b"HTTP/1.1 308 Permanent Redirect\r\n", Some(308), false),
            (b"HTTP/1.1 101 Switching Protocols\r\n", Some(101), false),
            (b"HTTP/1.1 2000 OK\r\n", None, false),
            (b"ICY 200 OK\r\n", None, false),
            (b"", None, false),
        ] {
            let got = status_of(head);
            assert_eq!(got, status, "{:?}", String::from_utf8_lossy(head));
            assert_eq!(passes(got.unwrap_or(0)), pass, "{got:?}");
        }
    }
}
