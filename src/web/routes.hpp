#pragma once

#include <cstddef>
#include <string>

#include "api/openapi.hpp"
#include "api/service.hpp"

namespace frost::web {

/// How `mount` finds the pages and describes the API.
struct mount_options {
    std::string web_root;  ///< empty: `find_web_root` decides
    /// When set, each endpoint's result columns are learned from its source at mount time
    /// (`api::describe_results`), so the spec's row schemas are exact. Must outlive `mount`.
    const api::source_map* sources = nullptr;
    api::openapi_options openapi;
};

/// What `mount` found, for the start-up log.
struct mount_report {
    std::string web_root;       ///< empty when no built pages were found
    std::size_t files = 0;      ///< files served under /assets and the pages
    std::string problem;        ///< why the pages are not served, when they are not
    std::size_t described = 0;  ///< endpoints whose row schema is exact
};

/// Registers the built-in web routes on `svc` (before serving starts; not thread-safe):
/// `GET /openapi.json` (always), `GET /dashboard`, `GET /docs` and `GET /assets/...` from the
/// web root, read once into memory. Without built pages the two pages answer 404 JSON with
/// a hint to run `scripts/build-web.sh`, and the API itself is unaffected. Static answers carry
/// a strong ETag (304 on `If-None-Match`), gzip when the client accepts it, and on pages a
/// Content-Security-Policy that allows only this origin.
mount_report mount(api::service& svc, const mount_options& opts);

}  // namespace frost::web
