//! Builds the server on a listener it binds itself, so tests can ask for port 0. It only
//! assembles: the parts come from `app::App::compose`, the routes from `routes`.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App as ActixApp, HttpServer, web};
use tracing_actix_web::TracingLogger;

use super::body::BodyTimeout;
use super::handlers::health::ReadinessTimeout;
use super::origin::Origins;
use super::span::RequestSpan;
use crate::app::{App, store_options};
use crate::auth;
use crate::clock::Clock;
use crate::config::Settings;
use crate::store::{AdminStore, BlobStore, Database, Stores};

/// How long start-up waits for the database's connections to open ahead of use.
const WARM_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);

pub struct Application {
    port: u16,
    server: Server,
    stores: Stores,
}

impl Application {
    /// Connects to the configured store, migrates it unless told not to, and binds.
    pub async fn build(settings: &Settings, migrate: bool) -> anyhow::Result<Self> {
        let stores = Stores::connect(&store_options(settings)).await?;
        if migrate {
            stores.database.migrate().await?;
        }
        // Bounded: a database that is slow to answer must not hold up binding the port.
        let _ = tokio::time::timeout(WARM_WITHIN, stores.database.warm()).await;
        Self::build_with_stores(settings, stores)
    }

    pub fn build_with_stores(settings: &Settings, stores: Stores) -> anyhow::Result<Self> {
        Self::build_with(settings, stores, Clock::system())
    }

    /// As [`Self::build_with_stores`], with the clock sessions and the sign-in throttle read
    /// (tests move theirs forward).
    pub fn build_with(settings: &Settings, stores: Stores, clock: Clock) -> anyhow::Result<Self> {
        let app = App::compose(settings, stores, clock)?;
        let origins = web::Data::new(Origins::new(
            settings.public_url.clone(),
            settings.trusted_proxies.clone(),
        ));
        let body_timeout = web::Data::new(BodyTimeout(std::time::Duration::from_secs(
            settings.ui.form_read_timeout_secs.max(1),
        )));
        let service = web::Data::from(app.service.clone());
        let sumdb = web::Data::from(app.sumdb.clone());
        let authenticator = web::Data::from(app.authenticator.clone());
        let publisher = web::Data::new(app.publisher.clone());
        let admin: web::Data<Arc<dyn AdminStore>> = web::Data::new(app.stores.admin.clone());
        let database: web::Data<Arc<dyn Database>> = web::Data::new(app.stores.database.clone());
        let blobs: web::Data<Arc<dyn BlobStore>> = web::Data::new(app.stores.blobs.clone());
        let readiness = web::Data::new(ReadinessTimeout(app.readiness_timeout));
        let admin_enabled = app.admin_enabled;
        let ui_enabled = app.ui_enabled;
        let pages = web::Data::from(app.pages.clone());
        let listener = TcpListener::bind(&settings.listen)
            .map_err(|e| anyhow::anyhow!("listening on {}: {e}", settings.listen))?;
        let port = listener.local_addr()?.port();
        let server = HttpServer::new(move || {
            ActixApp::new()
                .wrap(from_fn(auth::require_token))
                .wrap(from_fn(super::headers::security_headers))
                .wrap(TracingLogger::<RequestSpan>::new())
                .app_data(service.clone())
                .app_data(sumdb.clone())
                .app_data(authenticator.clone())
                .app_data(publisher.clone())
                .app_data(blobs.clone())
                .app_data(pages.clone())
                .app_data(admin.clone())
                .app_data(database.clone())
                .app_data(readiness.clone())
                .app_data(origins.clone())
                .app_data(body_timeout.clone())
                .configure(|cfg| super::routes::configure(cfg, admin_enabled, ui_enabled))
        })
        .shutdown_timeout(settings.shutdown_grace_secs);
        let server = match super::tls::server_config(settings)? {
            Some(tls) => server.listen_rustls_0_23(listener, tls)?,
            None => server.listen(listener)?,
        }
        .run();
        Ok(Self {
            port,
            server,
            stores: app.stores,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGINT/SIGTERM, letting in-flight requests (and so their fetches) finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        self.stores.database.close().await;
        result
    }
}
