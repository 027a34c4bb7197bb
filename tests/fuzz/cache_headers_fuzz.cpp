// libFuzzer target: the request headers the response cache parses, `If-None-Match` and
// `Accept-Encoding` (src/cache/http_caching.cpp), and the gzip decoder. Checks that they never
// crash and that their answers are consistent with the bytes they were given.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "cache/http_caching.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto etag = frost::cache::strong_etag("body");
    if (frost::cache::if_none_match(input, etag)) {
        // Only `*` or the tag itself (quotes included) can match.
        if (input.find('*') == std::string_view::npos && input.find(std::string_view(etag).substr(1, etag.size() - 2)) == std::string_view::npos)
            std::abort();
    }
    if (frost::cache::accepts_gzip(input)) {
        if (input.find_first_of("gG*") == std::string_view::npos) std::abort();
    }
    if (auto plain = frost::cache::gunzip(input)) {
        // Whatever decodes re-encodes to something that decodes to the same bytes.
        auto again = frost::cache::gzip(*plain);
        if (!again || frost::cache::gunzip(*again) != *plain) std::abort();
    }
    return 0;
}
