#include <gtest/gtest.h>

#include <zlib.h>
#include <boost/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "api/openapi.hpp"
#include "api/pagination.hpp"
#include "api/service.hpp"
#include "api/worker_pool.hpp"
#include "app/assemble.hpp"
#include "rollup/serving_store.hpp"
#include "support/test_server.hpp"
#include "web/assets.hpp"
#include "web/routes.hpp"

namespace frost::web {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

// Oracle for the gzip forms: zlib's own inflate, in gzip mode.
std::string gunzip(std::string_view z) {
    z_stream s{};
    EXPECT_EQ(inflateInit2(&s, 15 + 16), Z_OK);
    std::string out(1 << 20, '\0');
    s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(z.data()));
    s.avail_in = static_cast<uInt>(z.size());
    s.next_out = reinterpret_cast<Bytef*>(out.data());
    s.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(inflate(&s, Z_FINISH), Z_STREAM_END);
    out.resize(s.total_out);
    inflateEnd(&s);
    return out;
}

class temp_dir {
public:
    temp_dir() {
        std::random_device rd;
        path_ = fs::temp_directory_path() / ("frost-web-test-" + std::to_string(rd()));
        fs::create_directories(path_);
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    void write(const std::string& rel, const std::string& bytes) const {
        fs::create_directories((path_ / rel).parent_path());
        std::ofstream(path_ / rel, std::ios::binary) << bytes;
    }
    [[nodiscard]] const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

std::string big_script() {
    std::string s;
    for (int i = 0; i < 400; ++i) s += "console.log('line " + std::to_string(i) + "');\n";
    return s;
}

TEST(web_assets, loads_files_with_types_etags_and_gzip) {
    temp_dir d;
    d.write("dashboard.html", "<!doctype html><title>x</title>");
    d.write("assets/app.js", big_script());
    d.write("assets/style.css", "body{}");
    d.write("assets/logo.png", std::string("\x89PNG\r\n\x1a\n", 8));
    d.write(".stamp", "secret-ish build stamp");
    d.write(".hidden/inner.js", "nope");
    auto store = asset_store::load(d.path());
    ASSERT_TRUE(store) << store.error().message;
    const auto& s = store.value();
    EXPECT_EQ(s.files().size(), 4u);
    EXPECT_EQ(s.find(".stamp"), nullptr);
    EXPECT_EQ(s.find(".hidden/inner.js"), nullptr);
    ASSERT_NE(s.find("assets/app.js"), nullptr);
    EXPECT_EQ(s.find("assets/app.js")->content_type, "application/javascript; charset=utf-8");
    EXPECT_EQ(s.find("dashboard.html")->content_type, "text/html; charset=utf-8");
    EXPECT_EQ(s.find("assets/style.css")->content_type, "text/css; charset=utf-8");
    EXPECT_EQ(s.find("assets/logo.png")->content_type, "image/png");
    const auto* js = s.find("assets/app.js");
    ASSERT_TRUE(js->gzipped);
    EXPECT_LT(js->gzipped->size(), js->bytes->size());
    EXPECT_EQ(gunzip(*js->gzipped), *js->bytes);
    EXPECT_EQ(s.find("assets/logo.png")->gzipped, nullptr) << "PNG is already compressed";
    EXPECT_EQ(js->etag.front(), '"');
    EXPECT_NE(js->etag, s.find("assets/style.css")->etag);
}

TEST(web_assets, refuses_what_is_not_a_folder_or_too_big) {
    temp_dir d;
    EXPECT_FALSE(asset_store::load(d.path() / "missing"));
    d.write("a.js", std::string(2048, 'x'));
    EXPECT_FALSE(asset_store::load(d.path(), 1024));
    EXPECT_FALSE(asset_store::load(d.path() / "a.js"));
}

TEST(web_assets, links_out_of_the_root_are_not_served) {
    temp_dir outside, root;
    outside.write("secret.txt", "do not serve");
    root.write("dashboard.html", "ok");
    fs::create_symlink(outside.path() / "secret.txt", root.path() / "leak.txt");
    auto store = asset_store::load(root.path());
    ASSERT_TRUE(store);
    EXPECT_EQ(store.value().find("leak.txt"), nullptr);
    EXPECT_NE(store.value().find("dashboard.html"), nullptr);
}

TEST(web_assets, the_web_root_is_the_explicit_one_then_the_environment) {
    EXPECT_EQ(find_web_root("/some/where").value(), fs::path("/some/where"));
    ::setenv("FROST_WEB_ROOT", "/from/env", 1);
    EXPECT_EQ(find_web_root("").value(), fs::path("/from/env"));
    ::unsetenv("FROST_WEB_ROOT");
}

// A service over the sample data, with the web routes mounted.
class mounted : public ::testing::Test {
protected:
    void SetUp() override {
        auto cfg = std::make_shared<const config::config>(testing::default_config(testing::sample_database()));
        app::assemble_options assembly;
        assembly.guards = app::guard_mode::none;
        auto assembled = app::assemble(*cfg, assembly);
        ASSERT_TRUE(assembled) << assembled.error().message;
        sources_ = assembled.value().sources;
        rollups_ = assembled.value().rollups;
        workers_ = std::move(assembled.value().workers);
        svc_ = std::move(assembled.value().service);
    }
    void TearDown() override {
        svc_.reset();
        workers_.reset();
    }
    api::response get(const std::string& target, std::vector<std::pair<std::string, std::string>> headers = {},
                      const std::string& method = "GET") {
        api::request req;
        req.method = method;
        req.target = target;
        req.headers = std::move(headers);
        return svc_->handle_sync(std::move(req));
    }

    api::source_map sources_;
    std::shared_ptr<rollup::serving_store> rollups_;
    std::unique_ptr<api::worker_pool> workers_;
    std::unique_ptr<api::service> svc_;
};

TEST_F(mounted, without_built_pages_the_pages_answer_404_json_and_the_api_still_works) {
    temp_dir empty;
    auto report = mount(*svc_, {(empty.path() / "nothing-here").string(), nullptr, {}});
    EXPECT_TRUE(report.web_root.empty());
    EXPECT_FALSE(report.problem.empty());
    for (const char* page : {"/dashboard", "/docs"}) {
        auto r = get(page);
        EXPECT_EQ(r.status, 404) << page;
        auto body = json::parse(r.body_view()).as_object();
        EXPECT_EQ(body.at("code").as_string(), "FR404");
        EXPECT_NE(std::string(body.at("hint").as_string()).find("build-web.sh"), std::string::npos);
    }
    auto spec = get("/openapi.json");
    EXPECT_EQ(spec.status, 200);
    EXPECT_EQ(json::parse(spec.body_view()).as_object().at("openapi").as_string(), "3.1.0");
    EXPECT_EQ(get("/trips/monthly").status, 200);
    EXPECT_EQ(get("/").status, 200);
}

TEST_F(mounted, pages_and_assets_are_served_with_caching_headers_and_gzip) {
    temp_dir d;
    d.write("dashboard.html", "<!doctype html><h1>dash</h1>");
    d.write("docs.html", "<!doctype html><h1>docs</h1>");
    d.write("assets/app.js", big_script());
    d.write("notes.txt", "not under assets: not served");
    auto report = mount(*svc_, {d.path().string(), nullptr, {}});
    ASSERT_FALSE(report.web_root.empty()) << report.problem;

    auto page = get("/dashboard");
    EXPECT_EQ(page.status, 200);
    EXPECT_EQ(page.body_view(), "<!doctype html><h1>dash</h1>");
    EXPECT_EQ(page.header("Content-Type"), "text/html; charset=utf-8");
    EXPECT_NE(page.header("Content-Security-Policy").find("default-src 'self'"), std::string_view::npos);
    auto slash = get("/dashboard/");
    EXPECT_EQ(slash.status, 308) << "relative links of the page need /dashboard, not /dashboard/";
    EXPECT_EQ(slash.header("Location"), "../dashboard");
    EXPECT_EQ(get("/docs").body_view(), "<!doctype html><h1>docs</h1>");

    auto js = get("/assets/app.js");
    EXPECT_EQ(js.status, 200);
    EXPECT_EQ(js.body_view(), big_script());
    const std::string etag(js.header("ETag"));
    ASSERT_FALSE(etag.empty());
    auto again = get("/assets/app.js", {{"if-none-match", etag}});
    EXPECT_EQ(again.status, 304);
    EXPECT_TRUE(again.body_view().empty());
    auto zipped = get("/assets/app.js", {{"accept-encoding", "br, gzip;q=0.8"}});
    EXPECT_EQ(zipped.header("Content-Encoding"), "gzip");
    EXPECT_EQ(gunzip(zipped.body_view()), big_script());
    const std::string gzip_etag(zipped.header("ETag"));
    EXPECT_NE(gzip_etag, etag) << "two representations, two strong tags";
    EXPECT_EQ(get("/assets/app.js", {{"if-none-match", gzip_etag}, {"accept-encoding", "gzip"}}).status, 304);
    EXPECT_EQ(get("/assets/app.js", {{"if-none-match", "\"something-else\""}}).status, 200);
    EXPECT_EQ(get("/assets/app.js", {{"accept-encoding", "gzip;q=0"}}).header("Content-Encoding"), "");

    EXPECT_EQ(get("/notes.txt").status, 404);
    EXPECT_EQ(get("/assets/missing.js").status, 404);
    EXPECT_EQ(get("/dashboard", {}, "POST").status, 405);
}

// Oracle: the columns a real run of each endpoint's query returns, asked of the source
// directly; the spec's exact row schema must name the same columns in the same order.
TEST_F(mounted, described_columns_are_those_of_a_real_run) {
    const auto& cfg = svc_->configuration();
    const auto learned = api::describe_results(cfg, sources_, rollups_.get());
    std::size_t queried = 0;
    for (const auto& e : cfg.endpoints) {
        if (e.static_body) continue;
        source::source* src =
            e.rollup.empty() ? (sources_.count(e.source) ? sources_.at(e.source).get() : nullptr) : rollups_.get();
        if (!src) continue;
        ++queried;
        ASSERT_TRUE(learned.count(e.path)) << e.path;
        auto sql = e.sql.count("duckdb") ? e.sql.at("duckdb") : e.sql.at("");
        std::vector<source::parameter> params;
        if (e.date_range) {
            params.push_back({e.date_range->start, std::monostate{}});
            params.push_back({e.date_range->end, std::monostate{}});
        }
        // A paginated endpoint's SQL also takes its page placeholders (docs/formats.md): its first page.
        if (e.paginate) api::bind_page(params, *e.paginate, {}, e.paginate->max_page_size);
        source::query q{sql, params, model::deadline::after(std::chrono::seconds(30)), e.path, 100'000};
        auto table = src->run(q);
        ASSERT_TRUE(table) << table.error().message;
        const auto& got = learned.at(e.path);
        ASSERT_EQ(got.size(), table.value().columns.size()) << e.path;
        for (std::size_t i = 0; i < got.size(); ++i) {
            EXPECT_EQ(got[i].name, table.value().columns[i].name);
            EXPECT_EQ(got[i].type, table.value().columns[i].type) << e.path << " " << got[i].name;
        }
    }
    EXPECT_GE(queried, 3u);
}

bool json_type_is(const json::value& v, std::string_view type) {
    if (type == "null") return v.is_null();
    if (type == "string") return v.is_string();
    if (type == "boolean") return v.is_bool();
    if (type == "integer") return v.is_int64() || v.is_uint64();
    if (type == "number") return v.is_number();
    return false;
}

// Contract: real answers of the mounted service match the document it serves: statuses are
// documented, error codes are listed for their status, rows have the declared cell types.
TEST_F(mounted, answers_match_the_served_document) {
    const auto& cfg = svc_->configuration();
    auto report = mount(*svc_, {"/nonexistent", &sources_, {}});
    EXPECT_GE(report.described, 3u);
    const auto spec = json::parse(get("/openapi.json").body_view()).as_object();
    const auto& schemas = spec.at("components").as_object().at("schemas").as_object();
    const auto& shared = spec.at("components").as_object().at("responses").as_object();
    auto ref_name = [](const json::value& v) {
        std::string r(v.as_object().at("$ref").as_string());
        return r.substr(r.rfind('/') + 1);
    };
    std::size_t rows_checked = 0;
    for (const auto& e : cfg.endpoints) {
        const auto& operation = spec.at("paths").as_object().at(e.path).as_object().at("get").as_object();
        const auto& responses = operation.at("responses").as_object();
        std::vector<std::string> targets{e.path, e.path + "?no_such_param=1"};
        if (e.date_range) {
            targets.push_back(e.path + "?" + e.date_range->start + "=2019-06-01&" + e.date_range->end + "=2019-07-15");
            targets.push_back(e.path + "?" + e.date_range->start + "=2019-06-01");
            targets.push_back(e.path + "?" + e.date_range->start + "=2019-13-01&" + e.date_range->end + "=2019-07-15");
        }
        for (const auto& t : targets) {
            auto r = get(t);
            const auto status = std::to_string(r.status);
            ASSERT_TRUE(responses.contains(status)) << t << " answered undocumented " << status;
            auto body = json::parse(r.body_view());
            if (r.status != 200) {
                const auto& doc = shared.at(ref_name(responses.at(status))).as_object();
                const auto& codes = doc.at("content")
                                        .as_object()
                                        .at("application/json")
                                        .as_object()
                                        .at("schema")
                                        .as_object()
                                        .at("allOf")
                                        .as_array()
                                        .at(1)
                                        .as_object()
                                        .at("properties")
                                        .as_object()
                                        .at("code")
                                        .as_object()
                                        .at("enum")
                                        .as_array();
                const auto& code = body.as_object().at("code");
                EXPECT_NE(std::find(codes.begin(), codes.end(), code), codes.end()) << t << " " << code;
                EXPECT_TRUE(body.as_object().at("error").is_string());
                continue;
            }
            if (e.static_body) continue;
            const auto& envelope = schemas
                                       .at(ref_name(responses.at("200")
                                                        .as_object()
                                                        .at("content")
                                                        .as_object()
                                                        .at("application/json")
                                                        .as_object()
                                                        .at("schema")))
                                       .as_object();
            const auto& row =
                schemas.at(ref_name(envelope.at("properties").as_object().at("result").as_object().at("items")))
                    .as_object();
            ASSERT_TRUE(row.contains("prefixItems")) << e.path;
            const auto& cells = row.at("prefixItems").as_array();
            EXPECT_TRUE(body.as_object().at("time_ms").is_int64());
            for (const auto& got : body.as_object().at("result").as_array()) {
                ASSERT_EQ(got.as_array().size(), cells.size()) << t;
                for (std::size_t i = 0; i < cells.size(); ++i) {
                    bool ok = false;
                    for (const auto& ty : cells[i].as_object().at("type").as_array())
                        ok = ok || json_type_is(got.as_array()[i], ty.as_string());
                    EXPECT_TRUE(ok) << t << " cell " << i << " = " << json::serialize(got.as_array()[i]);
                }
                ++rows_checked;
            }
        }
    }
    EXPECT_GT(rows_checked, 20u);
}

}  // namespace
}  // namespace frost::web
