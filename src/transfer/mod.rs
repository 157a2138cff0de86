//! Offline transfer: `agora export` writes stored versions as a GOPROXY directory tree (or a tar
//! of one), `agora import` loads such a tree into another agora's store, verifying every zip.
//!
//! The tree is the layout the go command reads from a `file://` GOPROXY and writes to its own
//! module cache: `<escaped path>/@v/{list, V.info, V.mod, V.zip, V.ziphash}`.

pub mod blobs;
pub mod export;
pub mod import;

use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar on stderr (hidden when stderr is not a terminal).
pub fn progress(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template("{msg:10} [{bar:40}] {pos}/{len} {wide_msg}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    bar
}

/// Whether the path names a tarball rather than a directory.
pub fn is_tarball(path: &Path) -> bool {
    let name = path.to_string_lossy();
    name.ends_with(".tar") || name.ends_with(".tar.gz") || name.ends_with(".tgz")
}

pub fn is_gzip(path: &Path) -> bool {
    let name = path.to_string_lossy();
    name.ends_with(".gz") || name.ends_with(".tgz")
}
