#include "cache/response_cache.hpp"

#include "cache/http_caching.hpp"
#include "codec/gzip.hpp"

namespace frost::cache {

std::size_t entry::footprint() const noexcept {
    std::size_t n = sizeof(entry) + key.size() * 2 + etag.size() + gzip_etag.size();
    if (body) n += body->size();
    if (gzip_body) n += gzip_body->size();
    for (const auto* set : {&identity_headers, &gzip_headers, &not_modified_headers})
        for (const auto& [k, v] : *set) n += k.size() + v.size() + 2 * sizeof(std::string);
    return n;
}

std::shared_ptr<const entry> make_entry(std::string key, int status, std::string body, const header_list& extra,
                                        const config::cache_policy& policy, std::size_t min_gzip,
                                        model::clock::time_point now) {
    auto e = std::make_shared<entry>();
    e->key = std::move(key);
    e->status = status;
    e->etag = strong_etag(body);
    if (body.size() >= min_gzip) {
        if (auto z = codec::gzip(body); z && z->size() < body.size()) {
            e->gzip_etag = strong_etag(body, "-gz");
            e->gzip_body = std::make_shared<const std::string>(std::move(*z));
        }
    }
    e->body = std::make_shared<const std::string>(std::move(body));
    const auto control = cache_control(policy);
    for (const auto& h : extra) {
        e->identity_headers.push_back(h);
        if (e->gzip_body) e->gzip_headers.push_back(h);
        if (h.first != "Content-Type") e->not_modified_headers.push_back(h);
    }
    auto common = [&](header_list& set, const std::string& tag) {
        set.emplace_back("Cache-Control", control);
        set.emplace_back("ETag", tag);
        set.emplace_back("Vary", "Accept-Encoding");
    };
    common(e->identity_headers, e->etag);
    common(e->not_modified_headers, e->etag);
    if (e->gzip_body) {
        common(e->gzip_headers, e->gzip_etag);
        e->gzip_headers.emplace_back("Content-Encoding", "gzip");
    }
    e->created = now;
    e->fresh_until = now + policy.ttl;
    e->revalidate_until = e->fresh_until + policy.stale_while_revalidate;
    e->error_until = e->fresh_until + policy.stale_if_error;
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
    if (now < e->fresh_until) state = freshness::fresh;
    else if (now < e->revalidate_until) state = freshness::stale_revalidate;
    else if (now < e->error_until) state = freshness::stale_if_error;
    else {
        erase_locked(it->second);
        misses_.fetch_add(1, std::memory_order_relaxed);
        return {};
    }
    lru_.splice(lru_.begin(), lru_, it->second);
    if (state == freshness::fresh) hits_.fetch_add(1, std::memory_order_relaxed);
    else if (state == freshness::stale_revalidate) stale_hits_.fetch_add(1, std::memory_order_relaxed);
    else misses_.fetch_add(1, std::memory_order_relaxed);  // only usable if the refresh fails
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
    index_.emplace(lru_.front()->key, lru_.begin());
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
