#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "codec/duration.hpp"
#include "config/config.hpp"
#include "config/s3_url.hpp"
#include "config/yaml.hpp"

namespace frost::config {

namespace {

// Thrown inside the loader only, caught in load_text and turned into a result.
struct load_failure {
    std::string message;
};

class reader {
public:
    explicit reader(std::string file) : file_(std::move(file)) {}

    [[noreturn]] void fail(const yaml::node& node, const std::string& where, const std::string& what) const {
        std::ostringstream out;
        out << file_;
        if (node.where().line >= 0) out << ':' << node.where().line + 1 << ':' << node.where().column + 1;
        out << ": " << where << ": " << what;
        throw load_failure{out.str()};
    }

    /// Fails naming a line inside `node`'s text: `lines_in` lines below where its value starts.
    [[noreturn]] void fail_inside(const yaml::node& node, std::size_t lines_in, const std::string& where,
                                  const std::string& what) const {
        std::ostringstream out;
        out << file_;
        if (node.where().line >= 0) {
            // A block scalar (`|`, `>`) starts on the line after its indicator.
            const bool block = text_ && static_cast<std::size_t>(node.where().pos) < text_->size() &&
                               ((*text_)[static_cast<std::size_t>(node.where().pos)] == '|' ||
                                (*text_)[static_cast<std::size_t>(node.where().pos)] == '>');
            out << ':' << node.where().line + 1 + (block ? 1 : 0) + static_cast<int>(lines_in);
        }
        out << ": " << where << ": " << what;
        throw load_failure{out.str()};
    }
    /// The YAML text being read, for `fail_inside`.
    void set_text(const std::string* text) noexcept { text_ = text; }

    void only_keys(const yaml::node& map, const std::string& where,
                   std::initializer_list<std::string_view> keys) const {
        if (!map.is_map()) fail(map, where, "expected a mapping");
        for (const auto& kv : map) {
            const auto key = kv.first.scalar();
            if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
                std::string known;
                for (auto k : keys) known += (known.empty() ? "" : ", ") + std::string(k);
                fail(kv.first, where, "unknown key \"" + key + "\" (known: " + known + ")");
            }
        }
    }

    std::string text(const yaml::node& node, const std::string& where) const {
        if (!node.is_scalar()) fail(node, where, "expected a text value");
        return node.scalar();
    }

    template <typename Int>
    Int integer(const yaml::node& node, const std::string& where, Int lo, Int hi) const {
        const auto s = text(node, where);
        long long v = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc{} || p != s.data() + s.size() || v < static_cast<long long>(lo) ||
            v > static_cast<long long>(hi))
            fail(node, where, "expected a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
        return static_cast<Int>(v);
    }

    double number(const yaml::node& node, const std::string& where) const {
        const auto s = text(node, where);
        double v = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc{} || p != s.data() + s.size()) fail(node, where, "expected a number");
        return v;
    }

    bool boolean(const yaml::node& node, const std::string& where) const {
        const auto s = text(node, where);
        if (s == "true" || s == "yes" || s == "on") return true;
        if (s == "false" || s == "no" || s == "off") return false;
        fail(node, where, "expected true or false");
    }

    std::chrono::milliseconds duration(const yaml::node& node, const std::string& where) const {
        const auto d = codec::parse_duration(text(node, where));
        if (!d) fail(node, where, "expected a duration like 250ms, 30s, 5m or 1h");
        return *d;
    }

    std::vector<std::string> text_list(const yaml::node& node, const std::string& where) const {
        std::vector<std::string> out;
        if (node.is_scalar()) {
            out.push_back(node.scalar());
            return out;
        }
        if (!node.is_sequence()) fail(node, where, "expected a list of text values");
        for (std::size_t i = 0; i < node.size(); ++i)
            out.push_back(text(node[i], where + "[" + std::to_string(i) + "]"));
        return out;
    }

    model::date date(const yaml::node& node, const std::string& where) const {
        auto d = model::parse_date(text(node, where));
        if (!d) fail(node, where, "expected a date YYYY-MM-DD");
        return *d;
    }

    const std::string& file() const { return file_; }

private:
    std::string file_;
    const std::string* text_ = nullptr;
};

bool valid_identifier(std::string_view s) {
    if (s.empty() || s.size() > 64) return false;
    for (char c : s)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
    return !std::isdigit(static_cast<unsigned char>(s[0]));
}

bool valid_path(std::string_view s) {
    if (s.empty() || s[0] != '/' || s.size() > 256) return false;
    for (char c : s)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' || c == '.'))
            return false;
    return s.find("//") == std::string_view::npos;
}

// YAML scalars carry no type: a plain scalar that reads as a number, boolean or null is one.
boost::json::value to_json(const yaml::node& node) {
    if (node.is_map()) {
        boost::json::object o;
        for (const auto& kv : node) o[kv.first.scalar()] = to_json(kv.second);
        return o;
    }
    if (node.is_sequence()) {
        boost::json::array a;
        for (const auto& item : node.items()) a.push_back(to_json(item));
        return a;
    }
    if (!node.is_scalar() || !node.plain()) return node.is_scalar() ? boost::json::value(node.scalar()) : nullptr;
    const auto& s = node.scalar();
    if (s == "true") return true;
    if (s == "false") return false;
    std::int64_t i = 0;
    if (auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), i); ec == std::errc{} && p == s.data() + s.size())
        return i;
    double d = 0;
    if (auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d); ec == std::errc{} && p == s.data() + s.size())
        return d;
    return boost::json::value(s);
}

param_type parse_param_type(const reader& r, const yaml::node& node, const std::string& where) {
    const auto s = r.text(node, where);
    if (s == "string") return param_type::string;
    if (s == "integer") return param_type::integer;
    if (s == "number") return param_type::number;
    if (s == "boolean") return param_type::boolean;
    if (s == "date") return param_type::date;
    r.fail(node, where, "expected one of string, integer, number, boolean, date");
}

