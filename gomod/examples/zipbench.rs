//! Benchmark helper for `bench/hash_bench.sh`.
//!
//! `zipbench make <dir> <zip>`: writes a module tree of ~100 MiB of pseudo-random (incompressible)
//! data in several files under `<dir>` and zips it with `create_from_dir` into `<zip>`.
//! `zipbench hash <zip>` / `zipbench check <zip>`: times `hash_zip` / `check_zip` and prints MiB/s.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::Path;
use std::time::Instant;

const MODULE: &str = "example.com/bench";
const VERSION: &str = "v1.0.0";

fn make(dir: &Path, zip_path: &Path) {
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(dir.join("go.mod"), "module example.com/bench\n\ngo 1.22\n").unwrap();
    // xorshift64*: fast, deterministic, incompressible enough for deflate.
    let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut buf = vec![0u8; 1 << 20];
    for f in 0..10 {
        let mut out = std::io::BufWriter::new(
            std::fs::File::create(dir.join(format!("data/blob{f:02}.bin"))).unwrap(),
        );
        for _ in 0..10 {
            for chunk in buf.chunks_mut(8) {
                s ^= s >> 12;
                s ^= s << 25;
                s ^= s >> 27;
                chunk.copy_from_slice(&s.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
            }
            out.write_all(&buf).unwrap();
        }
    }
    let t = Instant::now();
    let f = std::io::BufWriter::new(std::fs::File::create(zip_path).unwrap());
    let c = gomod::zip::create_from_dir(f, MODULE, VERSION, dir).unwrap();
    let secs = t.elapsed().as_secs_f64();
    println!(
        "create_from_dir: {} files, {:.1} MiB in {:.2}s = {:.0} MiB/s, {}",
        c.file_count(),
        c.size as f64 / 1048576.0,
        secs,
        c.size as f64 / 1048576.0 / secs,
        c.h1
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("make") => make(Path::new(&args[2]), Path::new(&args[3])),
        Some(mode @ ("hash" | "check")) => {
            let p = Path::new(&args[2]);
            let len = std::fs::metadata(p).unwrap().len() as f64 / 1048576.0;
            let t = Instant::now();
            let h1 = if mode == "hash" {
                gomod::dirhash::hash_zip(p).unwrap()
            } else {
                gomod::zip::check_zip(p, MODULE, VERSION).unwrap().h1
            };
            let secs = t.elapsed().as_secs_f64();
            println!(
                "{mode}: {len:.1} MiB in {secs:.3}s = {:.0} MiB/s, {h1}",
                len / secs
            );
        }
        _ => {
            eprintln!("usage: zipbench make <dir> <zip> | hash <zip> | check <zip>");
            std::process::exit(2);
        }
    }
}
