//! What a stored zip holds, for the version page: its first files with their sizes, how many
//! there are, and the module's LICENSE as text.
//!
//! A listing is made once per zip and replica and kept (a stored zip never changes): the zip is
//! copied to a temporary file in bounded pieces, its central directory walked one record at a
//! time (only the first [`MAX_FILES`] names are kept, however many it has) and the LICENSE
//! inflated up to [`MAX_LICENSE`] bytes. At most [`MAX_LISTING`] listings are made at once per
//! replica, one per zip: views of a zip being listed wait for that listing, so twenty views of
//! a new 100 MiB zip copy it once, not twenty times.

use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio::io::AsyncWriteExt;

use crate::error::Error;
use crate::store::{BlobRef, BlobStore};

/// Files listed at most, and LICENSE bytes shown at most.
pub const MAX_FILES: usize = 2000;
pub const MAX_LICENSE: u64 = 64 << 10;
/// Listings made at once per replica (each holds one temporary copy of a zip).
pub const MAX_LISTING: usize = 2;
/// Longest wait for a turn to list a zip before the view is refused (503).
const LISTING_WAIT: Duration = Duration::from_secs(60);
/// Bytes of listings kept per replica.
const CACHE_BYTES: u64 = 16 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contents {
    /// (path inside the module, uncompressed size), in zip order.
    pub files: Vec<(String, u64)>,
    pub total: u64,
    pub license: Option<String>,
}

/// Listings of stored zips: made on first view, bounded in concurrency, kept by content address.
pub struct ZipViews {
    temp_dir: PathBuf,
    cache: moka::future::Cache<String, Arc<Contents>>,
    turns: tokio::sync::Semaphore,
}

impl ZipViews {
    pub fn new(temp_dir: PathBuf) -> Self {
        Self {
            temp_dir,
            cache: moka::future::Cache::builder()
                .max_capacity(CACHE_BYTES)
                .weigher(|k: &String, c: &Arc<Contents>| {
                    let names: usize = c.files.iter().map(|(n, _)| n.len() + 32).sum();
                    let license = c.license.as_ref().map_or(0, String::len);
                    (k.len() + names + license + 64)
                        .try_into()
                        .unwrap_or(u32::MAX)
                })
                .build(),
            turns: tokio::sync::Semaphore::new(MAX_LISTING),
        }
    }

    /// The listing of `blob`, whose entries start with `prefix` (`module@version/`).
    pub async fn contents(
        &self,
        blobs: &dyn BlobStore,
        blob: &BlobRef,
        prefix: &str,
    ) -> Result<Arc<Contents>, Error> {
        // One listing per zip at a time: the cache runs a key's init once, others wait for it.
        self.cache
            .try_get_with(blob.sha256.clone(), async {
                let _turn = tokio::time::timeout(LISTING_WAIT, self.turns.acquire())
                    .await
                    .map_err(|_| Error::Busy {
                        reason: "too many zips being listed for their pages: try again".into(),
                    })?
                    .map_err(|_| Error::internal(anyhow::anyhow!("listing turns closed")))?;
                list(blobs, blob, prefix, &self.temp_dir)
                    .await
                    .map(Arc::new)
            })
            .await
            .map_err(|e: Arc<Error>| (*e).clone())
    }
}

async fn list(
    blobs: &dyn BlobStore,
    blob: &BlobRef,
    prefix: &str,
    temp_dir: &Path,
) -> Result<Contents, Error> {
    let io = |e: std::io::Error| Error::internal(anyhow::anyhow!("reading the zip: {e}"));
    let tmp = tempfile::NamedTempFile::new_in(temp_dir).map_err(io)?;
    let mut out = tokio::fs::File::create(tmp.path()).await.map_err(io)?;
    let mut body = blobs.open(blob).await?.into_stream();
    while let Some(piece) = body.next().await {
        out.write_all(&piece?).await.map_err(io)?;
    }
    out.flush().await.map_err(io)?;
    drop(out);
    let prefix = prefix.to_string();
    let path = tmp.path().to_path_buf();
    let read = tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&path)?;
        read_contents(file, &prefix)
    })
    .await
    .map_err(|e| Error::internal(anyhow::anyhow!("reading the zip: {e}")))?;
    drop(tmp);
    read.map_err(|e| Error::internal(anyhow::anyhow!("reading the stored zip: {e}")))
}

