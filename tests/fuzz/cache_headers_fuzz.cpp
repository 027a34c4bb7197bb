// libFuzzer target: the request header the response cache parses, `If-None-Match`
// (src/cache/http_caching.cpp). Checks that it never crashes and that its answers are
// consistent with the bytes it was given. Accept-Encoding and gzip: codec_fuzz.cpp.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cache/http_caching.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto etag = frost::cache::strong_etag("body");
    if (frost::cache::if_none_match(input, etag)) {
        // Only `*` or the tag itself (quotes included) can match.
        if (input.find('*') == std::string_view::npos &&
            input.find(std::string_view(etag).substr(1, etag.size() - 2)) == std::string_view::npos)
            std::abort();
    }
    return 0;
}
