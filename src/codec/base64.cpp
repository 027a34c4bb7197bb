#include "codec/base64.hpp"

#include <cstdint>

namespace frost::codec {

namespace {

constexpr std::string_view standard_chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view url_chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int value_of(char c, base64_alphabet alphabet) noexcept {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    const bool url = alphabet == base64_alphabet::url;
    if (c == (url ? '-' : '+')) return 62;
    if (c == (url ? '_' : '/')) return 63;
    return -1;
}

}  // namespace

std::string base64_encode(std::string_view bytes, base64_alphabet alphabet, base64_padding padding) {
    const auto chars = alphabet == base64_alphabet::url ? url_chars : standard_chars;
    const bool pad = padding != base64_padding::forbidden;
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    const auto at = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[k])); };
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t n = at(i) << 16 | at(i + 1) << 8 | at(i + 2);
        out += chars[n >> 18 & 63];
        out += chars[n >> 12 & 63];
        out += chars[n >> 6 & 63];
        out += chars[n & 63];
    }
    const std::size_t rest = bytes.size() - i;
    if (rest == 0) return out;
    const std::uint32_t n = at(i) << 16 | (rest == 2 ? at(i + 1) << 8 : 0);
    out += chars[n >> 18 & 63];
    out += chars[n >> 12 & 63];
    if (rest == 2) out += chars[n >> 6 & 63];
    if (pad) out.append(3 - rest, '=');
    return out;
}

std::optional<std::string> base64_decode(std::string_view text, base64_alphabet alphabet, base64_padding padding) {
    std::size_t pads = 0;
    while (pads < 2 && !text.empty() && text.back() == '=') {
        text.remove_suffix(1);
        ++pads;
    }
    if (pads > 0 && padding == base64_padding::forbidden) return std::nullopt;
    if (pads > 0 && (text.size() + pads) % 4 != 0) return std::nullopt;
    if (pads == 0 && padding == base64_padding::required && text.size() % 4 != 0) return std::nullopt;
    if (text.size() % 4 == 1) return std::nullopt;
    std::string out;
    out.reserve(text.size() / 4 * 3 + 2);
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
        const int v = value_of(c, alphabet);
        if (v < 0) return std::nullopt;  // also a third '=' or one in the middle
        acc = (acc << 6 | static_cast<std::uint32_t>(v)) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>(acc >> bits & 0xff);
        }
    }
    // Canonical form only (RFC 4648 §3.5): the bits past the last byte must be zero.
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
    return out;
}

}  // namespace frost::codec
