#include "cache/response_cache.hpp"

#include "cache/http_caching.hpp"
#include "codec/gzip.hpp"

namespace frost::cache {

namespace {

// What the allocator hands out for a request of `n` bytes. glibc's malloc (the allocator the
// release builds and the image run on) adds one size word to each chunk and rounds it up to 16
// bytes, 32 at least.
constexpr std::size_t heap_block(std::size_t n) noexcept {
    if (n == 0) return 0;
    const std::size_t chunk = (n + sizeof(std::size_t) + 15) & ~std::size_t{15};
    return chunk < 32 ? 32 : chunk;
}

// A `std::make_shared<T>` block: the control block (vtable pointer and two counts) and the T.
template <typename T>
constexpr std::size_t shared_block() noexcept {
    return heap_block(sizeof(void*) + 2 * sizeof(int) + sizeof(T));
}

// The heap behind a string: none while its characters fit in the object itself (the small
// string optimisation), otherwise its capacity and the terminator.
std::size_t heap_of(const std::string& s) noexcept {
    static const std::size_t inline_capacity = std::string().capacity();
    return s.capacity() > inline_capacity ? heap_block(s.capacity() + 1) : 0;
}

std::size_t heap_of(const header_list& headers) noexcept {
    std::size_t n = heap_block(headers.capacity() * sizeof(header_list::value_type));
    for (const auto& [k, v] : headers) n += heap_of(k) + heap_of(v);
    return n;
}

std::size_t heap_of(const std::shared_ptr<const std::string>& body) noexcept {
    return body ? shared_block<std::string>() + heap_of(*body) : 0;
}

// The cache's own share of one entry: its LRU list node (two links and the shared pointer),
// its index node (a link, the key view, the list iterator and the cached hash) and about two
// bucket pointers (the table keeps its load factor at or below one and grows by doubling).
constexpr std::size_t cache_node_bytes =
    heap_block(2 * sizeof(void*) + sizeof(std::shared_ptr<const entry>)) +
    heap_block(sizeof(void*) + sizeof(std::string_view) + sizeof(void*) + sizeof(std::size_t)) + 2 * sizeof(void*);

// Copies a string into an allocation of exactly its size, when it holds much more: a renderer's
// reserve or a compressor's worst-case buffer would otherwise stay allocated for the entry's life.
void fit(std::string& s) {
    if (s.capacity() > s.size() + s.size() / 8 + 16) s = std::string(s.data(), s.size());
}

void add_common(header_list& set, const std::string& control, const std::string& tag, bool vary) {
    if (!control.empty()) set.emplace_back("Cache-Control", control);
    set.emplace_back("ETag", tag);
    if (vary) set.emplace_back("Vary", "Accept-Encoding");
}

}  // namespace

std::size_t entry::footprint() const noexcept {
    return shared_block<entry>() + heap_of(key) + heap_of(body) + heap_of(gzip_body) + heap_of(etag) +
           heap_of(gzip_etag) + heap_of(identity_headers) + heap_of(gzip_headers) + heap_of(not_modified_headers) +
           cache_node_bytes;
}

std::shared_ptr<const entry> make_entry(std::string key, int status, std::string body, const header_list& extra,
                                        const config::cache_policy& policy, std::size_t min_gzip,
                                        model::clock::time_point now, std::string_view etag_suffix) {
    auto e = std::make_shared<entry>();
    e->key = std::move(key);
    fit(e->key);
    e->status = status;
    e->etag = strong_etag(body, etag_suffix);
    if (body.size() >= min_gzip) {
        if (auto z = codec::gzip(body); z && z->size() < body.size()) {
            fit(*z);
            e->gzip_etag = strong_etag(body, std::string(etag_suffix) + "-gz");
            e->gzip_body = std::make_shared<const std::string>(std::move(*z));
        }
    }
    fit(body);
    e->body = std::make_shared<const std::string>(std::move(body));
    const auto control = cache_control(policy);
    // Exact sizes: three sets of a few headers each, in every entry.
    e->identity_headers.reserve(extra.size() + 3);
    e->not_modified_headers.reserve(extra.size() + 3);
    if (e->gzip_body) e->gzip_headers.reserve(extra.size() + 4);
    bool own_vary = false;
    for (const auto& h : extra) {
        e->identity_headers.push_back(h);
        if (e->gzip_body) e->gzip_headers.push_back(h);
        if (h.first != "Content-Type") e->not_modified_headers.push_back(h);
        own_vary = own_vary || h.first == "Vary";
    }
    add_common(e->identity_headers, control, e->etag, !own_vary);
    add_common(e->not_modified_headers, control, e->etag, !own_vary);
    if (e->gzip_body) {
        add_common(e->gzip_headers, control, e->gzip_etag, !own_vary);
        e->gzip_headers.emplace_back("Content-Encoding", "gzip");
    }
    e->created = now;
    e->fresh_until = now + policy.ttl;
    e->revalidate_until = e->fresh_until + policy.stale_while_revalidate;
    e->error_until = e->fresh_until + policy.stale_if_error;
    return e;
}

std::shared_ptr<const entry> make_static_entry(std::shared_ptr<const std::string> body,
                                               std::shared_ptr<const std::string> gzip_body, std::string etag,
                                               std::string gzip_etag, const header_list& headers) {
    auto e = std::make_shared<entry>();
    e->body = std::move(body);
    e->gzip_body = std::move(gzip_body);
    e->etag = std::move(etag);
    if (e->gzip_body) e->gzip_etag = std::move(gzip_etag);
    for (const auto& h : headers) {
        e->identity_headers.push_back(h);
        if (e->gzip_body) e->gzip_headers.push_back(h);
        if (h.first != "Content-Type") e->not_modified_headers.push_back(h);
    }
    auto tag = [&](header_list& set, const std::string& t) {
        set.emplace_back("ETag", t);
        if (e->gzip_body) set.emplace_back("Vary", "Accept-Encoding");
    };
    tag(e->identity_headers, e->etag);
    tag(e->not_modified_headers, e->etag);
    if (e->gzip_body) {
        tag(e->gzip_headers, e->gzip_etag);
        e->gzip_headers.emplace_back("Content-Encoding", "gzip");
    }
    e->created = model::clock::time_point::min();
    e->fresh_until = e->revalidate_until = e->error_until = model::clock::time_point::max();
    return e;
}

response_cache::found response_cache::find(std::string_view key, model::clock::time_point now) {
    std::lock_guard lock(mutex_);
    auto it = index_.find(key);
    if (it == index_.end()) {
        misses_.fetch_add(1, std::memory_order_relaxed);
        return {};
    }
    const auto& e = *it->second;
    freshness state;
    if (now < e->fresh_until)
        state = freshness::fresh;
    else if (now < e->revalidate_until)
        state = freshness::stale_revalidate;
    else if (now < e->error_until)
        state = freshness::stale_if_error;
    else {
        erase_locked(it->second);
        misses_.fetch_add(1, std::memory_order_relaxed);
        return {};
    }
    lru_.splice(lru_.begin(), lru_, it->second);
    if (state == freshness::fresh)
        hits_.fetch_add(1, std::memory_order_relaxed);
    else if (state == freshness::stale_revalidate)
        stale_hits_.fetch_add(1, std::memory_order_relaxed);
    else
        misses_.fetch_add(1, std::memory_order_relaxed);  // only usable if the refresh fails
    return {e, state};
}

void response_cache::erase_locked(lru_list::iterator it) {
    bytes_ -= (*it)->footprint();
    index_.erase((*it)->key);
    lru_.erase(it);
}

void response_cache::insert(std::shared_ptr<const entry> e) {
    const auto size = e->footprint();
    std::lock_guard lock(mutex_);
    if (auto it = index_.find(e->key); it != index_.end()) erase_locked(it->second);
    if (size > max_bytes_) return;
    lru_.push_front(std::move(e));
    index_.emplace(std::string_view(lru_.front()->key), lru_.begin());
    bytes_ += size;
    while (bytes_ > max_bytes_) {
        erase_locked(std::prev(lru_.end()));
        evictions_.fetch_add(1, std::memory_order_relaxed);
    }
}

void response_cache::clear() {
    std::lock_guard lock(mutex_);
    index_.clear();
    lru_.clear();
    bytes_ = 0;
}

std::size_t response_cache::bytes() const {
    std::lock_guard lock(mutex_);
    return bytes_;
}

std::size_t response_cache::size() const {
    std::lock_guard lock(mutex_);
    return index_.size();
}

}  // namespace frost::cache
