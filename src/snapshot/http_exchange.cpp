#include "snapshot/http_exchange.hpp"

#include "curl/curl_api.hpp"

#include <cctype>
#include <cstdio>
#include <memory>

namespace frost::snapshot {

namespace {

struct curl_deleter {
    void operator()(CURL* c) const noexcept { curl_easy_cleanup(c); }
};
struct slist_deleter {
    void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};
struct file_deleter {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};

struct transfer {
    http_reply* reply = nullptr;
    std::size_t max_body = 0;
    std::FILE* sink = nullptr;  // opened lazily, on a 2xx status only
    const std::string* sink_path = nullptr;
    std::unique_ptr<std::FILE, file_deleter> sink_owner;
    bool too_large = false;
    bool sink_failed = false;
    long status = 0;
};

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
    auto* t = static_cast<transfer*>(user);
    const std::size_t len = size * n;
    if (!t->sink_path->empty() && t->status >= 200 && t->status < 300) {
        if (!t->sink) {
            t->sink_owner.reset(std::fopen(t->sink_path->c_str(), "wb"));
            t->sink = t->sink_owner.get();
            if (!t->sink) {
                t->sink_failed = true;
                return 0;
            }
        }
        if (std::fwrite(data, 1, len, t->sink) != len) {
            t->sink_failed = true;
            return 0;
        }
        return len;
    }
    if (t->reply->body.size() + len > t->max_body) {
        t->too_large = true;
        return 0;
    }
    t->reply->body.append(data, len);
    return len;
}

std::string trim(std::string_view v) {
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
    return std::string(v);
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
    auto* t = static_cast<transfer*>(user);
    const std::size_t len = size * n;
    std::string_view line(data, len);
    if (line.starts_with("HTTP/")) {
        // A new status line (after a 100 Continue): forget the previous headers.
        t->reply->headers.clear();
        const auto sp = line.find(' ');
        t->status =
            sp == std::string_view::npos ? 0 : std::strtol(std::string(line.substr(sp + 1, 3)).c_str(), nullptr, 10);
        return len;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || t->reply->headers.size() > 200) return len;
    std::string name;
    for (char c : line.substr(0, colon)) name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    t->reply->headers[trim(name)] = trim(line.substr(colon + 1)).substr(0, 4096);
    return len;
}

std::size_t on_read(char* buffer, std::size_t size, std::size_t n, void* user) {
    return std::fread(buffer, 1, size * n, static_cast<std::FILE*>(user));
}

}  // namespace

http_reply perform(const http_request& req) {
    http_reply reply;
    std::unique_ptr<CURL, curl_deleter> curl(curl_easy_init());
    if (!curl) {
        reply.transport_error = curl::load().empty() ? "cannot create a curl handle" : curl::load();
        return reply;
    }
    CURL* c = curl.get();
    transfer t;
    t.reply = &reply;
    t.max_body = req.max_body;
    t.sink_path = &req.sink_file;

    std::unique_ptr<curl_slist, slist_deleter> headers;
    auto add = [&](const std::string& h) { headers.reset(curl_slist_append(headers.release(), h.c_str())); };
    for (const auto& [name, value] : req.headers) add(name + ": " + value);
    add("Expect:");  // no 100-continue round trip before a PUT body

    std::unique_ptr<std::FILE, file_deleter> upload;
    curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout.count()));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10'000L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
    if (req.method == "HEAD") {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (req.method == "PUT") {
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        if (!req.body_file.empty()) {
            upload.reset(std::fopen(req.body_file.c_str(), "rb"));
            if (!upload) {
                reply.transport_error = "cannot read " + req.body_file;
                return reply;
            }
            std::fseek(upload.get(), 0, SEEK_END);
            const long size = std::ftell(upload.get());
            std::rewind(upload.get());
            curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
            curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
            curl_easy_setopt(c, CURLOPT_READDATA, upload.get());
        } else {
            curl_easy_setopt(c, CURLOPT_UPLOAD, 0L);
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, req.body.data());
        }
    } else if (req.method == "POST") {
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, req.body.data());
    }
    if (!req.aws_sigv4.empty()) {
        curl_easy_setopt(c, CURLOPT_AWS_SIGV4, req.aws_sigv4.c_str());
        curl_easy_setopt(c, CURLOPT_USERPWD, req.userpwd.c_str());
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());

    const CURLcode rc = curl_easy_perform(c);
    if (t.sink_owner && std::fflush(t.sink_owner.get()) != 0) t.sink_failed = true;
    t.sink_owner.reset();
    if (t.sink_failed) {
        reply.transport_error = "cannot write " + req.sink_file;
        reply.status = 0;
        return reply;
    }
    if (t.too_large) {
        reply.transport_error = "answer larger than " + std::to_string(req.max_body) + " bytes";
        return reply;
    }
    if (rc != CURLE_OK) {
        reply.transport_error = curl_easy_strerror(rc);
        return reply;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply.status);
    return reply;
}

}  // namespace frost::snapshot
