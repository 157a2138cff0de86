#![allow(clippy::unwrap_used)]
use super::*;

#[test]
fn version_constraints() {
    let cases: &[(&str, &str, bool)] = &[
        (">= v1.2.0, < v2.0.0", "v1.2.0", true),
        (">= v1.2.0, < v2.0.0", "v1.9.9", true),
        (">= v1.2.0, < v2.0.0", "v2.0.0", false),
        (">= v1.2.0, < v2.0.0", "v1.1.9", false),
        (">= v1.2.0, < v2.0.0", "v2.0.0-rc.1", true),
        ("v1.0.0", "v1.0.0", true),
        ("v1.0.0", "v1.0.1", false),
        ("= v1.0.0", "v1.0.0", true),
        ("!= v1.0.0", "v1.0.0", false),
        ("!= v1.0.0", "v1.0.1", true),
        ("> v1.0.0", "v1.0.0", false),
        ("<= v1.0.0", "v1.0.0", true),
        ("< v1.0.0", "v0.0.0-20240304050607-abcdefabcdef", true),
        ("< v2.0.0", "v2.0.0+incompatible", false),
        (">= v2.0.0", "v2.1.0+incompatible", true),
    ];
    for (spec, v, want) in cases {
        let c = Versions::parse(spec).unwrap();
        assert_eq!(c.matches(v), *want, "{spec} vs {v}");
    }
    let list = Versions::parse_list(&["v1.0.0".into(), ">= v1.5.0, < v1.6.0".into()]).unwrap();
    for (v, want) in [
        ("v1.0.0", true),
        ("v1.5.3", true),
        ("v1.4.0", false),
        ("v1.6.0", false),
    ] {
        assert_eq!(list.matches(v), want, "list vs {v}");
    }
    for bad in [
        "",
        ">= 1.2.0",
        "v1.2.x",
        ">=",
        "v1.0.0,",
        "~> v1.0.0",
        "latest",
    ] {
        assert!(Versions::parse(bad).is_err(), "{bad:?} accepted");
    }
    assert!(Versions::parse_list(&[]).is_err());
}

const EXAMPLE: &str = r#"
[upstreams]
corp = "https://goproxy.corp.example/"

[default]
mode = "sync"

[[rule]]
pattern = "github.com/evil/*"
action = "deny"
reason = "licence not approved (see go/licences)"

[[rule]]
pattern = "github.com/acme/lib"
versions = ">= v1.3.0, < v1.4.0"
action = "deny"
reason = "v1.3.x leaks credentials; use v1.4.0"

[[rule]]
pattern = "corp.example.com"
action = "direct"

[[rule]]
pattern = "github.com/huge/*"
mode = "async"

[[rule]]
pattern = "golang.org/x"
mode = "redirect"
upstream = "corp"

[[rule]]
pattern = "github.com/frozen/*"
mode = "none"

[[rule]]
pattern = "github.com/evil/ok"
action = "allow"
"#;

#[test]
fn precedence_table() {
    let rules = Rules::parse(EXAMPLE).unwrap();
    use Action::*;
    let corp = Mode::Redirect("https://goproxy.corp.example".into());
    type Case<'a> = (&'a str, Option<&'a str>, Action, Mode, Option<usize>);
    let cases: &[Case<'_>] = &[
        // First match wins: the later allow of github.com/evil/ok never applies.
        ("github.com/evil/ok", None, Deny, Mode::Sync, Some(0)),
        (
            "github.com/evil/x/sub",
            Some("v1.0.0"),
            Deny,
            Mode::Sync,
            Some(0),
        ),
        // A glob element matches one path element only, as GOPRIVATE does.
        ("github.com/evilcorp/x", None, Allow, Mode::Sync, None),
        // Versioned rules need a version.
        (
            "github.com/acme/lib",
            Some("v1.3.2"),
            Deny,
            Mode::Sync,
            Some(1),
        ),
        (
            "github.com/acme/lib",
            Some("v1.4.0"),
            Allow,
            Mode::Sync,
            None,
        ),
        ("github.com/acme/lib", None, Allow, Mode::Sync, None),
        // Prefix semantics: subpackages and major versions of a matched path match.
        (
            "corp.example.com/team/m/v2",
            Some("v2.0.0"),
            Direct,
            Mode::Sync,
            Some(2),
        ),
        ("corp.example.com", None, Direct, Mode::Sync, Some(2)),
        ("corp.example.community", None, Allow, Mode::Sync, None),
        (
            "github.com/huge/repo",
            Some("v1.0.0"),
            Allow,
            Mode::Async,
            Some(3),
        ),
        (
            "golang.org/x/text",
            Some("v0.3.0"),
            Allow,
            corp.clone(),
            Some(4),
        ),
        ("github.com/frozen/a", None, Allow, Mode::None, Some(5)),
        ("example.com/other", Some("v1.0.0"), Allow, Mode::Sync, None),
    ];
    for (module, version, action, mode, rule) in cases {
        let d = rules.decide(module, *version);
        assert_eq!(
            (d.action, &d.mode, d.rule),
            (*action, mode, *rule),
            "{module}@{version:?}"
        );
    }
    assert_eq!(
        rules.decide("github.com/acme/lib", Some("v1.3.0")).reason,
        "v1.3.x leaks credentials; use v1.4.0"
    );
    assert!(rules.uses_direct());
    assert!(!Rules::default().uses_direct());
}

