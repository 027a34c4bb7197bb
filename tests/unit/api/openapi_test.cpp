#include <gtest/gtest.h>

#include <yaml-cpp/yaml.h>
#include <boost/json.hpp>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "api/openapi.hpp"
#include "cache/http_caching.hpp"
#include "config/config.hpp"
#include "model/error.hpp"

namespace frost::api {
namespace {

namespace json = boost::json;

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

const std::string default_yaml_path = std::string(FROST_SOURCE_DIR) + "/config/frost.yaml";

config::config load(const std::string& yaml) {
    auto cfg = config::load_text(yaml, "test.yaml", FROST_SOURCE_DIR);
    if (!cfg) throw std::runtime_error(cfg.error().message);
    return std::move(cfg).value();
}

json::object spec_of(const config::config& cfg, const openapi_options& opts = {}) {
    // Through text and back: what clients get is the rendered document.
    auto v = json::parse(render_openapi(cfg, opts));
    return v.as_object();
}

const json::object& op(const json::object& spec, const std::string& path) {
    return spec.at("paths").as_object().at(path).as_object().at("get").as_object();
}

const json::object* param(const json::object& operation, const std::string& name) {
    if (!operation.contains("parameters")) return nullptr;
    for (const auto& p : operation.at("parameters").as_array())
        if (p.as_object().at("name").as_string() == name) return &p.as_object();
    return nullptr;
}

const json::object& resolve(const json::object& spec, const json::value& maybe_ref) {
    const auto& o = maybe_ref.as_object();
    if (!o.contains("$ref")) return o;
    std::string ref(o.at("$ref").as_string());
    const std::string prefix = "#/components/";
    EXPECT_EQ(ref.rfind(prefix, 0), 0u) << ref;
    ref = ref.substr(prefix.size());
    const auto slash = ref.find('/');
    return spec.at("components").as_object().at(ref.substr(0, slash)).as_object().at(ref.substr(slash + 1)).as_object();
}

// Oracle: the repository's config read with yaml-cpp directly, not through Frost's loader.
TEST(openapi, every_route_and_parameter_of_the_default_config_appears) {
    const auto cfg = config::load_file(default_yaml_path);
    ASSERT_TRUE(cfg) << cfg.error().message;
    const auto spec = spec_of(cfg.value());
    EXPECT_EQ(spec.at("openapi").as_string(), "3.1.0");

    const YAML::Node root = YAML::LoadFile(default_yaml_path);
    std::set<std::string> yaml_paths;
    for (const auto& e : root["endpoints"]) {
        const auto path = e["path"].as<std::string>();
        yaml_paths.insert(path);
        ASSERT_TRUE(spec.at("paths").as_object().contains(path)) << path;
        const auto& operation = op(spec, path);
        if (e["summary"]) {
            EXPECT_EQ(operation.at("summary").as_string(), e["summary"].as<std::string>());
        }
        if (const auto& dr = e["date_range"]) {
            for (const char* key : {"start", "end"}) {
                const auto name = dr[key].as<std::string>();
                const auto* p = param(operation, name);
                ASSERT_NE(p, nullptr) << path << " " << name;
                EXPECT_EQ(p->at("schema").as_object().at("format").as_string(), "date");
                EXPECT_FALSE(p->at("required").as_bool());
            }
            for (const char* key : {"start_aliases", "end_aliases"})
                for (const auto& a : dr[key]) EXPECT_NE(param(operation, a.as<std::string>()), nullptr) << a;
            if (const auto& rnd = dr["random"]) {
                const auto* p = param(operation, rnd["param"].as<std::string>());
                ASSERT_NE(p, nullptr);
                EXPECT_EQ(p->at("schema").as_object().at("type").as_string(), "boolean");
                const auto& ext = operation.at("x-frost-date-range").as_object().at("random_window").as_object();
                EXPECT_EQ(ext.at("from").as_string(), rnd["from"].as<std::string>());
                EXPECT_EQ(ext.at("to").as_string(), rnd["to"].as<std::string>());
            }
        }
        if (const auto& ps = e["params"]) {
            for (const auto& p : ps) EXPECT_NE(param(operation, p["name"].as<std::string>()), nullptr);
        }
    }
    EXPECT_EQ(spec.at("paths").as_object().size(), yaml_paths.size());
}

TEST(openapi, an_endpoint_added_to_the_yaml_appears_with_its_parameters) {
    auto yaml = read_file(default_yaml_path);
    yaml += R"(
  - path: /stations/busiest
    summary: Busiest start stations
    description: The stations most trips start from.
    tags: [stations]
    source: local
    format: objects
    params:
      - {name: top, type: integer, default: "10", minimum: 1, maximum: 100, description: How many stations}
      - {name: usertype, type: string, required: true, enum: [Subscriber, Customer], description: Rider kind}
      - {name: min_share, type: number, minimum: 0, maximum: 1}
      - {name: weekends, type: boolean, default: "false", aliases: [we]}
      - {name: since, type: date}
    sql: select start_station_id, count(*) as trips from demo.trips group by 1 order by 2 desc limit $top
)";
    const auto spec = spec_of(load(yaml));
    const auto& operation = op(spec, "/stations/busiest");
    EXPECT_EQ(operation.at("summary").as_string(), "Busiest start stations");
    EXPECT_EQ(operation.at("operationId").as_string(), "getStationsBusiest");
    EXPECT_EQ(operation.at("tags").as_array().at(0).as_string(), "stations");

