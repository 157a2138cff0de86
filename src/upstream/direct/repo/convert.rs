//! From a commit to the version it is (`convert`, `validatePseudoVersion`, and the
//! `+incompatible` rules), as the go command's `codeRepo` decides.

use super::{CodeRepo, RevInfo};
use crate::upstream::UpstreamError;
use gomod::coderepo as versions;
use gomod::module::{canonical_version, check_path_major};
use gomod::{pseudo, semver};

impl CodeRepo {
    async fn can_use_incompatible(&self, hash: &str) -> Result<bool, UpstreamError> {
        if !self.layout.may_be_incompatible() {
            return Ok(false);
        }
        Ok(self.read_file(hash, "go.mod").await?.is_none())
    }

    pub(super) async fn check_go_mod(
        &self,
        info: &RevInfo,
        version: String,
        can_use: bool,
    ) -> Result<String, UpstreamError> {
        self.find_dir_at(&info.hash, &version).await?;
        if let Some(base) = version.strip_suffix("+incompatible") {
            if !can_use {
                return Err(self.invalid(
                    &version,
                    if self.layout.path_major.is_empty() {
                        "+incompatible suffix not allowed: module contains a go.mod file, so semantic import versioning is required"
                    } else {
                        "+incompatible suffix not allowed: module path includes a major version suffix, so major version must match"
                    },
                ));
            }
            if check_path_major(base, &self.layout.path_major).is_ok() {
                return Err(self.invalid(
                    &version,
                    format!(
                        "+incompatible suffix not allowed: major version {} is compatible",
                        semver::major(&version)
                    ),
                ));
            }
        }
        Ok(version)
    }

    /// `convert`.
    pub(super) async fn convert(
        &self,
        info: &RevInfo,
        stat_vers: &str,
    ) -> Result<String, UpstreamError> {
        let can_use = self.can_use_incompatible(&info.hash).await?;
        if !stat_vers.is_empty() && stat_vers == canonical_version(stat_vers) {
            let mut version = stat_vers.to_string();
            if pseudo::is_pseudo_version(&version) {
                self.validate_pseudo(info, &version).await?;
                return self.check_go_mod(info, version, can_use).await;
            }
            if let Err(e) = check_path_major(&version, &self.layout.path_major) {
                if !can_use {
                    return Err(self.invalid(
                        &version,
                        format!("module contains a go.mod file, so major version must be compatible: {e}"),
                    ));
                }
                version.push_str("+incompatible");
            }
            return self.check_go_mod(info, version, can_use).await;
        }

        let retractions = self.retractions().await;
        let is_retracted = |v: &str| retractions.as_ref().is_some_and(|m| m.is_retracted(v));
        let to_version =
            |tag: &str| versions::tag_to_version(&self.layout, tag, &is_retracted, can_use);

        if let Some(tag) = &info.tag
            && let (v, true) = to_version(tag)
        {
            return self.check_go_mod(info, v, can_use).await;
        }
        let mut best = String::new();
        let mut pseudo_base = String::new();
        for tag in &info.tags {
            let (v, canonical) = to_version(tag);
            if canonical {
                if !stat_vers.is_empty() && semver::compare(&v, stat_vers).is_eq() {
                    return self.check_go_mod(info, v, can_use).await;
                }
                if semver::compare(&best, &v).is_lt() {
                    best = v;
                }
            } else if !v.is_empty() && semver::compare(&v, stat_vers).is_eq() {
                pseudo_base = v;
            }
        }
        if !best.is_empty() {
            return self.check_go_mod(info, best, can_use).await;
        }
        if pseudo_base.is_empty() {
            let prefix = self.layout.tag_prefix();
            let merged = self.merged_tags(&info.hash).await?;
            let allowed = |major: &'static str| {
                move |v: &str| (major.is_empty() || semver::major(v) == major) && !is_retracted(v)
            };
            let tag = if !self.layout.pseudo_major.is_empty() || can_use {
                let major = self.layout.pseudo_major.clone();
                let allow = move |v: &str| {
                    (major.is_empty() || semver::major(v) == major) && !is_retracted(v)
                };
                versions::recent_tag(merged.iter().map(String::as_str), &prefix, &allow)
            } else {
                versions::recent_tag(merged.iter().map(String::as_str), &prefix, &allowed("v1"))
                    .or_else(|| {
                        versions::recent_tag(
                            merged.iter().map(String::as_str),
                            &prefix,
                            &allowed("v0"),
                        )
                    })
            };
            if let Some(tag) = tag {
                pseudo_base = to_version(&tag).0;
            }
        }
        let version = pseudo::pseudo_version(
            &self.layout.pseudo_major,
            &pseudo_base,
            info.time,
            &info.short,
        );
        self.check_go_mod(info, version, can_use).await
    }

    /// Tag names reachable from `hash`.
    async fn merged_tags(&self, hash: &str) -> Result<Vec<String>, UpstreamError> {
        self.ensure_history().await?;
        self.host
            .merged_tags(self.dir(), hash)
            .await
            .map_err(|e| self.git_err(e))
    }

    /// `validatePseudoVersion`.
    async fn validate_pseudo(&self, info: &RevInfo, version: &str) -> Result<(), UpstreamError> {
        let bad = |msg: String| self.invalid(version, msg);
        check_path_major(version, &self.layout.path_major).map_err(|e| bad(e.to_string()))?;
        let rev = pseudo::pseudo_version_rev(version).map_err(|e| bad(e.to_string()))?;
        let short = info.short.as_str();
        if rev != short {
            return Err(bad(if rev.starts_with(short) {
                format!("revision is longer than canonical ({short})")
            } else if short.starts_with(&rev) {
                format!("revision is shorter than canonical ({short})")
            } else {
                format!("does not match short name of revision ({short})")
            }));
        }
        let t = pseudo::pseudo_version_time(version).map_err(|e| bad(e.to_string()))?;
        let want = pseudo::format_timestamp(info.time);
        if t != want {
            return Err(bad(format!(
                "does not match version-control timestamp (expected {want})"
            )));
        }
        let prefix = self.layout.tag_prefix();
        let trimmed = version.strip_suffix("+incompatible").unwrap_or(version);
        let base = pseudo::pseudo_version_base(trimmed).map_err(|e| bad(e.to_string()))?;
        if base.is_empty() {
            if self.layout.pseudo_major.is_empty() && semver::major(version) == "v1" {
                return Err(bad(
                    "major version without preceding tag must be v0, not v1".into(),
                ));
            }
            return Ok(());
        }
        for tag in &info.tags {
            if tag.strip_prefix(prefix.as_str()) == Some(base.as_str()) {
                return Err(bad(format!(
                    "tag ({tag}) found on revision {rev} is already canonical, so should not be replaced with a pseudo-version derived from that tag"
                )));
            }
        }
        let mut last_tag = None;
        let candidates = self.repo.refs.tags(&format!("{prefix}{base}"));
        if !candidates.is_empty() {
            self.ensure_history().await?;
        }
        for tag in candidates {
            let only = &tag[prefix.len()..];
            if semver::compare(only, &base).is_eq() {
                last_tag = Some(tag.to_string());
                let descends = self
                    .host
                    .descends_from(self.dir(), &info.hash, tag)
                    .await
                    .map_err(|e| self.git_err(e))?;
                if descends {
                    return Ok(());
                }
            }
        }
        match last_tag {
            None => Err(bad(format!("preceding tag ({base}) not found"))),
            Some(tag) => Err(bad(format!(
                "revision {rev} is not a descendent of preceding tag ({tag})"
            ))),
        }
    }
}
