#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "model/deadline.hpp"

namespace frost::cache {

using header_list = std::vector<std::pair<std::string, std::string>>;

/// One finished answer, immutable once built: its bytes, their gzip form, strong ETags, the
/// headers to send with each form, and its freshness windows. Shared by every response that
/// serves it (`response::shared_body` points into it), so it may outlive its eviction.
struct entry {
    std::string key;
    int status = 200;
    std::shared_ptr<const std::string> body;       ///< identity bytes
    std::shared_ptr<const std::string> gzip_body;  ///< null when gzip would not be smaller
    std::string etag;                              ///< of `body`
    std::string gzip_etag;                         ///< of `gzip_body`
    header_list identity_headers;                  ///< Content-Type, ETag, Cache-Control, Vary, data version ...
    header_list gzip_headers;                      ///< the same with Content-Encoding: gzip and the gzip ETag
    header_list not_modified_headers;              ///< for a 304 (no Content-Type)
    model::clock::time_point created;
    model::clock::time_point fresh_until;
    model::clock::time_point revalidate_until;  ///< served stale while one refresh runs
    model::clock::time_point error_until;       ///< served stale when the refresh fails

    /// The heap this entry holds while it is cached, counted against the cache's bound: every
    /// string's capacity (not its size) and every allocation's header and rounding, the entry's
    /// and both bodies' shared-pointer control blocks, the header vectors, and its node and
    /// bucket share in the cache's LRU list and index. Checked against the allocator's own
    /// figure in tests/unit/cache/memory_test.cpp; what it leaves out is in docs/caching.md.
    [[nodiscard]] std::size_t footprint() const noexcept;
};

/// Builds an entry from identity bytes: computes the gzip form (when at least `min_gzip`
/// bytes and smaller), both ETags and the three header sets. `extra` headers (content type,
/// CORS, data version) go first into every set; `not_modified_headers` leave out
/// Content-Type (a 304 has no body). Each set gets `Vary: Accept-Encoding` unless `extra` has
/// its own `Vary` (which then must name Accept-Encoding). `etag_suffix` goes into both ETags
/// (before the gzip form's `-gz`), so answers in different representations never share an ETag
/// even when their bytes are equal.
[[nodiscard]] std::shared_ptr<const entry> make_entry(std::string key, int status, std::string body,
                                                      const header_list& extra, const config::cache_policy& policy,
                                                      std::size_t min_gzip, model::clock::time_point now,
                                                      std::string_view etag_suffix = {});

/// Builds an entry that never expires from forms computed elsewhere (the web pages and the
/// OpenAPI document, built once at start-up): `headers` go into every set (Content-Type is
/// left out of the 304 set), then each form's ETag, and `Vary: Accept-Encoding` when there is
/// a gzip form. `gzip_body` may be null.
[[nodiscard]] std::shared_ptr<const entry> make_static_entry(std::shared_ptr<const std::string> body,
                                                             std::shared_ptr<const std::string> gzip_body,
                                                             std::string etag, std::string gzip_etag,
                                                             const header_list& headers);

/// How fresh a found entry is at lookup time.
enum class freshness { fresh, stale_revalidate, stale_if_error, absent };

/// A byte-bounded LRU map from cache key to finished answer. Lookups and inserts take one
/// short mutex; entries are shared, so a hit copies a pointer, never bytes. Thread-safe.
class response_cache {
public:
    explicit response_cache(std::size_t max_bytes) : max_bytes_(max_bytes) {}

    struct found {
        std::shared_ptr<const entry> e;
        freshness state = freshness::absent;
    };

    /// The entry for `key` and how fresh it is at `now`; moves it to the front of the LRU.
    /// Entries past their last window are dropped here. Allocates nothing.
    [[nodiscard]] found find(std::string_view key, model::clock::time_point now);

    /// Adds or replaces an entry, then evicts least-recently-used entries until the total
    /// footprint is within the bound. An entry larger than the whole bound is not kept.
    void insert(std::shared_ptr<const entry> e);

    /// Drops every entry.
    void clear();

    [[nodiscard]] std::size_t bytes() const;
    [[nodiscard]] std::size_t size() const;
    [[nodiscard]] std::uint64_t hits() const noexcept { return hits_.load(std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t stale_hits() const noexcept { return stale_hits_.load(std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t misses() const noexcept { return misses_.load(std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t evictions() const noexcept { return evictions_.load(std::memory_order_relaxed); }

private:
    struct string_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    using lru_list = std::list<std::shared_ptr<const entry>>;
    /// Keyed by a view of the entry's own key: the entry outlives its index node, so the key
    /// is stored once.

    void erase_locked(lru_list::iterator it);

    const std::size_t max_bytes_;
    mutable std::mutex mutex_;
    lru_list lru_;  ///< most recently used first
    std::unordered_map<std::string_view, lru_list::iterator, string_hash> index_;
    std::size_t bytes_ = 0;
    std::atomic<std::uint64_t> hits_{0}, stale_hits_{0}, misses_{0}, evictions_{0};
};

}  // namespace frost::cache
