//! INTERIM SKELETON: replaced by the real implementation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ModFileError(pub String);
#[derive(Debug, Clone, Default)]
pub struct ModuleDecl { pub path: String }
#[derive(Debug, Clone, Default)]
pub struct ModFile { pub module: Option<ModuleDecl> }
pub fn parse_lax(data: &[u8]) -> Result<ModFile, ModFileError> {
    let s = std::str::from_utf8(data).map_err(|e| ModFileError(e.to_string()))?;
    let module = s.lines().find_map(|l| l.trim().strip_prefix("module ").map(|p| ModuleDecl { path: p.trim().trim_matches('"').to_string() }));
    Ok(ModFile { module })
}
