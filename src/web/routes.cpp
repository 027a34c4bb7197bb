#include "web/routes.hpp"

#include <memory>

#include "cache/http_caching.hpp"
#include "cache/response_cache.hpp"
#include "web/assets.hpp"

namespace frost::web {

namespace {

// Swagger UI styles some elements inline and draws icons from data: URIs; nothing leaves
// this origin.
constexpr std::string_view page_policy =
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'self'";

api::response method_not_allowed(const api::request& req) {
    auto r = api::error_response({model::error_code::method_not_allowed,
                                  "method " + req.method.substr(0, 16) + " is not allowed here",
                                  {},
                                  "use GET"});
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
}

// Everything but the body is fixed at start-up: the entry holds both forms, their ETags and
// the headers of every answer (the caching headers, and the security policy on pages).
using static_answer = std::shared_ptr<const cache::entry>;

static_answer make_answer(std::shared_ptr<const std::string> bytes, std::shared_ptr<const std::string> gzipped,
                          const std::string& content_type, std::string etag, std::string gzip_etag, bool page,
                          bool cors) {
    cache::header_list headers = {{"Cache-Control", "no-cache"}, {"X-Content-Type-Options", "nosniff"}};
    if (cors) headers.emplace_back("Access-Control-Allow-Origin", "*");
    if (page) {
        headers.emplace_back("Content-Security-Policy", std::string(page_policy));
        headers.emplace_back("Referrer-Policy", "no-referrer");
    }
    headers.emplace_back("Content-Type", content_type);
    return cache::make_static_entry(std::move(bytes), std::move(gzipped), std::move(etag), std::move(gzip_etag),
                                    headers);
}

api::response serve(const static_answer& a, const api::request& req) {
    if (req.method != "GET" && req.method != "HEAD") return method_not_allowed(req);
    return api::cached_response(*a, req);
}

static_answer from_asset(const asset& a, bool page) {
    return make_answer(a.bytes, a.gzipped, a.content_type, a.etag, a.gzip_etag, page, false);
}

}  // namespace

mount_report mount(api::service& svc, const mount_options& opts) {
    mount_report report;
    const auto& cfg = svc.configuration();

    auto spec_options = opts.openapi;
    // Served, the document's server is where it was fetched from: `.` keeps "Try it out" on
    // the same origin and path prefix (an API Gateway stage, a proxy's /api/).
    if (spec_options.server_urls == std::vector<std::string>{"/"}) spec_options.server_urls = {"."};
    if (opts.sources) {
        auto learned = api::describe_results(cfg, *opts.sources, svc.serving_store());
        report.described = learned.size();
        for (auto& [path, cols] : learned) spec_options.columns.try_emplace(path, std::move(cols));
    }
    {
        auto spec = std::make_shared<const std::string>(api::render_openapi(cfg, spec_options));
        const auto answer = make_answer(spec, gzip_if_smaller(*spec), "application/json", cache::strong_etag(*spec),
                                        cache::strong_etag(*spec, "-gz"), false, true);
        svc.add_route("/openapi.json", [answer](const api::request& req) { return serve(answer, req); });
    }

    auto root = find_web_root(opts.web_root);
    std::shared_ptr<const asset_store> store;
    if (!root) {
        report.problem = "no built web files found (looked for .cache/web/dashboard.html; run ./scripts/build-web.sh)";
    } else {
        auto loaded = asset_store::load(*root);
        if (!loaded) {
            report.problem = loaded.error().message;
        } else if (!loaded.value().find("dashboard.html") || !loaded.value().find("docs.html")) {
            report.problem = "web root " + root->string() + " lacks dashboard.html or docs.html";
        } else {
            store = std::make_shared<const asset_store>(std::move(loaded).value());
            report.web_root = store->root().string();
        }
    }

    if (!store) {
        const std::string why = report.problem;
        auto missing = [why](const api::request& req) {
            if (req.method != "GET" && req.method != "HEAD") return method_not_allowed(req);
            return api::error_response({model::error_code::not_found, "the dashboard and docs pages are not built", why,
                                        "run ./scripts/build-web.sh (make build does it) and restart frost; "
                                        "the API and /openapi.json work without them"});
        };
        for (const char* p : {"/dashboard", "/dashboard/", "/docs", "/docs/"}) svc.add_route(p, missing);
        return report;
    }

    for (const auto& [page, file] : {std::pair{"/dashboard", "dashboard.html"}, std::pair{"/docs", "docs.html"}}) {
        const auto answer = from_asset(*store->find(file), true);
        svc.add_route(page, [answer](const api::request& req) { return serve(answer, req); });
        // The pages use relative URLs, which resolve wrongly below `/dashboard/`: send it up.
        svc.add_route(std::string(page) + "/", [to = "../" + std::string(page).substr(1)](const api::request& req) {
            if (req.method != "GET" && req.method != "HEAD") return method_not_allowed(req);
            api::response r;
            r.status = 308;
            r.headers.emplace_back("Location", to);
            return r;
        });
    }
    for (const auto& [rel, a] : store->files()) {
        if (!rel.starts_with("assets/")) continue;
        const auto answer = from_asset(a, false);
        svc.add_route("/" + rel, [answer](const api::request& req) { return serve(answer, req); });
        ++report.files;
    }
    report.files += 2;
    return report;
}

}  // namespace frost::web