fn bad(why: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, why.to_string())
}

fn u16_at(b: &[u8], i: usize) -> u64 {
    u64::from(u16::from_le_bytes([b[i], b[i + 1]]))
}

fn u32_at(b: &[u8], i: usize) -> u64 {
    u64::from(u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]))
}

fn u64_at(b: &[u8], i: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[i..i + 8]);
    u64::from_le_bytes(x)
}

/// Where the central directory is and how many records it has.
fn directory<R: Read + Seek>(r: &mut R) -> std::io::Result<(u64, u64)> {
    const EOCD: [u8; 4] = [0x50, 0x4b, 0x05, 0x06];
    let len = r.seek(SeekFrom::End(0))?;
    let tail_len = len.min(22 + 0xffff);
    r.seek(SeekFrom::Start(len - tail_len))?;
    let mut tail = vec![0u8; tail_len as usize];
    r.read_exact(&mut tail)?;
    let at = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| tail[i..i + 4] == EOCD)
        .ok_or_else(|| bad("no end of central directory"))?;
    let (mut count, mut offset) = (u16_at(&tail, at + 10), u32_at(&tail, at + 16));
    if count == 0xffff || offset == 0xffff_ffff {
        // Zip64: the locator sits just before the end record and points at the zip64 end record.
        let locator = at
            .checked_sub(20)
            .filter(|&l| tail[l..l + 4] == [0x50, 0x4b, 0x06, 0x07])
            .ok_or_else(|| bad("no zip64 locator"))?;
        r.seek(SeekFrom::Start(u64_at(&tail, locator + 8)))?;
        let mut end = [0u8; 56];
        r.read_exact(&mut end)?;
        if end[..4] != [0x50, 0x4b, 0x06, 0x06] {
            return Err(bad("no zip64 end of central directory"));
        }
        count = u64_at(&end, 32);
        offset = u64_at(&end, 48);
    }
    Ok((offset, count))
}

/// Where a LICENSE's data is and how it is stored.
struct Entry {
    method: u64,
    compressed: u64,
    local_offset: u64,
}

/// Walks the central directory one record at a time, keeping the first names only.
pub fn read_contents<R: Read + Seek>(mut r: R, prefix: &str) -> std::io::Result<Contents> {
    let (offset, count) = directory(&mut r)?;
    r.seek(SeekFrom::Start(offset))?;
    let mut dir = BufReader::new(&mut r);
    let mut files = Vec::new();
    let mut license = None;
    let mut header = [0u8; 46];
    let mut name = Vec::new();
    let mut extra = Vec::new();
    for _ in 0..count {
        dir.read_exact(&mut header)?;
        if header[..4] != [0x50, 0x4b, 0x01, 0x02] {
            return Err(bad("bad central directory record"));
        }
        let method = u16_at(&header, 10);
        let mut compressed = u32_at(&header, 20);
        let mut size = u32_at(&header, 24);
        let mut local_offset = u32_at(&header, 42);
        name.resize(u16_at(&header, 28) as usize, 0);
        dir.read_exact(&mut name)?;
        extra.resize(u16_at(&header, 30) as usize, 0);
        dir.read_exact(&mut extra)?;
        std::io::copy(
            &mut (&mut dir).take(u16_at(&header, 32)),
            &mut std::io::sink(),
        )?;
        // Zip64 sizes and offset, in this order, for each field that says 0xffffffff.
        let mut at = 0;
        while at + 4 <= extra.len() {
            let (id, len) = (u16_at(&extra, at), u16_at(&extra, at + 2) as usize);
            let body = extra.get(at + 4..at + 4 + len).unwrap_or(&[]);
            if id == 1 {
                let mut fields = body.chunks_exact(8).map(|c| u64_at(c, 0));
                for field in [&mut size, &mut compressed, &mut local_offset] {
                    if *field == 0xffff_ffff {
                        *field = fields.next().unwrap_or(*field);
                    }
                }
            }
            at += 4 + len;
        }
        let full = String::from_utf8_lossy(&name);
        let short = full.strip_prefix(prefix).unwrap_or(&full);
        if short == "LICENSE" {
            license = Some(Entry {
                method,
                compressed,
                local_offset,
            });
        }
        if files.len() < MAX_FILES {
            files.push((short.to_string(), size));
        }
    }
    drop(dir);
    let license = match license {
        Some(entry) => Some(read_license(&mut r, &entry)?),
        None => None,
    };
    Ok(Contents {
        files,
        total: count,
        license,
    })
}

