//! `list` and `@latest` answers, kept briefly and bounded in bytes.

use std::time::Duration;

use bytes::Bytes;

use gomod::module::ModulePath;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListKind {
    List,
    Latest,
}

pub struct ListCache {
    answers: moka::sync::Cache<(ModulePath, ListKind), Bytes>,
    max_bytes: u64,
}

impl ListCache {
    pub fn new(ttl: Duration, max_bytes: u64) -> Self {
        Self {
            answers: moka::sync::Cache::builder()
                .max_capacity(max_bytes.max(1))
                .weigher(|k: &(ModulePath, ListKind), v: &Bytes| {
                    (k.0.as_str().len() + v.len() + 64)
                        .try_into()
                        .unwrap_or(u32::MAX)
                })
                .time_to_live(ttl.max(Duration::from_millis(1)))
                .build(),
            max_bytes,
        }
    }

    pub fn get(&self, module: &ModulePath, kind: ListKind) -> Option<Bytes> {
        self.answers.get(&(module.clone(), kind))
    }

    /// Keeps an answer, unless it alone would take an eighth of the cache: one huge list must not
    /// push out every other.
    pub fn keep(&self, module: &ModulePath, kind: ListKind, body: &Bytes) {
        if (body.len() as u64).saturating_mul(8) <= self.max_bytes {
            self.answers.insert((module.clone(), kind), body.clone());
        }
    }

    pub fn forget(&self, module: &ModulePath) {
        self.answers.invalidate(&(module.clone(), ListKind::List));
        self.answers.invalidate(&(module.clone(), ListKind::Latest));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn one_answer_never_takes_more_than_an_eighth() {
        let cache = ListCache::new(Duration::from_secs(60), 800);
        let m = ModulePath::parse("example.com/m").unwrap();
        cache.keep(&m, ListKind::List, &Bytes::from(vec![b'v'; 100]));
        assert!(cache.get(&m, ListKind::List).is_some());
        cache.keep(&m, ListKind::Latest, &Bytes::from(vec![b'v'; 101]));
        assert!(cache.get(&m, ListKind::Latest).is_none());
        cache.forget(&m);
        assert!(cache.get(&m, ListKind::List).is_none());
    }
}
