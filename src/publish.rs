//! Publishing private module versions: a module zip is checked by the module library exactly as a
//! fetched one is, then stored the same way, so published and fetched versions are served alike.
//! A version that exists is never replaced: a second publish is a conflict (409).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;

use crate::admin::access::{self, Scope};
use crate::auth::Principal;
use crate::error::ServiceError;
use crate::policy::hook::Hook;
use crate::service::ProxyService;
use crate::store::{AuditEntry, Inserted, NewVersion, Store};
use crate::sumdb::SumdbProxy;
use gomod::module::{self, ModulePath};
use gomod::version::Version;

/// What `PUT` needs besides the service.
#[derive(Clone)]
pub struct PublishOptions {
    pub max_bytes: u64,
    pub temp_dir: PathBuf,
    /// GOPRIVATE-style globs of the modules that may be published (`admin.publish_patterns`,
    /// else `private`); empty: none may.
    pub patterns: String,
    /// Longest silence while reading the body.
    pub read_timeout: Duration,
    /// A published version must be unknown to the checksum database.
    pub sumdb: Option<Arc<SumdbProxy>>,
    /// The validation hook, asked about published versions as about fetched ones.
    pub hook: Option<Arc<Hook>>,
}

/// A version about to be stored from a local zip.
pub struct ZipToStore<'a> {
    pub module: &'a ModulePath,
    pub version: &'a Version,
    pub zip: &'a Path,
    /// The `.info` to serve; generated (`Version` and now as `Time`) when absent.
    pub info: Option<Vec<u8>>,
    /// The `.mod` to serve; the zip's root go.mod (or `module PATH`) when absent.
    pub go_mod: Option<Vec<u8>>,
    pub source: String,
    /// The `h1:` the zip must have (an import's `.ziphash`); checked before anything is stored.
    pub expect_h1: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Published {
    pub module: String,
    pub version: String,
    /// The zip's `h1:` hash, as go.sum has it.
    pub h1: String,
    /// The go.mod's `h1:` hash (`/go.mod` line of go.sum).
    pub go_mod_h1: String,
    /// False when the version was stored already (nothing changed).
    pub new: bool,
}

/// Checks a module zip and stores it, refusing anything the go command would refuse.
pub async fn store_zip(store: &dyn Store, z: ZipToStore<'_>) -> Result<Published, ServiceError> {
    let (module, version) = (z.module, z.version);
    module::check(module.as_str(), version.as_str())
        .map_err(|e| ServiceError::BadRequest(format!("{e}")))?;
    let (path, m, v) = (z.zip.to_path_buf(), module.to_string(), version.to_string());
    let (checked, sha256, size) = tokio::task::spawn_blocking(move || {
        let checked = gomod::zip::check_zip(&path, &m, &v).map_err(|e| e.to_string())?;
        let file = std::fs::File::open(&path).map_err(|e| e.to_string())?;
        let size = file.metadata().map_err(|e| e.to_string())?.len();
        let sha = gomod::dirhash::sha256_reader(std::io::BufReader::new(file))
            .map_err(|e| e.to_string())?;
        Ok::<_, String>((checked, sha, size))
    })
    .await
    .map_err(|e| ServiceError::Internal(format!("zip check task failed: {e}")))?
    .map_err(|e| {
        ServiceError::BadRequest(format!("invalid module zip for {module}@{version}: {e}"))
    })?;

    if let Some(want) = z.expect_h1.as_deref().filter(|h| !h.is_empty())
        && want != checked.h1
    {
        return Err(ServiceError::BadRequest(format!(
            "zip hash {} does not match the expected {want} (.ziphash)",
            checked.h1
        )));
    }
    let go_mod = match (z.go_mod, &checked.go_mod) {
        (Some(given), _) => given,
        (None, Some(root)) => root.clone(),
        (None, None) => format!("module {module}\n").into_bytes(),
    };
    check_go_mod(module, &go_mod)?;
    let info = match z.info {
        Some(info) => {
            check_info(version, &info)?;
            info
        }
        None => generated_info(version),
    };
    let mod_h1 = gomod::dirhash::hash_go_mod(&go_mod);
    let new = NewVersion {
        module,
        version,
        info: &info,
        go_mod: &go_mod,
        zip_path: z.zip,
        zip_size: size,
        zip_sha256: hex::encode(sha256),
        zip_h1: checked.h1.clone(),
        mod_h1: mod_h1.clone(),
        source: z.source,
    };
    let inserted = store.insert_version(&new).await?;
    Ok(Published {
        module: module.to_string(),
        version: version.to_string(),
        h1: checked.h1,
        go_mod_h1: mod_h1,
        new: inserted == Inserted::New,
    })
}

