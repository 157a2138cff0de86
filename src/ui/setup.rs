//! What a new user runs to use this server: `go env -w` lines for its own URL.

/// What the setup depends on.
pub struct Setup<'a> {
    /// This server as the client reached it, `https://goproxy.example.com`.
    pub base: &'a str,
    /// The `private` patterns: the checksum database does not know them.
    pub private: &'a str,
    /// The checksum databases proxied under `/sumdb/<name>/`.
    pub sumdb_names: &'a str,
}

/// The lines to run, one per setting.
pub fn setup_text(s: &Setup<'_>) -> String {
    let mut lines = vec![format!("go env -w GOPROXY={}", s.base)];
    if let Some(first) = s
        .sumdb_names
        .split(',')
        .map(str::trim)
        .find(|n| !n.is_empty())
    {
        lines.push(format!(
            "go env -w GOSUMDB=\"{first} {}/sumdb/{first}\"",
            s.base
        ));
    }
    let private = s.private.trim();
    if !private.is_empty() {
        // GONOSUMDB, not GOPRIVATE: GOPRIVATE would also send these modules around the proxy.
        lines.push(format!("go env -w GONOSUMDB={private}"));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_lines() {
        let table = [
            (
                ("https://p.example", "", ""),
                "go env -w GOPROXY=https://p.example",
            ),
            (
                ("https://p.example", "", "sum.golang.org"),
                "go env -w GOPROXY=https://p.example\n\
                 go env -w GOSUMDB=\"sum.golang.org https://p.example/sumdb/sum.golang.org\"",
            ),
            (
                (
                    "http://10.0.0.1:3000",
                    " corp.example/* ",
                    " , sum.golang.org,other",
                ),
                "go env -w GOPROXY=http://10.0.0.1:3000\n\
                 go env -w GOSUMDB=\"sum.golang.org http://10.0.0.1:3000/sumdb/sum.golang.org\"\n\
                 go env -w GONOSUMDB=corp.example/*",
            ),
        ];
        for ((base, private, sumdb_names), want) in table {
            let got = setup_text(&Setup {
                base,
                private,
                sumdb_names,
            });
            assert_eq!(got, want, "{base} {private:?} {sumdb_names:?}");
        }
    }
}
