#include "observe/access_log.hpp"

#include <array>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <iterator>
#include <string>

#include "codec/utc_time.hpp"

namespace frost::observe {

namespace {

constexpr auto batch_window = std::chrono::milliseconds(5);

// What `%.3f` writes, without printf's locale and format parsing.
void append_millis(std::string& out, double ms) {
    char digits[32];
    const auto r = std::to_chars(std::begin(digits), std::end(digits), ms, std::chars_format::fixed, 3);
    out.append(digits, r.ptr);
}

// Printable ASCII other than `"` and `\`: written as it is. A table: one load a byte.
constexpr std::array<bool, 256> plain_bytes = [] {
    std::array<bool, 256> t{};
    for (int c = 0x20; c < 0x7f; ++c) t[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
    return t;
}();
constexpr bool plain(unsigned char c) {
    return plain_bytes[c];
}

void append_json_string(std::string& out, std::string_view text) {
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    // Most values (ids, paths, routes, addresses) need no escape: copied in runs, not byte by byte.
    std::size_t i = 0;
    while (i < text.size()) {
        auto run = i;
        while (run < text.size() && plain(static_cast<unsigned char>(text[run]))) ++run;
        out.append(text.data() + i, run - i);
        if (run == text.size()) break;
        i = run + 1;
        const auto c = static_cast<unsigned char>(text[run]);
        if (c == '"')
            out += "\\\"";
        else if (c == '\\')
            out += "\\\\";
        else {
            // Control bytes, and bytes >= 0x80 are escaped one by one: the line stays ASCII and valid JSON
            // whatever a client sent.
            out += "\\u00";
            out += hex[c >> 4];
            out += hex[c & 0xf];
        }
    }
    out += '"';
}

}  // namespace

std::string json_string(std::string_view text) {
    std::string out;
    append_json_string(out, text);
    return out;
}

namespace {

void append_number(std::string& out, long long n) {
    char digits[24];
    const auto r = std::to_chars(std::begin(digits), std::end(digits), n);
    out.append(digits, r.ptr);
}

}  // namespace

std::string access_log::format(const api::request& req, const api::response& res, const api::request_stats& stats) {
    std::string line;
    line.reserve(256 + req.target.size());
    format_to(line, req, res, stats);
    return line;
}

void access_log::format_to(std::string& line, const api::request& req, const api::response& res,
                           const api::request_stats& stats) {
    using namespace std::chrono;
    line += R"({"time":")";
    codec::append_utc_millis(line, system_clock::now());
    line += R"(","request_id":)";
    append_json_string(line, req.request_id);
    line += ",\"method\":";
    append_json_string(line, std::string_view(req.method).substr(0, 16));
    line += ",\"target\":";
    append_json_string(line, std::string_view(req.target).substr(0, 512));
    line += ",\"status\":";
    append_number(line, res.status);
    line += ",\"bytes\":";
    append_number(line, static_cast<long long>(res.body_view().size()));
    line += R"(,"duration_ms":)";
    append_millis(line, duration<double, std::milli>(stats.elapsed()).count());
    line += R"(,"query_ms":)";
    append_millis(line, duration<double, std::milli>(stats.query_time).count());
    line += ",\"route\":";
    append_json_string(line, stats.route);
    line += ",\"cache\":";
    append_json_string(line, stats.cache);
    if (!stats.source.empty()) {
        line += ",\"source\":";
        append_json_string(line, stats.source);
    }
    line += ",\"client\":";
    append_json_string(line, req.client_address);
    if (!req.principal.empty()) {
        line += ",\"principal\":";
        append_json_string(line, req.principal);
    }
    line += "}";
}

access_log::access_log(std::FILE* out, std::size_t capacity)
    : out_(out), capacity_(capacity ? capacity : 1), drainer_([this] { drain_loop(); }) {}

access_log::~access_log() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    work_cv_.notify_one();
    drainer_.join();
}

void access_log::write(const api::request& req, const api::response& res, const api::request_stats& stats) {
    // Formatted into a buffer the thread keeps, then copied into the queue: no allocation per line.
    thread_local std::string line;
    line.clear();
    format_to(line, req, res, stats);
    (void)enqueue(line);
}

bool access_log::enqueue(std::string_view line) {
    bool wake = false;
    {
        std::lock_guard lock(mutex_);
        if (pending_lines_ >= capacity_) {
            ++dropped_;
            return false;
        }
        pending_.append(line);
        pending_ += '\n';
        ++pending_lines_;
        ++accepted_;
        // Only the first line of a batch wakes the drain thread, and only when it waits for one:
        // in its batch window it takes the lines when the window ends, unasked (a wake-up there
        // cost a futex call here and a context switch there, per batch).
        wake = idle_ && pending_lines_ == 1;
    }
    if (wake) work_cv_.notify_one();
    return true;
}

void access_log::flush() {
    std::unique_lock lock(mutex_);
    const auto target = accepted_;
    done_cv_.wait(lock, [&] { return written_ >= target; });
}

std::uint64_t access_log::dropped() const {
    std::lock_guard lock(mutex_);
    return dropped_;
}

std::uint64_t access_log::written() const {
    std::lock_guard lock(mutex_);
    return written_;
}

void access_log::drain_loop() {
    std::string batch;
    std::unique_lock lock(mutex_);
    for (;;) {
        idle_ = true;
        work_cv_.wait(lock, [&] { return stopping_ || pending_lines_ > 0; });
        idle_ = false;
        if (pending_lines_ == 0) break;  // stopping, and everything queued is written
        batch.swap(pending_);            // both keep their capacity: no allocation per batch
        const auto n = pending_lines_;
        pending_lines_ = 0;
        lock.unlock();
        // The lines are already joined, each with its newline: one write, no copy.
        // Blocking here (a slow pipe) only fills the queue; writers then drop, never wait.
        std::fwrite(batch.data(), 1, batch.size(), out_);
        std::fflush(out_);
        batch.clear();
        lock.lock();
        written_ += n;
        done_cv_.notify_all();
        // Under load, let the next batch gather for a moment: one wake-up and one write per
        // 5 ms instead of one per request or two (the wake-ups cost the I/O threads more than
        // the lines; at 1 ms the drain thread still took 5 % of a cache hit's CPU). A line after
        // a quiet spell goes out at once; one in a busy spell within 5 ms.
        if (!stopping_) work_cv_.wait_for(lock, batch_window, [&] { return stopping_; });
    }
}

}  // namespace frost::observe
