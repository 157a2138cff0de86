//! INTERIM SKELETON: replaced by the real implementation.
pub const MAX_ZIP_FILE: u64 = 500 << 20;
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ZipError(pub String);
pub struct CheckedZip { pub h1: String }
pub fn check_zip(_file: &std::path::Path, _path: &str, _version: &str) -> Result<CheckedZip, ZipError> { Ok(CheckedZip { h1: String::new() }) }
pub fn create_from_dir<W: std::io::Write>(_w: W, _p: &str, _v: &str, _d: &std::path::Path) -> Result<CheckedZip, ZipError> { Ok(CheckedZip { h1: String::new() }) }
