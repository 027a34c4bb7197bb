#include "codec/utf8.hpp"

namespace frost::codec {

std::size_t utf8_sequence_length(std::string_view s, std::size_t at) noexcept {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[at + k]); };
    const auto c = byte(0);
    if (c < 0x80) return 1;
    // RFC 3629 §4 (UTF8-2 .. UTF8-4): the second byte's range depends on the lead byte; that
    // one rule excludes overlong forms, surrogates and code points above U+10FFFF.
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0) lo = 0xa0;
        if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0) lo = 0x90;
        if (c == 0xf4) hi = 0x8f;
    } else {
        return 0;
    }
    if (s.size() - at < len) return 0;
    if (byte(1) < lo || byte(1) > hi) return 0;
    for (std::size_t k = 2; k < len; ++k)
        if ((byte(k) & 0xc0) != 0x80) return 0;
    return len;
}

bool valid_utf8(std::string_view s) noexcept {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto n = utf8_sequence_length(s, i);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

std::size_t append_utf8_or_replacement(std::string& out, std::string_view s, std::size_t at) {
    const auto n = utf8_sequence_length(s, at);
    if (n == 0) {
        out += "\xef\xbf\xbd";
        return 1;
    }
    out.append(s.substr(at, n));
    return n;
}

std::string utf8_or_replacement(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) i += append_utf8_or_replacement(out, s, i);
    return out;
}

}  // namespace frost::codec
