//! Booting the real server on port 0 for a test, against a store the test owns.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Once;

use agora::config::{Settings, Sources};
use agora::http::startup::Application;
use agora::store::Stores;

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub store: Stores,
    /// The clock sessions and the sign-in throttle read: tests move it forward.
    pub clock: agora::clock::Clock,
    /// Tokens made by `named_token`, by name.
    tokens: tokio::sync::Mutex<std::collections::HashMap<String, String>>,
    _data: tempfile::TempDir,
}

static TRACING: Once = Once::new();

/// Logs go to the test output only when `TEST_LOG` is set; errors and warnings are always kept
/// (the last few hundred, from every test of this process) for a failing test to show.
pub fn init_tracing() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    TRACING.call_once(|| {
        let shown = std::env::var_os("TEST_LOG").is_some().then(|| {
            tracing_subscriber::fmt::layer()
                .with_test_writer()
                .with_filter(tracing_subscriber::EnvFilter::new("info,sqlx=warn"))
        });
        let _ = tracing_subscriber::registry()
            .with(shown)
            .with(Kept.with_filter(tracing_subscriber::filter::LevelFilter::WARN))
            .try_init();
    });
}

use tracing_subscriber::Layer;

static KEPT: std::sync::Mutex<std::collections::VecDeque<String>> =
    std::sync::Mutex::new(std::collections::VecDeque::new());

/// Keeps warnings and errors with their fields.
struct Kept;

impl<S: tracing::Subscriber> Layer<S> for Kept {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Fields(String);
        impl tracing::field::Visit for Fields {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                self.0.push_str(&format!(" {}={value:?}", field.name()));
            }
        }
        let mut fields = Fields(format!(
            "{} {}:",
            event.metadata().level(),
            event.metadata().target()
        ));
        event.record(&mut fields);
        let mut kept = KEPT.lock().unwrap_or_else(|p| p.into_inner());
        if kept.len() >= 300 {
            kept.pop_front();
        }
        kept.push_back(fields.0);
    }
}

