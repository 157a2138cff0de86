#![allow(clippy::unwrap_used)]
use super::*;

fn env(pairs: &[(&str, &str)]) -> config::Map<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn layering() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("agora.toml");
    std::fs::write(
        &file,
        "listen = \"0.0.0.0:9000\"\nupstream = \"http://a.example\"\n[fetch]\nlock_wait_secs = 5\n",
    )
    .unwrap();

    struct Case {
        name: &'static str,
        file: bool,
        env: &'static [(&'static str, &'static str)],
        listen: &'static str,
        upstream: &'static str,
        lock_wait: u64,
    }
    let cases = [
        Case {
            name: "defaults",
            file: false,
            env: &[],
            listen: "127.0.0.1:3000",
            upstream: "https://proxy.golang.org",
            lock_wait: 120,
        },
        Case {
            name: "file over defaults",
            file: true,
            env: &[],
            listen: "0.0.0.0:9000",
            upstream: "http://a.example",
            lock_wait: 5,
        },
        Case {
            name: "env over file",
            file: true,
            env: &[
                ("AGORA_LISTEN", "[::1]:1"),
                ("AGORA_FETCH__LOCK_WAIT_SECS", "7"),
            ],
            listen: "[::1]:1",
            upstream: "http://a.example",
            lock_wait: 7,
        },
        Case {
            name: "env alone",
            file: false,
            env: &[("AGORA_UPSTREAM", "http://b.example|http://c.example,off")],
            listen: "127.0.0.1:3000",
            upstream: "http://b.example|http://c.example,off",
            lock_wait: 120,
        },
    ];
    for c in cases {
        let s = Settings::load_from(Sources {
            file: c.file.then_some(file.as_path()),
            env: Some(env(c.env)),
        })
        .unwrap_or_else(|e| panic!("{}: {e}", c.name));
        assert_eq!(s.listen, c.listen, "{}", c.name);
        assert_eq!(s.upstream.to_string(), c.upstream, "{}", c.name);
        assert_eq!(s.fetch.lock_wait_secs, c.lock_wait, "{}", c.name);
    }
}

#[test]
fn publish_patterns_default_to_the_private_ones() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[], ""),
        (&[("AGORA_PRIVATE", "corp.example/*")], "corp.example/*"),
        (
            &[
                ("AGORA_PRIVATE", "corp.example/*"),
                ("AGORA_ADMIN__PUBLISH_PATTERNS", "pub.example/*"),
            ],
            "pub.example/*",
        ),
    ];
    for (vars, want) in cases {
        let s = Settings::load_from(Sources {
            file: None,
            env: Some(env(vars)),
        })
        .unwrap();
        assert_eq!(s.publish_patterns(), *want, "{vars:?}");
    }
}

#[test]
fn refusals() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("AGORA_DIRECT__ALLOWED_CIDRS", "10.0.0.0/40")],
            "allowed_cidrs",
        ),
        (&[("AGORA_UPSTREAM", "")], "no upstream"),
        (
            &[("AGORA_DATABASE_URL", "mysql://x")],
            "postgres:// or sqlite://",
        ),
        (&[("AGORA_FETCH__LOCK_WAIT_SECS", "soon")], "lock_wait_secs"),
        (&[("AGORA_OTEL__PROTOCOL", "http/json")], "http/json"),
    ];
    for (vars, want) in cases {
        let err = Settings::load_from(Sources {
            file: None,
            env: Some(env(vars)),
        })
        .err()
        .unwrap_or_else(|| panic!("{vars:?} was accepted"));
        assert!(err.to_string().contains(want), "{vars:?}: {err}");
    }
}

#[test]
fn secrets_are_not_printed() {
    let s = Settings::load_from(Sources {
        file: None,
        env: Some(env(&[
            ("AGORA_DATABASE_URL", "postgres://u:hunter2@db/agora"),
            ("AGORA_UPSTREAM", "https://u:hunter3@proxy.example"),
            (
                "AGORA_SUMDB__UPSTREAM",
                "sum.golang.org=https://u:hunter4@sum.example",
            ),
            ("AGORA_POLICY__HOOK_URL", "https://u:hunter5@hook.example"),
        ])),
    })
    .unwrap();
    let shown = format!("{s:?}");
    for secret in ["hunter2", "hunter3", "hunter4", "hunter5"] {
        assert!(!shown.contains(secret), "{secret} printed");
    }
    let refused = Settings::load_from(Sources {
        file: None,
        env: Some(env(&[("AGORA_UPSTREAM", "ftp://u:hunter6@proxy.example")])),
    })
    .err()
    .unwrap();
    assert!(!refused.to_string().contains("hunter6"), "{refused}");
    assert_eq!(s.database_kind().unwrap(), DatabaseKind::Postgres);
}
