#pragma once

#include <array>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace frost::observe {

/// Prometheus metrics for `/metrics` (text exposition format 0.0.4): request counts and
/// latency histograms by route, status and cache outcome; source query counts and latency by
/// source and outcome; plus gauges and counters read from their owners at scrape time.
/// Thread-safe.
class metrics {
public:
    /// Upper bounds of the latency buckets, in seconds.
    static constexpr std::array<double, 15> buckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                    0.25,   0.5,   1,      2.5,   5,    10,    30};

    /// Records one answered request. `route` is the matched route or `(unmatched)`.
    void observe_request(std::string_view route, int status, std::string_view cache, double seconds);
    /// Records one source query (`ok` false when it failed).
    void observe_query(std::string_view source, bool ok, double seconds);

    /// Registers a gauge read at every scrape: the hook the cache and rollups use for their
    /// size, hit ratio and age. `labels` is Prometheus label text such as `rollup="daily"` (or
    /// empty). `read` runs on the scraping thread and must be fast and thread-safe. Call before
    /// serving starts.
    void add_gauge(std::string name, std::string help, std::function<double()> read, std::string labels = {});
    /// Same for a monotonically increasing count owned elsewhere.
    void add_counter(std::string name, std::string help, std::function<double()> read, std::string labels = {});

    /// The whole exposition text; with `also`, its gauges and counters too (the registry of one
    /// generation of a reloadable application, rendered with the process-wide one).
    [[nodiscard]] std::string render(const metrics* also = nullptr) const;

private:
    struct histogram {
        std::array<std::uint64_t, buckets.size()> counts{};
        std::uint64_t count = 0;
        double sum = 0;
        void add(double seconds);
    };
    struct reading {
        std::string name, help, type, labels;
        std::function<double()> read;
    };

    mutable std::mutex mutex_;
    std::map<std::tuple<std::string, int, std::string>, histogram> requests_;
    std::map<std::pair<std::string, bool>, histogram> queries_;
    std::vector<reading> readings_;
};

/// `text` escaped for a Prometheus label value (backslash, quote, newline).
[[nodiscard]] std::string escape_label(std::string_view text);

}  // namespace frost::observe