/// The server-side warnings and errors kept so far, for a failure message.
pub fn kept_errors() -> String {
    let kept = KEPT.lock().unwrap_or_else(|p| p.into_inner());
    kept.iter()
        .rev()
        .take(40)
        .rev()
        .cloned()
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn settings(upstream: &str, data_dir: &std::path::Path, extra: &[(&str, &str)]) -> Settings {
    let mut env: config::Map<String, String> = [
        ("AGORA_LISTEN", "127.0.0.1:0".to_string()),
        ("AGORA_UPSTREAM", upstream.to_string()),
        ("AGORA_DATA_DIR", data_dir.display().to_string()),
        ("AGORA_FETCH__UPSTREAM_TIMEOUT_SECS", "10".to_string()),
        ("AGORA_FETCH__LOCK_WAIT_SECS", "30".to_string()),
        ("AGORA_SHUTDOWN_GRACE_SECS", "1".to_string()),
        // Hermetic: no test asks sum.golang.org; the checksum tests turn verification on.
        ("AGORA_SUMDB__VERIFY_ZIPS", "false".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for (k, v) in extra {
        env.insert(k.to_string(), v.to_string());
    }
    Settings::load_from(Sources {
        file: None,
        env: Some(env),
    })
    .expect("test settings")
}

pub async fn spawn_app(store: Stores, upstream: &str) -> TestApp {
    spawn_app_with(store, upstream, &[]).await
}

pub async fn spawn_app_with(store: Stores, upstream: &str, extra: &[(&str, &str)]) -> TestApp {
    init_tracing();
    let data = tempfile::tempdir().expect("data dir");
    let settings = settings(upstream, data.path(), extra);
    let clock = agora::clock::Clock::system();
    let app = Application::build_with(&settings, store.clone(), clock.clone()).expect("build app");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::new(),
        store,
        clock,
        tokens: Default::default(),
        _data: data,
    }
}

impl TestApp {
    /// A new token with these scopes (comma-separated) and publish patterns; its secret.
    pub async fn token_with(&self, name: &str, scopes: &str, patterns: &str) -> String {
        let secret = agora::auth::generate_secret().expect("secret");
        let new = agora::store::NewToken {
            name,
            secret_sha256: &agora::auth::hash_secret(&secret),
            scopes,
            patterns,
            created_by: "test",
        };
        assert!(self.store.tokens.token_create(&new).await.expect("token"));
        secret
    }

    pub async fn token(&self, name: &str, scopes: &str) -> String {
        self.token_with(name, scopes, "").await
    }

    /// The token named `name`, made with `scopes` on first use.
    pub async fn named_token(&self, name: &str, scopes: &str) -> String {
        let mut tokens = self.tokens.lock().await;
        if let Some(t) = tokens.get(name) {
            return t.clone();
        }
        let t = self.token(name, scopes).await;
        tokens.insert(name.to_string(), t.clone());
        t
    }

    /// Whether `module@version` is stored.
    pub async fn is_stored(&self, module: &str, version: &str) -> bool {
        let module = gomod::module::ModulePath::parse(module).expect("path");
        let version = gomod::version::Version::parse(version).expect("version");
        self.store
            .versions
            .version(&module, &version)
            .await
            .expect("store")
            .is_some()
    }

    /// Status and body of a GET with a bearer token.
    pub async fn fetch_as(&self, path: &str, token: &str) -> (u16, bytes::Bytes) {
        let resp = self
            .client
            .get(format!("{}{}", self.address, path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request");
        let status = resp.status().as_u16();
        (status, resp.bytes().await.expect("body"))
    }

    /// The app's `data_dir` (temporary files, caches, git repositories).
    pub fn data_dir(&self) -> &std::path::Path {
        self._data.path()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{}", self.address, path))
            .send()
            .await
            .expect("request")
    }

    /// Status and body text of a GET.
    pub async fn fetch(&self, path: &str) -> (u16, bytes::Bytes) {
        let resp = self.get(path).await;
        let status = resp.status().as_u16();
        (status, resp.bytes().await.expect("body"))
    }
}

pub fn pg_store(pool: sqlx::PgPool) -> Stores {
    Stores::of(agora::store::postgres::PgStore::from_pool(pool))
}

/// PostgreSQL for everything but zips, which `blobs` keeps.
pub fn pg_store_with_blobs(
    pool: sqlx::PgPool,
    blobs: std::sync::Arc<dyn agora::store::BlobStore>,
) -> Stores {
    Stores::of(agora::store::postgres::PgStore::from_pool(pool).with_blobs_elsewhere())
        .with_blobs(blobs)
}

pub async fn sqlite_store(pool: sqlx::SqlitePool) -> Stores {
    // The store reopens the file in WAL mode. A WAL left by an earlier run of this test (sqlx
    // removes only the database file) must not be replayed onto this new database.
    let file = pool.connect_options().get_filename().to_path_buf();
    for suffix in ["-wal", "-shm"] {
        let mut side = file.clone().into_os_string();
        side.push(suffix);
        let _ = std::fs::remove_file(side);
    }
    Stores::of(
        agora::store::sqlite::SqliteStore::reopen(&pool)
            .await
            .expect("reopen"),
    )
}

/// A new, migrated SQLite database in the file `path`, for a second app in a test that has
/// its database already.
pub async fn fresh_sqlite(path: &std::path::Path) -> Stores {
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true);
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .connect_with(options)
        .await
        .expect("sqlite");
    sqlx::migrate!("migrations/sqlite")
        .run(&pool)
        .await
        .expect("migrations");
    sqlite_store(pool).await
}

/// The `!`-escaped form of a module path or version, as the go command sends it.
pub fn esc(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_ascii_uppercase() {
                vec!['!', c.to_ascii_lowercase()]
            } else {
                vec![c]
            }
        })
        .collect()
}

pub struct Replica {
    pub child: Child,
    pub address: String,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The database URL of the test's own database.
pub fn database_url(pool: &sqlx::PgPool) -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let db = pool
        .connect_options()
        .get_database()
        .expect("database name")
        .to_string();
    let (server, _) = base.rsplit_once('/').expect("database url has a path");
    format!("{server}/{db}")
}

/// Starts `agora serve` and waits for it to say which port it took.
pub fn start_replica(database_url: &str, upstream: &str, data: &std::path::Path) -> Replica {
    start_replica_with(database_url, upstream, data, &[])
}

/// Like `start_replica`, with extra environment variables.
pub fn start_replica_with(
    database_url: &str,
    upstream: &str,
    data: &std::path::Path,
    env: &[(&str, &str)],
) -> Replica {
    let mut child = Command::new(env!("CARGO_BIN_EXE_agora"))
        .arg("serve")
        .env("AGORA_LISTEN", "127.0.0.1:0")
        .env("AGORA_DATABASE_URL", database_url)
        .env("AGORA_UPSTREAM", upstream)
        .env("AGORA_DATA_DIR", data)
        .env("AGORA_LOG__FORMAT", "json")
        .env("AGORA_FETCH__LOCK_WAIT_SECS", "60")
        .env("RUST_LOG", "info")
        // Many tests share one PostgreSQL server (100 connections by default): stay small.
        .env("AGORA_DATABASE__MAX_CONNECTIONS", "6")
        .env("AGORA_DATABASE__FILL_CONNECTIONS", "2")
        .env("AGORA_SUMDB__VERIFY_ZIPS", "false")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn agora");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let port = loop {
        let line = lines
            .next()
            .expect("agora exited before serving")
            .expect("read");
        if let Some(v) = serde_json::from_str::<serde_json::Value>(&line)
            .ok()
            .filter(|v| v["fields"]["message"] == "agora serving")
        {
            break v["fields"]["port"].as_u64().expect("port") as u16;
        }
    };
    // Keep draining its log so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Replica {
        child,
        address: format!("http://127.0.0.1:{port}"),
    }
}

/// The value of one series (`name{labels}`, exactly as rendered) in a Prometheus text answer;
/// `None` when there is no such series, which is not the same as zero.
pub fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// An HTTP client for tests, after the process's TLS provider is chosen.
pub fn client() -> reqwest::Client {
    agora::install_crypto_provider();
    reqwest::Client::new()
}
