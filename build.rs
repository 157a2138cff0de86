//! Embeds the commit for `/version`, and rebuilds when migrations change (they are embedded).
//!
//! The commit is `AGORA_BUILD_COMMIT` when set (the image's build argument: a Docker build
//! context has no `.git`), else what git says, else "unknown".
use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    Command::new("git")
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
}

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-env-changed=AGORA_BUILD_COMMIT");
    let commit = std::env::var("AGORA_BUILD_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(|| {
            // Watch HEAD and the branch it names (also in a worktree, where .git is a file),
            // but only files that exist: cargo reruns a build script on every build while a
            // watched path is missing.
            let mut watch = vec!["HEAD".to_string(), "packed-refs".to_string()];
            watch.extend(git(&["symbolic-ref", "-q", "HEAD"]));
            for name in watch {
                if let Some(path) = git(&["rev-parse", "--git-path", &name])
                    && Path::new(&path).is_file()
                {
                    println!("cargo:rerun-if-changed={path}");
                }
            }
            git(&["rev-parse", "--short=12", "HEAD"])
        });
    println!(
        "cargo:rustc-env=AGORA_BUILD_COMMIT={}",
        commit.unwrap_or_else(|| "unknown".into())
    );
}
