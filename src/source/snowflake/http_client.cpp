#include "source/snowflake/http_client.hpp"

#include "curl/curl_api.hpp"

#include <algorithm>
#include <cctype>
#include <mutex>

#include "codec/gzip.hpp"
#include "codec/http_tokens.hpp"

namespace frost::source::snowflake {

namespace {

struct slist_deleter {
    void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};

struct exchange {
    std::string* body;
    std::string* retry_after;
    std::size_t max_body;
    bool too_large = false;
};

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
    auto* x = static_cast<exchange*>(user);
    const std::size_t len = size * n;
    if (x->body->size() + len > x->max_body) {
        x->too_large = true;
        return 0;  // aborts the transfer
    }
    x->body->append(data, len);
    return len;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
    auto* x = static_cast<exchange*>(user);
    const std::size_t len = size * n;
    std::string_view line(data, len);
    constexpr std::string_view name = "retry-after:";
    if (line.size() > name.size() && codec::iequals(line.substr(0, name.size()), name)) {
        auto v = line.substr(name.size());
        while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
        while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
        *x->retry_after = std::string(v.substr(0, 64));
    }
    return len;
}

}  // namespace

struct http_client::handle {
    CURL* curl = nullptr;
    handle() : curl(curl_easy_init()) {}
    ~handle() {
        if (curl) curl_easy_cleanup(curl);
    }
    handle(const handle&) = delete;
    handle& operator=(const handle&) = delete;
};

http_client::http_client(std::chrono::milliseconds connect_timeout, std::size_t max_body, std::string user_agent)
    : connect_timeout_(connect_timeout), max_body_(max_body), user_agent_(std::move(user_agent)) {}

http_client::~http_client() = default;

std::unique_ptr<http_client::handle> http_client::borrow() {
    {
        std::lock_guard lock(mutex_);
        if (!idle_.empty()) {
            auto h = std::move(idle_.back());
            idle_.pop_back();
            return h;
        }
    }
    return std::make_unique<handle>();
}

void http_client::give_back(std::unique_ptr<handle> h) {
    std::lock_guard lock(mutex_);
    if (idle_.size() < 64) idle_.push_back(std::move(h));
}

http_answer http_client::send(const std::string& method, const std::string& url,
                              const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body,
                              std::chrono::milliseconds limit) {
    http_answer out;
    if (limit.count() <= 0) {
        out.transport_error = "no time left for the request";
        out.timed_out = true;
        return out;
    }
    auto h = borrow();
    if (!h->curl) {
        out.transport_error = curl::load().empty() ? "cannot create a curl handle" : curl::load();
        return out;
    }
    CURL* c = h->curl;
    curl_easy_reset(c);  // keeps the handle's open connections

    std::unique_ptr<curl_slist, slist_deleter> list;
    for (const auto& [k, v] : headers) {
        const std::string line = k + ": " + v;
        curl_slist* next = curl_slist_append(list.get(), line.c_str());
        if (!next) {
            out.transport_error = "out of memory";
            give_back(std::move(h));
            return out;
        }
        (void)list.release();
        list.reset(next);
    }
    exchange x{&out.body, &out.retry_after, max_body_};
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "gzip");
    curl_easy_setopt(c, CURLOPT_USERAGENT, user_agent_.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list.get());
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(limit.count()));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min(limit, connect_timeout_).count()));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
    if (method == "POST") {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    } else {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    }

    const CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        out.status = 0;
        out.body.clear();
        out.timed_out = rc == CURLE_OPERATION_TIMEDOUT;
        out.transport_error = x.too_large ? "the answer is larger than " + std::to_string(max_body_) + " bytes"
                                          : std::string(curl_easy_strerror(rc));
    } else {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out.status);
        // A gzip body that arrived without Content-Encoding (result partitions may be
        // gzipped whatever was asked; docs/snowflake.md §5): JSON never starts with 0x1f 0x8b, so the magic decides.
        if (out.body.size() >= 2 && static_cast<unsigned char>(out.body[0]) == 0x1f &&
            static_cast<unsigned char>(out.body[1]) == 0x8b) {
            if (auto plain = codec::gunzip(out.body, max_body_)) {
                out.body = std::move(*plain);
            } else {
                out.status = 0;
                out.body.clear();
                out.transport_error = "the answer's gzip data is damaged";
            }
        }
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
    give_back(std::move(h));
    return out;
}

}  // namespace frost::source::snowflake
