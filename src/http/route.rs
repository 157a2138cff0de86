//! What kind of request a method and path are, cheaply and before any handler runs: the name of
//! the request's root span (`GET zip`, `PUT zip`, `GET sumdb`…), its low-cardinality
//! `http.route`, and the `kind` label of the request metrics.

/// One kind of request and the route template it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub kind: &'static str,
    pub template: &'static str,
}

const fn route(kind: &'static str, template: &'static str) -> Route {
    Route { kind, template }
}

/// The route of `path` (still percent-encoded). Malformed protocol paths keep the kind their shape
/// names: `/Bad/@v/list` is a `list` that will be answered 400.
pub fn route_of(path: &str) -> Route {
    match path {
        "/healthz" => return route("healthz", "/healthz"),
        "/readyz" => return route("readyz", "/readyz"),
        "/metrics" => return route("metrics", "/metrics"),
        "/version" => return route("version", "/version"),
        "/catalog" => return route("catalog", "/catalog"),
        "/admin/versions" => return route("admin", "/admin/versions"),
        "/admin/hide" => return route("admin", "/admin/hide"),
        "/admin/audit" => return route("admin", "/admin/audit"),
        _ => {}
    }
    if path == "/" || path.starts_with("/ui/") {
        return route("ui", "/ui/*");
    }
    if path.starts_with("/sumdb/") {
        return route("sumdb", "/sumdb/{name}/{path}");
    }
    if path.ends_with("/@latest") {
        return route("latest", "/{module}/@latest");
    }
    if path.ends_with("/@v/list") {
        return route("list", "/{module}/@v/list");
    }
    if path.contains("/@v/") {
        if path.ends_with(".info") {
            return route("info", "/{module}/@v/{version}.info");
        }
        if path.ends_with(".mod") {
            return route("mod", "/{module}/@v/{version}.mod");
        }
        if path.ends_with(".zip") {
            return route("zip", "/{module}/@v/{version}.zip");
        }
    }
    route("other", "/*")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let cases = [
            ("/golang.org/x/text/@v/list", "list"),
            ("/golang.org/x/text/@latest", "latest"),
            ("/golang.org/x/text/@v/v0.3.0.info", "info"),
            ("/golang.org/x/text/@v/master.info", "info"),
            ("/golang.org/x/text/@v/v0.3.0.mod", "mod"),
            ("/github.com/!azure/x/@v/v1.0.0.zip", "zip"),
            ("/Bad/@v/list", "list"),
            ("/sumdb/sum.golang.org/lookup/x@v1.0.0", "sumdb"),
            ("/sumdb/sum.golang.org/supported", "sumdb"),
            ("/healthz", "healthz"),
            ("/readyz", "readyz"),
            ("/metrics", "metrics"),
            ("/version", "version"),
            ("/catalog", "catalog"),
            ("/admin/hide", "admin"),
            ("/", "ui"),
            ("/ui/search", "ui"),
            ("/ui/mod/golang.org/x/text", "ui"),
            ("/favicon.ico", "other"),
            ("/golang.org/x/text/@v/v1.0.0.tar", "other"),
        ];
        for (path, kind) in cases {
            assert_eq!(route_of(path).kind, kind, "{path}");
        }
        assert_eq!(
            route_of("/m/@v/v1.0.0.zip").template,
            "/{module}/@v/{version}.zip"
        );
    }
}
