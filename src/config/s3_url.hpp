#pragma once

#include <string>
#include <string_view>

#include "model/error.hpp"

namespace frost::config {

/// Where rollup snapshots live: `s3://<bucket>/<prefix>`. `prefix` is empty or ends with '/'.
struct s3_location {
    std::string bucket;
    std::string prefix;
};

/// Parses `s3://bucket/some/prefix/` (a missing trailing '/' is added). The bucket follows
/// S3's naming rules (3-63 of a-z 0-9 . -); the prefix holds only A-Z a-z 0-9 ! - _ . * ' ( ) /
/// (S3's "safe" characters), with no empty, "." or ".." segment. Never throws; any input.
[[nodiscard]] model::result<s3_location> parse_s3_url(std::string_view url);

}  // namespace frost::config
