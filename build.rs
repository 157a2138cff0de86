//! Embeds the commit for `/version`, and rebuilds when migrations change (they are embedded).
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-env-changed=AGORA_BUILD_COMMIT");
    let commit = std::env::var("AGORA_BUILD_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(|| {
            Command::new("git")
                .args(["rev-parse", "--short=12", "HEAD"])
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        });
    println!(
        "cargo:rustc-env=AGORA_BUILD_COMMIT={}",
        commit.unwrap_or_else(|| "unknown".into())
    );
}
