//! Every route of the server, in one table. Module paths can be any depth, so the download
//! protocol and publishing take whatever the fixed paths above them did not.

use actix_web::{Route, guard, web};

use super::handlers::{admin, health, protocol, publish, sumdb, ui, ui_admin};

/// `GET` or `HEAD`: every read of the protocol answers both.
fn read() -> Route {
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}

pub fn configure(cfg: &mut web::ServiceConfig, admin_enabled: bool, ui_enabled: bool) {
    if ui_enabled {
        // No module path is `/` or starts with `ui/` (a module's first element has a dot).
        cfg.route("/", read().to(ui::home))
            .route("/ui/search", read().to(ui::search))
            .route("/ui/ops", read().to(ui::ops))
            .route("/ui/mod/{rest:.*}", read().to(ui::module))
            .route("/ui/assets/{name}", read().to(ui::asset))
            .route("/ui/login", read().to(ui_admin::login_form))
            .route("/ui/login", web::post().to(ui_admin::login))
            .route("/ui/logout", web::post().to(ui_admin::logout));
        if admin_enabled {
            cfg.route("/ui/admin", read().to(ui_admin::console))
                .route("/ui/admin/tokens", web::post().to(ui_admin::create_token))
                .route("/ui/admin/revoke", web::post().to(ui_admin::revoke_token))
                .route(
                    "/ui/admin/sessions/end",
                    web::post().to(ui_admin::end_session),
                )
                .route("/ui/admin/hide", web::post().to(ui_admin::hide))
                .route("/ui/admin/expire", web::post().to(ui_admin::expire));
        }
    }
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/metrics", web::get().to(health::metrics))
        .route("/version", web::get().to(health::version))
        .route("/catalog", web::get().to(admin::catalog));
    if admin_enabled {
        cfg.route("/admin/versions", web::get().to(admin::versions))
            .route("/admin/hide", web::post().to(admin::hide))
            .route("/admin/audit", web::get().to(admin::audit));
    } else {
        cfg.route("/admin/{rest:.*}", web::route().to(publish::disabled));
    }
    cfg.service(
        web::resource("/sumdb/{rest:.*}")
            .route(read().to(sumdb::serve))
            .default_service(web::to(protocol::method_not_allowed)),
    );
    let put = if admin_enabled {
        web::put().to(publish::put)
    } else {
        web::put().to(publish::disabled)
    };
    cfg.service(
        web::resource("/{path:.*}")
            .route(read().to(protocol::serve))
            .route(put)
            .default_service(web::to(protocol::method_not_allowed)),
    );
}