server_config read_server(const reader& r, const yaml::node& node) {
    server_config s;
    r.only_keys(node, "server",
                {"host",
                 "port",
                 "io_threads",
                 "workers",
                 "queue_capacity",
                 "request_timeout",
                 "shutdown_grace",
                 "header_timeout",
                 "idle_timeout",
                 "max_header_bytes",
                 "max_body_bytes",
                 "max_url_bytes",
                 "max_connections",
                 "max_header_count",
                 "max_requests_per_connection",
                 "max_connection_age",
                 "write_timeout",
                 "admin_port",
                 "access_log",
                 "expose_errors",
                 "cursor_key"});
    if (node["host"]) s.host = r.text(node["host"], "server.host");
    if (node["port"]) s.port = r.integer<std::uint16_t>(node["port"], "server.port", 0, 65535);
    if (node["io_threads"]) s.io_threads = r.integer<unsigned>(node["io_threads"], "server.io_threads", 0, 256);
    if (node["workers"]) s.workers = r.integer<unsigned>(node["workers"], "server.workers", 0, 256);
    if (node["queue_capacity"])
        s.queue_capacity = r.integer<std::size_t>(node["queue_capacity"], "server.queue_capacity", 1, 1'000'000);
    if (node["request_timeout"]) s.request_timeout = r.duration(node["request_timeout"], "server.request_timeout");
    if (node["shutdown_grace"]) s.shutdown_grace = r.duration(node["shutdown_grace"], "server.shutdown_grace");
    if (node["header_timeout"]) s.header_timeout = r.duration(node["header_timeout"], "server.header_timeout");
    if (node["idle_timeout"]) s.idle_timeout = r.duration(node["idle_timeout"], "server.idle_timeout");
    if (node["max_header_bytes"])
        s.max_header_bytes = r.integer<std::size_t>(node["max_header_bytes"], "server.max_header_bytes", 1024, 1 << 20);
    if (node["max_body_bytes"])
        s.max_body_bytes = r.integer<std::size_t>(node["max_body_bytes"], "server.max_body_bytes", 0, 64 << 20);
    if (node["max_url_bytes"])
        s.max_url_bytes = r.integer<std::size_t>(node["max_url_bytes"], "server.max_url_bytes", 256, 1 << 20);
    if (node["max_connections"])
        s.max_connections = r.integer<std::size_t>(node["max_connections"], "server.max_connections", 1, 1'000'000);
    if (node["max_header_count"])
        s.max_header_count = r.integer<std::size_t>(node["max_header_count"], "server.max_header_count", 8, 10'000);
    if (node["max_requests_per_connection"])
        s.max_requests_per_connection = r.integer<std::size_t>(node["max_requests_per_connection"],
                                                               "server.max_requests_per_connection", 1, 1'000'000);
    if (node["max_connection_age"])
        s.max_connection_age = r.duration(node["max_connection_age"], "server.max_connection_age");
    if (node["write_timeout"]) s.write_timeout = r.duration(node["write_timeout"], "server.write_timeout");
    if (node["admin_port"]) s.admin_port = r.integer<std::uint16_t>(node["admin_port"], "server.admin_port", 0, 65535);
    if (node["access_log"]) s.access_log = r.boolean(node["access_log"], "server.access_log");
    if (node["expose_errors"]) s.expose_errors = r.boolean(node["expose_errors"], "server.expose_errors");
    if (node["cursor_key"]) {
        s.cursor_key = r.text(node["cursor_key"], "server.cursor_key");
        if (s.cursor_key.size() < 32)
            r.fail(node["cursor_key"], "server.cursor_key", "a cursor key is at least 32 bytes");
    }
    return s;
}

breaker_config read_breaker(const reader& r, const yaml::node& node, const std::string& where, bool remote) {
    breaker_config b;
    b.enabled = remote;
    if (node.is_scalar() && (node.scalar() == "off" || node.scalar() == "false")) {
        b.enabled = false;
        return b;
    }
    r.only_keys(node, where, {"enabled", "failures", "error_ratio", "window", "min_calls", "cool_down"});
    b.enabled = node["enabled"] ? r.boolean(node["enabled"], where + ".enabled") : true;
    if (node["failures"]) b.failures = r.integer<unsigned>(node["failures"], where + ".failures", 1, 1'000'000);
    if (node["error_ratio"]) {
        b.error_ratio = r.number(node["error_ratio"], where + ".error_ratio");
        if (!(b.error_ratio > 0) || b.error_ratio > 1)
            r.fail(node["error_ratio"], where + ".error_ratio", "expected a share above 0 and at most 1, e.g. 0.5");
    }
    if (node["window"]) b.window = r.duration(node["window"], where + ".window");
    if (b.window < std::chrono::seconds(1)) r.fail(node["window"], where + ".window", "the window must be 1s or more");
    if (node["min_calls"]) b.min_calls = r.integer<unsigned>(node["min_calls"], where + ".min_calls", 1, 1'000'000);
    if (node["cool_down"]) b.cool_down = r.duration(node["cool_down"], where + ".cool_down");
    if (b.cool_down < std::chrono::milliseconds(10) || b.cool_down > std::chrono::hours(1))
        r.fail(node["cool_down"], where + ".cool_down", "the cool-down must be from 10ms to 1h");
    return b;
}

source_config read_source(const reader& r, const std::string& name, const yaml::node& node, const std::string& base) {
    const std::string where = "sources." + name;
    if (!valid_identifier(name)) r.fail(node, where, "source names are letters, digits and _");
    if (!node.is_map()) r.fail(node, where, "expected a mapping");
    source_config s;
    s.name = name;
    if (node.where().line >= 0)
        s.origin =
            r.file() + ":" + std::to_string(node.where().line + 1) + ":" + std::to_string(node.where().column + 1);
    if (!node["type"]) r.fail(node, where, "missing key \"type\" (duckdb or snowflake)");
    s.type = r.text(node["type"], where + ".type");
    if (s.type == "duckdb") {
        r.only_keys(node, where, {"type", "path", "read_only", "options", "breaker"});
        if (!node["path"]) r.fail(node, where, "missing key \"path\" (the DuckDB database file)");
        s.path = r.text(node["path"], where + ".path");
        if (s.path != ":memory:" && std::filesystem::path(s.path).is_relative())
            s.path = (std::filesystem::path(base) / s.path).lexically_normal().string();
        if (node["read_only"]) s.read_only = r.boolean(node["read_only"], where + ".read_only");
        if (const auto& opts = node["options"]) {
            if (!opts.is_map()) r.fail(opts, where + ".options", "expected a mapping of DuckDB settings");
            for (const auto& kv : opts) s.options[kv.first.scalar()] = r.text(kv.second, where + ".options");
        }
    } else if (s.type == "snowflake") {
        // Each key is parsed here, by the one parser of Snowflake settings; the environment and
        // the checks of the whole follow in apply_environment (resolve_snowflake).
        auto& sf = s.snowflake.emplace();
        for (const auto& kv : node) {
            const auto key = kv.first.scalar();
            if (key == "type" || key == "breaker") continue;
            const auto& known = snowflake_keys();
            if (std::find(known.begin(), known.end(), key) == known.end()) {
                std::string names = "type, breaker";
                for (auto k : known) names += ", " + std::string(k);
                r.fail(kv.first, where, "unknown key \"" + key + "\" (known: " + names + ")");
            }
            if (auto what = set_snowflake_key(sf, key, r.text(kv.second, where + "." + key)))
                r.fail(kv.second, where + "." + key, *what);
        }
    } else {
        r.fail(node["type"], where + ".type", "expected duckdb or snowflake");
    }
    // A local file cannot be "down"; its timeouts are slow queries, which a breaker would turn
    // into an outage of every endpoint on it. Remote sources get one unless configured off.
    const bool remote = s.type != "duckdb";
    s.breaker = node["breaker"] ? read_breaker(r, node["breaker"], where + ".breaker", remote) : breaker_config{remote};
    return s;
}

auth_mode read_auth_mode(const reader& r, const yaml::node& node, const std::string& where) {
    const auto s = r.text(node, where);
    if (s == "none") return auth_mode::none;
    if (s == "api_key") return auth_mode::api_key;
    if (s == "jwt") return auth_mode::jwt;
    if (s == "any") return auth_mode::any;
    r.fail(node, where, "expected one of none, api_key, jwt, any");
}

rate_limit_config read_rate_limit(const reader& r, const yaml::node& node, const std::string& where) {
    rate_limit_config l;
    if (node.is_scalar() && (node.scalar() == "off" || node.scalar() == "none")) return l;
    r.only_keys(node, where, {"per_second", "per_minute", "burst"});
    if (node["per_second"] && node["per_minute"]) r.fail(node, where, "give per_second or per_minute, not both");
    if (node["per_second"]) l.per_second = r.number(node["per_second"], where + ".per_second");
    if (node["per_minute"]) l.per_second = r.number(node["per_minute"], where + ".per_minute") / 60.0;
    if (!(l.per_second > 0) || l.per_second > 1e9) r.fail(node, where, "the rate must be a positive number");
    l.burst = node["burst"] ? r.number(node["burst"], where + ".burst") : std::max(1.0, l.per_second);
    if (!(l.burst >= 1) || l.burst > 1e9) r.fail(node, where, "burst must be at least 1");
    return l;
}

bool valid_sha256_hex(std::string_view s) {
    if (s.size() != 64) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

auth_config read_auth(const reader& r, const yaml::node& node) {
    r.only_keys(node, "auth", {"default", "api_keys", "jwt", "rate_limit", "trust_forwarded_for"});
    auth_config a;
    if (node["default"]) a.default_mode = read_auth_mode(r, node["default"], "auth.default");
    if (node["trust_forwarded_for"])
        a.trust_forwarded_for = r.boolean(node["trust_forwarded_for"], "auth.trust_forwarded_for");
    if (node["rate_limit"]) a.rate_limit = read_rate_limit(r, node["rate_limit"], "auth.rate_limit");
    if (const auto& keys = node["api_keys"]) {
        if (!keys.is_sequence()) r.fail(keys, "auth.api_keys", "expected a list of {name, sha256, endpoints}");
        for (std::size_t i = 0; i < keys.size(); ++i) {
            const std::string where = "auth.api_keys[" + std::to_string(i) + "]";
            const auto& k = keys[i];
            r.only_keys(k, where, {"name", "sha256", "sha256_env", "endpoints"});
            api_key_config key;
            if (!k["name"]) r.fail(k, where, "missing key \"name\"");
            key.name = r.text(k["name"], where + ".name");
            if (k["sha256"] && k["sha256_env"]) r.fail(k, where, "give sha256 or sha256_env, not both");
            if (k["sha256"]) {
                key.sha256 = r.text(k["sha256"], where + ".sha256");
            } else if (k["sha256_env"]) {
                const auto var = r.text(k["sha256_env"], where + ".sha256_env");
                const char* v = std::getenv(var.c_str());
                if (!v || !*v)
                    r.fail(k["sha256_env"], where + ".sha256_env", "the environment variable " + var + " is not set");
                key.sha256 = v;
            } else {
                r.fail(k, where,
                       R"(missing key "sha256" (the SHA-256 of the key in hex: printf %s "$KEY" | sha256sum))");
            }
            for (auto& c : key.sha256) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (!valid_sha256_hex(key.sha256))
                r.fail(k, where, "sha256 must be 64 hex digits (the hash, never the key)");
            if (k["endpoints"]) key.endpoints = r.text_list(k["endpoints"], where + ".endpoints");
            a.api_keys.push_back(std::move(key));
        }
    }
    if (const auto& j = node["jwt"]) {
        r.only_keys(j, "auth.jwt",
                    {"jwks_url", "jwks_file", "algorithms", "issuer", "audience", "leeway", "fetch_timeout",
                     "cache_default", "refetch_interval"});
        jwt_config c;
        if (j["jwks_url"]) c.jwks_url = r.text(j["jwks_url"], "auth.jwt.jwks_url");
        if (j["jwks_file"]) c.jwks_file = r.text(j["jwks_file"], "auth.jwt.jwks_file");
        if (c.jwks_url.empty() == c.jwks_file.empty())
            r.fail(j, "auth.jwt", "give exactly one of jwks_url and jwks_file");
        if (!c.jwks_url.empty() && c.jwks_url.rfind("https://", 0) != 0 &&
            c.jwks_url.rfind("http://127.0.0.1", 0) != 0 && c.jwks_url.rfind("http://localhost", 0) != 0)
            r.fail(j["jwks_url"], "auth.jwt.jwks_url",
                   "the JWKS URL must use https:// (http:// only for 127.0.0.1 or localhost)");
        if (j["algorithms"]) {
            c.algorithms = r.text_list(j["algorithms"], "auth.jwt.algorithms");
            for (const auto& alg : c.algorithms)
                if (alg != "RS256" && alg != "ES256")
                    r.fail(j["algorithms"], "auth.jwt.algorithms", "supported: RS256, ES256 (never none or HMAC)");
            if (c.algorithms.empty()) r.fail(j["algorithms"], "auth.jwt.algorithms", "name at least one algorithm");
        }
        if (j["issuer"]) c.issuer = r.text(j["issuer"], "auth.jwt.issuer");
        if (j["audience"]) c.audience = r.text_list(j["audience"], "auth.jwt.audience");
        if (j["leeway"]) c.leeway = r.duration(j["leeway"], "auth.jwt.leeway");
        if (c.leeway > std::chrono::minutes(5)) r.fail(j["leeway"], "auth.jwt.leeway", "at most 5m");
        if (j["fetch_timeout"]) c.fetch_timeout = r.duration(j["fetch_timeout"], "auth.jwt.fetch_timeout");
        if (j["cache_default"]) c.cache_default = r.duration(j["cache_default"], "auth.jwt.cache_default");
        if (j["refetch_interval"]) c.refetch_interval = r.duration(j["refetch_interval"], "auth.jwt.refetch_interval");
        if (c.fetch_timeout.count() <= 0) r.fail(j, "auth.jwt.fetch_timeout", "must be positive");
        a.jwt = std::move(c);
    }
    return a;
}

param_config read_param(const reader& r, const yaml::node& node, const std::string& where) {
    r.only_keys(
        node, where,
        {"name", "aliases", "type", "required", "default", "description", "max_length", "minimum", "maximum", "enum"});
    param_config p;
    if (!node["name"]) r.fail(node, where, "missing key \"name\"");
    p.name = r.text(node["name"], where + ".name");
    if (!valid_identifier(p.name)) r.fail(node["name"], where + ".name", "parameter names are letters, digits and _");
    if (node["aliases"]) p.aliases = r.text_list(node["aliases"], where + ".aliases");
    if (node["type"]) p.type = parse_param_type(r, node["type"], where + ".type");
    if (node["required"]) p.required = r.boolean(node["required"], where + ".required");
    if (node["default"]) p.default_value = r.text(node["default"], where + ".default");
    if (node["description"]) p.description = r.text(node["description"], where + ".description");
    if (node["max_length"]) p.max_length = r.integer<std::size_t>(node["max_length"], where + ".max_length", 1, 65536);
    if (node["minimum"]) p.minimum = r.number(node["minimum"], where + ".minimum");
    if (node["maximum"]) p.maximum = r.number(node["maximum"], where + ".maximum");
    if (node["enum"]) p.allowed = r.text_list(node["enum"], where + ".enum");
    if (p.required && p.default_value) r.fail(node, where, "a parameter cannot be both required and defaulted");
    return p;
}

date_range_config read_date_range(const reader& r, const yaml::node& node, const std::string& where) {
    r.only_keys(node, where, {"start", "end", "start_aliases", "end_aliases", "description", "random", "max_days"});
    date_range_config d;
    if (node["start"]) d.start = r.text(node["start"], where + ".start");
    if (node["end"]) d.end = r.text(node["end"], where + ".end");
    if (!valid_identifier(d.start) || !valid_identifier(d.end) || d.start == d.end)
        r.fail(node, where, "start and end must be two different parameter names");
    if (node["start_aliases"]) d.start_aliases = r.text_list(node["start_aliases"], where + ".start_aliases");
    if (node["end_aliases"]) d.end_aliases = r.text_list(node["end_aliases"], where + ".end_aliases");
    if (node["description"]) d.description = r.text(node["description"], where + ".description");
    if (const auto& rnd = node["random"]) {
        r.only_keys(rnd, where + ".random", {"param", "from", "to"});
        d.random_param = rnd["param"] ? r.text(rnd["param"], where + ".random.param") : "random";
        if (!rnd["from"] || !rnd["to"]) r.fail(rnd, where + ".random", "needs from and to dates");
        d.random_from = r.date(rnd["from"], where + ".random.from");
        d.random_to = r.date(rnd["to"], where + ".random.to");
        if (d.random_to < d.random_from) r.fail(rnd, where + ".random", "to is before from");
    }
    if (node["max_days"]) d.max_days = r.integer<std::int32_t>(node["max_days"], where + ".max_days", 1, 3'660'000);
    if (d.max_days && d.random_param)
        r.fail(node["max_days"], where + ".max_days", "max_days and random exclude each other");
    return d;
}

cache_policy read_cache_policy(const reader& r, const yaml::node& node, const std::string& where) {
    r.only_keys(node, where, {"ttl", "stale_while_revalidate", "stale_if_error", "shared"});
    cache_policy c;
    if (node["ttl"]) c.ttl = r.duration(node["ttl"], where + ".ttl");
    if (node["stale_while_revalidate"])
        c.stale_while_revalidate = r.duration(node["stale_while_revalidate"], where + ".stale_while_revalidate");
    if (node["stale_if_error"]) c.stale_if_error = r.duration(node["stale_if_error"], where + ".stale_if_error");
    if (node["shared"]) c.shared = r.boolean(node["shared"], where + ".shared");
    if (c.ttl.count() == 0 && (c.stale_while_revalidate.count() || c.stale_if_error.count()))
        r.fail(node, where, "stale windows need a ttl");
    return c;
}

cache_config read_cache(const reader& r, const yaml::node& node) {
    r.only_keys(node, "cache", {"max_bytes", "min_gzip_bytes"});
    cache_config c;
    if (node["max_bytes"])
        c.max_bytes = r.integer<std::size_t>(node["max_bytes"], "cache.max_bytes", 0, std::size_t{1} << 40);
    if (node["min_gzip_bytes"])
        c.min_gzip_bytes = r.integer<std::size_t>(node["min_gzip_bytes"], "cache.min_gzip_bytes", 0, 1u << 30);
    return c;
}

snapshot_config read_snapshots(const reader& r, const yaml::node& node) {
    r.only_keys(node, "serving.snapshots", {"url", "role", "poll", "fallback_build"});
    snapshot_config c;
    if (!node["url"]) r.fail(node, "serving.snapshots", "url is required (s3://<bucket>/<prefix>/)");
    c.url = r.text(node["url"], "serving.snapshots.url");
    if (auto parsed = parse_s3_url(c.url); !parsed)
        r.fail(node["url"], "serving.snapshots.url", parsed.error().message);
    if (const auto& role = node["role"]) {
        const auto v = r.text(role, "serving.snapshots.role");
        if (v == "reader")
            c.role = snapshot_role::reader;
        else if (v == "builder")
            c.role = snapshot_role::builder;
        else if (v == "both")
            c.role = snapshot_role::both;
        else
            r.fail(role, "serving.snapshots.role", "expected reader, builder or both");
    }
    if (node["poll"]) {
        c.poll = r.duration(node["poll"], "serving.snapshots.poll");
        if (c.poll < std::chrono::seconds(1)) r.fail(node["poll"], "serving.snapshots.poll", "at least 1s");
    }
    if (node["fallback_build"])
        c.fallback_build = r.boolean(node["fallback_build"], "serving.snapshots.fallback_build");
    return c;
}

serving_config read_serving(const reader& r, const yaml::node& node, const std::string& base) {
    r.only_keys(node, "serving", {"path", "options", "snapshots"});
    serving_config s;
    if (node["path"]) s.path = r.text(node["path"], "serving.path");
    if (s.path == ":memory:") s.path.clear();
    if (!s.path.empty() && std::filesystem::path(s.path).is_relative())
        s.path = (std::filesystem::path(base) / s.path).lexically_normal().string();
    if (const auto& opts = node["options"]) {
        if (!opts.is_map()) r.fail(opts, "serving.options", "expected a mapping of DuckDB settings");
        for (const auto& kv : opts) s.options[kv.first.scalar()] = r.text(kv.second, "serving.options");
    }
    if (const auto& snap = node["snapshots"]) {
        s.snapshots = read_snapshots(r, snap);
        if (s.snapshots->role != snapshot_role::reader && s.path.empty())
            r.fail(snap, "serving.snapshots.role",
                   "a builder publishes the serving file: set serving.path (a writable file, /tmp/... on Lambda)");
    }
    return s;
}

// A `$name` placeholder in SQL text and the line it is on, counted from 0.
struct placeholder {
    std::string name;
    std::size_t line = 0;
};

// The `$name` placeholders of SQL text. Quoted text and identifiers, `$$` strings and comments
// are skipped: a `$` there is data, not a parameter.
std::vector<placeholder> find_placeholders(std::string_view sql) {
    std::vector<placeholder> out;
    std::size_t line = 0;
    const std::size_t n = sql.size();
    auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
    for (std::size_t i = 0; i < n; ++i) {
        const char c = sql[i];
        const char next = i + 1 < n ? sql[i + 1] : '\0';
        if (c == '\n') {
            ++line;
        } else if (c == '\'' || c == '"') {
            for (++i; i < n; ++i) {
                if (sql[i] == '\n') ++line;
                if (sql[i] != c) continue;
                if (i + 1 < n && sql[i + 1] == c) {
                    ++i;  // a doubled quote is one quote character
                    continue;
                }
                break;
            }
        } else if (c == '-' && next == '-') {
            while (i + 1 < n && sql[i + 1] != '\n') ++i;
        } else if (c == '/' && next == '*') {
            for (i += 2; i + 1 < n && !(sql[i] == '*' && sql[i + 1] == '/'); ++i)
                if (sql[i] == '\n') ++line;
            ++i;
        } else if (c == '$' && next == '$') {
            for (i += 2; i + 1 < n && !(sql[i] == '$' && sql[i + 1] == '$'); ++i)
                if (sql[i] == '\n') ++line;
            ++i;
        } else if (c == '$' && (std::isalpha(static_cast<unsigned char>(next)) || next == '_')) {
            std::size_t end = i + 1;
            while (end < n && word(sql[end])) ++end;
            out.push_back({std::string(sql.substr(i + 1, end - i - 1)), line});
            i = end - 1;
        }
    }
    return out;
}

// Fails at the first `$name` in the SQL of `sql_node` (text, or a mapping dialect: text) that
// is not in `declared`, naming its line: otherwise the first request would fail with a 500.
void check_placeholders(const reader& r, const yaml::node& sql_node, const std::set<std::string>& declared,
                        const std::string& where, const std::string& what_is_declared) {
    auto check = [&](const yaml::node& text_node, const std::string& at) {
        for (const auto& p : find_placeholders(text_node.scalar())) {
            if (declared.contains(p.name)) continue;
            r.fail_inside(text_node, p.line, at, "$" + p.name + " is not " + what_is_declared);
        }
    };
    if (sql_node.is_scalar()) {
        check(sql_node, where);
    } else if (sql_node.is_map()) {
        for (const auto& kv : sql_node) check(kv.second, where + "." + kv.first.scalar());
    }
}

// A duration that may also be whole days (`3d`), for lookbacks and full-refresh intervals.
std::chrono::milliseconds long_duration(const reader& r, const yaml::node& node, const std::string& where) {
    const auto text = r.text(node, where);
    if (text.size() > 1 && text.back() == 'd') {
        const auto days = codec::parse_duration(text.substr(0, text.size() - 1) + "h");
        if (days && text.size() <= 6) return *days * 24;  // at most 99999d: far inside milliseconds' range
        r.fail(node, where, "expected a duration like 30m, 12h or 3d (at most 99999d)");
    }
    return r.duration(node, where);
}

// `incremental:` and `full_refresh:` of a rollup. Each SQL text must use $since: without it a
// refresh would fetch everything and then keep only the window, silently doubling nothing but cost.
void read_incremental(const reader& r, const yaml::node& node, const std::string& where, rollup_config& c) {
    if (const auto& inc = node["incremental"]) {
        const std::string at = where + ".incremental";
        if (!inc.is_map()) r.fail(inc, at, "expected a mapping {key: <column>, lookback: <duration>}");
        r.only_keys(inc, at, {"key", "lookback"});
        if (!inc["key"]) r.fail(inc, at, "missing key \"key\" (the DATE or TIMESTAMP column the watermark is kept on)");
        if (!inc["lookback"])
            r.fail(inc, at, "missing key \"lookback\" (e.g. 3d: how far behind the watermark to re-fetch)");
        incremental_config ic;
        ic.key = r.text(inc["key"], at + ".key");
        if (!valid_identifier(ic.key)) r.fail(inc["key"], at + ".key", "expected a column name (letters, digits, _)");
        ic.lookback = long_duration(r, inc["lookback"], at + ".lookback");
        c.incremental = ic;
        const auto& sql = node["sql"];
        auto require_since = [&](const yaml::node& text_node, const std::string& sql_at) {
            const auto found = find_placeholders(text_node.scalar());
            if (std::none_of(found.begin(), found.end(), [](const placeholder& p) { return p.name == "since"; }))
                r.fail(text_node, sql_at,
                       "an incremental rollup's SQL filters on $since (e.g. where day >= $since); "
                       "see docs/caching.md");
        };
        if (sql && sql.is_scalar()) require_since(sql, where + ".sql");
        if (sql && sql.is_map())
            for (const auto& kv : sql) require_since(kv.second, where + ".sql." + kv.first.scalar());
    }
    if (const auto& full = node["full_refresh"]) {
        if (!c.incremental)
            r.fail(full, where + ".full_refresh", "full_refresh needs incremental (every refresh is full)");
        c.full_refresh = long_duration(r, full, where + ".full_refresh");
        if (*c.full_refresh < c.refresh)
            r.fail(full, where + ".full_refresh", "full_refresh must not be shorter than refresh");
    }
}

// Fails unless the SQL of `sql_node` (each dialect's) uses every name in `required`: a paginated
// query that ignores its cursor would answer the first page forever.
void require_placeholders(const reader& r, const yaml::node& sql_node, const std::set<std::string>& required,
                          const std::string& where) {
    auto check = [&](const yaml::node& text_node, const std::string& at) {
        std::set<std::string> used;
        for (const auto& p : find_placeholders(text_node.scalar())) used.insert(p.name);
        for (const auto& name : required)
            if (!used.contains(name))
                r.fail(text_node, at,
                       "a paginated endpoint's SQL must use $" + name +
                           " (keyset pagination: filter on $after_<key>, limit $page_limit; docs/formats.md)");
    };
    if (sql_node.is_scalar()) {
        check(sql_node, where);
    } else if (sql_node.is_map()) {
        for (const auto& kv : sql_node) check(kv.second, where + "." + kv.first.scalar());
    }
}

paginate_config read_paginate(const reader& r, const yaml::node& node, const std::string& at, std::size_t max_rows) {
    if (!node.is_map()) r.fail(node, at, "expected a mapping {key: [columns], page_size: N, max_page_size: N}");
    r.only_keys(node, at, {"key", "page_size", "max_page_size"});
    paginate_config p;
    if (!node["key"]) r.fail(node, at, "missing key \"key\" (the columns the SQL orders by)");
    p.key = node["key"].is_scalar() ? std::vector<std::string>{r.text(node["key"], at + ".key")}
                                    : r.text_list(node["key"], at + ".key");
    if (p.key.empty()) r.fail(node["key"], at + ".key", "name at least one column");
    for (const auto& k : p.key)
        if (!valid_identifier(k)) r.fail(node["key"], at + ".key", "key columns are letters, digits and _");
    // The query asks for one row more than a page, and a source refuses more than max_rows.
    const auto most = std::max<std::size_t>(1, max_rows - 1);
    if (node["max_page_size"])
        p.max_page_size = r.integer<std::size_t>(node["max_page_size"], at + ".max_page_size", 1, most);
    p.max_page_size = std::min(p.max_page_size, most);
    if (node["page_size"])
        p.page_size = r.integer<std::size_t>(node["page_size"], at + ".page_size", 1, p.max_page_size);
    p.page_size = std::min(p.page_size, p.max_page_size);
    return p;
}

rollup_config read_rollup(const reader& r, const std::string& name, const yaml::node& node) {
    const std::string where = "rollups." + name;
    if (!valid_identifier(name) || name.starts_with("frost_"))
        r.fail(node, where, "rollup names are letters, digits and _ and do not start with frost_");
    r.only_keys(node, where, {"source", "sql", "refresh", "max_rows", "incremental", "full_refresh"});
    rollup_config c;
    c.name = name;
    if (!node["source"]) r.fail(node, where, "missing key \"source\"");
    c.source = r.text(node["source"], where + ".source");
    const auto& sql = node["sql"];
    if (!sql) r.fail(node, where, "missing key \"sql\"");
    if (sql.is_scalar()) {
        c.sql[""] = sql.scalar();
    } else if (sql.is_map()) {
        for (const auto& kv : sql) {
            const auto dialect = kv.first.scalar();
            if (dialect != "duckdb" && dialect != "snowflake")
                r.fail(kv.first, where + ".sql", "dialects are duckdb and snowflake");
            c.sql[dialect] = r.text(kv.second, where + ".sql." + dialect);
        }
    } else {
        r.fail(sql, where + ".sql", "expected SQL text or a mapping dialect: SQL");
    }
    if (node["refresh"]) c.refresh = r.duration(node["refresh"], where + ".refresh");
    if (c.refresh.count() < 1000) r.fail(node["refresh"], where + ".refresh", "refresh at most once a second");
    read_incremental(r, node, where, c);
    if (c.incremental)
        check_placeholders(r, sql, {"since"}, where + ".sql",
                           "allowed: an incremental rollup's SQL takes only $since (the watermark minus the lookback)");
    else
        check_placeholders(r, sql, {}, where + ".sql", "allowed: a rollup's SQL runs with no parameters");
    if (node["max_rows"]) c.max_rows = r.integer<std::size_t>(node["max_rows"], where + ".max_rows", 1, 100'000'000);
    return c;
}

endpoint_config read_endpoint(const reader& r, const yaml::node& node, const std::string& where) {
    r.only_keys(node, where, {"path",       "summary", "description", "tags",   "source",          "sql",     "params",
                              "date_range", "strict",  "format",      "static", "max_rows",        "rollup",  "cache",
                              "auth",       "claims",  "rate_limit",  "stream", "max_export_rows", "paginate"});
    endpoint_config e;
    if (!node["path"]) r.fail(node, where, "missing key \"path\"");
    e.path = r.text(node["path"], where + ".path");
    if (!valid_path(e.path))
        r.fail(node["path"], where + ".path", "a path starts with / and holds letters, digits, - _ . /");
    const std::string at = where + " (" + e.path + ")";
    if (node["summary"]) e.summary = r.text(node["summary"], at + ".summary");
    if (node["description"]) e.description = r.text(node["description"], at + ".description");
    if (node["tags"]) e.tags = r.text_list(node["tags"], at + ".tags");
    if (node["strict"]) e.strict = r.boolean(node["strict"], at + ".strict");
    if (node["max_rows"]) e.max_rows = r.integer<std::size_t>(node["max_rows"], at + ".max_rows", 1, 10'000'000);
    if (node["format"]) {
        const auto f = r.text(node["format"], at + ".format");
        if (f == "arrays")
            e.format = row_format::arrays;
        else if (f == "objects")
            e.format = row_format::objects;
        else
            r.fail(node["format"], at + ".format", "expected arrays or objects");
    }
    if (node["auth"]) e.auth = read_auth_mode(r, node["auth"], at + ".auth");
    if (node["rate_limit"]) e.rate_limit = read_rate_limit(r, node["rate_limit"], at + ".rate_limit");
    if (const auto& cl = node["claims"]) {
        if (!cl.is_map()) r.fail(cl, at + ".claims", "expected a mapping parameter: claim");
        for (const auto& kv : cl) e.claims[kv.first.scalar()] = r.text(kv.second, at + ".claims");
    }
    if (node["cache"]) e.cache = read_cache_policy(r, node["cache"], at + ".cache");
    if (node["stream"]) e.stream = r.boolean(node["stream"], at + ".stream");
    if (node["max_export_rows"]) {
        if (!e.stream) r.fail(node["max_export_rows"], at + ".max_export_rows", "only for endpoints with stream: true");
        e.max_export_rows = r.integer<std::size_t>(node["max_export_rows"], at + ".max_export_rows", 1, 10'000'000'000);
    }
    if (e.stream && node["max_rows"])
        r.fail(node["max_rows"], at + ".max_rows", "a streamed endpoint is bounded by max_export_rows, not max_rows");
    if (e.stream && node["cache"]) r.fail(node["cache"], at + ".cache", "streamed answers are never cached");
    if (e.stream && node["static"]) r.fail(node["stream"], at + ".stream", "a static endpoint cannot stream");
    if (e.stream && node["paginate"])
        r.fail(node["paginate"], at + ".paginate", "a streamed endpoint sends every row at once; it is not paged");
    if (const auto& st = node["static"]) {
        if (node["sql"] || node["source"]) r.fail(node, at, "a static endpoint has no source or sql");
        e.static_body = boost::json::serialize(to_json(st));
        return e;
    }
    if (node["rollup"]) {
        if (node["source"]) r.fail(node, at, "an endpoint reads either a rollup or a source, not both");
        e.rollup = r.text(node["rollup"], at + ".rollup");
    } else {
        if (!node["source"]) r.fail(node, at, R"(missing key "source" (or "rollup" or "static"))");
        e.source = r.text(node["source"], at + ".source");
    }
    const auto& sql = node["sql"];
    if (!sql) r.fail(node, at, "missing key \"sql\"");
    if (sql.is_scalar()) {
        e.sql[""] = sql.scalar();  // for the source's own dialect
    } else if (sql.is_map()) {
        for (const auto& kv : sql) {
            const auto dialect = kv.first.scalar();
            if (dialect != "duckdb" && dialect != "snowflake")
                r.fail(kv.first, at + ".sql", "dialects are duckdb and snowflake");
            e.sql[dialect] = r.text(kv.second, at + ".sql." + dialect);
        }
    } else {
        r.fail(sql, at + ".sql", "expected SQL text or a mapping dialect: SQL");
    }
    if (const auto& ps = node["params"]) {
        if (!ps.is_sequence()) r.fail(ps, at + ".params", "expected a list");
        for (std::size_t i = 0; i < ps.size(); ++i)
            e.params.push_back(read_param(r, ps[i], at + ".params[" + std::to_string(i) + "]"));
    }
    if (node["date_range"]) e.date_range = read_date_range(r, node["date_range"], at + ".date_range");
    if (const auto& pg = node["paginate"]) e.paginate = read_paginate(r, pg, at + ".paginate", e.max_rows);

    std::set<std::string> names;
    auto claim = [&](const std::string& name, const yaml::node& n) {
        if (name == "format")
            r.fail(n, at,
                   "the query parameter name \"format\" is reserved: it chooses the answer's format (docs/formats.md)");
        if (!names.insert(name).second) r.fail(n, at, "the query parameter name \"" + name + "\" is used twice");
    };
    for (std::size_t i = 0; i < e.params.size(); ++i) {
        claim(e.params[i].name, node["params"][i]);
        for (const auto& a : e.params[i].aliases) claim(a, node["params"][i]);
    }
    if (e.date_range) {
        const auto& dr = *e.date_range;
        for (const auto* n : {&dr.start, &dr.end}) claim(*n, node["date_range"]);
        for (const auto& a : dr.start_aliases) claim(a, node["date_range"]);
        for (const auto& a : dr.end_aliases) claim(a, node["date_range"]);
        if (dr.random_param) claim(*dr.random_param, node["date_range"]);
    }
    if (e.paginate)
        for (const char* n : {"limit", "cursor"}) claim(n, node["paginate"]);
    for (const auto& [param, claim_name] : e.claims) {
        bool declared = false;
        for (const auto& p : e.params) declared = declared || p.name == param;
        if (!declared) r.fail(node["claims"], at + ".claims", "\"" + param + "\" is not a declared parameter");
        if (e.auth && *e.auth != auth_mode::jwt) r.fail(node["claims"], at + ".claims", "claims need auth: jwt");
    }
    std::set<std::string> bound;
    for (const auto& p : e.params) bound.insert(p.name);
    if (e.date_range) bound.insert({e.date_range->start, e.date_range->end});
    for (const auto& [param, claim_name] : e.claims) bound.insert(param);
    if (e.paginate) {
        std::set<std::string> paging{"page_limit"};
        for (const auto& k : e.paginate->key) paging.insert("after_" + k);
        require_placeholders(r, sql, paging, at + ".sql");
        bound.insert(paging.begin(), paging.end());
    }
    std::string listed;
    for (const auto& b : bound) listed += (listed.empty() ? "" : ", ") + b;
    check_placeholders(r, sql, bound, at + ".sql",
                       "a declared parameter, date-range name or claim (declared: " +
                           (listed.empty() ? std::string("none") : listed) + ")");
    return e;
}

}  // namespace

const std::string* sql_for(const std::map<std::string, std::string>& sql, std::string_view dialect) {
    auto it = sql.find(std::string(dialect));
    if (it == sql.end()) it = sql.find("");
    return it == sql.end() ? nullptr : &it->second;
}

const rollup_config* config::find_rollup(const std::string& name) const {
    for (const auto& c : rollups)
        if (c.name == name) return &c;
    return nullptr;
}

const source_config* config::find_source(const std::string& name) const {
    for (const auto& s : sources)
        if (s.name == name) return &s;
    return nullptr;
}

model::result<config> load_text(const std::string& text, const std::string& name, const std::string& base_dir) {
    reader r(name);
    r.set_text(&text);
    config cfg;
    cfg.file = name;
    cfg.base_dir = base_dir;
    try {
        yaml::node root = yaml::parse(text);
        if (!root.is_map()) r.fail(root, "(top)", "expected a mapping with server, sources and endpoints");
        r.only_keys(root, "(top)", {"server", "sources", "endpoints", "auth", "cache", "rollups", "serving"});
        if (root["server"]) cfg.server = read_server(r, root["server"]);
        if (root["auth"]) cfg.auth = read_auth(r, root["auth"]);
        if (const auto& sources = root["sources"]) {
            if (!sources.is_map()) r.fail(sources, "sources", "expected a mapping name: {type: ...}");
            for (const auto& kv : sources)
                cfg.sources.push_back(read_source(r, kv.first.scalar(), kv.second, base_dir));
        }
        if (root["cache"]) cfg.cache = read_cache(r, root["cache"]);
        if (root["serving"]) cfg.serving = read_serving(r, root["serving"], base_dir);
        if (const auto& rollups = root["rollups"]) {
            if (!rollups.is_map()) r.fail(rollups, "rollups", "expected a mapping name: {source: ..., sql: ...}");
            for (const auto& kv : rollups) {
                auto c = read_rollup(r, kv.first.scalar(), kv.second);
                const auto* src = cfg.find_source(c.source);
                if (!src)
                    r.fail(kv.second["source"], "rollups." + c.name + ".source",
                           "no source named \"" + c.source + "\"");
                if (!sql_for(c.sql, src->type))
                    r.fail(kv.second["sql"], "rollups." + c.name + ".sql", "no SQL for the " + src->type + " dialect");
                cfg.rollups.push_back(std::move(c));
            }
        }
        const auto& endpoints = root["endpoints"];
        if (!endpoints || !endpoints.is_sequence() || endpoints.size() == 0)
            r.fail(endpoints ? endpoints : root, "endpoints", "expected a list with at least one endpoint");
        std::set<std::string> paths;
        for (std::size_t i = 0; i < endpoints.size(); ++i) {
            const std::string where = "endpoints[" + std::to_string(i) + "]";
            auto e = read_endpoint(r, endpoints[i], where);
            if (!paths.insert(e.path).second) r.fail(endpoints[i], where, "the path " + e.path + " is declared twice");
            if (!e.rollup.empty()) {
                if (!cfg.find_rollup(e.rollup))
                    r.fail(endpoints[i]["rollup"], where + ".rollup", "no rollup named \"" + e.rollup + "\"");
                if (!sql_for(e.sql, "duckdb"))
                    r.fail(endpoints[i]["sql"], where + ".sql", "a rollup is read with duckdb SQL");
            } else if (!e.static_body) {
                const auto* src = cfg.find_source(e.source);
                if (!src) r.fail(endpoints[i]["source"], where + ".source", "no source named \"" + e.source + "\"");
                if (!sql_for(e.sql, src->type))
                    r.fail(endpoints[i]["sql"], where + ".sql",
                           "no SQL for the " + src->type + " dialect of source " + src->name);
            }
            // An answer that needs credentials must never be kept by a CDN or shared proxy:
            // it would be handed to callers without them.
            if (e.auth.value_or(cfg.auth.default_mode) != auth_mode::none && e.cache.shared) {
                const auto& c = endpoints[i]["cache"];
                if (c && c.is_map() && c["shared"] && r.boolean(c["shared"], where + ".cache.shared"))
                    r.fail(c["shared"], where + ".cache.shared",
                           "an endpoint that needs credentials cannot be cached as public (a CDN would answer "
                           "without them); leave shared out: it becomes private");
                e.cache.shared = false;
            }
            cfg.endpoints.push_back(std::move(e));
        }
    } catch (const load_failure& f) {
        return model::error{model::error_code::config_error, f.message, {}, {}};
    } catch (const yaml::parse_error& e) {
        std::ostringstream out;
        out << name;
        if (e.where.line >= 0) out << ':' << e.where.line + 1 << ':' << e.where.column + 1;
        out << ": " << e.what();
        return model::error{model::error_code::config_error, out.str(), {}, {}};
    }
    return cfg;
}

model::result<config> load_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return model::error{model::error_code::config_error, path + ": cannot read the config file", {}, {}};
    std::ostringstream text;
    text << in.rdbuf();
    if (text.str().size() > std::size_t{4} * 1024 * 1024)
        return model::error{model::error_code::config_error, path + ": config file larger than 4 MiB", {}, {}};
    const auto base = std::filesystem::absolute(path).parent_path().string();
    return load_text(text.str(), path, base);
}

env_lookup process_environment() {
    return [](const std::string& name) -> std::optional<std::string> {
        const char* v = std::getenv(name.c_str());
        if (!v || !*v) return std::nullopt;
        return std::string(v);
    };
}

model::result<model::done> apply_environment(config& cfg) {
    return apply_environment(cfg, process_environment());
}

model::result<model::done> apply_environment(config& cfg, const env_lookup& lookup) {
    auto env = [&](const char* name) { return lookup(name); };
    auto number = [](const std::string& name, const std::string& v, unsigned long max) -> model::result<unsigned long> {
        unsigned long n = 0;
        auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
        if (ec != std::errc{} || p != v.data() + v.size() || n > max)
            return model::error{model::error_code::config_error,
                                name + "=" + v + ": expected a whole number up to " + std::to_string(max),
                                {},
                                {}};
        return n;
    };
    if (auto v = env("FROST_HOST")) cfg.server.host = *v;
    // PORT is the platforms' convention (Cloud Run, Heroku, Azure Container Apps' examples);
    // FROST_PORT is Frost's own and wins when both are set, as a setting made for Frost should.
    for (const char* name : {"PORT", "FROST_PORT"}) {
        auto v = env(name);
        if (!v) continue;
        auto n = number(name, *v, 65535);
        if (!n) return std::move(n).error();
        cfg.server.port = static_cast<std::uint16_t>(n.value());
    }
    if (auto v = env("FROST_IO_THREADS")) {
        auto n = number("FROST_IO_THREADS", *v, 256);
        if (!n) return std::move(n).error();
        cfg.server.io_threads = static_cast<unsigned>(n.value());
    }
    // FROST_CURSOR_KEY: the pagination cursors' HMAC key, kept out of the file.
    if (auto v = env("FROST_CURSOR_KEY")) {
        if (v->size() < 32)
            return model::error{model::error_code::config_error,
                                "FROST_CURSOR_KEY: a cursor key is at least 32 bytes (e.g. `openssl rand -hex 32`)",
                                {},
                                {}};
        cfg.server.cursor_key = *v;
    }
    if (auto v = env("FROST_WORKERS")) {
        auto n = number("FROST_WORKERS", *v, 256);
        if (!n) return std::move(n).error();
        cfg.server.workers = static_cast<unsigned>(n.value());
    }
    // FROST_API_KEYS="name=<sha256 hex>,other=<sha256 hex>": keys for every endpoint, kept out of the file.
    if (auto v = env("FROST_API_KEYS")) {
        std::string_view rest = *v;
        while (!rest.empty()) {
            const auto comma = rest.find(',');
            const auto item = rest.substr(0, comma);
            rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
            const auto eq = item.find('=');
            std::string hash(eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1));
            for (auto& c : hash) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (eq == 0 || eq == std::string_view::npos || !valid_sha256_hex(hash))
                return model::error{model::error_code::config_error,
                                    "FROST_API_KEYS: expected name=<64 hex digits of the key's SHA-256>[,...]",
                                    {},
                                    {}};
            cfg.auth.api_keys.push_back({std::string(item.substr(0, eq)), std::move(hash), {}});
        }
    }
    // FROST_SNAPSHOTS_URL / FROST_SNAPSHOTS_ROLE: rollup snapshots in S3 (docs/snapshots.md), for a
    // bucket named at deploy time (the Lambda templates pass theirs).
    if (auto v = env("FROST_SNAPSHOTS_URL")) {
        if (auto parsed = parse_s3_url(*v); !parsed)
            return model::error{
                model::error_code::config_error, "FROST_SNAPSHOTS_URL: " + parsed.error().message, {}, {}};
        if (!cfg.serving.snapshots) cfg.serving.snapshots = snapshot_config{};
        cfg.serving.snapshots->url = *v;
    }
    if (auto v = env("FROST_SNAPSHOTS_ROLE")) {
        if (!cfg.serving.snapshots)
            return model::error{model::error_code::config_error,
                                "FROST_SNAPSHOTS_ROLE is set but no snapshot url is (serving.snapshots.url or "
                                "FROST_SNAPSHOTS_URL)",
                                {},
                                {}};
        if (*v == "reader")
            cfg.serving.snapshots->role = snapshot_role::reader;
        else if (*v == "builder")
            cfg.serving.snapshots->role = snapshot_role::builder;
        else if (*v == "both")
            cfg.serving.snapshots->role = snapshot_role::both;
        else
            return model::error{
                model::error_code::config_error, "FROST_SNAPSHOTS_ROLE: expected reader, builder or both", {}, {}};
    }
    if (cfg.serving.snapshots && cfg.serving.snapshots->role != snapshot_role::reader && cfg.serving.path.empty())
        return model::error{
            model::error_code::config_error, "a snapshot builder publishes the serving file: set serving.path", {}, {}};
    for (auto& source : cfg.sources)
        if (auto resolved = resolve_snowflake(source, lookup); !resolved) return std::move(resolved).error();
    return model::done{};
}

}  // namespace frost::config
