#include <boost/json.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "config/config.hpp"

namespace frost::config {

namespace {

// Thrown inside the loader only, caught in load_text and turned into a result.
struct load_failure {
    std::string message;
};

class reader {
public:
    explicit reader(std::string file) : file_(std::move(file)) {}

    [[noreturn]] void fail(const YAML::Node& node, const std::string& where, const std::string& what) const {
        std::ostringstream out;
        out << file_;
        if (node.IsDefined() && node.Mark().line >= 0) out << ':' << node.Mark().line + 1 << ':' << node.Mark().column + 1;
        out << ": " << where << ": " << what;
        throw load_failure{out.str()};
    }

    void only_keys(const YAML::Node& map, const std::string& where, std::initializer_list<std::string_view> keys) const {
        if (!map.IsMap()) fail(map, where, "expected a mapping");
        for (const auto& kv : map) {
            const auto key = kv.first.as<std::string>();
            if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
                std::string known;
                for (auto k : keys) known += (known.empty() ? "" : ", ") + std::string(k);
                fail(kv.first, where, "unknown key \"" + key + "\" (known: " + known + ")");
            }
        }
    }

    std::string text(const YAML::Node& node, const std::string& where) const {
        if (!node.IsScalar()) fail(node, where, "expected a text value");
        return node.Scalar();
    }

    template <typename Int>
    Int integer(const YAML::Node& node, const std::string& where, Int lo, Int hi) const {
        const auto s = text(node, where);
        long long v = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc{} || p != s.data() + s.size() || v < static_cast<long long>(lo) ||
            v > static_cast<long long>(hi))
            fail(node, where, "expected a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
        return static_cast<Int>(v);
    }

    double number(const YAML::Node& node, const std::string& where) const {
        const auto s = text(node, where);
        double v = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc{} || p != s.data() + s.size()) fail(node, where, "expected a number");
        return v;
    }

    bool boolean(const YAML::Node& node, const std::string& where) const {
        const auto s = text(node, where);
        if (s == "true" || s == "yes" || s == "on") return true;
        if (s == "false" || s == "no" || s == "off") return false;
        fail(node, where, "expected true or false");
    }

    std::chrono::milliseconds duration(const YAML::Node& node, const std::string& where) const {
        // "250ms", "30s", "5m", or a bare number of milliseconds
        const auto s = text(node, where);
        std::size_t digits = 0;
        while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') ++digits;
        const auto unit = std::string_view(s).substr(digits);
        long long n = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + digits, n);
        if (digits == 0 || ec != std::errc{} || n > 86'400'000) fail(node, where, "expected a duration like 250ms, 30s or 5m");
        if (unit.empty() || unit == "ms") return std::chrono::milliseconds(n);
        if (unit == "s") return std::chrono::seconds(n);
        if (unit == "m") return std::chrono::minutes(n);
        fail(node, where, "expected a duration like 250ms, 30s or 5m");
    }

    std::vector<std::string> text_list(const YAML::Node& node, const std::string& where) const {
        std::vector<std::string> out;
        if (node.IsScalar()) {
            out.push_back(node.Scalar());
            return out;
        }
        if (!node.IsSequence()) fail(node, where, "expected a list of text values");
        for (std::size_t i = 0; i < node.size(); ++i) out.push_back(text(node[i], where + "[" + std::to_string(i) + "]"));
        return out;
    }

    model::date date(const YAML::Node& node, const std::string& where) const {
        auto d = model::parse_date(text(node, where));
        if (!d) fail(node, where, "expected a date YYYY-MM-DD");
        return *d;
    }

    const std::string& file() const { return file_; }

private:
    std::string file_;
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
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' || c == '.')) return false;
    return s.find("//") == std::string_view::npos;
}