fn read_license<R: Read + Seek>(r: &mut R, entry: &Entry) -> std::io::Result<String> {
    r.seek(SeekFrom::Start(entry.local_offset))?;
    let mut local = [0u8; 30];
    r.read_exact(&mut local)?;
    if local[..4] != [0x50, 0x4b, 0x03, 0x04] {
        return Err(bad("bad local file header"));
    }
    let skip = u16_at(&local, 26) + u16_at(&local, 28);
    r.seek(SeekFrom::Current(i64::try_from(skip).unwrap_or(0)))?;
    let data = r.take(entry.compressed);
    let mut text = Vec::new();
    match entry.method {
        0 => data.take(MAX_LICENSE).read_to_end(&mut text)?,
        8 => flate2::read::DeflateDecoder::new(data)
            .take(MAX_LICENSE)
            .read_to_end(&mut text)?,
        _ => return Ok(String::new()),
    };
    Ok(String::from_utf8_lossy(&text).into_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::io::{Cursor, Write};

    fn zip_of(entries: &[(&str, &[u8], zip::CompressionMethod, bool)]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, body, method, large) in entries {
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(*method)
                .large_file(*large);
            zip.start_file(*name, options).unwrap();
            zip.write_all(body).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    #[test]
    fn listings() {
        use zip::CompressionMethod::{Deflated, Stored};
        let p = "example.com/m@v1.0.0/";
        let many: Vec<String> = (0..MAX_FILES + 5).map(|i| format!("{p}f{i}.go")).collect();
        let mut big = vec![(
            format!("{p}LICENSE"),
            b"MIT ".repeat(40_000),
            Deflated,
            false,
        )];
        big.extend(
            many.iter()
                .map(|n| (n.clone(), b"package m\n".to_vec(), Stored, false)),
        );
        let big_refs: Vec<_> = big
            .iter()
            .map(|(n, b, m, l)| (n.as_str(), b.as_slice(), *m, *l))
            .collect();
        // (zip, files listed, total, LICENSE prefix, LICENSE length)
        type Case<'a> = (Vec<u8>, usize, u64, Option<(&'a str, usize)>);
        let cases: Vec<Case> = vec![
            (
                zip_of(&[
                    (
                        &format!("{p}go.mod"),
                        b"module example.com/m\n",
                        Deflated,
                        false,
                    ),
                    (&format!("{p}LICENSE"), b"Apache", Stored, false),
                ]),
                2,
                2,
                Some(("Apache", 6)),
            ),
            (
                zip_of(&[(&format!("{p}a.go"), b"package a\n", Deflated, true)]),
                1,
                1,
                None,
            ),
            (
                zip_of(&[(&format!("{p}LICENSE"), b"BSD text", Deflated, true)]),
                1,
                1,
                Some(("BSD text", 8)),
            ),
            (
                zip_of(&big_refs),
                MAX_FILES,
                MAX_FILES as u64 + 6,
                Some(("MIT MIT", MAX_LICENSE as usize)),
            ),
        ];
        for (i, (data, listed, total, license)) in cases.into_iter().enumerate() {
            let got = read_contents(Cursor::new(data), p).unwrap();
            assert_eq!(got.files.len(), listed, "case {i}");
            assert_eq!(got.total, total, "case {i}");
            match (license, &got.license) {
                (None, None) => {}
                (Some((start, len)), Some(text)) => {
                    assert!(text.starts_with(start), "case {i}: {text:.20}");
                    assert_eq!(text.len(), len, "case {i}");
                }
                (want, got) => panic!("case {i}: want {want:?}, got {got:?}"),
            }
            assert!(got.files.iter().all(|(n, _)| !n.starts_with(p)), "case {i}");
        }
        let sizes = read_contents(
            Cursor::new(zip_of(&[(&format!("{p}x"), &[7u8; 1000], Deflated, false)])),
            p,
        )
        .unwrap();
        assert_eq!(sizes.files, vec![("x".to_string(), 1000)]);
    }

    #[test]
    fn refuses_what_is_not_a_zip() {
        for data in [&b""[..], b"PK", &[0u8; 100], b"PK\x05\x06 too short"] {
            assert!(
                read_contents(Cursor::new(data.to_vec()), "").is_err(),
                "{data:?}"
            );
        }
    }
}
