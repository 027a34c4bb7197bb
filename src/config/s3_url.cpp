#include "config/s3_url.hpp"

#include <cctype>

namespace frost::config {

namespace {

model::error url_error(std::string message) {
    return {model::error_code::config_error, std::move(message), {}, {}};
}

bool safe_key_char(unsigned char c) {
    return std::isalnum(c) || c == '!' || c == '-' || c == '_' || c == '.' || c == '*' || c == '\'' || c == '(' ||
           c == ')' || c == '/';
}

}  // namespace

model::result<s3_location> parse_s3_url(std::string_view url) {
    constexpr std::string_view scheme = "s3://";
    if (!url.starts_with(scheme)) return url_error("expected s3://<bucket>/<prefix>/");
    url.remove_prefix(scheme.size());
    const auto slash = url.find('/');
    s3_location loc;
    loc.bucket = std::string(url.substr(0, slash));
    if (loc.bucket.size() < 3 || loc.bucket.size() > 63) return url_error("the bucket name must be 3 to 63 characters");
    for (unsigned char c : loc.bucket)
        if (!(std::islower(c) || std::isdigit(c) || c == '.' || c == '-'))
            return url_error("the bucket name may hold only a-z, 0-9, '.' and '-'");
    if (loc.bucket.front() == '.' || loc.bucket.front() == '-' || loc.bucket.back() == '.' || loc.bucket.back() == '-')
        return url_error("the bucket name must start and end with a letter or digit");
    if (slash == std::string_view::npos) return loc;
    std::string_view prefix = url.substr(slash + 1);
    if (prefix.size() > 512) return url_error("the prefix is longer than 512 characters");
    for (unsigned char c : prefix)
        if (!safe_key_char(c)) return url_error("the prefix may hold only letters, digits, '/' and !-_.*'()");
    if (prefix.empty()) return loc;
    loc.prefix = std::string(prefix);
    if (loc.prefix.back() != '/') loc.prefix += '/';
    std::string_view rest = loc.prefix;
    while (!rest.empty()) {
        const auto end = rest.find('/');
        const auto segment = rest.substr(0, end);
        if (segment.empty() || segment == "." || segment == "..")
            return url_error(R"(the prefix has an empty, "." or ".." segment)");
        rest.remove_prefix(end + 1);
    }
    return loc;
}

}  // namespace frost::config