// YAML scalars carry no type: a plain scalar that reads as a number, boolean or null is one.
boost::json::value to_json(const YAML::Node& node) {
    if (node.IsMap()) {
        boost::json::object o;
        for (const auto& kv : node) o[kv.first.as<std::string>()] = to_json(kv.second);
        return o;
    }
    if (node.IsSequence()) {
        boost::json::array a;
        for (const auto& item : node) a.push_back(to_json(item));
        return a;
    }
    if (!node.IsScalar() || node.Tag() == "!") return node.IsScalar() ? boost::json::value(node.Scalar()) : nullptr;
    const auto& s = node.Scalar();
    if (s == "null" || s == "~") return nullptr;
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

param_type parse_param_type(const reader& r, const YAML::Node& node, const std::string& where) {
    const auto s = r.text(node, where);
    if (s == "string") return param_type::string;
    if (s == "integer") return param_type::integer;
    if (s == "number") return param_type::number;
    if (s == "boolean") return param_type::boolean;
    if (s == "date") return param_type::date;
    r.fail(node, where, "expected one of string, integer, number, boolean, date");
}

server_config read_server(const reader& r, const YAML::Node& node) {
    server_config s;
    r.only_keys(node, "server", {"host", "port", "io_threads", "workers", "queue_capacity", "request_timeout",
                                 "shutdown_grace", "header_timeout", "idle_timeout", "max_header_bytes",
                                 "max_body_bytes", "max_url_bytes", "max_connections"});
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
    return s;
}

source_config read_source(const reader& r, const std::string& name, const YAML::Node& node, const std::string& base) {
    const std::string where = "sources." + name;
    if (!valid_identifier(name)) r.fail(node, where, "source names are letters, digits and _");
    if (!node.IsMap()) r.fail(node, where, "expected a mapping");
    source_config s;
    s.name = name;
    if (!node["type"]) r.fail(node, where, "missing key \"type\" (duckdb or snowflake)");
    s.type = r.text(node["type"], where + ".type");
    if (s.type == "duckdb") {
        r.only_keys(node, where, {"type", "path", "read_only", "options"});
        if (!node["path"]) r.fail(node, where, "missing key \"path\" (the DuckDB database file)");
        s.path = r.text(node["path"], where + ".path");
        if (s.path != ":memory:" && std::filesystem::path(s.path).is_relative())
            s.path = (std::filesystem::path(base) / s.path).lexically_normal().string();
        if (node["read_only"]) s.read_only = r.boolean(node["read_only"], where + ".read_only");
        if (const auto& opts = node["options"]) {
            if (!opts.IsMap()) r.fail(opts, where + ".options", "expected a mapping of DuckDB settings");
            for (const auto& kv : opts)
                s.options[kv.first.as<std::string>()] = r.text(kv.second, where + ".options");
        }
    } else if (s.type == "snowflake") {
        for (const auto& kv : node) {
            const auto key = kv.first.as<std::string>();
            if (key == "type") continue;
            s.settings[key] = r.text(kv.second, where + "." + key);
        }
    } else {
        r.fail(node["type"], where + ".type", "expected duckdb or snowflake");
    }
    return s;
}

param_config read_param(const reader& r, const YAML::Node& node, const std::string& where) {
    r.only_keys(node, where, {"name", "aliases", "type", "required", "default", "description", "max_length",
                              "minimum", "maximum", "enum"});
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

date_range_config read_date_range(const reader& r, const YAML::Node& node, const std::string& where) {
    r.only_keys(node, where, {"start", "end", "start_aliases", "end_aliases", "description", "random"});
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
    return d;
}

endpoint_config read_endpoint(const reader& r, const YAML::Node& node, const std::string& where) {
    r.only_keys(node, where, {"path", "summary", "description", "tags", "source", "sql", "params", "date_range",
                              "strict", "format", "static", "max_rows"});
    endpoint_config e;
    if (!node["path"]) r.fail(node, where, "missing key \"path\"");
    e.path = r.text(node["path"], where + ".path");
    if (!valid_path(e.path)) r.fail(node["path"], where + ".path", "a path starts with / and holds letters, digits, - _ . /");
    const std::string at = where + " (" + e.path + ")";
    if (node["summary"]) e.summary = r.text(node["summary"], at + ".summary");
    if (node["description"]) e.description = r.text(node["description"], at + ".description");
    if (node["tags"]) e.tags = r.text_list(node["tags"], at + ".tags");
    if (node["strict"]) e.strict = r.boolean(node["strict"], at + ".strict");
    if (node["max_rows"]) e.max_rows = r.integer<std::size_t>(node["max_rows"], at + ".max_rows", 1, 10'000'000);
    if (node["format"]) {
        const auto f = r.text(node["format"], at + ".format");
        if (f == "arrays") e.format = row_format::arrays;
        else if (f == "objects") e.format = row_format::objects;
        else r.fail(node["format"], at + ".format", "expected arrays or objects");
    }
    if (const auto& st = node["static"]) {
        if (node["sql"] || node["source"]) r.fail(node, at, "a static endpoint has no source or sql");
        e.static_body = boost::json::serialize(to_json(st));
        return e;
    }
    if (!node["source"]) r.fail(node, at, "missing key \"source\" (or \"static\")");
    e.source = r.text(node["source"], at + ".source");
    const auto& sql = node["sql"];
    if (!sql) r.fail(node, at, "missing key \"sql\"");
    if (sql.IsScalar()) {
        e.sql[""] = sql.Scalar();  // for the source's own dialect
    } else if (sql.IsMap()) {
        for (const auto& kv : sql) {
            const auto dialect = kv.first.as<std::string>();
            if (dialect != "duckdb" && dialect != "snowflake")
                r.fail(kv.first, at + ".sql", "dialects are duckdb and snowflake");
            e.sql[dialect] = r.text(kv.second, at + ".sql." + dialect);
        }
    } else {
        r.fail(sql, at + ".sql", "expected SQL text or a mapping dialect: SQL");
    }
    if (const auto& ps = node["params"]) {
        if (!ps.IsSequence()) r.fail(ps, at + ".params", "expected a list");
        for (std::size_t i = 0; i < ps.size(); ++i) e.params.push_back(read_param(r, ps[i], at + ".params[" + std::to_string(i) + "]"));
    }
    if (node["date_range"]) e.date_range = read_date_range(r, node["date_range"], at + ".date_range");

    std::set<std::string> names;
    auto claim = [&](const std::string& name, const YAML::Node& n) {
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
    return e;
}

}  // namespace

const source_config* config::find_source(const std::string& name) const {
    for (const auto& s : sources)
        if (s.name == name) return &s;
    return nullptr;
}

model::result<config> load_text(const std::string& text, const std::string& name, const std::string& base_dir) {
    reader r(name);
    config cfg;
    cfg.file = name;
    cfg.base_dir = base_dir;
    try {
        YAML::Node root = YAML::Load(text);
        if (!root.IsMap()) r.fail(root, "(top)", "expected a mapping with server, sources and endpoints");
        r.only_keys(root, "(top)", {"server", "sources", "endpoints"});
        if (root["server"]) cfg.server = read_server(r, root["server"]);
        if (const auto& sources = root["sources"]) {
            if (!sources.IsMap()) r.fail(sources, "sources", "expected a mapping name: {type: ...}");
            for (const auto& kv : sources)
                cfg.sources.push_back(read_source(r, kv.first.as<std::string>(), kv.second, base_dir));
        }
        const auto& endpoints = root["endpoints"];
        if (!endpoints || !endpoints.IsSequence() || endpoints.size() == 0)
            r.fail(endpoints ? endpoints : root, "endpoints", "expected a list with at least one endpoint");
        std::set<std::string> paths;
        for (std::size_t i = 0; i < endpoints.size(); ++i) {
            const std::string where = "endpoints[" + std::to_string(i) + "]";
            auto e = read_endpoint(r, endpoints[i], where);
            if (!paths.insert(e.path).second) r.fail(endpoints[i], where, "the path " + e.path + " is declared twice");
            if (!e.static_body) {
                const auto* src = cfg.find_source(e.source);
                if (!src) r.fail(endpoints[i]["source"], where + ".source", "no source named \"" + e.source + "\"");
                if (!e.sql.contains("") && !e.sql.contains(src->type))
                    r.fail(endpoints[i]["sql"], where + ".sql", "no SQL for the " + src->type + " dialect of source " + src->name);
            }
            cfg.endpoints.push_back(std::move(e));
        }
    } catch (const load_failure& f) {
        return model::error{model::error_code::config_error, f.message, {}, {}};
    } catch (const YAML::Exception& e) {
        std::ostringstream out;
        out << name;
        if (e.mark.line >= 0) out << ':' << e.mark.line + 1 << ':' << e.mark.column + 1;
        out << ": " << e.msg;
        return model::error{model::error_code::config_error, out.str(), {}, {}};
    }
    return cfg;
}

model::result<config> load_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return model::error{model::error_code::config_error, path + ": cannot read the config file", {}, {}};
    std::ostringstream text;
    text << in.rdbuf();
    if (text.str().size() > 4 * 1024 * 1024)
        return model::error{model::error_code::config_error, path + ": config file larger than 4 MiB", {}, {}};
    const auto base = std::filesystem::absolute(path).parent_path().string();
    return load_text(text.str(), path, base);
}

model::result<model::done> apply_environment(config& cfg) {
    auto env = [](const char* name) -> std::optional<std::string> {
        const char* v = std::getenv(name);
        if (!v || !*v) return std::nullopt;
        return std::string(v);
    };
    auto number = [](const std::string& name, const std::string& v, unsigned long max) -> model::result<unsigned long> {
        unsigned long n = 0;
        auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
        if (ec != std::errc{} || p != v.data() + v.size() || n > max)
            return model::error{model::error_code::config_error,
                                name + "=" + v + ": expected a whole number up to " + std::to_string(max), {}, {}};
        return n;
    };
    if (auto v = env("FROST_HOST")) cfg.server.host = *v;
    if (auto v = env("FROST_PORT")) {
        auto n = number("FROST_PORT", *v, 65535);
        if (!n) return std::move(n).error();
        cfg.server.port = static_cast<std::uint16_t>(n.value());
    }
    if (auto v = env("FROST_IO_THREADS")) {
        auto n = number("FROST_IO_THREADS", *v, 256);
        if (!n) return std::move(n).error();
        cfg.server.io_threads = static_cast<unsigned>(n.value());
    }
    if (auto v = env("FROST_WORKERS")) {
        auto n = number("FROST_WORKERS", *v, 256);
        if (!n) return std::move(n).error();
        cfg.server.workers = static_cast<unsigned>(n.value());
    }
    return model::done{};
}

}  // namespace frost::config
