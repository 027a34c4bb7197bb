#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "config/s3_url.hpp"
#include "model/error.hpp"
#include "snapshot/credentials.hpp"

namespace frost::snapshot {

using config::s3_location;

/// How to reach the store: AWS (virtual-hosted style) unless `endpoint` is set
/// (`AWS_ENDPOINT_URL_S3`: MinIO, R2, emulators; path style).
struct s3_endpoint {
    std::string region = "us-east-1";
    std::string endpoint;  ///< "http://127.0.0.1:4569" (no trailing '/'); empty: AWS
    std::chrono::milliseconds timeout{120'000};
    int attempts = 3;  ///< on 500, 503 and transport failures, with backoff
    /// From AWS_REGION / AWS_DEFAULT_REGION and AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL).
    static s3_endpoint from_environment();
};

/// What a conditional PUT requires of the object as it is.
enum class put_condition {
    none,
    absent,      ///< `If-None-Match: *`: create only
    etag_match,  ///< `If-Match: <etag>`: replace only the version that was read
};

/// One answer. `status` 0: no answer (after the retries); `error` then says why. For S3
/// errors `error` holds the XML `<Code>` and `<Message>`; it never holds credentials.
struct s3_answer {
    long status = 0;
    std::string etag;  ///< as S3 sent it, quoted
    std::string body;
    std::string error;
    [[nodiscard]] bool ok() const noexcept { return status >= 200 && status < 300; }
};

/// A small S3 REST client over libcurl, signing with its built-in SigV4
/// (`CURLOPT_AWS_SIGV4`) and sending `x-amz-content-sha256` (and `x-amz-security-token` for
/// temporary credentials). Thread-safe.
class s3_client {
public:
    s3_client(s3_location location, s3_endpoint endpoint, std::shared_ptr<credentials_chain> credentials);

    /// The URL of `key` (relative to the location's prefix).
    [[nodiscard]] std::string url_of(std::string_view key) const;
    [[nodiscard]] const s3_location& location() const noexcept { return location_; }

    /// GET; with `if_none_match` an unchanged object answers 304. With `sink_file`, a 200
    /// body goes to that file (bodies of errors stay in memory).
    [[nodiscard]] s3_answer get(std::string_view key, const std::string& if_none_match = {},
                                const std::string& sink_file = {}, std::size_t max_body = 16u << 20);
    /// HEAD.
    [[nodiscard]] s3_answer head(std::string_view key);
    /// PUT of an in-memory body.
    [[nodiscard]] s3_answer put(std::string_view key, const std::string& body, const std::string& content_type,
                                put_condition condition = put_condition::none, const std::string& etag = {});
    /// PUT streamed from a file, whose hex SHA-256 the caller computed.
    [[nodiscard]] s3_answer put_file(std::string_view key, const std::string& path, const std::string& sha256_hex,
                                     put_condition condition = put_condition::none, const std::string& etag = {});

private:
    struct call;
    s3_answer send(const call& c);

    s3_location location_;
    s3_endpoint endpoint_;
    std::shared_ptr<credentials_chain> credentials_;
};

/// The hex SHA-256 of `bytes`.
[[nodiscard]] std::string sha256_hex(std::string_view bytes);
/// The hex SHA-256 and the size of a file; fails when it cannot be read.
struct file_digest {
    std::string sha256;
    std::uint64_t size = 0;
};
[[nodiscard]] model::result<file_digest> digest_file(const std::string& path);

}  // namespace frost::snapshot
