//! The web pages, over real HTTP against a real store: setup for this server's own URL, search,
//! module and version pages, strict headers, and every stored string escaped.

use crate::helpers::{TestApp, pg_store, spawn_app_with};
use agora::store::{BlobRef, NewVersion};
use gomod::module::ModulePath;
use gomod::version::Version;

const HOSTILE: &str = "<script>alert(1)</script>";

async fn store_version(app: &TestApp, module: &str, version: &str, go_mod: &str) {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("z");
    {
        use std::io::Write;
        let file = std::fs::File::create(&path).expect("create");
        let mut zip = zip::ZipWriter::new(file);
        let options = zip::write::SimpleFileOptions::default();
        for (name, body) in [
            ("go.mod", go_mod.to_string()),
            ("LICENSE", format!("Licensed {HOSTILE}\n")),
            ("pkg/a.go", "package pkg\n".to_string()),
        ] {
            zip.start_file(format!("{module}@{version}/{name}"), options)
                .expect("entry");
            zip.write_all(body.as_bytes()).expect("write");
        }
        zip.finish().expect("finish");
    }
    let data = std::fs::read(&path).expect("read");
    let blob = BlobRef {
        sha256: hex::encode(gomod::dirhash::sha256_reader(&data[..]).expect("sha")),
        size: data.len() as u64,
    };
    app.store.blobs.put(&blob, &path).await.expect("put");
    let m = ModulePath::parse(module).expect("module");
    let v = Version::parse(version).expect("version");
    let info = format!("{{\"Version\":\"{version}\",\"Time\":\"2024-05-06T07:08:09Z\"}}");
    let inserted = app
        .store
        .versions
        .insert_version(&NewVersion {
            module: &m,
            version: &v,
            info: info.as_bytes(),
            go_mod: go_mod.as_bytes(),
            zip: &blob,
            zip_h1: "h1:zip=",
            mod_h1: "h1:mod=",
            source: &format!("publish:{HOSTILE}"),
        })
        .await
        .expect("insert");
    assert!(matches!(inserted, agora::store::Inserted::New { .. }));
}