    const auto* top = param(operation, "top");
    ASSERT_NE(top, nullptr);
    EXPECT_FALSE(top->at("required").as_bool());
    EXPECT_EQ(top->at("description").as_string(), "How many stations");
    const auto& top_schema = top->at("schema").as_object();
    EXPECT_EQ(top_schema.at("type").as_string(), "integer");
    EXPECT_EQ(top_schema.at("default").as_int64(), 10);
    EXPECT_EQ(top_schema.at("minimum").as_int64(), 1);
    EXPECT_EQ(top_schema.at("maximum").as_int64(), 100);

    const auto* usertype = param(operation, "usertype");
    ASSERT_NE(usertype, nullptr);
    EXPECT_TRUE(usertype->at("required").as_bool());
    const auto& allowed = usertype->at("schema").as_object().at("enum").as_array();
    ASSERT_EQ(allowed.size(), 2u);
    EXPECT_EQ(allowed[0].as_string(), "Subscriber");

    const auto& share = param(operation, "min_share")->at("schema").as_object();
    EXPECT_EQ(share.at("type").as_string(), "number");
    EXPECT_EQ(share.at("maximum").to_number<double>(), 1.0);

    EXPECT_EQ(param(operation, "weekends")->at("schema").as_object().at("default").as_bool(), false);
    ASSERT_NE(param(operation, "we"), nullptr) << "aliases are documented too";
    EXPECT_EQ(param(operation, "since")->at("schema").as_object().at("format").as_string(), "date");

