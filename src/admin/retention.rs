//! Expiry of versions nobody has used for a while. Only versions fetched from an upstream are
//! expired (they can be fetched again); published and imported ones, and hidden ones (whose 410
//! must stay), are kept. A dry run, the default, only says what would go.

use crate::store::{AdminStore, CatalogQuery, StoreError, Stores, VersionRow};

pub struct RetentionPlan {
    pub cutoff: i64,
    pub expire: Vec<VersionRow>,
    pub kept: usize,
}

/// Whether a version's source means it can be fetched again after expiry.
pub fn refetchable(source: &str) -> bool {
    !(source.starts_with("publish:") || source.starts_with("import:"))
}

/// The versions last used (or, never used, stored) before `now - days`.
pub async fn plan(
    store: &dyn AdminStore,
    days: u64,
    now: i64,
) -> Result<RetentionPlan, StoreError> {
    let cutoff = now.saturating_sub((days as i64).saturating_mul(86_400));
    let mut expire = Vec::new();
    let mut kept = 0;
    let mut after_id = 0;
    loop {
        let rows = store
            .catalog(&CatalogQuery {
                after_id,
                limit: super::MAX_PAGE_SIZE,
                module: None,
                include_hidden: false,
            })
            .await?;
        let Some(last) = rows.last() else { break };
        after_id = last.id;
        for row in rows {
            let used = row.last_used_at.unwrap_or(row.stored_at).max(row.stored_at);
            if used < cutoff && refetchable(&row.source) {
                expire.push(row);
            } else {
                kept += 1;
            }
        }
    }
    Ok(RetentionPlan {
        cutoff,
        expire,
        kept,
    })
}

/// Deletes what the plan names, each with an audit row: the version row, then its zip.
pub async fn apply(
    stores: &Stores,
    plan: &RetentionPlan,
    days: u64,
    actor: &str,
    now: i64,
) -> Result<usize, StoreError> {
    let detail = format!("retention: unused for {days} days");
    for row in &plan.expire {
        stores
            .admin
            .expire_version(row, actor, now, &detail)
            .await?;
        // A crash here leaves an orphan blob, never a row without its zip.
        stores.blobs.delete(&row.zip).await?;
    }
    Ok(plan.expire.len())
}
