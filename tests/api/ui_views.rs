//! Version pages of big zips cost bounded disk and memory: twenty concurrent views of a 100 MiB
//! zip's page and of a 300,000-file zip's page, against a real `agora serve` process whose peak
//! RSS (VmHWM) and temporary files are measured while they run.

use std::io::Write;
use std::path::Path;

use crate::helpers::{database_url, pg_store, start_replica_with};
use agora::store::{BlobRef, NewVersion, Stores};
use gomod::module::ModulePath;
use gomod::version::Version;

const VIEWS: usize = 20;
const BIG_BYTES: usize = 100 << 20;
const MANY_FILES: usize = 300_000;

/// Writes a module zip of `module@v1.0.0` with `files` to `path`.
fn write_zip(path: &Path, module: &str, files: impl Iterator<Item = (String, Vec<u8>)>) {
    let file = std::fs::File::create(path).expect("create");
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
    let stored = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(false);
    for (name, body) in files {
        zip.start_file(format!("{module}@v1.0.0/{name}"), stored)
            .expect("entry");
        zip.write_all(&body).expect("write");
    }
    zip.finish().expect("finish");
}

async fn store(stores: &Stores, module: &str, zip: &Path) -> u64 {
    let data = std::fs::File::open(zip).expect("open");
    let size = data.metadata().expect("meta").len();
    let blob = BlobRef {
        sha256: hex::encode(
            gomod::dirhash::sha256_reader(std::io::BufReader::new(data)).expect("sha"),
        ),
        size,
    };
    stores.blobs.put(&blob, zip).await.expect("put");
    let go_mod = format!("module {module}\n");
    stores
        .versions
        .insert_version(&NewVersion {
            module: &ModulePath::parse(module).expect("module"),
            version: &Version::parse("v1.0.0").expect("version"),
            info: br#"{"Version":"v1.0.0","Time":"2024-05-06T07:08:09Z"}"#,
            go_mod: go_mod.as_bytes(),
            zip: &blob,
            zip_h1: "h1:zip=",
            mod_h1: "h1:mod=",
            source: "publish:test",
        })
        .await
        .expect("insert");
    size
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn peak_rss_mib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kib| kib / 1024)
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn big_zips_pages_cost_bounded_disk_and_memory(pool: sqlx::PgPool) {
    let work = tempfile::tempdir().expect("tmp");
    let stores = pg_store(pool.clone());
    // A 100 MiB zip whose bytes do not compress, with a LICENSE.
    let big = work.path().join("big.zip");
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let noise: Vec<u8> = (0..BIG_BYTES)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    write_zip(
        &big,
        "example.com/big",
        [
            ("LICENSE".to_string(), b"Big License\n".to_vec()),
            ("blob.bin".to_string(), noise),
        ]
        .into_iter(),
    );
    let big_size = store(&stores, "example.com/big", &big).await;
    // 300,000 small files.
    let many = work.path().join("many.zip");
    write_zip(
        &many,
        "example.com/many",
        (0..MANY_FILES).map(|i| (format!("d/{i}.go"), b"package d\n".to_vec())),
    );
    store(&stores, "example.com/many", &many).await;
    drop(stores);

    let data = work.path().join("data");
    let replica = start_replica_with(
        &database_url(&pool),
        "off",
        &data,
        &[("AGORA_CACHE__DISK_BYTES", "0")],
    );
    let pid = replica.child.id();
    let client = reqwest::Client::new();
    let baseline = peak_rss_mib(pid);
    for (module, want) in [
        ("example.com/big", "Big License"),
        ("example.com/many", "300000 files"),
    ] {
        let url = format!("{}/ui/mod/{module}/@v/v1.0.0", replica.address);
        let tmp = data.join("tmp");
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let sampler = std::thread::spawn({
            let stop = stop.clone();
            move || {
                let mut most = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    most = most.max(dir_bytes(&tmp));
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                most
            }
        });
        let views = (0..VIEWS).map(|_| {
            let req = client.get(&url).send();
            async move {
                let resp = req.await.expect("view");
                (resp.status().as_u16(), resp.text().await.expect("html"))
            }
        });
        let answers = futures::future::join_all(views).await;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let most_disk = sampler.join().expect("sampler");
        for (status, html) in &answers {
            assert_eq!(*status, 200, "{module}: {html:.300}");
            assert!(html.contains(want), "{module}: {html:.2000}");
        }
        let rss = peak_rss_mib(pid);
        eprintln!(
            "{module}: {VIEWS} concurrent views: temporary files at most {} MiB, peak RSS {rss} MiB (at start {baseline} MiB)",
            most_disk >> 20
        );
        assert!(
            most_disk <= big_size * agora::ui::zipview::MAX_LISTING as u64,
            "{module}: {most_disk} bytes of temporary files"
        );
        assert!(rss < 300, "{module}: peak RSS {rss} MiB");
    }
}
