//! The upstream graph the settings describe: the GOPROXY list as a chain, the direct (git)
//! upstream when anything needs it, and the routes that send some modules straight to it.

use std::sync::Arc;
use std::time::Duration;

use super::Upstream;
use super::chain::{Chain, Entry, Off};
use super::direct::git::GitOptions;
use super::direct::guard::NetPolicy;
use super::direct::{DirectOptions, DirectUpstream};
use super::private::PrivatePatterns;
use super::proxy::ProxyUpstream;
use super::router::{Route, Router};
use crate::config::Settings;
use crate::upstream::trust::Trust;

/// The chain of the `upstream` list, with `private` modules (and whatever `direct_route`
/// picks) sent to the direct upstream instead. The direct upstream exists whenever the list
/// names it or a route may need it.
pub fn build(
    settings: &Settings,
    direct_route: Option<Box<dyn Route>>,
) -> anyhow::Result<Arc<dyn Upstream>> {
    crate::install_crypto_provider();
    let list = &settings.upstream;
    let timeout = settings.upstream_timeout();
    let trust = Trust::load(&settings.tls.ca_file)?;
    let client = ProxyUpstream::client(&trust, timeout.min(Duration::from_secs(10)), timeout)?;
    let private = settings.private.trim();
    let needs_direct = !private.is_empty()
        || direct_route.is_some()
        || list.entries.iter().any(|(e, _)| *e == Entry::Direct);
    let direct: Option<Arc<dyn Upstream>> = if needs_direct {
        Some(Arc::new(direct(settings, timeout, trust)?))
    } else {
        None
    };
    let links = list
        .entries
        .iter()
        .map(|(entry, fallback)| {
            let link: Box<dyn Upstream> = match (entry, &direct) {
                (Entry::Proxy(url), _) => {
                    Box::new(ProxyUpstream::new(url, client.clone(), timeout))
                }
                (Entry::Direct, Some(d)) => Box::new(d.clone()),
                (Entry::Off, _) | (Entry::Direct, None) => Box::new(Off),
            };
            (link, *fallback)
        })
        .collect();
    let chain: Arc<dyn Upstream> = Arc::new(Chain::new(links));
    let split: Arc<dyn Upstream> = match &direct {
        Some(d) if !private.is_empty() => Arc::new(Router::new(
            Box::new(PrivatePatterns(private.to_string())),
            d.clone(),
            chain,
        )),
        _ => chain,
    };
    Ok(match (direct_route, direct) {
        (Some(route), Some(d)) => Arc::new(Router::new(route, d, split)),
        _ => split,
    })
}

/// The upstream reading version control (`direct`), with its repository cache under
/// `data_dir/git`.
fn direct(settings: &Settings, timeout: Duration, trust: Trust) -> anyhow::Result<DirectUpstream> {
    let d = &settings.direct;
    let vcs = gomod::vcs::Govcs::parse(&d.vcs)
        .map_err(|e| anyhow::anyhow!("direct.vcs (AGORA_DIRECT__VCS): {e}"))?;
    let options = DirectOptions {
        hg: d.hg.clone().into(),
        svn: d.svn.clone().into(),
        fossil: d.fossil.clone().into(),
        vcs,
        private: settings.private.clone(),
        git: GitOptions {
            program: d.git.clone().into(),
            timeout: Duration::from_secs(d.git_timeout_secs.max(1)),
            max_processes: d.max_git_processes,
            global_config: (!d.git_config_global.is_empty())
                .then(|| d.git_config_global.clone().into()),
        },
        cache_dir: settings.data_dir.join("git"),
        cache_bytes: d.cache_bytes,
        cache_max_repos: d.cache_max_repos,
        refresh: Duration::from_secs(d.refresh_secs),
        net: NetPolicy {
            allow_private_networks: d.allow_private_networks,
            allowed_cidrs: d.allowed_cidrs.0.clone(),
            insecure: d.insecure.clone(),
            hosts: d.hosts.0.clone(),
        },
        trust,
        proxy_timeout: timeout,
        temp_dir: settings.data_dir.join("tmp"),
    };
    DirectUpstream::new(options).map_err(|e| {
        anyhow::anyhow!(
            "repository cache under {}: {e}",
            settings.data_dir.display()
        )
    })
}
