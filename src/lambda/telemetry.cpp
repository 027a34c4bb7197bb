#include "lambda/telemetry.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <mutex>

#include "api/render.hpp"

namespace frost::lambda {

namespace {

std::mutex& stdout_mutex() {
    static std::mutex m;
    return m;
}

std::mutex& id_mutex() {
    static std::mutex m;
    return m;
}

std::string& current_request_id() {
    static std::string id;
    return id;
}

void append_number(std::string& out, double v) {
    char buf[32];
    const int n = std::snprintf(buf, sizeof buf, "%.3f", v);
    out.append(buf, static_cast<std::size_t>(n > 0 ? n : 0));
}

void append_field(std::string& out, std::string_view key, std::string_view value) {
    out += ',';
    api::append_json_string(out, key);
    out += ':';
    api::append_json_string(out, value);
}

class json_sink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    explicit json_sink(std::string function) : function_(std::move(function)) {}

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count();
        std::string line = "{\"timestamp\":" + std::to_string(ms);
        const auto level = spdlog::level::to_string_view(msg.level);
        append_field(line, "level", std::string_view(level.data(), level.size()));
        std::string id;
        {
            std::lock_guard lock(id_mutex());
            id = current_request_id();
        }
        if (!id.empty()) append_field(line, "requestId", id);
        append_field(line, "function", function_);
        append_field(line, "message", std::string_view(msg.payload.data(), msg.payload.size()));
        line += '}';
        write_line(line);
    }
    void flush_() override { std::fflush(stdout); }

private:
    std::string function_;
};

}  // namespace

std::string emf_line(const request_record& r, std::string_view service, std::int64_t timestamp_ms) {
    std::string out;
    out.reserve(768);
    out += R"({"_aws":{"Timestamp":)";
    out += std::to_string(timestamp_ms);
    out +=
        ",\"CloudWatchMetrics\":[{\"Namespace\":\"Frost\",\"Dimensions\":[[\"Service\",\"Route\"],[\"Service\"]],"
        "\"Metrics\":[{\"Name\":\"Latency\",\"Unit\":\"Milliseconds\"},{\"Name\":\"UpstreamTime\",\"Unit\":"
        "\"Milliseconds\"},"
        "{\"Name\":\"Requests\",\"Unit\":\"Count\"},{\"Name\":\"ClientErrors\",\"Unit\":\"Count\"},"
        "{\"Name\":\"ServerErrors\",\"Unit\":\"Count\"},{\"Name\":\"CacheHits\",\"Unit\":\"Count\"},"
        "{\"Name\":\"ColdStart\",\"Unit\":\"Count\"}]}]}";
    append_field(out, "Service", service.empty() ? std::string_view("frost") : service);
    append_field(out, "Route", r.route.empty() ? std::string_view("(unmatched)") : std::string_view(r.route));
    out += ",\"Latency\":";
    append_number(out, r.latency_ms);
    out += ",\"UpstreamTime\":";
    append_number(out, r.upstream_ms);
    out += R"(,"Requests":1,"ClientErrors":)";
    out += r.status >= 400 && r.status < 500 ? '1' : '0';
    out += ",\"ServerErrors\":";
    out += r.status >= 500 ? '1' : '0';
    out += ",\"CacheHits\":";
    out += r.cache == "hit" ? '1' : '0';
    out += ",\"ColdStart\":";
    out += r.cold_start ? '1' : '0';
    out += ",\"Status\":";
    out += std::to_string(r.status);
    append_field(out, "Cache", r.cache);
    append_field(out, "Method", r.method);
    append_field(out, "Path", r.path);
    append_field(out, "EventSource", r.event_kind);
    out += ",\"ResponseBytes\":";
    out += std::to_string(r.response_bytes);
    append_field(out, "requestId", r.request_id);
    out += '}';
    return out;
}

void write_line(std::string_view line) {
    std::lock_guard lock(stdout_mutex());
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

void install_json_logs(std::string function_name) {
    auto logger = std::make_shared<spdlog::logger>("frost", std::make_shared<json_sink>(std::move(function_name)));
    logger->set_level(spdlog::get_level());
    spdlog::set_default_logger(std::move(logger));
}

void set_log_request_id(std::string id) {
    std::lock_guard lock(id_mutex());
    current_request_id() = std::move(id);
}

}  // namespace frost::lambda
