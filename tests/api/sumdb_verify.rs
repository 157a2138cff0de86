//! `sumdb.verify_zips`: fetched versions are checked against the checksum database before they
//! are stored. A record that disagrees refuses the version (502, nothing stored); a version the
//! database does not know, a private module, or a database that is down let it through.

use std::net::TcpListener;

use crate::fixture::go_fixture;
use crate::helpers::{
    database_url, esc, pg_store, spawn_app_with, sqlite_store, start_replica_with,
};
use crate::sumdb_server::{TestSumdb, records_from_go_sum};
use crate::upstream::TestUpstream;
use agora::store::Stores;
use gomod::module::ModulePath;
use gomod::version::Version;

const NAME: &str = "sum.agora.test";
const CAPS: &str = "github.com/Agora-Test/Caps";
const WRONG: &str = "h1:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=";

/// The fixture's go.sum with Caps v1.0.0's zip hash replaced by `WRONG` and the lines of
/// `github.com/agoratest/multi v1.0.0` left out (a version the database does not know).
fn database_records() -> Vec<(String, String, String)> {
    let go_sum = std::fs::read_to_string(go_fixture().app.join("go.sum")).expect("go.sum");
    let mut text: String = go_sum
        .lines()
        .map(|l| {
            if l.starts_with(&format!("{CAPS} v1.0.0 h1:")) {
                format!("{CAPS} v1.0.0 {WRONG}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    // The app's go.sum names only the versions it builds with; add the private module's.
    text.push_str(
        "github.com/agoratest/legacy v1.0.0 h1:CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC=\n",
    );
    records_from_go_sum(&text)
        .into_iter()
        .filter(|(m, v, _)| !(m == "github.com/agoratest/multi" && v == "v1.0.0"))
        .collect()
}

async fn stored(store: &Stores, module: &str, version: &str) -> bool {
    let m = ModulePath::parse(module).expect("module");
    let v = Version::parse(version).expect("version");
    store
        .versions
        .version(&m, &v)
        .await
        .expect("store")
        .is_some()
}

fn metric(text: &str, result: &str) -> Option<f64> {
    crate::helpers::metric(
        text,
        &format!("agora_sumdb_verifications_total{{result=\"{result}\"}}"),
    )
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn fetched_zips_are_verified_against_the_checksum_database(pool: sqlx::PgPool) {
    let f = go_fixture();
    let dir = tempfile::tempdir().expect("tmp");
    TestSumdb::write(NAME, 9, database_records(), dir.path());
    let db = TestUpstream::start(dir.path().to_path_buf());
    let modules = TestUpstream::start(f.tree.clone());
    let data = tempfile::tempdir().expect("tmp");
    let sumdb_upstream = format!("{NAME}={}", db.url());
    // A separate process: metrics are per process.
    let app = start_replica_with(
        &database_url(&pool),
        &modules.url(),
        data.path(),
        &[
            ("AGORA_SUMDB__NAMES", NAME),
            ("AGORA_SUMDB__UPSTREAM", &sumdb_upstream),
            ("AGORA_SUMDB__VERIFY_ZIPS", "true"),
            ("AGORA_SUMDB__PRIVATE", "github.com/agoratest/legacy"),
        ],
    );
    let store = pg_store(pool);
    let client = crate::helpers::client();
    let get = |path: String| {
        let client = client.clone();
        let url = format!("{}{path}", app.address);
        async move {
            let resp = client.get(url).send().await.expect("request");
            let status = resp.status().as_u16();
            (status, resp.text().await.unwrap_or_default())
        }
    };

    // (1) The database's record matches: stored.
    let multi2 = "github.com/agoratest/multi/v2";
    let (status, body) = get(format!("/{multi2}/@v/v2.1.0.zip")).await;
    assert_eq!(status, 200, "{body}");
    assert!(stored(&store, multi2, "v2.1.0").await);
    assert_eq!(db.hits_ending(&format!("/lookup/{multi2}@v2.1.0")), 1);
    // The answer was kept: a go command's lookup through agora is served from the store.
    let (status, _) = get(format!("/sumdb/{NAME}/lookup/{multi2}@v2.1.0")).await;
    assert_eq!(status, 200);
    assert_eq!(db.hits_ending(&format!("/lookup/{multi2}@v2.1.0")), 1);

    // (2) The database records another zip hash: refused with both hashes, nothing stored.
    let caps = esc(CAPS);
    let (status, body) = get(format!("/{caps}/@v/v1.0.0.zip")).await;
    assert_eq!(status, 502, "{body}");
    assert!(body.contains("checksum mismatch"), "{body}");
    assert!(body.contains(WRONG), "{body}");
    let computed = std::fs::read_to_string(f.app.join("go.sum"))
        .expect("go.sum")
        .lines()
        .find_map(|l| {
            l.strip_prefix(&format!("{CAPS} v1.0.0 "))
                .map(str::to_string)
        })
        .expect("Caps in go.sum");
    assert!(body.contains(&computed), "{body}");
    assert_eq!(body.trim_end().lines().count(), 1, "{body}");
    assert!(!stored(&store, CAPS, "v1.0.0").await);

    // A version the database does not know: stored.
    let (status, body) = get("/github.com/agoratest/multi/@v/v1.0.0.zip".into()).await;
    assert_eq!(status, 200, "{body}");
    assert!(stored(&store, "github.com/agoratest/multi", "v1.0.0").await);

    // (3) A private module: the database never hears of it (its record there is wrong, too).
    let (status, body) = get("/github.com/agoratest/legacy/@v/v1.0.0.zip".into()).await;
    assert_eq!(status, 200, "{body}");
    assert!(stored(&store, "github.com/agoratest/legacy", "v1.0.0").await);
    assert!(
        !db.hits().iter().any(|h| h.contains("legacy")),
        "{:?}",
        db.hits()
    );

    let (_, text) = get("/metrics".into()).await;
    assert_eq!(metric(&text, "ok"), Some(1.0), "{text}");
    assert_eq!(metric(&text, "mismatch"), Some(1.0), "{text}");
    assert_eq!(metric(&text, "not_found"), Some(1.0), "{text}");
    assert_eq!(metric(&text, "private"), Some(1.0), "{text}");
    assert_eq!(metric(&text, "unavailable"), None, "never counted: {text}");
}

/// A loopback address nothing listens on.
fn dead_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// (4) The database is down: stored with a warning (fail-open), or refused when
/// `sumdb.verify_fail_closed` is set.
#[sqlx::test(migrations = "migrations/sqlite")]
async fn checksum_database_down_fails_open_unless_told_otherwise(pool: sqlx::SqlitePool) {
    let modules = TestUpstream::start(go_fixture().tree.clone());
    let sumdb_upstream = format!("{NAME}={}", dead_url());
    let env = |closed: &'static str| {
        [
            ("AGORA_SUMDB__NAMES", NAME),
            ("AGORA_SUMDB__UPSTREAM", sumdb_upstream.as_str()),
            ("AGORA_SUMDB__VERIFY_ZIPS", "true"),
            ("AGORA_SUMDB__VERIFY_FAIL_CLOSED", closed),
        ]
    };
    let store = sqlite_store(pool).await;
    let closed = spawn_app_with(store.clone(), &modules.url(), &env("true")).await;
    let caps = esc(CAPS);
    let (status, body) = closed.fetch(&format!("/{caps}/@v/v1.0.0.zip")).await;
    assert_eq!(status, 502, "{body:?}");
    let text = String::from_utf8_lossy(&body);
    assert!(text.contains("could not be checked"), "{text}");
    assert!(!stored(&store, CAPS, "v1.0.0").await);

    let open = spawn_app_with(store.clone(), &modules.url(), &env("false")).await;
    let (status, body) = open.fetch(&format!("/{caps}/@v/v1.0.0.zip")).await;
    assert_eq!(status, 200, "{body:?}");
    assert!(stored(&store, CAPS, "v1.0.0").await);
}