async fn page(app: &TestApp, path: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let resp = app.get(path).await;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.expect("text"))
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn pages_show_the_setup_the_catalog_and_escape_everything(pool: sqlx::PgPool) {
    let app = spawn_app_with(
        pg_store(pool),
        "off",
        &[("AGORA_PRIVATE", "corp.example/*")],
    )
    .await;
    let module = "example.com/Web/lib";
    let go_mod = format!(
        "// Deprecated: use example.com/web/lib2 {HOSTILE}\nmodule {module}\n\ngo 1.21\n\nretract v1.1.0 // {HOSTILE}\n"
    );
    store_version(&app, module, "v1.0.0", "module example.com/Web/lib\n").await;
    store_version(&app, module, "v1.1.0", &go_mod).await;
    store_version(&app, module, "v1.2.0", &go_mod).await;
    store_version(&app, module, "v1.3.0", &go_mod).await;
    store_version(
        &app,
        "example.com/other",
        "v0.1.0",
        "module example.com/other\n",
    )
    .await;
    let rows = app
        .store
        .admin
        .catalog(&agora::store::CatalogQuery {
            after_id: 0,
            limit: 100,
            module: Some(module),
            include_hidden: true,
        })
        .await
        .expect("catalog");
    let row = rows.iter().find(|r| r.version == "v1.2.0").expect("row");
    app.store
        .admin
        .hide_version(
            row,
            &format!("broken build {HOSTILE}"),
            "test",
            1_700_000_000,
        )
        .await
        .expect("hide");

    // The front page: setup for this server's own address, strict headers, the stylesheet.
    let (status, headers, html) = page(&app, "/").await;
    assert_eq!(status, 200);
    assert!(
        html.contains(&format!("go env -w GOPROXY={}", app.address)),
        "{html}"
    );
    assert!(
        html.contains("go env -w GONOSUMDB=corp.example/*"),
        "{html}"
    );
    assert!(html.contains("/sumdb/sum.golang.org"), "{html}");
    let csp = headers["content-security-policy"].to_str().expect("csp");
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("unsafe"),
        "{csp}"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let css = html
        .split("href=\"")
        .find_map(|s| s.strip_prefix("/ui/assets/"))
        .and_then(|s| s.split('"').next())
        .expect("stylesheet link");
    let resp = app.get(&format!("/ui/assets/{css}")).await;
    assert_eq!(resp.status().as_u16(), 200);
    assert!(
        resp.headers()["cache-control"]
            .to_str()
            .expect("cc")
            .contains("immutable")
    );
    assert_eq!(
        app.get("/ui/assets/agora.0.css").await.status().as_u16(),
        404
    );

    // Search by prefix and by substring; nothing for a stranger's text.
    for q in ["example.com/Web", "Web/li", "lib"] {
        let (status, _, html) = page(&app, &format!("/ui/search?q={q}")).await;
        assert_eq!(status, 200);
        assert!(html.contains("/ui/mod/example.com/!web/lib"), "{q}: {html}");
        assert!(!html.contains("example.com/other"), "{q}");
    }
    let (_, _, html) = page(&app, "/ui/search?q=%3Cscript%3E").await;
    assert!(
        html.contains("No stored module matches") && !html.contains("<script>"),
        "{html}"
    );

    // The module page: newest first, where each came from, retracted and hidden with reasons,
    // the deprecation, the go get line; every stored string escaped.
    let (status, _, html) = page(&app, "/ui/mod/example.com/!web/lib").await;
    assert_eq!(status, 200, "{html}");
    let order: Vec<usize> = ["v1.3.0", "v1.1.0", "v1.0.0"]
        .iter()
        .map(|v| html.find(&format!(">{v}<")).expect(v))
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{html}");
    assert!(html.contains("go get example.com/Web/lib@v1.3.0"), "{html}");
    assert!(html.contains("retracted"), "{html}");
    // A reader sees that v1.2.0 is hidden, not why.
    assert!(html.contains("hidden</span>"), "{html}");
    assert!(!html.contains("broken build"), "{html}");
    assert!(html.contains("Deprecated:"), "{html}");
    assert!(
        html.contains("<td>2024-05-06 07:08 UTC</td>"),
        "the .info's time: {html}"
    );
    assert!(!html.contains(HOSTILE), "unescaped: {html}");
    assert!(html.contains("&#60;script&#62;"), "{html}");

    // The version page: hashes, go.mod, downloads; escaped too.
    let (status, _, html) = page(&app, "/ui/mod/example.com/!web/lib/@v/v1.3.0").await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("h1:zip=") && html.contains("h1:mod="),
        "{html}"
    );
    assert!(
        html.contains("/example.com/!web/lib/@v/v1.3.0.zip"),
        "{html}"
    );
    assert!(html.contains("2024-05-06 07:08 UTC"), "{html}");
    assert!(!html.contains("Hidden"), "{html}");
    assert!(
        html.contains("<code>pkg/a.go</code>") && html.contains("<h2>LICENSE</h2>"),
        "{html}"
    );
    assert!(html.contains("Licensed &#60;script&#62;"), "{html}");
    assert!(!html.contains(HOSTILE), "unescaped: {html}");

    // A hidden version's page shows no more than the protocol's 410: that it is hidden.
    let (status, _, html) = page(&app, "/ui/mod/example.com/!web/lib/@v/v1.2.0").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("<strong>Hidden</strong>"), "{html}");
    for leak in [
        "h1:zip=",
        "h1:mod=",
        "pkg/a.go",
        "LICENSE",
        "Licensed",
        "go 1.21",
        "broken build",
        "v1.2.0.zip",
        "v1.2.0.mod",
    ] {
        assert!(!html.contains(leak), "{leak} shown: {html}");
    }

    // Operations: counters, the newest versions (the hidden one not among them) and the
    // modules most used, as the replicas' usage batches recorded them.
    let newest = rows.iter().find(|r| r.version == "v1.3.0").expect("row");
    app.store
        .admin
        .touch_usage(&[agora::store::Use {
            version_id: newest.id,
            count: 7,
            at: 1_700_000_000,
        }])
        .await
        .expect("usage");
    let (status, _, html) = page(&app, "/ui/ops").await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("Top modules by use")
            && html.contains(r#"example.com/Web/lib</a></td><td>7</td>"#),
        "{html}"
    );
    assert!(html.contains("example.com/Web/lib@v1.3.0"), "{html}");
    assert!(!html.contains("example.com/Web/lib@v1.2.0"), "{html}");

    // Bad input: a clear 4xx.
    for (path, want) in [
        ("/ui/mod/Bad..Path", 400),
        ("/ui/mod/example.com/!web/lib/@v/notaversion", 400),
        ("/ui/mod/example.com/nothing", 404),
        ("/ui/mod/example.com/!web/lib/@v/v9.9.9", 404),
    ] {
        let (status, _, body) = page(&app, path).await;
        assert_eq!(status, want, "{path}: {body}");
    }
    let long = "x".repeat(300);
    let (status, _, _) = page(&app, &format!("/ui/search?q={long}")).await;
    assert_eq!(status, 400);
    for path in [
        "/ui/search?q=%00",
        "/ui/search?q=a&after=%00x",
        "/ui/search?q=%0d%0a",
    ] {
        let (status, _, body) = page(&app, path).await;
        assert_eq!(status, 400, "{path}: {body}");
    }

    // Every answer under the pages, errors included, carries their headers and never gives
    // back a request's text as markup.
    for path in [
        "/ui/mod/%3Cscript%3Ealert(1)%3C/script%3E",
        "/ui/mod/example.com/!web/lib/@v/%3Cscript%3Ealert(1)%3C/script%3E",
        "/ui/%3Cscript%3Ealert(1)%3C/script%3E",
        "/ui/search?q=%3Cscript%3E&after=%00",
        "/ui/mod/example.com/nothing",
        "/ui/admin/hide",
    ] {
        let (status, headers, body) = page(&app, path).await;
        assert!((400..500).contains(&status), "{path}: {status}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        let csp = headers["content-security-policy"].to_str().expect("csp");
        assert!(csp.contains("default-src 'none'"), "{path}: {csp}");
        assert!(!body.contains("<script"), "{path}: {body}");
    }
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn pages_can_be_turned_off_and_follow_auth(pool: sqlx::PgPool) {
    let off = spawn_app_with(
        pg_store(pool.clone()),
        "off",
        &[("AGORA_UI__ENABLED", "false")],
    )
    .await;
    let (status, _, _) = page(&off, "/").await;
    assert_eq!(status, 404);
    let (status, _, _) = page(&off, "/ui/search").await;
    assert_eq!(status, 404);

    let locked = spawn_app_with(pg_store(pool), "off", &[("AGORA_AUTH__ENABLED", "true")]).await;
    for path in ["/", "/ui/search?q=a"] {
        let (status, _, _) = page(&locked, path).await;
        assert_eq!(status, 401, "{path}");
    }
    let token = locked.token("reader", "read").await;
    let (status, body) = locked.fetch_as("/", &token).await;
    assert_eq!(status, 200);
    let html = String::from_utf8_lossy(&body);
    assert!(
        html.contains("~/.netrc") && html.contains("password YOUR-TOKEN"),
        "{html}"
    );
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn admin_forms_refuse_forgeries(pool: sqlx::PgPool) {
    let app = spawn_app_with(pg_store(pool), "off", &[]).await;
    store_version(
        &app,
        "example.com/forge",
        "v1.0.0",
        "module example.com/forge\n",
    )
    .await;
    let admin = app.token("root", "admin").await;
    let reader = app.token("reader", "read").await;
    let client = no_redirects();
    let (session, csrf) = sign_in(&app, &admin).await;
    let csrf = csrf.expect("an administrator's console has forms");
    let (reader_session, _) = sign_in(&app, &reader).await;
    let post = |path: &str, cookie: Option<&str>, origin: Option<&str>, body: String| {
        let mut req = client
            .post(format!("{}{path}", app.address))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(c) = cookie {
            req = req.header("cookie", format!("agora_session={c}"));
        }
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        async move { req.send().await.expect("post").status().as_u16() }
    };
    let form = |csrf: &str, confirm: &str| {
        format!("csrf={csrf}&module=example.com%2Fforge&version=v1.0.0&reason=r&confirm={confirm}")
    };
    // No session, a reader's session, a forged form token, another origin, no confirmation.
    assert_eq!(
        post("/ui/admin/hide", None, None, form(&csrf, "yes")).await,
        401
    );
    assert_eq!(
        post(
            "/ui/admin/hide",
            Some(&reader_session),
            None,
            form(&csrf, "yes")
        )
        .await,
        403
    );
    assert_eq!(
        post("/ui/admin/hide", Some(&session), None, form("0000", "yes")).await,
        403
    );
    let evil = Some("https://evil.example");
    assert_eq!(
        post("/ui/admin/hide", Some(&session), evil, form(&csrf, "yes")).await,
        403
    );
    assert_eq!(
        post("/ui/login", None, evil, format!("token={admin}")).await,
        403
    );
    assert_eq!(
        post("/ui/admin/hide", Some(&session), None, form(&csrf, "")).await,
        400
    );
    // The token's secret as the cookie is no session.
    assert_eq!(
        post("/ui/admin/hide", Some(&admin), None, form(&csrf, "yes")).await,
        401
    );
    let (status, _) = app.fetch("/example.com/forge/@v/v1.0.0.info").await;
    assert_eq!(status, 200, "nothing was hidden");
    // The real thing, from this origin.
    let own = Some(app.address.as_str());
    assert_eq!(
        post("/ui/admin/hide", Some(&session), own, form(&csrf, "yes")).await,
        303
    );
    let (status, _) = app.fetch("/example.com/forge/@v/v1.0.0.info").await;
    assert_eq!(status, 410);
    // A published version is never expired: nothing could fetch it again.
    assert_eq!(
        post("/ui/admin/expire", Some(&session), own, form(&csrf, "yes")).await,
        403
    );
    // Signing in sets a cookie only the pages see: HttpOnly, SameSite=Strict.
    let resp = client
        .post(format!("{}/ui/login", app.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={admin}"))
        .send()
        .await
        .expect("login");
    assert_eq!(resp.status().as_u16(), 303);
    let cookie = resp.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(
        !cookie.contains(&admin),
        "the cookie holds the token: {cookie}"
    );
    let resp = client
        .post(format!("{}/ui/login", app.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("token=agora_nope")
        .send()
        .await
        .expect("login");
    assert_eq!(resp.status().as_u16(), 401);
    // The session cookie is no token for the protocol or the API.
    let resp = client
        .get(format!("{}/admin/versions", app.address))
        .header("cookie", format!("agora_session={session}"))
        .send()
        .await
        .expect("api");
    assert_eq!(resp.status().as_u16(), 401);
}

/// A client that shows redirects instead of following them.
pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// Signs in with `token` on `/ui/login`: the session cookie's value and, for an administrator,
/// the form token its console carries.
pub async fn sign_in(app: &TestApp, token: &str) -> (String, Option<String>) {
    let client = no_redirects();
    let resp = client
        .post(format!("{}/ui/login", app.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={token}"))
        .send()
        .await
        .expect("login");
    assert_eq!(resp.status().as_u16(), 303, "sign-in refused");
    let set = resp.headers()["set-cookie"].to_str().expect("cookie");
    let session = set
        .strip_prefix("agora_session=")
        .and_then(|s| s.split(';').next())
        .expect("session cookie")
        .to_string();
    let (_, csrf) = console(app, &session).await;
    (session, csrf)
}

/// `/ui/admin` with a session cookie: its status and the form token it carries, if any.
pub async fn console(app: &TestApp, session: &str) -> (u16, Option<String>) {
    let resp = no_redirects()
        .get(format!("{}/ui/admin", app.address))
        .header("cookie", format!("agora_session={session}"))
        .send()
        .await
        .expect("console");
    let status = resp.status().as_u16();
    let html = resp.text().await.expect("html");
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .map(str::to_string);
    (status, csrf)
}
