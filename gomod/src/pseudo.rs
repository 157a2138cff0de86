//! (interim skeleton; being written)
pub fn is_pseudo_version(_v: &str) -> bool { false }
