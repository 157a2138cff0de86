//! Sign-in sessions as the server keeps them: a random id in the cookie (never the token),
//! ended by the server at logout, at its absolute and idle limits (a test clock moves time), and
//! with its token; a form token per session; the console's list; a forms' origin that forwarded
//! headers cannot fake; a throttled sign-in; form bodies that must arrive in time.

use std::io::{Read, Write};

use crate::helpers::{TestApp, pg_store, spawn_app_with, sqlite_store};
use crate::ui::{console, no_redirects, sign_in};

async fn post_form(app: &TestApp, path: &str, session: &str, body: &str) -> u16 {
    no_redirects()
        .post(format!("{}{path}", app.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", format!("agora_session={session}"))
        .header("origin", app.address.as_str())
        .body(body.to_string())
        .send()
        .await
        .expect("post")
        .status()
        .as_u16()
}

/// How many live sessions the store holds.
async fn live_sessions(app: &TestApp) -> usize {
    let now = app.clock.now();
    app.store
        .sessions
        .sessions(now, 0)
        .await
        .expect("sessions")
        .len()
}

async fn sessions_end_on_the_server(app: TestApp) {
    let admin = app.token("root", "admin").await;
    let (session, csrf) = sign_in(&app, &admin).await;
    let csrf = csrf.expect("form token");

    // 1. The cookie is a session id, never the token, and never a token for the API.
    assert_ne!(session, admin);
    assert!(!session.contains(&admin["agora_".len()..]));
    for path in ["/admin/versions", "/admin/audit", "/catalog"] {
        let resp = app
            .client
            .get(format!("{}{path}", app.address))
            .bearer_auth(&session)
            .send()
            .await
            .expect("api");
        let want = if path == "/catalog" { 200 } else { 401 };
        assert_eq!(resp.status().as_u16(), want, "{path}");
    }
    let (status, _) = console(&app, &session).await;
    assert_eq!(status, 200);
    let as_bearer = no_redirects()
        .get(format!("{}/ui/admin", app.address))
        .bearer_auth(&session)
        .send()
        .await
        .expect("console");
    assert_eq!(
        as_bearer.status().as_u16(),
        303,
        "a bearer session id is no token"
    );

    // Each session has its own form token; one session's is refused in another.
    let (other, other_csrf) = sign_in(&app, &admin).await;
    let other_csrf = other_csrf.expect("form token");
    assert_ne!(csrf, other_csrf);
    let revoke_nobody = |csrf: &str| format!("csrf={csrf}&name=nobody");
    assert_eq!(
        post_form(&app, "/ui/admin/revoke", &other, &revoke_nobody(&csrf)).await,
        403
    );
    assert_eq!(
        post_form(
            &app,
            "/ui/admin/revoke",
            &other,
            &revoke_nobody(&other_csrf)
        )
        .await,
        404,
        "the session's own form token passes"
    );

    // 2. Logout ends the session on the server: the old cookie replayed is refused.
    assert_eq!(
        post_form(&app, "/ui/logout", &session, &format!("csrf={csrf}")).await,
        303
    );
    let (status, csrf_after) = console(&app, &session).await;
    assert_eq!((status, csrf_after), (303, None), "replayed after logout");
    assert_eq!(
        post_form(&app, "/ui/logout", &session, &format!("csrf={csrf}")).await,
        401
    );

    // The idle limit (1 h): a session used within it lives on, one left alone dies.
    let (busy, _) = sign_in(&app, &admin).await;
    let (idle, _) = sign_in(&app, &admin).await;
    app.clock.advance(50 * 60);
    assert_eq!(console(&app, &busy).await.0, 200);
    app.clock.advance(20 * 60);
    assert_eq!(console(&app, &busy).await.0, 200, "used 20 min ago");
    assert_eq!(console(&app, &idle).await.0, 303, "idle for 70 min");
    // The absolute limit (8 h), however busy the session is.
    for _ in 0..7 {
        app.clock.advance(55 * 60);
        assert_eq!(console(&app, &busy).await.0, 200);
    }
    app.clock.advance(30 * 60);
    assert_eq!(console(&app, &busy).await.0, 303, "past 8 h");

    // Revoking a token ends all of its sessions at once.
    let (a, _) = sign_in(&app, &admin).await;
    let (b, _) = sign_in(&app, &admin).await;
    let other_admin = app.token("second", "admin").await;
    let (keeper, _) = sign_in(&app, &other_admin).await;
    assert!(app.store.tokens.token_revoke("root").await.expect("revoke"));
    assert_eq!(console(&app, &a).await.0, 303);
    assert_eq!(console(&app, &b).await.0, 303);
    assert_eq!(
        console(&app, &keeper).await.0,
        200,
        "other tokens keep theirs"
    );
    assert_eq!(live_sessions(&app).await, 1);

    // The console lists the live sessions and ends one.
    let (victim, _) = sign_in(&app, &other_admin).await;
    let (status, keeper_csrf) = console(&app, &keeper).await;
    assert_eq!(status, 200);
    let keeper_csrf = keeper_csrf.expect("form token");
    let html = no_redirects()
        .get(format!("{}/ui/admin", app.address))
        .header("cookie", format!("agora_session={keeper}"))
        .send()
        .await
        .expect("console")
        .text()
        .await
        .expect("html");
    assert!(html.contains("Signed-in sessions"), "{html}");
    assert!(html.contains("(this one)"), "{html}");
    assert!(
        !html.contains(&victim) && !html.contains(&keeper),
        "ids shown"
    );
    let now = app.clock.now();
    let listed = app.store.sessions.sessions(now, 0).await.expect("sessions");
    assert_eq!(listed.len(), 2);
    let victim_id = listed.iter().map(|s| s.id).max().expect("newest");
    assert!(html.contains(&format!("name=\"id\" value=\"{victim_id}\"")));
    assert_eq!(
        post_form(
            &app,
            "/ui/admin/sessions/end",
            &keeper,
            &format!("csrf={keeper_csrf}&id={victim_id}")
        )
        .await,
        303
    );
    assert_eq!(console(&app, &victim).await.0, 303);
    assert_eq!(console(&app, &keeper).await.0, 200);
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn sessions_end_on_the_server_postgres(pool: sqlx::PgPool) {
    sessions_end_on_the_server(spawn_app_with(pg_store(pool), "off", &[]).await).await;
}

#[sqlx::test(migrations = "migrations/sqlite")]
async fn sessions_end_on_the_server_sqlite(pool: sqlx::SqlitePool) {
    sessions_end_on_the_server(spawn_app_with(sqlite_store(pool).await, "off", &[]).await).await;
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn forwarded_headers_and_public_url_decide_the_origin(pool: sqlx::PgPool) {
    let app = spawn_app_with(pg_store(pool.clone()), "off", &[]).await;
    let admin = app.token("root", "admin").await;
    let login = |origin: &str, extra: &[(&'static str, &'static str)]| {
        let mut req = no_redirects()
            .post(format!("{}/ui/login", app.address))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", origin)
            .body(format!("token={admin}"));
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        async move { req.send().await.expect("login").status().as_u16() }
    };
    // A non-browser client naming a foreign host in forwarding headers gains nothing.
    for forged in [
        &[("x-forwarded-host", "evil.example")][..],
        &[
            ("x-forwarded-host", "evil.example"),
            ("x-forwarded-proto", "https"),
        ][..],
        &[("forwarded", "host=evil.example;proto=https")][..],
    ] {
        assert_eq!(
            login("https://evil.example", forged).await,
            403,
            "{forged:?}"
        );
        assert_eq!(
            login("http://evil.example", forged).await,
            403,
            "{forged:?}"
        );
    }
    assert_eq!(login(&app.address, &[]).await, 303);

    // With public_url, only that origin counts, and the front page uses it.
    let public = spawn_app_with(
        pg_store(pool),
        "off",
        &[("AGORA_PUBLIC_URL", "https://goproxy.example.com")],
    )
    .await;
    let admin = public.token("root2", "admin").await;
    let status = |origin: &str| {
        let req = no_redirects()
            .post(format!("{}/ui/login", public.address))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", origin)
            .body(format!("token={admin}"));
        async move { req.send().await.expect("login") }
    };
    assert_eq!(status(&public.address).await.status().as_u16(), 403);
    let ok = status("https://goproxy.example.com").await;
    assert_eq!(ok.status().as_u16(), 303);
    let cookie = ok.headers()["set-cookie"].to_str().expect("cookie");
    assert!(cookie.contains("Secure"), "https public_url: {cookie}");
    let (_, html) = public.fetch("/").await;
    let html = String::from_utf8_lossy(&html);
    assert!(
        html.contains("go env -w GOPROXY=https://goproxy.example.com"),
        "{html}"
    );
}

#[sqlx::test(migrations = "migrations/sqlite")]
async fn failed_sign_ins_are_throttled_per_address(pool: sqlx::SqlitePool) {
    let app = spawn_app_with(
        sqlite_store(pool).await,
        "off",
        &[
            ("AGORA_UI__LOGIN_MAX_FAILURES", "3"),
            ("AGORA_UI__LOGIN_WINDOW_SECS", "600"),
        ],
    )
    .await;
    let admin = app.token("root", "admin").await;
    let attempt = |token: String| {
        let req = no_redirects()
            .post(format!("{}/ui/login", app.address))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("token={token}"));
        async move { req.send().await.expect("login") }
    };
    let before = metric(&app, "agora_ui_logins_total{outcome=\"throttled\"}").await;
    for _ in 0..3 {
        assert_eq!(attempt("agora_guess".into()).await.status().as_u16(), 401);
    }
    // Refused now, even with the right token, and told when to come back.
    let refused = attempt(admin.clone()).await;
    assert_eq!(refused.status().as_u16(), 429);
    let retry: i64 = refused.headers()["retry-after"]
        .to_str()
        .expect("retry-after")
        .parse()
        .expect("seconds");
    assert!((1..=600).contains(&retry), "{retry}");
    let after = metric(&app, "agora_ui_logins_total{outcome=\"throttled\"}").await;
    assert!(after > before, "throttled sign-ins are counted");
    app.clock.advance(601);
    assert_eq!(attempt(admin).await.status().as_u16(), 303);
}

async fn metric(app: &TestApp, series: &str) -> u64 {
    let (_, body) = app.fetch("/metrics").await;
    String::from_utf8_lossy(&body)
        .lines()
        .find_map(|l| l.strip_prefix(series))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

#[sqlx::test(migrations = "migrations/sqlite")]
async fn form_bodies_that_never_come_are_cut_off(pool: sqlx::SqlitePool) {
    let app = spawn_app_with(
        sqlite_store(pool).await,
        "off",
        &[("AGORA_UI__FORM_READ_TIMEOUT_SECS", "1")],
    )
    .await;
    let host = app.address.trim_start_matches("http://").to_string();
    let admin = app.token("root", "admin").await;
    let cases = [
        ("/ui/login", "application/x-www-form-urlencoded"),
        ("/ui/logout", "application/x-www-form-urlencoded"),
        ("/admin/hide", "application/json"),
    ];
    for (path, kind) in cases {
        let answer = tokio::task::spawn_blocking({
            let host = host.clone();
            let admin = admin.clone();
            move || {
                let mut conn = std::net::TcpStream::connect(&host).expect("connect");
                // Bounded: a server that never answers fails the test instead of hanging it.
                conn.set_read_timeout(Some(std::time::Duration::from_secs(20)))
                    .expect("timeout");
                write!(
                    conn,
                    "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {kind}\r\n\
                     Authorization: Bearer {admin}\r\nContent-Length: 100\r\n\r\ntoken="
                )
                .expect("write");
                let mut answer = vec![0u8; 512];
                let n = conn.read(&mut answer).unwrap_or(0);
                String::from_utf8_lossy(&answer[..n]).into_owned()
            }
        })
        .await
        .expect("join");
        let status = answer.split(' ').nth(1).unwrap_or("");
        assert_eq!(status, "408", "{path}: the body never came, got {answer:?}");
    }
}
