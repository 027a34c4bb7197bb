#include "api/openapi.hpp"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

#include "api/formats.hpp"
#include "api/pagination.hpp"
#include "cache/http_caching.hpp"
#include "model/error.hpp"
#include "rollup/serving_store.hpp"

namespace frost::api {

namespace json = boost::json;

namespace {

// Every error code, so each status's documented codes come from model's one table.
constexpr model::error_code all_error_codes[] = {
    model::error_code::not_found,
    model::error_code::method_not_allowed,
    model::error_code::bad_parameter,
    model::error_code::unknown_parameter,
    model::error_code::missing_parameter,
    model::error_code::bad_request,
    model::error_code::payload_too_large,
    model::error_code::uri_too_long,
    model::error_code::headers_too_large,
    model::error_code::unauthorized,
    model::error_code::forbidden,
    model::error_code::rate_limited,
    model::error_code::not_acceptable,
    model::error_code::source_error,
    model::error_code::source_unavailable,
    model::error_code::overloaded,
    model::error_code::timeout,
    model::error_code::result_too_large,
    model::error_code::config_error,
    model::error_code::internal,
};

std::string status_text(int status) {
    switch (status) {
        case 400:
            return "Bad request: a parameter is unknown, missing, malformed or out of range";
        case 401:
            return "Unauthorized: credentials are missing or invalid";
        case 403:
            return "Forbidden: the credentials do not allow this endpoint";
        case 404:
            return "Not found";
        case 406:
            return "Not acceptable: Accept names none of the offered media types (listed in details)";
        case 414:
            return "URI too long";
        case 429:
            return "Too many requests: a rate limit was reached; see Retry-After";
        case 431:
            return "Request headers too large";
        case 500:
            return "Internal error";
        case 502:
            return "The data source failed or returned more rows than the endpoint allows";
        case 503:
            return "Busy or the data source is unreachable; retry after Retry-After seconds";
        case 504:
            return "The query ran past the request deadline";
        default:
            return "Error";
    }
}

json::array codes_for(int status) {
    json::array out;
    for (auto c : all_error_codes)
        if (model::http_status(c) == status) out.emplace_back(std::string(model::code_name(c)));
    return out;
}

// `/trips/day_of_week` -> `TripsDayOfWeek`; `/` -> `Root`.
std::string schema_name(const std::string& path) {
    std::string out;
    bool upper = true;
    for (char c : path) {
        if (std::isalnum(static_cast<unsigned char>(c))) {
            out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
            upper = false;
        } else {
            upper = true;
        }
    }
    if (out.empty()) out = "Root";
    if (std::isdigit(static_cast<unsigned char>(out[0]))) out = "P" + out;
    return out;
}

json::value nullable(std::string_view type) {
    json::array t;
    t.emplace_back(type);
    t.emplace_back("null");
    return t;
}

// JSON Schema of one rendered cell (api/render.cpp): SQL NULL is always possible.
json::object cell_schema(const model::column& col) {
    json::object s;
    s["title"] = col.name;
    switch (col.type) {
        case model::column_type::boolean:
            s["type"] = nullable("boolean");
            break;
        case model::column_type::integer:
            s["type"] = nullable("integer");
            break;
        case model::column_type::real:
            s["type"] = nullable("number");
            s["description"] = "A real number; not-a-number and infinities are null.";
            break;
        case model::column_type::decimal:
            s["type"] = nullable("number");
            break;
        case model::column_type::date:
            s["type"] = nullable("string");
            s["format"] = "date";
            break;
        case model::column_type::time:
            s["type"] = nullable("string");
            s["description"] = "Time of day, HH:MM:SS[.ffffff].";
            break;
        case model::column_type::timestamp:
            s["type"] = nullable("string");
            s["pattern"] = R"(^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?$)";
            s["description"] = "Timestamp without time zone, YYYY-MM-DD HH:MM:SS[.ffffff].";
            break;
        case model::column_type::json:
            s["description"] = "A JSON value, as stored.";
            break;
        case model::column_type::text:
        case model::column_type::binary:
            s["type"] = nullable("string");
            break;
    }
    return s;
}

json::object any_cell() {
    json::object s;
    json::array t;
    for (auto n : {"string", "number", "boolean", "null"}) t.emplace_back(n);
    s["type"] = std::move(t);
    return s;
}

json::object row_schema(const config::endpoint_config& e, const std::vector<model::column>* cols) {
    json::object s;
    if (e.format == config::row_format::objects) {
        s["type"] = "object";
        if (!cols) {
            s["additionalProperties"] = any_cell();
            s["description"] = "One row: column name -> value (columns not known when the spec was built).";
            return s;
        }
        json::object props;
        json::array required;
        for (const auto& c : *cols) {
            props[c.name] = cell_schema(c);
            required.emplace_back(c.name);
        }
        s["properties"] = std::move(props);
        s["required"] = std::move(required);
        s["additionalProperties"] = false;
        return s;
    }
    s["type"] = "array";
    if (!cols) {
        s["items"] = any_cell();
        s["description"] = "One row: its values in column order (columns not known when the spec was built).";
        return s;
    }
    json::array items;
    std::string names;
    for (const auto& c : *cols) {
        items.push_back(cell_schema(c));
        names += (names.empty() ? "" : ", ") + c.name;
    }
    s["description"] = "One row: [" + names + "]";
    s["prefixItems"] = std::move(items);
    s["items"] = false;
    s["minItems"] = cols->size();
    s["maxItems"] = cols->size();
    return s;
}

// A schema that the given JSON value satisfies: for the fixed bodies of static endpoints.
json::object schema_of(const json::value& v) {
    json::object s;
    switch (v.kind()) {
        case json::kind::object: {
            s["type"] = "object";
            json::object props;
            json::array req;
            for (const auto& kv : v.get_object()) {
                props[kv.key()] = schema_of(kv.value());
                req.emplace_back(kv.key());
            }
            s["properties"] = std::move(props);
            s["required"] = std::move(req);
            break;
        }
        case json::kind::array:
            s["type"] = "array";
            break;
        case json::kind::string:
            s["type"] = "string";
            break;
        case json::kind::int64:
        case json::kind::uint64:
            s["type"] = "integer";
            break;
        case json::kind::double_:
            s["type"] = "number";
            break;
        case json::kind::bool_:
            s["type"] = "boolean";
            break;
        case json::kind::null:
            s["type"] = "null";
            break;
    }
    return s;
}

// A default or example typed like the parameter, when the text reads as one.
json::value typed_value(config::param_type type, const std::string& text) {
    switch (type) {
        case config::param_type::integer: {
            std::int64_t v = 0;
            auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
            if (ec == std::errc{} && p == text.data() + text.size()) return v;
            break;
        }
        case config::param_type::number: {
            double v = 0;
            auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
            if (ec == std::errc{} && p == text.data() + text.size()) return v;
            break;
        }
        case config::param_type::boolean:
            if (text == "true" || text == "1") return true;
            if (text == "false" || text == "0") return false;
            break;
        case config::param_type::date:
            if (auto d = model::parse_date(text)) return json::value(model::format_date(*d));
            break;
        case config::param_type::string:
            break;
    }
    return json::value(text);
}

json::object param_schema(const config::param_config& p) {
    json::object s;
    switch (p.type) {
        case config::param_type::string:
            s["type"] = "string";
            s["maxLength"] = p.max_length;
            if (!p.allowed.empty()) {
                json::array e;
                for (const auto& a : p.allowed) e.emplace_back(a);
                s["enum"] = std::move(e);
            }
            break;
        case config::param_type::integer:
            s["type"] = "integer";
            s["format"] = "int64";
            break;
        case config::param_type::number:
            s["type"] = "number";
            s["format"] = "double";
            break;
        case config::param_type::boolean:
            s["type"] = "boolean";
            break;
        case config::param_type::date:
            s["type"] = "string";
            s["format"] = "date";
            break;
    }
    if (p.type == config::param_type::integer || p.type == config::param_type::number) {
        auto bound = [&](double v) -> json::value {
            if (p.type == config::param_type::integer) return static_cast<std::int64_t>(v);
            return v;
        };
        if (p.minimum) s["minimum"] = bound(*p.minimum);
        if (p.maximum) s["maximum"] = bound(*p.maximum);
    }
    if (p.default_value) s["default"] = typed_value(p.type, *p.default_value);
    return s;
}

json::object query_param(const std::string& name, bool required, std::string_view description, json::object schema) {
    json::object o;
    o["name"] = name;
    o["in"] = "query";
    o["required"] = required;
    if (!description.empty()) o["description"] = description;
    o["schema"] = std::move(schema);
    return o;
}

std::string date_text(model::date d) {
    return model::format_date(d);
}

void add_date_range(json::array& params, json::object& operation, const config::date_range_config& d) {
    const std::string pair = "Give both `" + d.start + "` and `" + d.end +
                             "` or neither. Whole days, both inclusive. `YYYY-MM-DD`; the seed's `MM/DD/YYYY` "
                             "is accepted too.";
    auto date_schema = [](std::optional<model::date> example) {
        json::object s;
        s["type"] = "string";
        s["format"] = "date";
        if (example) {
            json::array ex;
            ex.emplace_back(date_text(*example));
            s["examples"] = std::move(ex);
        }
        return s;
    };
    const bool has_window = d.random_param.has_value();
    auto start_ex = has_window ? std::optional(d.random_from) : std::nullopt;
    auto end_ex = has_window ? std::optional(d.random_to) : std::nullopt;
    const std::string lead = d.description.empty() ? "" : d.description + " ";
    auto start = query_param(d.start, false, lead + "First day of the range. " + pair, date_schema(start_ex));
    if (start_ex) start["example"] = date_text(*start_ex);
    params.push_back(std::move(start));
    auto end = query_param(d.end, false, lead + "Last day of the range. " + pair, date_schema(end_ex));
    if (end_ex) end["example"] = date_text(*end_ex);
    params.push_back(std::move(end));
    for (const auto& a : d.start_aliases)
        params.push_back(query_param(a, false, "Another name for `" + d.start + "`.", date_schema(std::nullopt)));
    for (const auto& a : d.end_aliases)
        params.push_back(query_param(a, false, "Another name for `" + d.end + "`.", date_schema(std::nullopt)));

    json::object ext;
    ext["start"] = d.start;
    ext["end"] = d.end;
    {
        json::array sa, ea;
        for (const auto& a : d.start_aliases) sa.emplace_back(a);
        for (const auto& a : d.end_aliases) ea.emplace_back(a);
        ext["start_aliases"] = std::move(sa);
        ext["end_aliases"] = std::move(ea);
    }
    if (d.random_param) {
        json::object s;
        s["type"] = "boolean";
        s["default"] = false;
        params.push_back(query_param(*d.random_param, false,
                                     "`true` picks a random range inside " + date_text(d.random_from) + " .. " +
                                         date_text(d.random_to) + " (inclusive) instead of `" + d.start + "`/`" +
                                         d.end + "`, which must then be left out. Defeats caches in load tests.",
                                     std::move(s)));
        ext["random"] = *d.random_param;
        json::object window;
        window["from"] = date_text(d.random_from);
        window["to"] = date_text(d.random_to);
        ext["random_window"] = std::move(window);
    }
    operation["x-frost-date-range"] = std::move(ext);
}

// The reserved `format` parameter, and `limit` and `cursor` on a paginated endpoint.
void add_format_params(json::array& params, const config::endpoint_config& e) {
    json::object format;
    format["type"] = "string";
    json::array names;
    for (auto f : offered_formats(e)) names.emplace_back(format_name(f));
    format["enum"] = std::move(names);
    if (e.stream) format["default"] = format_name(export_formats[0]);
    params.push_back(query_param(std::string(format_param), false,
                                 e.stream ? "The export's format; overrides `Accept` (`csv` is the default)."
                                          : "The answer's format; overrides `Accept` (`json` is the default envelope).",
                                 std::move(format)));
    if (!e.paginate) return;
    json::object limit;
    limit["type"] = "integer";
    limit["minimum"] = 1;
    limit["maximum"] = e.paginate->max_page_size;
    limit["default"] = e.paginate->page_size;
    params.push_back(query_param(std::string(limit_param), false, "Rows per page.", std::move(limit)));
    json::object cursor;
    cursor["type"] = "string";
    params.push_back(query_param(std::string(cursor_param), false,
                                 "The previous page's `next` cursor, unchanged; absent for the first page. Valid only "
                                 "with the same other parameters.",
                                 std::move(cursor)));
}

json::object error_ref(const std::string& name) {
    json::object o;
    o["$ref"] = "#/components/responses/" + name;
    return o;
}

std::string error_response_name(int status) {
    return "Error" + std::to_string(status);
}

json::object error_components(json::object& schemas, const std::vector<int>& statuses) {
    {
        json::object err;
        err["type"] = "object";
        err["description"] = "The one error body of every Frost response that is not a success.";
        json::object props;
        json::object message;
        message["type"] = "string";
        message["description"] = "What went wrong, for people.";
        props["error"] = std::move(message);
        json::object code;
        code["type"] = "string";
        code["pattern"] = "^FR[0-9]{3}$";
        code["description"] = "Stable machine-readable code; clients may match on it.";
        json::array all;
        std::set<std::string> seen;
        for (auto c : all_error_codes)
            if (seen.insert(std::string(model::code_name(c))).second)
                all.emplace_back(std::string(model::code_name(c)));
        code["enum"] = std::move(all);
        props["code"] = std::move(code);
        json::object details;
        details["type"] = "string";
        details["description"] = "More about the failure, when there is more.";
        props["details"] = std::move(details);
        json::object hint;
        hint["type"] = "string";
        hint["description"] = "How to fix the request, when Frost knows.";
        props["hint"] = std::move(hint);
        json::object request_id;
        request_id["type"] = "string";
        request_id["description"] =
            "On server-side errors (5xx): the request's id, also in X-Request-Id and in the log line that holds "
            "the error's full text.";
        props["request_id"] = std::move(request_id);
        err["properties"] = std::move(props);
        json::array req;
        req.emplace_back("error");
        req.emplace_back("code");
        err["required"] = std::move(req);
        schemas["Error"] = std::move(err);
    }
    json::object responses;
    for (int status : statuses) {
        json::object r;
        auto codes = codes_for(status);
        std::string listed;
        for (const auto& c : codes) listed += (listed.empty() ? "" : ", ") + std::string(c.as_string());
        r["description"] = status_text(status) + (listed.empty() ? "" : " (codes: " + listed + ")");
        json::object schema;
        json::array all_of;
        json::object ref;
        ref["$ref"] = "#/components/schemas/Error";
        all_of.push_back(std::move(ref));
        if (!codes.empty()) {
            json::object narrowed;
            json::object props;
            json::object code;
            code["enum"] = codes;
            props["code"] = std::move(code);
            narrowed["properties"] = std::move(props);
            all_of.push_back(std::move(narrowed));
        }
        schema["allOf"] = std::move(all_of);
        json::object media;
        media["schema"] = std::move(schema);
        if (!codes.empty()) {
            json::object example;
            example["error"] = status_text(status);
            example["code"] = codes.front();
            media["example"] = std::move(example);
        }
        json::object content;
        content["application/json"] = std::move(media);
        r["content"] = std::move(content);
        if (status == 503 || status == 429) {
            json::object headers, retry, s;
            s["type"] = "integer";
            retry["description"] = "Seconds to wait before retrying.";
            retry["schema"] = std::move(s);
            headers["Retry-After"] = std::move(retry);
            r["headers"] = std::move(headers);
        }
        responses[error_response_name(status)] = std::move(r);
    }
    return responses;
}

json::object cors_headers() {
    json::object h, cors, s, rid, rs;
    s["type"] = "string";
    cors["description"] = "`*`: any web page may read the answer (the seed's CORS policy).";
    cors["schema"] = std::move(s);
    h["Access-Control-Allow-Origin"] = std::move(cors);
    rs["type"] = "string";
    rid["description"] = "The request's id (the caller's X-Request-Id, or one Frost made), also in the logs.";
    rid["schema"] = std::move(rs);
    h["X-Request-Id"] = std::move(rid);
    return h;
}

json::object string_header(std::string_view description) {
    json::object h, schema;
    schema["type"] = "string";
    h["description"] = description;
    h["schema"] = std::move(schema);
    return h;
}

// What a report's answer carries beyond CORS: where its data comes from and, when the
// endpoint is cached, its validators (api/service.cpp, cache/response_cache.cpp).
void add_report_headers(json::object& headers, const config::endpoint_config& e) {
    if (e.stream) {
        // The head of a streamed export goes out before its rows (stream_export.cpp).
        headers["X-Data-Version"] = string_header("`live`: the export is read from the source as it is written.");
        headers["Cache-Control"] = string_header("`no-store`: an export is never cached.");
        headers["Content-Disposition"] = string_header("CSV only: `attachment; filename=\"export.csv\"`.");
        headers["Server-Timing"] = string_header("Time spent on the server before the first row.");
        return;
    }
    headers["X-Data-Version"] = string_header(
        e.rollup.empty() ? "`live`: the answer was read from the source for this request."
                         : "The rollup and its version the answer was read from, e.g. `" + e.rollup + "@3`.");
    auto as_of = string_header(e.rollup.empty() ? "When the source was read (UTC, ISO 8601)."
                                                : "When that rollup version was built (UTC, ISO 8601).");
    as_of["schema"].as_object()["format"] = "date-time";
    headers["X-Data-As-Of"] = std::move(as_of);
    if (!e.rollup.empty())
        headers["X-Data-Stale"] =
            string_header("`true` when the last refresh of the rollup failed and an older version answered.");
    headers["Server-Timing"] = string_header("Time spent on the server, and the cache outcome when cached.");
    headers["Vary"] = string_header("`Accept, Accept-Encoding`: the format and the compression are negotiated.");
    if (e.paginate)
        headers["Link"] = string_header("`<...cursor=...>; rel=\"next\"` when another page follows (RFC 8288).");
    if (e.cache.ttl.count() > 0) {
        headers["Cache-Control"] = string_header("`" + cache::cache_control(e.cache) + "`");
        headers["ETag"] = string_header("Strong validator of this representation; send it back in `If-None-Match`.");
        headers["X-Cache"] = string_header("`hit`, `miss` or `stale`: how the server's response cache answered.");
    }
}

// The `{"result": rows, "time_ms": n}` envelope of a report whose row schema is `<name>Row`.
json::object envelope_schema(const config::endpoint_config& e, const std::string& name) {
    json::object envelope;
    envelope["type"] = "object";
    envelope["description"] = "The report's rows and the time the server spent on it.";
    json::object props;
    json::object result;
    result["type"] = "array";
    json::object items;
    items["$ref"] = "#/components/schemas/" + name + "Row";
    result["items"] = std::move(items);
    result["maxItems"] = e.stream ? e.max_export_rows : e.max_rows;
    props["result"] = std::move(result);
    json::object time_ms;
    time_ms["type"] = "integer";
    time_ms["minimum"] = 0;
    time_ms["description"] = "Milliseconds from the request's arrival to its answer, on the server.";
    props["time_ms"] = std::move(time_ms);
    if (e.paginate) {
        json::object next;
        next["type"] = "string";
        next["description"] = "The cursor to the next page (send it back as `cursor`); absent on the last page.";
        props["next"] = std::move(next);
    }
    envelope["properties"] = std::move(props);
    json::array req;
    req.emplace_back("result");
    req.emplace_back("time_ms");
    envelope["required"] = std::move(req);
    return envelope;
}

// The media types other than the default JSON a report is offered in (docs/formats.md), each with
// its schema: the objects envelope, NDJSON lines and CSV text.
void add_other_formats(json::object& content, const config::endpoint_config& e, const std::string& name,
                       const openapi_options& opts, json::object& schemas) {
    auto it = opts.columns.find(e.path);
    const auto* cols = it == opts.columns.end() ? nullptr : &it->second;
    auto as_objects = e;
    as_objects.format = config::row_format::objects;
    schemas[name + "ObjectRow"] = row_schema(as_objects, cols);
    schemas[name + "ObjectsResponse"] = envelope_schema(as_objects, name + "Object");
    {
        json::object media, ref;
        ref["$ref"] = "#/components/schemas/" + name + "ObjectsResponse";
        media["schema"] = std::move(ref);
        content[std::string(media_type(output_format::objects))] = std::move(media);
    }
    std::string names;
    if (cols)
        for (const auto& c : *cols) names += (names.empty() ? "" : ",") + c.name;
    {
        json::object media, schema;
        schema["type"] = "string";
        schema["description"] =
            "One JSON object per line, each a `" + name + "ObjectRow`, each line ended by `\\n`" +
            std::string(e.paginate ? "; when another page follows, a last line `{\"@next\": cursor}`" : "") + ".";
        schema["contentMediaType"] = "application/x-ndjson";
        media["schema"] = std::move(schema);
        content[std::string(media_type(output_format::ndjson))] = std::move(media);
    }
    {
        json::object media, schema;
        schema["type"] = "string";
        schema["description"] =
            "RFC 4180 CSV, UTF-8: a header row" + (names.empty() ? std::string() : " (`" + names + "`)") +
            ", then one record per row, CRLF-ended; quoted only where needed; NULL is an empty field; dates ISO." +
            std::string(e.paginate ? " The next page's cursor is in the `Link` header." : "");
        media["schema"] = std::move(schema);
        content[std::string(media_type(output_format::csv))] = std::move(media);
    }
}

// The 200 answer of an endpoint; a report's envelope and row go into `schemas`.
json::object success_response(const config::endpoint_config& e, const std::string& name, const openapi_options& opts,
                              json::object& schemas) {
    json::object ok;
    json::object media;
    if (e.static_body) {
        ok["description"] = "A fixed answer";
        json::error_code ec;
        auto body = json::parse(*e.static_body, ec);
        if (!ec) {
            media["schema"] = schema_of(body);
            media["example"] = std::move(body);
        }
    } else {
        auto it = opts.columns.find(e.path);
        const auto* cols = it == opts.columns.end() ? nullptr : &it->second;
        schemas[name + "Row"] = row_schema(e, cols);
        schemas[name + "Response"] = envelope_schema(e, name);
        json::object ref;
        ref["$ref"] = "#/components/schemas/" + name + "Response";
        media["schema"] = std::move(ref);
        ok["description"] = e.stream ? "The export, streamed as the source reads it (chunked), in the format "
                                       "chosen by `format` or `Accept`: CSV unless asked otherwise (docs/formats.md)"
                                     : "The report, in the format chosen by `format` or `Accept` (docs/formats.md)";
    }
    json::object content;
    content[std::string(media_type(output_format::json))] = std::move(media);
    if (!e.static_body) {
        add_other_formats(content, e, name, opts, schemas);
        // Listed in the endpoint's order of preference, its default first (CSV for an export).
        json::object ordered;
        for (auto f : offered_formats(e)) ordered[media_type(f)] = std::move(content[media_type(f)]);
        content = std::move(ordered);
    }
    ok["content"] = std::move(content);
    auto headers = cors_headers();
    if (!e.static_body) add_report_headers(headers, e);
    ok["headers"] = std::move(headers);
    return ok;
}

json::object security_object(const security_scheme& s) {
    json::object o;
    o["type"] = s.type;
    if (!s.description.empty()) o["description"] = s.description;
    if (s.type == "http") {
        o["scheme"] = s.scheme.empty() ? "bearer" : s.scheme;
        if (!s.bearer_format.empty()) o["bearerFormat"] = s.bearer_format;
    } else if (s.type == "apiKey") {
        o["in"] = s.in.empty() ? "header" : s.in;
        o["name"] = s.parameter_name;
    } else if (s.type == "openIdConnect") {
        o["openIdConnectUrl"] = s.open_id_connect_url;
    }
    return o;
}

}  // namespace

namespace {

config::auth_mode mode_of(const config::config& cfg, const config::endpoint_config& e) {
    return e.auth.value_or(cfg.auth.default_mode);
}

bool wants_key(config::auth_mode m) {
    return m == config::auth_mode::api_key || m == config::auth_mode::any;
}
bool wants_jwt(config::auth_mode m) {
    return m == config::auth_mode::jwt || m == config::auth_mode::any;
}

bool rate_limited(const config::config& cfg, const config::endpoint_config& e) {
    return e.rate_limit.value_or(cfg.auth.rate_limit).per_second > 0;
}

security_scheme api_key_scheme() {
    security_scheme s;
    s.name = "api_key";
    s.type = "apiKey";
    s.in = "header";
    s.parameter_name = "X-Api-Key";
    s.description = "An API key from the server's `auth.api_keys` (also accepted as `Authorization: Bearer <key>`).";
    return s;
}

security_scheme bearer_scheme() {
    security_scheme s;
    s.name = "bearer";
    s.type = "http";
    s.scheme = "bearer";
    s.bearer_format = "JWT";
    s.description = "A JWT signed by a key of the configured JWKS (RS256 or ES256).";
    return s;
}

}  // namespace

std::vector<security_scheme> security_from_config(const config::config& cfg) {
    bool key = false, jwt = false;
    for (const auto& e : cfg.endpoints) {
        key = key || wants_key(mode_of(cfg, e));
        jwt = jwt || wants_jwt(mode_of(cfg, e));
    }
    std::vector<security_scheme> out;
    if (key) out.push_back(api_key_scheme());
    if (jwt) out.push_back(bearer_scheme());
    return out;
}

json::object build_openapi(const config::config& cfg, const openapi_options& opts) {
    json::object doc;
    doc["openapi"] = "3.1.0";
    {
        json::object info;
        info["title"] = opts.title;
        info["version"] = opts.version;
        info["description"] = opts.description.empty()
                                  ? "Generated by Frost from its endpoint config. Every report answers "
                                    "`{\"result\": rows, \"time_ms\": n}`; every failure answers "
                                    "`{\"error\", \"code\", \"details\"?, \"hint\"?}`."
                                  : opts.description;
        doc["info"] = std::move(info);
    }
    {
        json::array servers;
        for (const auto& url : opts.server_urls) {
            json::object s;
            s["url"] = url;
            servers.push_back(std::move(s));
        }
        doc["servers"] = std::move(servers);
    }

    const auto schemes = security_from_config(cfg);
    bool any_rate_limit = false;
    for (const auto& e : cfg.endpoints) any_rate_limit = any_rate_limit || rate_limited(cfg, e);
    // 414 and 431 come from the HTTP server, before routing: every operation can get them.
    std::vector<int> statuses{400, 406, 414, 431, 500, 502, 503, 504};
    if (!schemes.empty()) {
        statuses.push_back(401);
        statuses.push_back(403);
    }
    if (any_rate_limit) statuses.push_back(429);

    json::object schemas;
    json::object components;
    components["responses"] = error_components(schemas, statuses);

    std::vector<std::string> tag_names;  // in order of first use, which is the docs page's order
    std::set<std::string> used_names;
    json::object paths;
    for (const auto& e : cfg.endpoints) {
        std::string name = schema_name(e.path);
        for (int n = 2; !used_names.insert(name).second; ++n) name = schema_name(e.path) + std::to_string(n);

        json::object op;
        op["operationId"] = "get" + name;
        if (!e.summary.empty()) op["summary"] = e.summary;
        std::string description = e.description;
        if (!e.strict)
            description += std::string(description.empty() ? "" : " ") + "Unknown query parameters are ignored.";
        if (!description.empty()) op["description"] = description;
        if (!e.tags.empty()) {
            json::array tags;
            for (const auto& t : e.tags) {
                tags.emplace_back(t);
                if (std::find(tag_names.begin(), tag_names.end(), t) == tag_names.end()) tag_names.push_back(t);
            }
            op["tags"] = std::move(tags);
        }

        json::array params;
        for (const auto& p : e.params) {
            if (e.claims.contains(p.name)) continue;  // set from the caller's token, never from the query
            params.push_back(query_param(p.name, p.required, p.description, param_schema(p)));
            for (const auto& a : p.aliases)
                params.push_back(query_param(a, false, "Another name for `" + p.name + "`.", param_schema(p)));
        }
        if (e.date_range) add_date_range(params, op, *e.date_range);
        if (!e.static_body) add_format_params(params, e);
        if (!params.empty()) op["parameters"] = std::move(params);

        json::object responses;
        responses["200"] = success_response(e, name, opts, schemas);
        if (!e.static_body && e.cache.ttl.count() > 0) {
            json::object not_modified;
            not_modified["description"] = "Not modified: the `If-None-Match` tag is still current (no body).";
            responses["304"] = std::move(not_modified);
        }
        const auto mode = mode_of(cfg, e);
        const bool needs_auth = mode != config::auth_mode::none;
        std::set<int> failures{414, 431};
        if (!e.static_body) failures.insert({400, 406, 500, 502, 503, 504});
        if (e.static_body && e.strict) failures.insert(400);  // an unknown query parameter
        if (needs_auth) failures.insert({401, 403});
        if (rate_limited(cfg, e)) failures.insert(429);
        for (int s : failures) responses[std::to_string(s)] = error_ref(error_response_name(s));
        op["responses"] = std::move(responses);
        // An empty list says "no credentials needed" explicitly, as opposed to "not documented".
        json::array requirement;
        for (const auto& s : schemes) {
            if ((s.name == "api_key" && !wants_key(mode)) || (s.name == "bearer" && !wants_jwt(mode))) continue;
            json::object alt;
            alt[s.name] = json::array();
            requirement.push_back(std::move(alt));
        }
        op["security"] = std::move(requirement);
        if (!e.claims.empty()) {
            json::object bound;
            for (const auto& [param, claim] : e.claims) bound[param] = claim;
            op["x-frost-claims"] = std::move(bound);
        }

        json::object item;
        item["get"] = std::move(op);
        paths[e.path] = std::move(item);
    }
    doc["paths"] = std::move(paths);

    if (!tag_names.empty()) {
        json::array tags;
        for (const auto& t : tag_names) {
            json::object o;
            o["name"] = t;
            tags.push_back(std::move(o));
        }
        doc["tags"] = std::move(tags);
    }

    if (!schemes.empty()) {
        json::object objects;
        for (const auto& s : schemes) objects[s.name] = security_object(s);
        components["securitySchemes"] = std::move(objects);
    }
    components["schemas"] = std::move(schemas);
    doc["components"] = std::move(components);
    return doc;
}

std::string pretty_json(const json::value& v) {
    std::string out;
    auto indent = [&](int n) { out.append(static_cast<std::size_t>(n) * 2, ' '); };
    auto write = [&](auto& self, const json::value& x, int depth) -> void {
        if (x.is_object()) {
            const auto& o = x.get_object();
            if (o.empty()) {
                out += "{}";
                return;
            }
            out += "{\n";
            bool first = true;
            for (const auto& kv : o) {
                if (!first) out += ",\n";
                first = false;
                indent(depth + 1);
                out += json::serialize(json::string(kv.key()));
                out += ": ";
                self(self, kv.value(), depth + 1);
            }
            out += '\n';
            indent(depth);
            out += '}';
        } else if (x.is_array()) {
            const auto& a = x.get_array();
            if (a.empty()) {
                out += "[]";
                return;
            }
            out += "[\n";
            for (std::size_t i = 0; i < a.size(); ++i) {
                if (i) out += ",\n";
                indent(depth + 1);
                self(self, a[i], depth + 1);
            }
            out += '\n';
            indent(depth);
            out += ']';
        } else {
            out += json::serialize(x);
        }
    };
    write(write, v, 0);
    return out;
}

std::string render_openapi(const config::config& cfg, const openapi_options& opts) {
    auto text = pretty_json(build_openapi(cfg, opts));
    text += '\n';
    return text;
}

result_columns describe_results(const config::config& cfg, const source_map& sources, rollup::serving_store* rollups,
                                std::chrono::milliseconds per_query) {
    result_columns out;
    for (const auto& e : cfg.endpoints) {
        if (e.static_body) continue;
        // An endpoint over a rollup runs its SQL on the serving database.
        source::source* src = rollups;
        if (e.rollup.empty()) {
            auto it = sources.find(e.source);
            src = it == sources.end() ? nullptr : it->second.get();
        }
        if (!src || src->dialect() != "duckdb") continue;
        const auto* chosen = config::sql_for(e.sql, src->dialect());
        if (!chosen) continue;
        std::string sql = *chosen;
        while (!sql.empty() && (std::isspace(static_cast<unsigned char>(sql.back())) || sql.back() == ';'))
            sql.pop_back();
        const std::string probe = "select * from (\n" + sql + "\n) as frost_describe limit 0";
        std::vector<source::parameter> params;
        for (const auto& p : e.params) params.push_back({p.name, std::monostate{}});
        if (e.date_range) {
            params.push_back({e.date_range->start, std::monostate{}});
            params.push_back({e.date_range->end, std::monostate{}});
        }
        if (e.paginate) bind_page(params, *e.paginate, {}, 0);
        source::query q{probe, params, model::deadline::after(per_query), e.path, 1};
        auto table = src->run(q);
        if (!table) {
            spdlog::debug("openapi: cannot learn the columns of {}: {}", e.path, table.error().message);
            continue;
        }
        out[e.path] = table.value().columns;
    }
    return out;
}

}  // namespace frost::api
