#include "auth/jwks_cache.hpp"

#include <spdlog/spdlog.h>
#include "curl/curl_api.hpp"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "codec/http_tokens.hpp"

namespace frost::auth {

namespace {

constexpr std::size_t max_body = 150'000;
constexpr auto min_lifetime = std::chrono::seconds(5);
constexpr auto max_lifetime = std::chrono::hours(24);
constexpr auto retry_after_failure = std::chrono::seconds(10);

struct curl_free {
    void operator()(CURL* c) const noexcept { curl_easy_cleanup(c); }
};

struct fetch_state {
    std::string body;
    std::string cache_control;
    bool too_big = false;
};

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
    auto* st = static_cast<fetch_state*>(user);
    if (st->body.size() + size * n > max_body) {
        st->too_big = true;
        return 0;  // aborts the transfer
    }
    st->body.append(data, size * n);
    return size * n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
    auto* st = static_cast<fetch_state*>(user);
    std::string_view line(data, size * n);
    constexpr std::string_view name = "cache-control:";
    if (line.size() > name.size() && codec::iequals(line.substr(0, name.size()), name)) {
        line.remove_prefix(name.size());
        while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
        st->cache_control = std::string(line.substr(0, 512));
    }
    return size * n;
}

}  // namespace

std::optional<std::chrono::seconds> cache_lifetime(std::string_view cc) {
    std::optional<std::chrono::seconds> max_age;
    bool no_cache = false;
    while (!cc.empty()) {
        const auto comma = cc.find(',');
        auto item = cc.substr(0, comma);
        cc = comma == std::string_view::npos ? std::string_view{} : cc.substr(comma + 1);
        const auto lower = codec::to_lower(codec::trim(item));
        for (std::string_view key : {"max-age=", "s-maxage="}) {
            if (lower.rfind(key, 0) == 0) {
                long long v = 0;
                auto text = std::string_view(lower).substr(key.size());
                if (auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
                    ec == std::errc{} && p == text.data() + text.size() && v >= 0)
                    max_age = std::chrono::seconds(v);
            }
        }
        if (lower == "no-cache" || lower == "no-store" || lower == "must-revalidate") no_cache = true;
    }
    if (max_age) return max_age;
    if (no_cache) return std::chrono::seconds(0);
    return std::nullopt;
}

std::unique_ptr<jwks_cache> jwks_cache::start(const config::jwt_config& cfg, const std::string& base_dir) {
    std::string file = cfg.jwks_file;
    if (!file.empty() && std::filesystem::path(file).is_relative())
        file = (std::filesystem::path(base_dir) / file).string();
    std::unique_ptr<jwks_cache> c(new jwks_cache(cfg, std::move(file)));
    {
        std::lock_guard lock(c->mutex_);
        c->last_attempt_ = model::clock::now();
    }
    auto lifetime = c->load();
    {
        std::lock_guard lock(c->mutex_);
        c->next_refresh_ =
            model::clock::now() + (lifetime ? *lifetime : std::chrono::milliseconds(retry_after_failure));
    }
    c->thread_ = std::thread([p = c.get()] { p->run(); });
    return c;
}

jwks_cache::jwks_cache(config::jwt_config cfg, std::string file) : cfg_(std::move(cfg)), file_(std::move(file)) {}

jwks_cache::~jwks_cache() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

std::shared_ptr<const key_set> jwks_cache::keys() const {
    std::lock_guard lock(mutex_);
    return keys_;
}

void jwks_cache::request_refetch() {
    {
        std::lock_guard lock(mutex_);
        if (refetch_wanted_) return;
        refetch_wanted_ = true;
    }
    wake_.notify_all();
}

std::optional<std::chrono::milliseconds> jwks_cache::load() {
    ++fetches_;
    fetch_state st;
    std::string where;
    if (!file_.empty()) {
        where = file_;
        std::ifstream in(file_, std::ios::binary);
        if (in) {
            std::ostringstream text;
            text << in.rdbuf();
            st.body = text.str();
        } else {
            ++failures_;
            spdlog::warn("JWKS: cannot read {}; keeping the keys held", file_);
            return std::nullopt;
        }
    } else {
        where = cfg_.jwks_url;
        std::unique_ptr<CURL, curl_free> curl(curl_easy_init());
        if (!curl) {
            ++failures_;
            if (const auto& failure = curl::load(); !failure.empty())
                spdlog::warn("JWKS: {}; keeping the keys held", failure);
            return std::nullopt;
        }
        const long timeout = static_cast<long>(cfg_.fetch_timeout.count());
        curl_easy_setopt(curl.get(), CURLOPT_URL, cfg_.jwks_url.c_str());
        curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, timeout);
        curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT_MS, timeout);
        curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "https,http");
        curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &st);
        curl_easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(curl.get(), CURLOPT_HEADERDATA, &st);
        curl_easy_setopt(curl.get(), CURLOPT_USERAGENT, "frost-jwks/1");
        const CURLcode rc = curl_easy_perform(curl.get());
        long status = 0;
        curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
        if (rc != CURLE_OK || status != 200) {
            ++failures_;
            spdlog::warn("JWKS: fetch from {} failed ({}); keeping the keys held", where,
                         rc != CURLE_OK ? (st.too_big ? "larger than 150000 bytes" : curl_easy_strerror(rc))
                                        : "HTTP " + std::to_string(status));
            return std::nullopt;
        }
    }
    auto parsed = parse_jwks(st.body);
    if (!parsed) {
        ++failures_;
        spdlog::warn("JWKS from {}: {}; keeping the keys held", where, parsed.error().message);
        return std::nullopt;
    }
    auto keys = std::make_shared<const key_set>(std::move(parsed).value());
    const auto count = keys->keys.size();
    {
        std::lock_guard lock(mutex_);
        keys_ = std::move(keys);
    }
    spdlog::info("JWKS: {} signing keys loaded from {}", count, where);
    std::chrono::milliseconds lifetime = cfg_.cache_default;
    if (auto cc = cache_lifetime(st.cache_control))
        lifetime = std::chrono::duration_cast<std::chrono::milliseconds>(*cc);
    return std::clamp<std::chrono::milliseconds>(lifetime, min_lifetime, max_lifetime);
}

void jwks_cache::run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        const auto now = model::clock::now();
        const bool refetch_allowed = refetch_wanted_ && now - last_attempt_ >= cfg_.refetch_interval;
        if (now >= next_refresh_ || refetch_allowed) {
            refetch_wanted_ = false;
            last_attempt_ = now;
            lock.unlock();
            auto lifetime = load();
            lock.lock();
            next_refresh_ =
                model::clock::now() +
                (lifetime ? *lifetime : std::chrono::duration_cast<std::chrono::milliseconds>(retry_after_failure));
            continue;
        }
        auto until = next_refresh_;
        if (refetch_wanted_) until = std::min(until, last_attempt_ + cfg_.refetch_interval);
        wake_.wait_until(lock, until);
    }
}

}  // namespace frost::auth