/// The go.mod must parse and declare exactly this module (a zip's root go.mod may declare
/// nothing else; `+incompatible` versions have none).
fn check_go_mod(module: &ModulePath, go_mod: &[u8]) -> Result<(), ServiceError> {
    let parsed = gomod::modfile::parse_lax(go_mod)
        .map_err(|e| ServiceError::BadRequest(format!("go.mod of {module}: {e}")))?;
    match parsed.module_path() {
        Some(declared) if declared == module.as_str() => Ok(()),
        Some(declared) => Err(ServiceError::BadRequest(format!(
            "go.mod declares module {declared:?}, not {:?}",
            module.as_str()
        ))),
        None => Err(ServiceError::BadRequest(format!(
            "go.mod of {module} has no module directive"
        ))),
    }
}

#[derive(Deserialize)]
struct InfoJson {
    #[serde(rename = "Version")]
    version: String,
}

fn check_info(version: &Version, info: &[u8]) -> Result<(), ServiceError> {
    let parsed: InfoJson = serde_json::from_slice(info)
        .map_err(|e| ServiceError::BadRequest(format!(".info of {version}: {e}")))?;
    if parsed.version != version.as_str() {
        return Err(ServiceError::BadRequest(format!(
            ".info names version {:?}, not {version}",
            parsed.version
        )));
    }
    Ok(())
}

/// `{"Version":"v1.2.3","Time":"2026-01-02T03:04:05Z"}`, the time being now.
pub fn generated_info(version: &Version) -> Vec<u8> {
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    let time = now
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_string());
    serde_json::json!({ "Version": version.as_str(), "Time": time })
        .to_string()
        .into_bytes()
}

/// `PUT /{module}/@v/{version}.zip` with the module zip as the body: 201 with the hashes, 409 if
/// the version exists (published or fetched), 400 if the zip is not a valid module zip for that
/// path and version, 403 for a module outside the publish patterns (the server's and the
/// token's), denied by policy, or known to the checksum database, 413 over
/// `admin.max_publish_bytes`, 408 when the body stalls.
pub async fn put(
    req: HttpRequest,
    mut payload: web::Payload,
    service: web::Data<ProxyService>,
) -> Result<HttpResponse, ServiceError> {
    let principal = access::require(&req, Scope::Publish).await?;
    let options = req
        .app_data::<web::Data<PublishOptions>>()
        .ok_or_else(|| ServiceError::Internal("publish options missing".into()))?
        .clone();
    let parsed = crate::http::request::parse(req.uri().path())?;
    let crate::http::request::ProxyRequest::Zip(module, version) = parsed else {
        return Err(ServiceError::NotFound(
            "not found: publish with PUT /{module}/@v/{version}.zip".into(),
        ));
    };
    let version = Version::parse(&version).map_err(|e| {
        ServiceError::BadRequest(format!("{version:?} is not a canonical version: {e}"))
    })?;
    may_publish(&options, &principal, &module)?;
    service.check_allowed(&module, &version)?;
    if service.store().version(&module, &version).await?.is_some() {
        return Err(conflict(&module, &version));
    }
    if let Some(sumdb) = &options.sumdb
        && let Some(db) = sumdb.knows(&module, &version).await?
    {
        return Err(ServiceError::Forbidden(format!(
            "forbidden: {module}@{version} is known to the checksum database {db}: a public version is never published here"
        )));
    }
    if let Some(hook) = &options.hook {
        hook.check(module.as_str(), version.as_str()).await?;
    }
    if let Some(len) = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > options.max_bytes
    {
        return Err(too_large(options.max_bytes));
    }
    let temp = tempfile::Builder::new()
        .prefix("publish-")
        .suffix(".zip")
        .tempfile_in(&options.temp_dir)
        .map_err(|e| ServiceError::Internal(format!("temporary file: {e}")))?;
    let mut file = tokio::fs::File::create(temp.path())
        .await
        .map_err(|e| ServiceError::Internal(format!("temporary file: {e}")))?;
    let mut written = 0u64;
    loop {
        let next = tokio::time::timeout(options.read_timeout, payload.next())
            .await
            .map_err(|_| {
                ServiceError::RequestTimeout(format!(
                    "request timeout: no body bytes for {}s",
                    options.read_timeout.as_secs()
                ))
            })?;
        let Some(chunk) = next else { break };
        let chunk =
            chunk.map_err(|e| ServiceError::BadRequest(format!("reading the body: {e}")))?;
        written += chunk.len() as u64;
        if written > options.max_bytes {
            return Err(too_large(options.max_bytes));
        }
        file.write_all(&chunk)
            .await
            .map_err(|e| ServiceError::Internal(format!("writing the upload: {e}")))?;
    }
    file.flush()
        .await
        .map_err(|e| ServiceError::Internal(format!("writing the upload: {e}")))?;
    drop(file);

    let actor = principal.name.clone();
    let store = service.store().clone();
    let published = store_zip(
        store.as_ref(),
        ZipToStore {
            module: &module,
            version: &version,
            zip: temp.path(),
            info: None,
            go_mod: None,
            source: format!("publish:{actor}"),
            expect_h1: None,
        },
    )
    .await?;
    if !published.new {
        return Err(conflict(&module, &version));
    }
    let audit = AuditEntry {
        id: 0,
        at: crate::admin::unix_now(),
        actor: actor.clone(),
        action: "publish".into(),
        module: module.to_string(),
        version: version.to_string(),
        detail: published.h1.clone(),
    };
    if let Err(e) = store.record_audit(&audit).await {
        tracing::error!(error = %e, "recording the publish in the audit log");
    }
    service.forget_lists(&module);
    tracing::info!(module = %module, version = %version, %actor, h1 = %published.h1, "published");
    Ok(HttpResponse::Created().json(published))
}

