//! A real S3 protocol server for the tests (s3s-fs on loopback, installed by
//! `scripts/ensure-s3.sh`), reached through a relay the test can take down or stall.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use agora::store::object::{BlobLocation, ObjectBlobs};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub const BUCKET: &str = "agora-test";
const ACCESS_KEY: &str = "AGORATESTKEY";
const SECRET_KEY: &str = "agora-test-secret-key";

pub struct S3Server {
    child: Child,
    pub root: tempfile::TempDir,
    /// What clients connect to.
    pub relay: Relay,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn s3s_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("AGORA_S3S").filter(|p| Path::new(p).exists()) {
        return PathBuf::from(p);
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/ensure-s3.sh");
    let out = Command::new("bash")
        .arg(&script)
        .output()
        .expect("running scripts/ensure-s3.sh");
    assert!(
        out.status.success(),
        "ensure-s3.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

impl S3Server {
    /// Starts s3s-fs on a port of its own choosing, with one bucket, and a relay in front.
    pub async fn start() -> Self {
        let root = tempfile::tempdir().expect("s3 root");
        std::fs::create_dir(root.path().join(BUCKET)).expect("bucket");
        let mut child = Command::new(s3s_binary())
            .args(["--host", "127.0.0.1", "--port", "0"])
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(root.path())
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn s3s-fs");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let port = loop {
            let line = lines
                .next()
                .expect("s3s-fs exited before serving")
                .expect("read");
            if let Some((_, addr)) = line.split_once("server is running at http://") {
                let port = addr.trim().rsplit(':').next().expect("port");
                break port.parse::<u16>().expect("port number");
            }
        };
        std::thread::spawn(move || for _ in lines {});
        let relay = Relay::start(port).await;
        Self { child, root, relay }
    }

    /// The `AWS_*` settings that reach this server through the relay.
    pub fn aws_env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_string()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.to_string()),
            ("AWS_REGION", "us-east-1".to_string()),
            (
                "AWS_ENDPOINT_URL",
                format!("http://127.0.0.1:{}", self.relay.port),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    pub fn url(&self, prefix: &str) -> String {
        format!("s3://{BUCKET}/{prefix}")
    }

    pub fn blobs(&self, prefix: &str) -> Arc<ObjectBlobs> {
        let location = BlobLocation::parse(&self.url(prefix)).expect("location");
        Arc::new(ObjectBlobs::open(&location, self.aws_env()).expect("open s3 blobs"))
    }

    /// Settings for an app or replica keeping zips here.
    pub fn settings(&self, prefix: &str) -> Vec<(String, String)> {
        let mut env = self.aws_env();
        env.push(("AGORA_BLOBS__URL".to_string(), self.url(prefix)));
        env
    }

    /// The objects stored under `prefix`, as (key, size).
    pub fn objects(&self, prefix: &str) -> Vec<(String, u64)> {
        let base = self.root.path().join(BUCKET);
        let mut found = Vec::new();
        let mut dirs = vec![base.join(prefix)];
        while let Some(dir) = dirs.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let path = e.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if let Ok(meta) = e.metadata() {
                    let key = path.strip_prefix(&base).expect("under base");
                    found.push((key.display().to_string(), meta.len()));
                }
            }
        }
        found.sort();
        found
    }
}

/// A TCP relay: forwards connections to a port, unless it is down (connections are cut and
/// refused) or stalled (bytes wait).
pub struct Relay {
    pub port: u16,
    state: Arc<RelayState>,
}

#[derive(Default)]
struct RelayState {
    down: AtomicBool,
    stalled: AtomicBool,
    /// Bytes sent by clients (requests and uploads).
    bytes_in: AtomicU64,
    /// Incremented on every down, so open connections notice and close.
    epoch: AtomicU64,
    /// Stall once clients have sent this many bytes.
    stall_at: AtomicU64,
}

impl Relay {
    async fn start(target: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("relay bind");
        let port = listener.local_addr().expect("addr").port();
        let state = Arc::new(RelayState {
            stall_at: AtomicU64::new(u64::MAX),
            ..Default::default()
        });
        let st = state.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if st.down.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let st = st.clone();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(("127.0.0.1", target)).await else {
                        return;
                    };
                    let epoch = st.epoch.load(Ordering::SeqCst);
                    let (cr, cw) = client.into_split();
                    let (sr, sw) = server.into_split();
                    let up = pump(cr, sw, st.clone(), epoch, true);
                    let down = pump(sr, cw, st.clone(), epoch, false);
                    tokio::select! {
                        _ = up => {},
                        _ = down => {},
                    }
                });
            }
        });
        Self { port, state }
    }

    /// Cuts every connection and refuses new ones until `up`.
    pub fn down(&self) {
        self.state.down.store(true, Ordering::SeqCst);
        self.state.epoch.fetch_add(1, Ordering::SeqCst);
    }

    pub fn up(&self) {
        self.state.stall_at.store(u64::MAX, Ordering::SeqCst);
        self.state.down.store(false, Ordering::SeqCst);
        self.state.stalled.store(false, Ordering::SeqCst);
    }

    /// Lets `bytes` more bytes through from clients, then holds everything until `up`.
    pub fn stall_after(&self, bytes: u64) {
        let at = self.bytes_in() + bytes;
        self.state.stall_at.store(at, Ordering::SeqCst);
    }

    /// Whether bytes are being held.
    pub fn is_stalled(&self) -> bool {
        self.state.stalled.load(Ordering::SeqCst)
    }

    pub fn bytes_in(&self) -> u64 {
        self.state.bytes_in.load(Ordering::SeqCst)
    }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    st: Arc<RelayState>,
    epoch: u64,
    inbound: bool,
) {
    let mut buf = vec![0u8; 16 << 10];
    loop {
        let n = tokio::select! {
            r = from.read(&mut buf) => match r {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            },
            _ = tokio::time::sleep(std::time::Duration::from_millis(100)) => {
                if st.epoch.load(Ordering::SeqCst) != epoch {
                    return;
                }
                continue;
            }
        };
        if inbound && st.bytes_in.load(Ordering::SeqCst) >= st.stall_at.load(Ordering::SeqCst) {
            st.stalled.store(true, Ordering::SeqCst);
        }
        while st.stalled.load(Ordering::SeqCst) {
            if st.epoch.load(Ordering::SeqCst) != epoch {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        if st.epoch.load(Ordering::SeqCst) != epoch {
            return;
        }
        if inbound {
            st.bytes_in.fetch_add(n as u64, Ordering::SeqCst);
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
