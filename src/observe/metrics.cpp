#include "observe/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace frost::observe {

namespace {

// Shortest text that reads back as the same double (0.0005, not 0.00050000000000000001).
void append_number(std::string& out, double v, std::chars_format format = std::chars_format::general) {
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, format);
    out.append(buf, ec == std::errc{} ? end : buf);
}

void append_histogram(std::string& out, std::string_view name, const std::string& labels, const auto& h,
                      const auto& bounds) {
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < bounds.size(); ++i) {
        cumulative += h.counts[i];
        out += name;
        out += "_bucket{" + labels + ",le=\"";
        append_number(out, bounds[i], std::chars_format::fixed);
        out += "\"} " + std::to_string(cumulative) + "\n";
    }
    out += std::string(name) + "_bucket{" + labels + ",le=\"+Inf\"} " + std::to_string(h.count) + "\n";
    out += std::string(name) + "_sum{" + labels + "} ";
    append_number(out, h.sum);
    out += "\n" + std::string(name) + "_count{" + labels + "} " + std::to_string(h.count) + "\n";
}

}  // namespace

std::string escape_label(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

void metrics::histogram::add(double seconds) {
    for (std::size_t i = 0; i < buckets.size(); ++i) {
        if (seconds <= buckets[i]) {
            ++counts[i];
            break;
        }
    }
    ++count;
    sum += seconds;
}

void metrics::observe_request(std::string_view route, int status, std::string_view cache, double seconds) {
    std::lock_guard lock(mutex_);
    requests_[{std::string(route), status, std::string(cache)}].add(seconds);
}

void metrics::observe_query(std::string_view source, bool ok, double seconds) {
    std::lock_guard lock(mutex_);
    queries_[{std::string(source), ok}].add(seconds);
}

void metrics::add_gauge(std::string name, std::string help, std::function<double()> read, std::string labels) {
    std::lock_guard lock(mutex_);
    readings_.push_back({std::move(name), std::move(help), "gauge", std::move(labels), std::move(read)});
}

void metrics::add_counter(std::string name, std::string help, std::function<double()> read, std::string labels) {
    std::lock_guard lock(mutex_);
    readings_.push_back({std::move(name), std::move(help), "counter", std::move(labels), std::move(read)});
}

std::string metrics::render(const metrics* also) const {
    std::string out;
    out.reserve(8192);
    decltype(requests_) requests;
    decltype(queries_) queries;
    std::vector<reading> readings;
    {
        std::lock_guard lock(mutex_);
        requests = requests_;
        queries = queries_;
        readings = readings_;
    }
    if (also && also != this) {
        std::lock_guard lock(also->mutex_);
        readings.insert(readings.end(), also->readings_.begin(), also->readings_.end());
    }
    out +=
        "# HELP frost_http_requests_total Requests answered, by route, status and cache outcome.\n"
        "# TYPE frost_http_requests_total counter\n";
    for (const auto& [k, h] : requests) {
        const auto& [route, status, cache] = k;
        out += "frost_http_requests_total{route=\"" + escape_label(route) + "\",status=\"" + std::to_string(status) +
               "\",cache=\"" + escape_label(cache) + "\"} " + std::to_string(h.count) + "\n";
    }
    out +=
        "# HELP frost_http_request_duration_seconds Time from request read to answer ready.\n"
        "# TYPE frost_http_request_duration_seconds histogram\n";
    for (const auto& [k, h] : requests) {
        const auto& [route, status, cache] = k;
        append_histogram(out, "frost_http_request_duration_seconds",
                         "route=\"" + escape_label(route) + "\",status=\"" + std::to_string(status) + "\",cache=\"" +
                             escape_label(cache) + "\"",
                         h, buckets);
    }
    out +=
        "# HELP frost_source_queries_total Queries run on each source, by outcome.\n"
        "# TYPE frost_source_queries_total counter\n";
    for (const auto& [k, h] : queries)
        out += "frost_source_queries_total{source=\"" + escape_label(k.first) + "\",outcome=\"" +
               (k.second ? "ok" : "error") + "\"} " + std::to_string(h.count) + "\n";
    out +=
        "# HELP frost_source_query_duration_seconds Source query latency.\n"
        "# TYPE frost_source_query_duration_seconds histogram\n";
    for (const auto& [k, h] : queries)
        append_histogram(out, "frost_source_query_duration_seconds",
                         "source=\"" + escape_label(k.first) + "\",outcome=\"" + (k.second ? "ok" : "error") + "\"", h,
                         buckets);
    std::stable_sort(readings.begin(), readings.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    std::string last_name;
    for (const auto& r : readings) {
        if (r.name != last_name) {
            out += "# HELP " + r.name + " " + r.help + "\n# TYPE " + r.name + " " + r.type + "\n";
            last_name = r.name;
        }
        out += r.name;
        if (!r.labels.empty()) out += "{" + r.labels + "}";
        out += " ";
        append_number(out, r.read ? r.read() : 0.0);
        out += "\n";
    }
    return out;
}

}  // namespace frost::observe
