//! Case-insensitive collision detection over file paths and their parent directories.
//!
//! Go maps each rune to the smallest rune of its `unicode.SimpleFold` orbit (then `A-Z` to
//! `a-z`). Rust's standard library has no simple-fold table, so [`fold_char`] approximates the
//! orbit by closing over single-character `to_lowercase`/`to_uppercase` results, and takes its
//! smallest member. Multi-character mappings (`ß` → `SS`) are ignored, as simple folding ignores
//! them. Known difference handled by hand: dotless `ı` (U+0131) upper-cases to `I` but has no
//! simple fold in Unicode's CaseFolding.txt (its folding is Turkic-only), so it folds to itself.
//! Any remaining divergence would be a rune whose simple fold is not reachable through its
//! lower/upper case mappings; none is known in current Unicode outside the Turkic `İ`/`ı` pair.

use std::collections::HashMap;

use super::{ZipError, parent};

fn single(mut it: impl Iterator<Item = char>) -> Option<char> {
    let c = it.next()?;
    if it.next().is_some() { None } else { Some(c) }
}

/// The canonical case-fold of one character (see the module docs).
pub fn fold_char(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    if c == '\u{0131}' {
        return c;
    }
    let mut orbit: Vec<char> = vec![c];
    let mut i = 0;
    while i < orbit.len() && orbit.len() < 16 {
        let x = orbit[i];
        i += 1;
        if x == '\u{0131}' {
            continue;
        }
        for y in [single(x.to_lowercase()), single(x.to_uppercase())]
            .into_iter()
            .flatten()
        {
            if !orbit.contains(&y) {
                orbit.push(y);
            }
        }
    }
    let m = orbit.iter().copied().min().unwrap_or(c);
    m.to_ascii_lowercase()
}

/// `strToFold`: a string that is equal for two strings exactly when they are equal under
/// (approximated) Unicode simple case folding.
pub fn str_to_fold(s: &str) -> String {
    if s.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) {
        return s.to_string();
    }
    s.chars().map(fold_char).collect()
}

/// Remembers every path and parent directory seen, keyed by its fold.
#[derive(Default)]
pub(crate) struct Collisions {
    seen: HashMap<String, (String, bool)>,
}

impl Collisions {
    /// Records `p` (a file, or a directory when `is_dir`) and all its parents. `name` is what an
    /// error reports as the offending entry.
    pub(crate) fn check(&mut self, name: &str, p: &str, is_dir: bool) -> Result<(), ZipError> {
        let mut p = p;
        let mut is_dir = is_dir;
        loop {
            let fold = str_to_fold(p);
            match self.seen.get(&fold) {
                Some((other, other_dir)) => {
                    if other != p {
                        return Err(ZipError::CaseCollision {
                            name: name.to_string(),
                            first: other.clone(),
                            second: p.to_string(),
                        });
                    }
                    if *other_dir != is_dir {
                        return Err(ZipError::FileAndDirectory {
                            name: name.to_string(),
                            entry: p.to_string(),
                        });
                    }
                    if !is_dir {
                        return Err(ZipError::MultipleEntries {
                            name: name.to_string(),
                            entry: p.to_string(),
                        });
                    }
                    // The same directory again: its parents are already recorded too.
                    return Ok(());
                }
                None => {
                    self.seen.insert(fold, (p.to_string(), is_dir));
                }
            }
            let up = parent(p);
            if up == "." {
                return Ok(());
            }
            p = up;
            is_dir = true;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn folds_beyond_ascii() {
        assert_eq!(str_to_fold("ReadMe.MD"), "readme.md");
        // Kelvin sign and K, long s and S, final sigma and sigma, Angstrom sign and å.
        assert_eq!(str_to_fold("\u{212A}"), str_to_fold("k"));
        assert_eq!(str_to_fold("\u{017F}"), str_to_fold("S"));
        assert_eq!(str_to_fold("\u{03C2}"), str_to_fold("\u{03A3}"));
        assert_eq!(str_to_fold("\u{212B}"), str_to_fold("\u{00E5}"));
        assert_eq!(str_to_fold("Ünïcödé"), str_to_fold("üNÏCÖDÉ"));
        // Capital sharp s folds with ß, but ß does not fold to "ss".
        assert_eq!(str_to_fold("\u{1E9E}"), str_to_fold("\u{00DF}"));
        assert_ne!(str_to_fold("\u{00DF}"), str_to_fold("ss"));
        // Turkic dotless i is its own fold.
        assert_ne!(str_to_fold("\u{0131}"), str_to_fold("i"));
    }

    #[test]
    fn collisions_cover_parents() {
        let mut c = Collisions::default();
        c.check("A/x", "A/x", false).unwrap();
        let err = c.check("a/y", "a/y", false).unwrap_err();
        assert!(
            matches!(err, ZipError::CaseCollision { ref first, ref second, .. } if first == "A" && second == "a")
        );

        let mut c = Collisions::default();
        c.check("d", "d", false).unwrap();
        assert!(matches!(
            c.check("d/f", "d/f", false),
            Err(ZipError::FileAndDirectory { .. })
        ));

        let mut c = Collisions::default();
        c.check("f", "f", false).unwrap();
        assert!(matches!(
            c.check("f", "f", false),
            Err(ZipError::MultipleEntries { .. })
        ));

        let mut c = Collisions::default();
        c.check("d/a", "d/a", false).unwrap();
        c.check("d/b", "d/b", false).unwrap();
        c.check("d", "d", true).unwrap();
    }
}
