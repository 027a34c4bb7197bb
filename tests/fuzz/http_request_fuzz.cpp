// libFuzzer target: bytes from a client socket through the server's request path
// (src/server/request_head.*): head scanner, Beast parser, framing checks, body. Checks that it
// never crashes, that feeding the same bytes in pieces decides like feeding them at once, and
// that an accepted request respects every limit.

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "server/request_head.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    frost::server::head_limits limits{2048, 512, 32, 4096};

    auto parsed = frost::server::parse_request(bytes, limits);
    if (parsed) {
        const auto& m = parsed.value().message;
        if (m.target().size() > limits.max_url_bytes) std::abort();
        if (m.body().size() > limits.max_body_bytes) std::abort();
        if (parsed.value().consumed > bytes.size()) std::abort();
        for (const auto& f : m)
            if (f.name() == boost::beast::http::field::transfer_encoding) std::abort();
    }

    // Incremental scanning (as bytes trickle in) must agree with one-shot scanning.
    frost::server::head_scanner whole(limits), pieces(limits);
    const auto once = whole.feed(bytes);
    frost::server::head_scan step;
    for (std::size_t n = 1; n <= bytes.size(); n += 1 + n / 3) {
        step = pieces.feed(bytes.substr(0, n));
        if (step.status != frost::server::head_scan::state::need_more) break;
    }
    if (bytes.size() > 0 && step.status == frost::server::head_scan::state::need_more) step = pieces.feed(bytes);
    if (step.status != once.status) std::abort();
    if (once.status == frost::server::head_scan::state::complete && step.size != once.size) std::abort();
    return 0;
}
