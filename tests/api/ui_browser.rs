//! The web pages in a real browser (headless Chromium): a new user finds the setup on the front
//! page, searches, opens a module and a version; an administrator signs in, hides a version (the
//! go command then gets 410 with the reason), makes a token and revokes one. Screenshots of each
//! page are kept in `target/tmp/ui-screenshots/`.

use std::process::Command;

use crate::browser::Browser;
use crate::fixture::{go_env, go_fixture, run};
use crate::helpers::{pg_store, spawn_app_with};
use crate::upstream::TestUpstream;

const CAPS: &str = "github.com/Agora-Test/Caps";

#[sqlx::test(migrations = "migrations/postgres")]
async fn a_user_and_an_administrator_in_the_browser(pool: sqlx::PgPool) {
    let upstream = TestUpstream::start(go_fixture().tree.clone());
    // Reading is open (the go command sends credentials only over https); administration
    // always needs a token.
    let app = spawn_app_with(pg_store(pool), &upstream.url(), &[]).await;
    let root = app.token("root", "admin").await;
    let other = app.token("ci-admin", "admin").await;
    // Something stored to browse.
    let (status, _) = app
        .fetch("/github.com/!agora-!test/!caps/@v/v1.0.0.zip")
        .await;
    assert_eq!(status, 200);
    let mut b = Browser::start("user-and-admin").await;

    // The front page: the setup for this server's own address, ready to copy.
    b.goto(&format!("{}/", app.address)).await;
    let setup = b.text("main pre code").await;
    assert!(
        setup.contains(&format!("go env -w GOPROXY={}", app.address)),
        "{setup}"
    );
    b.screenshot("home").await;

    // Search, open the module, open the version.
    b.type_into("#q", "Agora-Test").await;
    b.click("form.search button").await;
    b.wait_for("matching").await;
    b.screenshot("search").await;
    b.click("a[href='/ui/mod/github.com/!agora-!test/!caps']")
        .await;
    assert!(
        b.source()
            .await
            .contains("go get github.com/Agora-Test/Caps@v1.0.0")
    );
    b.screenshot("module").await;
    b.click("a[href='/ui/mod/github.com/!agora-!test/!caps/@v/v1.0.0']")
        .await;
    assert!(
        b.source().await.contains("h1:"),
        "the version page shows its hashes"
    );
    b.screenshot("version").await;

    // Operations: this replica's counters (the go command's fetch above was a miss).
    b.goto(&format!("{}/ui/ops", app.address)).await;
    b.wait_for("Cache hit ratio").await;
    b.screenshot("ops").await;

    // Administration: not without signing in.
    b.goto(&format!("{}/ui/admin", app.address)).await;
    b.wait_for("Paste a token").await;
    b.screenshot("sign-in").await;
    b.type_into("#token", &root).await;
    b.click("#sign-in").await;
    b.wait_for("Signed in as").await;
    assert!(b.url().await.ends_with("/ui/admin"), "{}", b.url().await);
    b.screenshot("admin").await;

    // Hide the version, with a reason and the confirmation.
    b.goto(&format!(
        "{}/ui/mod/github.com/!agora-!test/!caps/@v/v1.0.0",
        app.address
    ))
    .await;
    b.wait_for("Administration</h2>").await;
    b.type_into("#reason", "leaks a credential").await;
    b.click("#confirm-hide").await;
    b.click("#hide").await;
    let page = b.wait_for("<strong>Hidden</strong>").await;
    // Administrators see why; nobody sees its content any more.
    assert!(page.contains("leaks a credential"), "{page}");
    assert!(!page.contains("<h2>go.mod</h2>"), "{page}");
    b.screenshot("hidden").await;

    // The go command now gets 410 with that reason.
    let f = go_fixture();
    let work = tempfile::tempdir().expect("tmp");
    let mut go = Command::new(&f.go);
    go_env(
        &mut go,
        &f.root,
        &work.path().join("modcache"),
        &app.address,
    );
    let out = tokio::task::spawn_blocking(move || {
        run(go.current_dir(work.path()).args([
            "mod",
            "download",
            "-json",
            &format!("{CAPS}@v1.0.0"),
        ]))
    })
    .await
    .expect("join");
    let text = match out {
        Ok(o) | Err(o) => o,
    };
    assert!(
        text.contains("410 Gone") && text.contains("leaks a credential"),
        "{text}"
    );

    // A token made in the browser works; a revoked one no longer does.
    b.goto(&format!("{}/ui/admin", app.address)).await;
    b.type_into("#name", "made-in-browser").await;
    b.click("input[name=admin]").await;
    b.click("#create-token").await;
    b.wait_for("shown once").await;
    let secret = b.text("#secret").await;
    b.screenshot("token-created").await;
    let versions = "/admin/versions";
    assert_eq!(app.fetch_as(versions, secret.trim()).await.0, 200);
    assert_eq!(app.fetch_as(versions, &other).await.0, 200);
    b.goto(&format!("{}/ui/admin", app.address)).await;
    b.click("button[aria-label='Revoke ci-admin']").await;
    b.wait_for("revoked 20").await;
    b.screenshot("token-revoked").await;
    assert_eq!(app.fetch_as(versions, &other).await.0, 401);
    // A hidden version stays: expiring it would let the next request fetch it again, unhidden,
    // so its page offers no expiry.
    b.goto(&format!(
        "{}/ui/mod/github.com/!agora-!test/!caps/@v/v1.0.0",
        app.address
    ))
    .await;
    let page = b.wait_for("<strong>Hidden</strong>").await;
    assert!(!page.contains("id=\"expire\""), "{page}");
    assert!(app.is_stored(CAPS, "v1.0.0").await);
    // Every action is in the audit log.
    b.goto(&format!("{}/ui/admin", app.address)).await;
    let page = b.source().await;
    for action in ["hide", "token-create", "token-revoke"] {
        assert!(page.contains(action), "{action} missing from the audit log");
    }
}