    // Objects rows without known columns: an object of scalars.
    const auto& ok = operation.at("responses").as_object().at("200").as_object();
    const auto& envelope = resolve(spec, ok.at("content").as_object().at("application/json").as_object().at("schema"));
    const auto& row = resolve(spec, envelope.at("properties").as_object().at("result").as_object().at("items"));
    EXPECT_EQ(row.at("type").as_string(), "object");
    EXPECT_TRUE(row.contains("additionalProperties"));
}

TEST(openapi, envelope_and_rows_follow_the_known_columns) {
    const auto cfg = load(read_file(default_yaml_path));
    openapi_options opts;
    opts.columns["/trips/monthly"] = {{"trip_count", model::column_type::integer}, {"month", model::column_type::text}};
    opts.columns["/trips/temperature"] = {{"temp", model::column_type::decimal},
                                          {"trip_count", model::column_type::integer}};
    const auto spec = spec_of(cfg, opts);

    const auto& monthly = op(spec, "/trips/monthly");
    const auto& envelope = resolve(spec, monthly.at("responses")
                                             .as_object()
                                             .at("200")
                                             .as_object()
                                             .at("content")
                                             .as_object()
                                             .at("application/json")
                                             .as_object()
                                             .at("schema"));
    const auto& required = envelope.at("required").as_array();
    EXPECT_NE(std::find(required.begin(), required.end(), json::value("result")), required.end());
    EXPECT_NE(std::find(required.begin(), required.end(), json::value("time_ms")), required.end());
    EXPECT_EQ(envelope.at("properties").as_object().at("time_ms").as_object().at("type").as_string(), "integer");
    const auto& row = resolve(spec, envelope.at("properties").as_object().at("result").as_object().at("items"));
    EXPECT_EQ(row.at("type").as_string(), "array");
    const auto& cells = row.at("prefixItems").as_array();
    ASSERT_EQ(cells.size(), 2u);
    EXPECT_EQ(cells[0].as_object().at("title").as_string(), "trip_count");
    EXPECT_EQ(cells[0].as_object().at("type").as_array().at(0).as_string(), "integer");
    EXPECT_EQ(cells[1].as_object().at("type").as_array().at(0).as_string(), "string");
    EXPECT_EQ(row.at("items").as_bool(), false);

    // An endpoint without known columns still says what a row is.
    const auto& dow = op(spec, "/trips/day_of_week");
    const auto& dow_env = resolve(spec, dow.at("responses")
                                            .as_object()
                                            .at("200")
                                            .as_object()
                                            .at("content")
                                            .as_object()
                                            .at("application/json")
                                            .as_object()
                                            .at("schema"));
    const auto& dow_row = resolve(spec, dow_env.at("properties").as_object().at("result").as_object().at("items"));
    EXPECT_EQ(dow_row.at("type").as_string(), "array");
    EXPECT_FALSE(dow_row.contains("prefixItems"));
}

// Oracle: model's one table of error codes -> HTTP statuses; every documented failure of a
// report must carry the error schema and list exactly the codes that map to its status.
TEST(openapi, error_responses_follow_the_error_table) {
    const auto spec = spec_of(load(read_file(default_yaml_path)));
    const auto& responses = op(spec, "/trips/monthly").at("responses").as_object();
    for (const char* status : {"400", "500", "502", "503", "504"}) {
        ASSERT_TRUE(responses.contains(status)) << status;
        const auto& r = resolve(spec, responses.at(status));
        const auto& schema = r.at("content").as_object().at("application/json").as_object().at("schema").as_object();
        const auto& all_of = schema.at("allOf").as_array();
        EXPECT_EQ(all_of[0].as_object().at("$ref").as_string(), "#/components/schemas/Error");
        const auto& codes =
            all_of[1].as_object().at("properties").as_object().at("code").as_object().at("enum").as_array();
        ASSERT_FALSE(codes.empty()) << status;
        for (const auto& c : codes) {
            bool found = false;
            for (int i = 0; i <= static_cast<int>(model::error_code::internal); ++i) {
                const auto code = static_cast<model::error_code>(i);
                if (model::code_name(code) == c.as_string()) {
                    found = true;
                    EXPECT_EQ(std::to_string(model::http_status(code)), status) << c.as_string();
                }
            }
            EXPECT_TRUE(found) << c.as_string();
        }
    }
    EXPECT_TRUE(resolve(spec, responses.at("503")).contains("headers")) << "Retry-After is documented";
    const auto& error = spec.at("components").as_object().at("schemas").as_object().at("Error").as_object();
    const auto& req = error.at("required").as_array();
    EXPECT_EQ(req.size(), 2u);
    for (const char* field : {"error", "code", "details", "hint", "request_id"})
        EXPECT_TRUE(error.at("properties").as_object().contains(field)) << field;
    // The static root takes no parameters: an unknown one is a 400, as on every strict endpoint.
    EXPECT_TRUE(op(spec, "/").at("responses").as_object().contains("400"));
    EXPECT_FALSE(op(spec, "/").at("responses").as_object().contains("502"));
}

// Oracle: the cache layer's own rendering of each endpoint's policy, and the config's rollup.
TEST(openapi, cached_and_rollup_endpoints_document_their_headers) {
    const auto cfg = load(read_file(default_yaml_path));
    const auto spec = spec_of(cfg);
    std::size_t cached = 0;
    for (const auto& e : cfg.endpoints) {
        if (e.static_body) continue;
        const auto& responses = op(spec, e.path).at("responses").as_object();
        const auto& headers = responses.at("200").as_object().at("headers").as_object();
        // A streamed export's head goes out before its source has been read to the end.
        EXPECT_EQ(headers.contains("X-Data-As-Of"), !e.stream) << e.path;
        EXPECT_EQ(headers.contains("X-Data-Stale"), !e.rollup.empty()) << e.path;
        if (e.cache.ttl.count() > 0) {
            ++cached;
            EXPECT_TRUE(responses.contains("304")) << e.path;
            const std::string control(headers.at("Cache-Control").as_object().at("description").as_string());
            EXPECT_NE(control.find(cache::cache_control(e.cache)), std::string::npos) << control;
        } else {
            EXPECT_FALSE(responses.contains("304")) << e.path;
            EXPECT_FALSE(headers.contains("ETag")) << e.path;
        }
    }
    EXPECT_GT(cached, 0u) << "the default config caches its reports";
}

TEST(openapi, a_public_api_declares_no_security_schemes) {
    const auto spec = spec_of(load(read_file(default_yaml_path)));
    EXPECT_FALSE(spec.at("components").as_object().contains("securitySchemes"));
    for (const auto& [path, item] : spec.at("paths").as_object()) {
        const auto& operation = item.as_object().at("get").as_object();
        EXPECT_TRUE(operation.at("security").as_array().empty()) << path;
        EXPECT_FALSE(operation.at("responses").as_object().contains("401")) << path;
    }
}

TEST(openapi, auth_in_the_config_becomes_security_schemes_per_operation) {
    auto yaml = read_file(default_yaml_path);
    // The reports need a key or a token; one endpoint binds a claim; the root opts out below.
    yaml += R"(
  - path: /me/trips
    source: local
    auth: jwt
    claims: {rider: sub}
    params:
      - {name: rider, type: string}
      - {name: limit, type: integer}
    sql: select $rider as rider, $limit as lim
auth:
  default: any
  rate_limit: {per_second: 5, burst: 10}
  jwt: {jwks_file: /dev/null}
)";
    auto cfg = config::load_text(yaml, "test.yaml", FROST_SOURCE_DIR);
    ASSERT_TRUE(cfg) << cfg.error().message;
    // The root endpoint opts out.
    for (auto& e : cfg.value().endpoints)
        if (e.path == "/") e.auth = config::auth_mode::none;
    const auto spec = spec_of(cfg.value());

