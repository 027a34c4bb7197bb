#pragma once

#include <boost/json/object.hpp>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "api/service.hpp"
#include "config/config.hpp"
#include "model/value.hpp"

namespace frost::api {

/// The result columns of each endpoint whose row shape is known, by endpoint path. Endpoints
/// missing here get a generic row schema (any scalar per cell).
using result_columns = std::map<std::string, std::vector<model::column>>;

/// One way callers authenticate, for `components.securitySchemes` (OpenAPI 3.1 Security
/// Scheme Object). Unused fields stay empty.
struct security_scheme {
    std::string name;                 ///< key under `securitySchemes`, e.g. `api_key`, `bearer`
    std::string type;                 ///< `apiKey`, `http`, `oauth2` or `openIdConnect`
    std::string scheme;               ///< http: `bearer` or `basic`
    std::string bearer_format;        ///< http bearer: e.g. `JWT`
    std::string in;                   ///< apiKey: `header`, `query` or `cookie`
    std::string parameter_name;       ///< apiKey: e.g. `X-Api-Key`
    std::string open_id_connect_url;  ///< openIdConnect: the discovery document
    std::string description;
};

/// What the spec says beyond the endpoint config.
struct openapi_options {
    std::string title = "Frost API";
    std::string version = "0.1.0";
    std::string description;
    /// `servers[].url`; the default `/` means "the server that serves this document", which
    /// makes the docs page's "try it" call the same origin.
    std::vector<std::string> server_urls{"/"};
    result_columns columns;
};

/// The security schemes the config's endpoints use (`auth:` on them or `auth.default`):
/// `api_key` (header `X-Api-Key`) for API keys, `bearer` (JWT) for tokens; empty when every
/// endpoint is public. Each operation then lists the ones it accepts (any one suffices), or
/// an empty list when it is public.
[[nodiscard]] std::vector<security_scheme> security_from_config(const config::config& cfg);

/// Builds the OpenAPI 3.1 document of `cfg`: one GET operation per configured endpoint with
/// its query parameters (types, formats, required, defaults, enums, ranges, aliases, the date
/// range pair and its random switch), the `{"result": rows, "time_ms": n}` envelope with a
/// row schema (exact when `opts.columns` knows the endpoint), and the `{error, code, details?,
/// hint?}` error body for every status the endpoint can answer (401/403 where auth applies,
/// 429 where a rate limit does). Parameters bound to JWT claims are not listed: callers cannot
/// set them. Pure: no I/O, thread-safe.
[[nodiscard]] boost::json::object build_openapi(const config::config& cfg, const openapi_options& opts);

/// `build_openapi` as indented JSON text with a trailing newline.
[[nodiscard]] std::string render_openapi(const config::config& cfg, const openapi_options& opts);

/// JSON text of `v`, indented by two spaces per level (Boost.JSON only writes compact text).
[[nodiscard]] std::string pretty_json(const boost::json::value& v);

/// Learns each endpoint's result columns by asking its source for the query's shape with no
/// rows (`select * from (<sql>) limit 0`, every parameter NULL). Only DuckDB sources are
/// asked: a warehouse would be woken (and billed) for it. Blocking; call at start-up, not
/// on an I/O thread. Endpoints whose probe fails are left out (logged at debug level), so
/// the spec falls back to generic rows; it never fails as a whole. Endpoints over a rollup are
/// asked of `rollups`, the serving store (null: none, they get generic rows).
[[nodiscard]] result_columns describe_results(const config::config& cfg, const source_map& sources,
                                              rollup::serving_store* rollups,
                                              std::chrono::milliseconds per_query = std::chrono::seconds(5));

}  // namespace frost::api
