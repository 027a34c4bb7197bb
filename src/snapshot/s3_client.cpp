#include "snapshot/s3_client.hpp"

#include <openssl/evp.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <thread>

#include "snapshot/http_exchange.hpp"

namespace frost::snapshot {

namespace {

model::error s3_error(std::string message) {
    return {model::error_code::source_unavailable, std::move(message), {}, {}};
}

// Percent-encodes a key for the URL path; '/' stays (S3 does not double-encode paths).
std::string encode_key(std::string_view key) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : key) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

// "<Code>: <Message>" of an S3 XML error, or the status alone.
std::string describe_error(long status, const std::string& body) {
    auto tag = [&](std::string_view name) -> std::string {
        const std::string open = "<" + std::string(name) + ">", close = "</" + std::string(name) + ">";
        const auto a = body.find(open);
        const auto b = a == std::string::npos ? a : body.find(close, a);
        return b == std::string::npos ? std::string()
                                      : body.substr(a + open.size(), std::min<std::size_t>(b - a - open.size(), 200));
    };
    std::string out = "HTTP " + std::to_string(status);
    if (auto code = tag("Code"); !code.empty()) out += " " + code;
    if (auto message = tag("Message"); !message.empty()) out += ": " + message;
    return out;
}

struct evp_ctx_deleter {
    void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};

std::string to_hex(const unsigned char* d, unsigned n) {
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < n; ++i) {
        out += hex[d[i] >> 4];
        out += hex[d[i] & 15];
    }
    return out;
}

}  // namespace

std::string sha256_hex(std::string_view bytes) {
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    EVP_Digest(bytes.data(), bytes.size(), d, &n, EVP_sha256(), nullptr);
    return to_hex(d, n);
}

model::result<file_digest> digest_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return s3_error("cannot read " + path);
    std::unique_ptr<EVP_MD_CTX, evp_ctx_deleter> ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) return s3_error("SHA-256 unavailable");
    file_digest out;
    std::string buf(1u << 16, '\0');
    while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0) {
        EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<std::size_t>(in.gcount()));
        out.size += static_cast<std::uint64_t>(in.gcount());
    }
    if (in.bad()) return s3_error("cannot read " + path);
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    EVP_DigestFinal_ex(ctx.get(), d, &n);
    out.sha256 = to_hex(d, n);
    return out;
}

s3_endpoint s3_endpoint::from_environment() {
    s3_endpoint e;
    auto env = [](const char* name) {
        const char* v = std::getenv(name);
        return std::string(v ? v : "");
    };
    if (auto r = env("AWS_REGION"); !r.empty())
        e.region = r;
    else if (auto d = env("AWS_DEFAULT_REGION"); !d.empty())
        e.region = d;
    e.endpoint = env("AWS_ENDPOINT_URL_S3");
    if (e.endpoint.empty()) e.endpoint = env("AWS_ENDPOINT_URL");
    while (!e.endpoint.empty() && e.endpoint.back() == '/') e.endpoint.pop_back();
    return e;
}

struct s3_client::call {
    std::string method;
    std::string key;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string body_file;
    std::string sink_file;
    std::string payload_sha256;
    std::size_t max_body = 16u << 20;
};

s3_client::s3_client(s3_location location, s3_endpoint endpoint, std::shared_ptr<credentials_chain> credentials)
    : location_(std::move(location)), endpoint_(std::move(endpoint)), credentials_(std::move(credentials)) {}

std::string s3_client::url_of(std::string_view key) const {
    const std::string path = encode_key(location_.prefix + std::string(key));
    if (!endpoint_.endpoint.empty()) return endpoint_.endpoint + "/" + location_.bucket + "/" + path;
    return "https://" + location_.bucket + ".s3." + endpoint_.region + ".amazonaws.com/" + path;
}

s3_answer s3_client::send(const call& c) {
    s3_answer out;
    std::chrono::milliseconds backoff(200);
    for (int attempt = 1;; ++attempt) {
        auto creds = credentials_->get();
        if (!creds) {
            out.status = 0;
            out.error = creds.error().message;
            return out;
        }
        http_request req;
        req.method = c.method;
        req.url = url_of(c.key);
        req.headers = c.headers;
        req.headers.emplace_back("x-amz-content-sha256", c.payload_sha256);
        if (!creds.value().session_token.empty())
            req.headers.emplace_back("x-amz-security-token", creds.value().session_token);
        req.body = c.body;
        req.body_file = c.body_file;
        req.sink_file = c.sink_file;
        req.max_body = c.max_body;
        req.timeout = endpoint_.timeout;
        req.aws_sigv4 = "aws:amz:" + endpoint_.region + ":s3";
        req.userpwd = creds.value().access_key_id + ":" + creds.value().secret_access_key;
        auto reply = perform(req);
        out = {};
        out.status = reply.status;
        out.etag = reply.header("etag");
        out.body = std::move(reply.body);
        if (!reply.transport_error.empty())
            out.error = reply.transport_error;
        else if (!(out.status >= 200 && out.status < 400))
            out.error = describe_error(out.status, out.body);
        const bool retry = out.status == 0 || out.status == 500 || out.status == 503;
        if (!retry || attempt >= endpoint_.attempts) return out;
        std::this_thread::sleep_for(backoff);
        backoff *= 2;
    }
}

s3_answer s3_client::get(std::string_view key, const std::string& if_none_match, const std::string& sink_file,
                         std::size_t max_body) {
    call c{"GET", std::string(key), {}, {}, {}, sink_file, sha256_hex(""), max_body};
    if (!if_none_match.empty()) c.headers.emplace_back("If-None-Match", if_none_match);
    return send(c);
}

s3_answer s3_client::head(std::string_view key) {
    return send({"HEAD", std::string(key), {}, {}, {}, {}, sha256_hex(""), 0});
}

namespace {
void add_condition(std::vector<std::pair<std::string, std::string>>& headers, put_condition condition,
                   const std::string& etag) {
    if (condition == put_condition::absent) headers.emplace_back("If-None-Match", "*");
    if (condition == put_condition::etag_match) headers.emplace_back("If-Match", etag);
}
}  // namespace

s3_answer s3_client::put(std::string_view key, const std::string& body, const std::string& content_type,
                         put_condition condition, const std::string& etag) {
    call c{"PUT", std::string(key), {{"Content-Type", content_type}}, body, {}, {}, sha256_hex(body), 1u << 20};
    add_condition(c.headers, condition, etag);
    return send(c);
}

s3_answer s3_client::put_file(std::string_view key, const std::string& path, const std::string& sha256,
                              put_condition condition, const std::string& etag) {
    call c{"PUT", std::string(key), {{"Content-Type", "application/octet-stream"}}, {}, path, {}, sha256, 1u << 20};
    add_condition(c.headers, condition, etag);
    return send(c);
}

}  // namespace frost::snapshot