    const auto& schemes = spec.at("components").as_object().at("securitySchemes").as_object();
    EXPECT_EQ(schemes.at("api_key").as_object().at("type").as_string(), "apiKey");
    EXPECT_EQ(schemes.at("api_key").as_object().at("name").as_string(), "X-Api-Key");
    EXPECT_EQ(schemes.at("bearer").as_object().at("scheme").as_string(), "bearer");

    const auto& monthly = op(spec, "/trips/monthly");
    EXPECT_EQ(monthly.at("security").as_array().size(), 2u) << "any: a key or a token";
    for (const char* s : {"401", "403", "429"}) EXPECT_TRUE(monthly.at("responses").as_object().contains(s)) << s;

    const auto& me = op(spec, "/me/trips");
    ASSERT_EQ(me.at("security").as_array().size(), 1u);
    EXPECT_TRUE(me.at("security").as_array()[0].as_object().contains("bearer"));
    EXPECT_EQ(param(me, "rider"), nullptr) << "a claim-bound parameter is not the caller's to set";
    EXPECT_NE(param(me, "limit"), nullptr);
    EXPECT_EQ(me.at("x-frost-claims").as_object().at("rider").as_string(), "sub");

    EXPECT_TRUE(op(spec, "/").at("security").as_array().empty());
    EXPECT_FALSE(op(spec, "/").at("responses").as_object().contains("401"));
}

TEST(openapi, names_stay_unique_when_paths_differ_only_in_punctuation) {
    auto yaml = read_file(default_yaml_path);
    yaml += R"(
  - {path: /a-b, source: local, sql: select 1 as x}
  - {path: /a_b, source: local, sql: select 2 as x}
)";
    const auto spec = spec_of(load(yaml));
    std::set<std::string> ids;
    for (const auto& [path, item] : spec.at("paths").as_object())
        EXPECT_TRUE(
            ids.insert(std::string(item.as_object().at("get").as_object().at("operationId").as_string())).second)
            << path;
}