#[test]
fn default_section() {
    let rules = Rules::parse(
        r#"
[default]
action = "deny"
reason = "not on the allowlist"

[[rule]]
pattern = "github.com/good/*"
"#,
    )
    .unwrap();
    let d = rules.decide("github.com/bad/x", Some("v1.0.0"));
    assert_eq!(
        (d.action, d.reason.as_str()),
        (Action::Deny, "not on the allowlist")
    );
    let d = rules.decide("github.com/good/x", Some("v1.0.0"));
    assert_eq!((d.action, d.mode), (Action::Allow, Mode::Sync));
    // An allowlist of versions: the module itself is listable, other versions are denied.
    let rules = Rules::parse(
        r#"
[default]
action = "deny"

[[rule]]
pattern = "github.com/pinned/m"
versions = ["v1.0.0", "v1.1.0"]
mode = "none"
"#,
    )
    .unwrap();
    let d = rules.decide("github.com/pinned/m", None);
    assert_eq!(
        (d.action, d.mode, d.rule),
        (Action::Allow, Mode::None, Some(0))
    );
    assert_eq!(
        rules.decide("github.com/pinned/m", Some("v1.1.0")).action,
        Action::Allow
    );
    assert_eq!(
        rules.decide("github.com/pinned/m", Some("v1.2.0")).action,
        Action::Deny
    );
    assert_eq!(
        rules.decide("github.com/other/m", None).action,
        Action::Deny
    );
    let none = Rules::parse("").unwrap();
    assert_eq!(none, Rules::default());
}

#[test]
fn invalid_files_are_refused_with_a_reason() {
    let cases: &[(&str, &str)] = &[
        (
            "[[rule]]\npattern = \"a\"\naction = \"block\"\n",
            "invalid rules file",
        ),
        ("[[rule]]\npattern = \"a\"\nfoo = 1\n", "unknown field"),
        ("[[rule]]\naction = \"deny\"\n", "missing field `pattern`"),
        ("[[rule]]\npattern = \"\"\n", "pattern is empty"),
        ("[[rule]]\npattern = \"a/[b\"\n", "not a valid glob"),
        (
            "[[rule]]\npattern = \"a\"\nversions = \"1.0\"\n",
            "semantic version",
        ),
        (
            "[[rule]]\npattern = \"a\"\nmode = \"redirect\"\n",
            "needs upstream",
        ),
        (
            "[[rule]]\npattern = \"a\"\nmode = \"redirect\"\nupstream = \"x\"\n",
            "not named in [upstreams]",
        ),
        (
            "[[rule]]\npattern = \"a\"\nupstream = \"x\"\n",
            "only for mode",
        ),
        (
            "[[rule]]\npattern = \"a\"\naction = \"deny\"\nmode = \"async\"\n",
            "no meaning for action",
        ),
        (
            "[[rule]]\npattern = \"a\"\naction = \"deny\"\nreason = \"two\\nlines\"\n",
            "one line",
        ),
        (
            "[[rule]]\npattern = \"a\"\nreason = \"why\"\n",
            "only for action",
        ),
        ("[upstreams]\nx = \"ftp://a\"\n", "http or https"),
        ("[upstreams]\nx = \"not a url\"\n", "upstreams.x"),
        (
            "[upstreams]\nx = \"https://u:hunter2@a\"\n",
            "must not carry credentials",
        ),
        (
            "[upstreams]\nx = \"https://a\"\n[[rule]]\npattern = \"a\"\naction = \"direct\"\nmode = \"redirect\"\nupstream = \"x\"\n",
            "cannot redirect",
        ),
        ("[default]\nmode = \"later\"\n", "invalid rules file"),
        (
            "[[rule]]\npattern = \"a\"\n[[rule]]\npattern = \"b\"\nversions = []\n",
            "rule 2",
        ),
    ];
    for (text, want) in cases {
        let err = Rules::parse(text)
            .err()
            .unwrap_or_else(|| panic!("accepted: {text}"));
        assert!(err.0.contains(want), "{text:?}: {err}");
        assert!(!err.0.contains('\n'), "{err}");
        assert!(!err.0.contains("hunter2"), "{err}");
    }
}

#[test]
fn may_deny_never_misses_a_denial() {
    let rules = Rules::parse(EXAMPLE).unwrap();
    let versions = [
        None,
        Some("v1.0.0"),
        Some("v1.5.3"),
        Some("v2.0.0"),
        Some("v0.0.0-20240304050607-abcdefabcdef"),
    ];
    let table = [
        ("github.com/evil/x", true),
        ("github.com/acme/lib", true),
        ("github.com/acme/other", false),
        ("corp.example.com/a", false),
        ("golang.org/x/mod", false),
        ("example.com/anything", false),
    ];
    for (module, want) in table {
        assert_eq!(rules.may_deny(module), want, "{module}");
        if !want {
            for v in versions {
                assert_ne!(
                    rules.decide(module, v).action,
                    Action::Deny,
                    "{module} {v:?}"
                );
            }
        }
    }
    let closed = Rules::parse("[default]\naction = \"deny\"\n").unwrap();
    assert!(closed.may_deny("example.com/anything"));
}
