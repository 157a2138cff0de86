//! A real checksum database for tests, written as a static file tree (served by `TestUpstream`):
//! records in a transparent log (RFC 6962 hashes, tiles of height 8), a tree head signed with an
//! Ed25519 note key, and `lookup/<module>@<version>` answers, in the formats the go command
//! verifies (`golang.org/x/mod/sumdb/{note,tlog}`). Built for fewer than 256 records, so one
//! partial tile at level 0 proves every record.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signer, SigningKey};
use sha2::{Digest, Sha256};

use crate::helpers::esc;

pub struct TestSumdb {
    /// `<name>+<hash>+<key>`: the `GOSUMDB` value that trusts this database.
    pub vkey: String,
    /// The record of every (module, version), in log order.
    pub records: Vec<(String, String, String)>,
}

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

fn record_hash(data: &[u8]) -> [u8; 32] {
    sha256(&[&[0x00], data])
}

fn node_hash(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    sha256(&[&[0x01], left, right])
}

/// The Merkle tree hash of `leaves` (RFC 6962 §2.1): split at the largest power of two below n.
fn tree_hash(leaves: &[[u8; 32]]) -> [u8; 32] {
    match leaves.len() {
        0 => sha256(&[]),
        1 => leaves[0],
        n => {
            let mut k = 1;
            while k * 2 < n {
                k *= 2;
            }
            node_hash(&tree_hash(&leaves[..k]), &tree_hash(&leaves[k..]))
        }
    }
}

/// The records of a go.sum: `(module, version) -> "<m> <v> h1:…\n<m> <v>/go.mod h1:…\n"`.
pub fn records_from_go_sum(go_sum: &str) -> Vec<(String, String, String)> {
    let mut by: BTreeMap<(String, String), (Option<String>, Option<String>)> = BTreeMap::new();
    for line in go_sum.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() != 3 {
            continue;
        }
        let (version, is_mod) = match f[1].strip_suffix("/go.mod") {
            Some(v) => (v, true),
            None => (f[1], false),
        };
        let e = by
            .entry((f[0].to_string(), version.to_string()))
            .or_default();
        if is_mod {
            e.1 = Some(line.to_string());
        } else {
            e.0 = Some(line.to_string());
        }
    }
    by.into_iter()
        .map(|((m, v), (zip, gomod))| {
            let mut text = String::new();
            for l in [zip, gomod].into_iter().flatten() {
                text.push_str(&l);
                text.push('\n');
            }
            (m, v, text)
        })
        .collect()
}

impl TestSumdb {
    /// Writes the database's files under `dir`: `latest`, `tile/8/0/000.p/<n>`,
    /// `tile/8/data/000.p/<n>` and one `lookup/…` per record.
    pub fn write(
        name: &str,
        seed: u8,
        records: Vec<(String, String, String)>,
        dir: &Path,
    ) -> TestSumdb {
        assert!(!records.is_empty() && records.len() < 256);
        let key = SigningKey::from_bytes(&[seed; 32]);
        let public = key.verifying_key().to_bytes();
        let mut alg_key = vec![0x01u8];
        alg_key.extend_from_slice(&public);
        let key_hash = sha256(&[name.as_bytes(), b"\n", &alg_key]);
        let vkey = format!(
            "{name}+{}+{}",
            hex::encode(&key_hash[..4]),
            B64.encode(&alg_key)
        );

        let leaves: Vec<[u8; 32]> = records
            .iter()
            .map(|(_, _, text)| record_hash(text.as_bytes()))
            .collect();
        let n = leaves.len();
        let text = format!(
            "go.sum database tree\n{n}\n{}\n",
            B64.encode(tree_hash(&leaves))
        );
        let sig = key.sign(text.as_bytes()).to_bytes();
        let mut sig_blob = key_hash[..4].to_vec();
        sig_blob.extend_from_slice(&sig);
        let note = format!("{text}\n\u{2014} {name} {}\n", B64.encode(&sig_blob));

        let put = |rel: &str, data: &[u8]| {
            let p = dir.join(rel);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(&p, data).expect("write sumdb file");
        };
        put("latest", note.as_bytes());
        put(&format!("tile/8/0/000.p/{n}"), &leaves.concat());
        let data: String = records.iter().map(|(_, _, t)| t.as_str()).collect();
        put(&format!("tile/8/data/000.p/{n}"), data.as_bytes());
        for (id, (module, version, rec)) in records.iter().enumerate() {
            let body = format!("{id}\n{rec}\n{note}");
            put(
                &format!("lookup/{}@{}", esc(module), esc(version)),
                body.as_bytes(),
            );
        }
        TestSumdb { vkey, records }
    }
}

#[test]
fn tree_hash_of_known_shapes() {
    let l: Vec<[u8; 32]> = (0u8..3).map(|i| record_hash(&[i])).collect();
    assert_eq!(tree_hash(&l[..1]), l[0]);
    assert_eq!(tree_hash(&l[..2]), node_hash(&l[0], &l[1]));
    assert_eq!(tree_hash(&l), node_hash(&node_hash(&l[0], &l[1]), &l[2]));
}