// Oracle: Boost.JSON's own compact writer; the pretty form must parse back to the same value.
// Issue 11: every media type with its schema, the reserved `format`, and the paging parameters.
TEST(openapi, every_query_endpoint_offers_every_format_and_paginated_ones_their_parameters) {
    const auto cfg = config::load_file(default_yaml_path);
    ASSERT_TRUE(cfg) << cfg.error().message;
    const auto spec = spec_of(cfg.value());
    for (const auto& e : cfg.value().endpoints) {
        const auto& operation = op(spec, e.path);
        if (e.static_body) {
            EXPECT_EQ(param(operation, "format"), nullptr);
            continue;
        }
        const auto& content = resolve(spec, operation.at("responses").as_object().at("200")).at("content").as_object();
        for (const char* type :
             {"application/json", "application/vnd.frost.objects+json", "application/x-ndjson", "text/csv"}) {
            ASSERT_TRUE(content.contains(type)) << e.path << " " << type;
            EXPECT_TRUE(content.at(type).as_object().contains("schema")) << e.path << " " << type;
        }
        const auto& objects = resolve(spec, content.at("application/vnd.frost.objects+json").at("schema"));
        const auto& row = resolve(spec, objects.at("properties").at("result").at("items"));
        EXPECT_EQ(row.at("type").as_string(), "object") << e.path;
        const auto* format = param(operation, "format");
        ASSERT_NE(format, nullptr) << e.path;
        EXPECT_EQ(format->at("schema").at("enum").as_array().size(), 4u);
        EXPECT_TRUE(operation.at("responses").as_object().contains("406")) << e.path;
        EXPECT_EQ(param(operation, "limit") != nullptr, e.paginate.has_value()) << e.path;
        EXPECT_EQ(param(operation, "cursor") != nullptr, e.paginate.has_value()) << e.path;
        const auto& envelope = resolve(spec, content.at("application/json").at("schema"));
        EXPECT_EQ(envelope.at("properties").as_object().contains("next"), e.paginate.has_value()) << e.path;
    }
    EXPECT_NE(param(op(spec, "/stations/totals"), "limit"), nullptr);
}

// What a stream endpoint sends is what docs/formats.md ("Streaming") says it sends: CSV by default,
// NDJSON and the envelopes on request, bounded by max_export_rows, never cached.
TEST(openapi, the_export_lists_what_it_streams_csv_first) {
    const auto cfg = config::load_file(default_yaml_path);
    ASSERT_TRUE(cfg) << cfg.error().message;
    const auto spec = spec_of(cfg.value());
    const auto& operation = op(spec, "/trips/export");
    const auto& ok = resolve(spec, operation.at("responses").as_object().at("200"));
    std::vector<std::string> types;
    for (const auto& [type, media] : ok.at("content").as_object()) {
        types.emplace_back(type);
        EXPECT_TRUE(media.as_object().contains("schema")) << type;
    }
    const std::vector<std::string> expected{"text/csv", "application/json", "application/vnd.frost.objects+json",
                                            "application/x-ndjson"};
    EXPECT_EQ(types, expected);
    const auto* format = param(operation, "format");
    ASSERT_NE(format, nullptr);
    EXPECT_EQ(format->at("schema").at("default").as_string(), "csv");
    EXPECT_EQ(json::serialize(format->at("schema").at("enum")), R"(["csv","json","objects","ndjson"])");
    const auto& headers = ok.at("headers").as_object();
    EXPECT_EQ(headers.count("ETag"), 0u);
    EXPECT_EQ(headers.count("Vary"), 0u);
    EXPECT_NE(headers.at("Cache-Control").at("description").as_string().find("no-store"), json::string::npos);
    const auto& envelope = resolve(spec, ok.at("content").at("application/json").at("schema"));
    const auto& endpoints = cfg.value().endpoints;
    const auto exported = std::find_if(endpoints.begin(), endpoints.end(), [](const auto& e) { return e.stream; });
    ASSERT_NE(exported, endpoints.end());
    EXPECT_EQ(exported->path, "/trips/export");
    EXPECT_EQ(envelope.at("properties").at("result").at("maxItems").to_number<std::uint64_t>(),
              exported->max_export_rows);

    // A report that does not stream keeps JSON, its default, first.
    const auto& report = resolve(spec, op(spec, "/trips/monthly").at("responses").as_object().at("200"));
    EXPECT_EQ(report.at("content").as_object().begin()->key(), "application/json");
    EXPECT_EQ(param(op(spec, "/trips/monthly"), "format")->at("schema").as_object().count("default"), 0u);
}

TEST(openapi, pretty_json_parses_back_to_the_same_value) {
    const auto cfg = load(read_file(default_yaml_path));
    const auto doc = build_openapi(cfg, {});
    const auto text = pretty_json(doc);
    EXPECT_EQ(json::parse(text), json::value(doc));
    EXPECT_NE(text.find("\n  \"paths\": {"), std::string::npos);
    const json::value tricky = json::parse(R"({"a":[],"b":{},"c":"x\"\n\u0001","d":[1,2.5,null,true]})");
    EXPECT_EQ(json::parse(pretty_json(tricky)), tricky);
}

}  // namespace
}  // namespace frost::api