/// The server's publish patterns, then the token's own, must both take the module.
fn may_publish(
    options: &PublishOptions,
    principal: &Principal,
    module: &ModulePath,
) -> Result<(), ServiceError> {
    if options.patterns.is_empty() {
        return Err(ServiceError::Forbidden(format!(
            "forbidden: {module}: publishing is off here (admin.publish_patterns, by default the private patterns, is empty)"
        )));
    }
    if !module::match_prefix_patterns(&options.patterns, module.as_str()) {
        return Err(ServiceError::Forbidden(format!(
            "forbidden: {module} is outside the modules this server publishes ({})",
            options.patterns
        )));
    }
    if !principal.may_publish(module.as_str()) {
        return Err(ServiceError::Forbidden(format!(
            "forbidden: token {:?} may only publish {}",
            principal.name, principal.patterns
        )));
    }
    Ok(())
}

fn conflict(module: &ModulePath, version: &Version) -> ServiceError {
    ServiceError::Conflict(format!(
        "{module}@{version} already exists; a stored version is never replaced"
    ))
}

fn too_large(max: u64) -> ServiceError {
    ServiceError::TooLarge(format!("module zip over the {max}-byte limit"))
}

/// The client side of `agora publish`: PUTs a zip to a server.
pub async fn upload(
    server: &str,
    token: Option<&str>,
    module: &ModulePath,
    version: &Version,
    zip: &Path,
) -> anyhow::Result<Published> {
    let url = format!(
        "{}/{}/@v/{}.zip",
        server.trim_end_matches('/'),
        module.escaped(),
        module::escape_version(version.as_str())
            .map_err(|e| anyhow::anyhow!("version {version}: {e}"))?
    );
    let file = tokio::fs::File::open(zip).await?;
    let size = file.metadata().await?.len();
    let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::new(file));
    crate::install_crypto_provider();
    let mut request = reqwest::Client::new()
        .put(&url)
        .header(reqwest::header::CONTENT_TYPE, "application/zip")
        .header(reqwest::header::CONTENT_LENGTH, size)
        .body(body);
    if let Some(token) = token.filter(|t| !t.is_empty()) {
        request = request.bearer_auth(token);
    }
    let response = request.send().await?;
    let status = response.status();
    let text = response.text().await?;
    if !status.is_success() {
        anyhow::bail!("{url}: {status}: {}", text.trim());
    }
    Ok(serde_json::from_str(&text)?)
}
