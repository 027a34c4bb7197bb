#include "api/params.hpp"

#include <boost/url/parse.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>

#include "codec/utf8.hpp"

namespace frost::api {

namespace {

model::error bad(model::error_code code, std::string message, std::string hint = {}) {
    return {code, std::move(message), {}, std::move(hint)};
}

// Well-formed UTF-8 (RFC 3629) without control characters: nothing a log line, a JSON body
// or a SQL driver must escape.
bool valid_text(std::string_view s) {
    return codec::valid_utf8(s) &&
           std::none_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

std::string_view type_name(config::param_type t) {
    switch (t) {
        case config::param_type::string:
            return "text";
        case config::param_type::integer:
            return "a whole number";
        case config::param_type::number:
            return "a number";
        case config::param_type::boolean:
            return "true or false";
        case config::param_type::date:
            return "a date YYYY-MM-DD or MM/DD/YYYY";
    }
    return "a value";
}

std::optional<bool> parse_bool(std::string_view s) {
    if (s == "true" || s == "1") return true;
    if (s == "false" || s == "0") return false;
    return std::nullopt;
}

model::result<model::value> parse_value(const config::param_config& p, std::string_view text) {
    auto fail = [&](const std::string& why = {}) {
        return bad(
            model::error_code::bad_parameter,
            "parameter " + p.name + ": expected " + std::string(type_name(p.type)) + (why.empty() ? "" : ", " + why),
            p.description);
    };
    if (text.size() > p.max_length)
        return bad(model::error_code::bad_parameter,
                   "parameter " + p.name + ": longer than " + std::to_string(p.max_length) + " characters");
    if (!valid_text(text)) return fail("got bytes that are not printable UTF-8");
    auto in_range = [&](double v) { return (!p.minimum || v >= *p.minimum) && (!p.maximum || v <= *p.maximum); };
    auto range_text = [&] {
        std::string s;
        if (p.minimum) s += "at least " + std::to_string(static_cast<long long>(*p.minimum));
        if (p.maximum)
            s +=
                std::string(s.empty() ? "" : " and ") + "at most " + std::to_string(static_cast<long long>(*p.maximum));
        return s;
    };
    switch (p.type) {
        case config::param_type::string:
            if (!p.allowed.empty()) {
                for (const auto& a : p.allowed)
                    if (a == text) return model::value(std::string(text));
                std::string list;
                for (const auto& a : p.allowed) list += (list.empty() ? "" : ", ") + a;
                return bad(model::error_code::bad_parameter, "parameter " + p.name + ": expected one of " + list);
            }
            return model::value(std::string(text));
        case config::param_type::integer: {
            std::int64_t v = 0;
            auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
            if (ec != std::errc{} || ptr != text.data() + text.size()) return fail();
            if (!in_range(static_cast<double>(v))) return fail(range_text());
            return model::value(v);
        }
        case config::param_type::number: {
            double v = 0;
            auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
            if (ec != std::errc{} || ptr != text.data() + text.size() || !std::isfinite(v)) return fail();
            if (!in_range(v)) return fail(range_text());
            return model::value(v);
        }
        case config::param_type::boolean: {
            auto b = parse_bool(text);
            if (!b) return fail();
            return model::value(*b);
        }
        case config::param_type::date: {
            auto d = model::parse_date(text);
            if (!d) return fail("a real calendar day");
            return model::value(*d);
        }
    }
    return fail();
}

// Where each accepted query name goes.
enum class slot_kind { param, range_start, range_end, random };
struct slot {
    slot_kind kind;
    std::size_t index = 0;  // into endpoint.params for slot_kind::param
    std::string_view canonical;
};

std::optional<slot> find_slot(const config::endpoint_config& e, std::string_view name) {
    for (std::size_t i = 0; i < e.params.size(); ++i) {
        const auto& p = e.params[i];
        if (p.name == name) return slot{slot_kind::param, i, p.name};
        for (const auto& a : p.aliases)
            if (a == name) return slot{slot_kind::param, i, p.name};
    }
    if (e.date_range) {
        const auto& d = *e.date_range;
        if (d.start == name) return slot{slot_kind::range_start, 0, d.start};
        for (const auto& a : d.start_aliases)
            if (a == name) return slot{slot_kind::range_start, 0, d.start};
        if (d.end == name) return slot{slot_kind::range_end, 0, d.end};
        for (const auto& a : d.end_aliases)
            if (a == name) return slot{slot_kind::range_end, 0, d.end};
        if (d.random_param && *d.random_param == name) return slot{slot_kind::random, 0, *d.random_param};
    }
    return std::nullopt;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// The path routes match: percent-decoded, except `%2F`, which stays as the three characters
// `%2F` (issue 15, defect 6). An encoded slash is data inside one segment, not a separator, so
// `/trips%2Fmonthly` matches no route (404) and a front proxy's rules on the raw path cannot be
// bypassed by encoding the slash. `encoded` was validated by Boost.URL: every `%` has two hex
// digits.
std::string routing_path(std::string_view encoded) {
    std::string out;
    out.reserve(encoded.size());
    for (std::size_t i = 0; i < encoded.size(); ++i) {
        if (encoded[i] == '%' && i + 2 < encoded.size()) {
            const int hi = hex_value(encoded[i + 1]), lo = hex_value(encoded[i + 2]);
            if (hi >= 0 && lo >= 0) {
                const char c = static_cast<char>(hi * 16 + lo);
                if (c == '/')
                    out += "%2F";
                else
                    out += c;
                i += 2;
                continue;
            }
        }
        out += encoded[i];
    }
    return out;
}

// A path of unreserved characters and `/` only (RFC 3986 §2.3), no query: what Boost.URL
// accepts as it is and decodes to itself, so it needs no parse.
bool plain_path(std::string_view target) {
    if (target.empty() || target.front() != '/') return false;
    for (const char c : target) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' ||
                        c == '-' || c == '.' || c == '_' || c == '~';
        if (!ok) return false;
    }
    return true;
}

}  // namespace

model::result<std::pair<std::string, query_pairs>> split_target(std::string_view target) {
    // The common case (a cache hit on a route without parameters): no URL parse.
    if (plain_path(target)) return std::pair<std::string, query_pairs>(std::string(target), {});
    auto parsed = boost::urls::parse_origin_form(target);
    if (!parsed) return bad(model::error_code::bad_request, "the request target is not a valid path and query");
    const auto& url = *parsed;
    std::pair<std::string, query_pairs> out;
    out.first = routing_path(url.encoded_path());
    if (out.first.empty()) out.first = "/";
    for (const auto& p : url.params()) {
        // Nothing between two separators (`?`, `?&`, `a=1&&b=2`, a trailing `&`) is no pair at
        // all, as in every mainstream framework; `=` alone is a pair with an empty name.
        if (p.key.empty() && !p.has_value) continue;
        // params() decodes '+' as space and %XX; an invalid escape was already rejected above.
        out.second.emplace_back(p.key, p.has_value ? p.value : std::string());
    }
    return out;
}

model::result<std::vector<source::parameter>> bind_params(const config::endpoint_config& endpoint,
                                                          const query_pairs& query, std::mt19937_64& rng) {
    std::vector<std::optional<std::string_view>> given(endpoint.params.size());
    std::optional<std::string_view> start_text, end_text, random_text;

    for (const auto& [name, value] : query) {
        auto s = find_slot(endpoint, name);
        if (!s) {
            if (!endpoint.strict) continue;
            std::string known;
            for (const auto& p : endpoint.params) known += (known.empty() ? "" : ", ") + p.name;
            if (endpoint.date_range) {
                known += (known.empty() ? "" : ", ") + endpoint.date_range->start + ", " + endpoint.date_range->end;
                if (endpoint.date_range->random_param) known += ", " + *endpoint.date_range->random_param;
            }
            std::string shown = name.size() > 64 ? name.substr(0, 64) + "..." : name;
            if (!valid_text(shown)) shown = "(unprintable name)";
            return bad(model::error_code::unknown_parameter, "unknown parameter " + shown,
                       known.empty() ? "this endpoint takes no parameters" : "known parameters: " + known);
        }
        std::optional<std::string_view>* target = nullptr;
        switch (s->kind) {
            case slot_kind::param:
                target = &given[s->index];
                break;
            case slot_kind::range_start:
                target = &start_text;
                break;
            case slot_kind::range_end:
                target = &end_text;
                break;
            case slot_kind::random:
                target = &random_text;
                break;
        }
        if (target->has_value())
            return bad(model::error_code::bad_parameter,
                       "parameter " + std::string(s->canonical) + " is given more than once");
        *target = value;
    }

    std::vector<source::parameter> out;
    out.reserve(endpoint.params.size() + 2);
    for (std::size_t i = 0; i < endpoint.params.size(); ++i) {
        const auto& p = endpoint.params[i];
        std::optional<std::string_view> text = given[i];
        if (!text && p.default_value) text = *p.default_value;
        if (!text) {
            if (p.required)
                return bad(model::error_code::missing_parameter, "parameter " + p.name + " is required",
                           "expected " + std::string(type_name(p.type)));
            out.push_back({p.name, std::monostate{}});
            continue;
        }
        auto v = parse_value(p, *text);
        if (!v) return std::move(v).error();
        out.push_back({p.name, std::move(v).value()});
    }

    if (endpoint.date_range) {
        const auto& d = *endpoint.date_range;
        model::value start = std::monostate{}, end = std::monostate{};
        bool random = false;
        if (random_text) {
            auto b = parse_bool(*random_text);
            if (!b)
                return bad(model::error_code::bad_parameter,
                           "parameter " + *d.random_param + ": expected true or false");
            random = *b;
        }
        if (random && (start_text || end_text))
            return bad(
                model::error_code::bad_parameter,
                "parameter " + *d.random_param + "=true picks its own range: leave out " + d.start + " and " + d.end);
        if (start_text.has_value() != end_text.has_value()) {
            const auto& missing = start_text ? d.end : d.start;
            return bad(model::error_code::missing_parameter,
                       "parameter " + missing + " is required when " + (start_text ? d.start : d.end) + " is given",
                       "give both " + d.start + " and " + d.end + " (YYYY-MM-DD or MM/DD/YYYY), or neither");
        }
        if (d.max_days && !start_text)
            return bad(model::error_code::missing_parameter,
                       "parameters " + d.start + " and " + d.end + " are required",
                       "give a range of at most " + std::to_string(*d.max_days) + " days (YYYY-MM-DD, inclusive)");
        if (start_text) {
            auto parse_bound = [&](std::string_view text, const std::string& name) -> model::result<model::date> {
                if (text.size() > 32 || !valid_text(text))
                    return bad(model::error_code::bad_parameter,
                               "parameter " + name + ": expected a date YYYY-MM-DD or MM/DD/YYYY");
                auto day = model::parse_date(text);
                if (!day)
                    return bad(model::error_code::bad_parameter,
                               "parameter " + name + ": expected a date YYYY-MM-DD or MM/DD/YYYY, got \"" +
                                   std::string(text) + "\"",
                               "a real calendar day, e.g. 2013-06-01 or 06/01/2013");
                return *day;
            };
            auto s = parse_bound(*start_text, d.start);
            if (!s) return std::move(s).error();
            auto e = parse_bound(*end_text, d.end);
            if (!e) return std::move(e).error();
            if (e.value() < s.value())
                return bad(model::error_code::bad_parameter,
                           "parameter " + d.start + " (" + model::format_date(s.value()) + ") is after " + d.end +
                               " (" + model::format_date(e.value()) + ")",
                           "both bounds are whole days and inclusive; give start <= end");
            if (d.max_days && e.value().days - s.value().days + 1 > *d.max_days)
                return bad(model::error_code::bad_parameter,
                           "the range " + model::format_date(s.value()) + " to " + model::format_date(e.value()) +
                               " is " + std::to_string(e.value().days - s.value().days + 1) + " days; at most " +
                               std::to_string(*d.max_days) + " are allowed",
                           "split the export into shorter ranges");
            start = s.value();
            end = e.value();
        } else if (random) {
            std::uniform_int_distribution<std::int32_t> pick(d.random_from.days, d.random_to.days);
            auto a = pick(rng), b = pick(rng);
            if (b < a) std::swap(a, b);
            start = model::date{a};
            end = model::date{b};
        }
        out.push_back({d.start, std::move(start)});
        out.push_back({d.end, std::move(end)});
    }
    return out;
}

}  // namespace frost::api
