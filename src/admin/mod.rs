//! Administration of stored versions: the Athens-compatible `/catalog` paging, versions with
//! their state, hiding a version with a reason, retention, and the audit log. The HTTP side is in
//! `http::handlers::admin`; who may do what is decided by `auth`.

pub mod retention;
pub mod tokens;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::store::{AdminStore, CatalogQuery, VersionRow};
use gomod::module::ModulePath;

/// Athens' default page size.
pub const DEFAULT_PAGE_SIZE: i64 = 1000;
pub const MAX_PAGE_SIZE: i64 = 10_000;

pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[derive(Debug, Deserialize)]
pub struct PageParams {
    /// The `next` of the previous page; opaque to clients.
    pub token: Option<String>,
    pub pagesize: Option<String>,
    pub module: Option<String>,
}

impl PageParams {
    pub fn after(&self) -> Result<i64, Error> {
        match self.token.as_deref().filter(|t| !t.is_empty()) {
            None => Ok(0),
            Some(t) => t
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| Error::invalid(format!("invalid page token {t:?}"))),
        }
    }

    pub fn size(&self) -> Result<i64, Error> {
        match self.pagesize.as_deref().filter(|t| !t.is_empty()) {
            None => Ok(DEFAULT_PAGE_SIZE),
            Some(s) => s
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
                .ok_or_else(|| {
                    Error::invalid(format!(
                        "invalid pagesize {s:?}: a number from 1 to {MAX_PAGE_SIZE}"
                    ))
                }),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct CatalogEntry {
    pub module: String,
    pub version: String,
}

/// Athens' `/catalog` answer: `next` is absent on the last page.
#[derive(Debug, Serialize, Deserialize)]
pub struct CatalogPage {
    pub modules: Vec<CatalogEntry>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub next: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct VersionInfo {
    pub module: String,
    pub version: String,
    pub source: String,
    pub stored_at: i64,
    /// The version's time as its `.info` gives it.
    #[serde(default)]
    pub time: Option<String>,
    pub last_used_at: Option<i64>,
    /// Times served, counted since usage counts began.
    #[serde(default)]
    pub uses: i64,
    pub hidden: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct VersionsPage {
    pub versions: Vec<VersionInfo>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub next: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct HideRequest {
    pub module: String,
    pub version: String,
    pub reason: String,
}

/// One page of rows, and the token of the next if there may be more.
pub async fn page(
    admin: &dyn AdminStore,
    params: &PageParams,
    include_hidden: bool,
) -> Result<(Vec<VersionRow>, Option<String>), Error> {
    let limit = params.size()?;
    let module = match params.module.as_deref().filter(|m| !m.is_empty()) {
        Some(m) => {
            Some(ModulePath::parse(m).map_err(|e| Error::invalid(format!("invalid module: {e}")))?)
        }
        None => None,
    };
    let rows = admin
        .catalog(&CatalogQuery {
            after_id: params.after()?,
            limit,
            module: module.as_ref().map(ModulePath::as_str),
            include_hidden,
        })
        .await?;
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.id.to_string()))
        .flatten();
    Ok((rows, next))
}

/// The stored row of `module@version`, hidden or not.
pub async fn find_version(
    admin: &dyn AdminStore,
    module: &str,
    version: &str,
) -> Result<Option<VersionRow>, Error> {
    let mut after_id = 0;
    loop {
        let rows = admin
            .catalog(&CatalogQuery {
                after_id,
                limit: MAX_PAGE_SIZE,
                module: Some(module),
                include_hidden: true,
            })
            .await?;
        if let Some(found) = rows.iter().find(|r| r.version == version) {
            return Ok(Some(found.clone()));
        }
        match rows.last() {
            Some(last) if rows.len() as i64 == MAX_PAGE_SIZE => after_id = last.id,
            _ => return Ok(None),
        }
    }
}

/// What hiding did.
pub struct Hidden {
    pub row: VersionRow,
    /// False when it was hidden already.
    pub newly: bool,
}

/// Hides a stored version: from then on it answers 410 with the reason (one line, required).
/// Recorded in the audit log with who and when.
pub async fn hide(
    admin: &dyn AdminStore,
    request: &HideRequest,
    actor: &str,
) -> Result<Hidden, Error> {
    let reason = request.reason.trim();
    if reason.is_empty() || reason.len() > 1000 {
        return Err(Error::invalid(
            "a reason (1 to 1000 bytes) is required to hide a version",
        ));
    }
    let reason = reason.replace(['\r', '\n'], " ");
    let module = ModulePath::parse(&request.module)
        .map_err(|e| Error::invalid(format!("invalid module: {e}")))?;
    let Some(row) = find_version(admin, module.as_str(), &request.version).await? else {
        return Err(Error::not_found(format!(
            "{module}@{} is not stored",
            request.version
        )));
    };
    let newly = admin.hide_version(&row, &reason, actor, unix_now()).await?;
    tracing::info!(module = %module, version = %row.version, %actor, %reason, newly, "version hidden");
    Ok(Hidden { row, newly })
}

/// Expires one stored version that can be fetched again (not a published or imported one):
/// its row goes, with an audit entry, then its zip. The next request fetches it anew.
pub async fn expire(
    admin: &dyn AdminStore,
    blobs: &dyn crate::store::BlobStore,
    module: &str,
    version: &str,
    actor: &str,
) -> Result<VersionRow, Error> {
    let module =
        ModulePath::parse(module).map_err(|e| Error::invalid(format!("invalid module: {e}")))?;
    let Some(row) = find_version(admin, module.as_str(), version).await? else {
        return Err(Error::not_found(format!(
            "{module}@{version} is not stored"
        )));
    };
    if row.hidden_reason.is_some() {
        return Err(Error::denied(format!(
            "{module}@{version} is hidden: expiring it would let the next request fetch it again, unhidden"
        )));
    }
    if !retention::refetchable(&row.source) {
        return Err(Error::denied(format!(
            "{module}@{version} was published or imported here: nothing could fetch it again, so it is hidden, never expired"
        )));
    }
    admin
        .expire_version(&row, actor, unix_now(), "expired by an administrator")
        .await?;
    // A crash here leaves an orphan blob, never a row without its zip.
    blobs.delete(&row.zip).await?;
    tracing::info!(module = %module, version = %row.version, %actor, "version expired");
    Ok(row)
}
