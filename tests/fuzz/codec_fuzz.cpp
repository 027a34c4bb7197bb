// libFuzzer target: every codec of src/codec over the same untrusted bytes. Each answer is
// checked against a property (round trips, canonical forms) or an independent reference
// written here, so a disagreement aborts like a crash does.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>

#include "codec/base64.hpp"
#include "codec/duration.hpp"
#include "codec/gzip.hpp"
#include "codec/http_tokens.hpp"
#include "codec/utc_time.hpp"
#include "codec/utf8.hpp"

namespace {

using namespace frost::codec;

void check(bool ok) {
    if (!ok) std::abort();
}

// RFC 3629 the long way: decode each sequence to a code point, then judge the code point.
bool reference_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = 0;
        std::uint32_t cp = 0;
        if (c < 0x80) {
            ++i;
            continue;
        }
        if ((c & 0xe0) == 0xc0) {
            n = 1, cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2, cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3, cp = c & 0x07;
        } else {
            return false;
        }
        if (i + n >= s.size()) return false;
        for (std::size_t k = 1; k <= n; ++k) {
            const auto d = static_cast<unsigned char>(s[i + k]);
            if ((d & 0xc0) != 0x80) return false;
            cp = cp << 6 | (d & 0x3f);
        }
        const std::uint32_t least[] = {0, 0x80, 0x800, 0x10000};
        if (cp < least[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        i += n + 1;
    }
    return true;
}

void fuzz_utf8(std::string_view in) {
    const bool valid = valid_utf8(in);
    check(valid == reference_utf8(in));
    const auto fixed = utf8_or_replacement(in);
    check(valid_utf8(fixed));
    check(valid == (fixed == in));
}

void fuzz_base64(std::string_view in) {
    for (auto alphabet : {base64_alphabet::standard, base64_alphabet::url}) {
        // Encoding round-trips whatever the bytes.
        for (auto pad : {base64_padding::required, base64_padding::forbidden}) {
            const auto text = base64_encode(in, alphabet, pad);
            check(text.size() % 4 != 1);
            check(base64_decode(text, alphabet, pad) == std::string(in));
            check(base64_decode(text, alphabet, base64_padding::optional) == std::string(in));
        }
        // Decoding is canonical: what decodes re-encodes to the very same text.
        if (auto bytes = base64_decode(in, alphabet, base64_padding::required))
            check(base64_encode(*bytes, alphabet, base64_padding::required) == in);
        if (auto bytes = base64_decode(in, alphabet, base64_padding::forbidden))
            check(base64_encode(*bytes, alphabet, base64_padding::forbidden) == in);
        if (auto bytes = base64_decode(in, alphabet, base64_padding::optional)) {
            check(base64_encode(*bytes, alphabet, base64_padding::required) == in ||
                  base64_encode(*bytes, alphabet, base64_padding::forbidden) == in);
        }
    }
}

void fuzz_gzip(std::string_view in) {
    constexpr std::size_t cap = 1 << 20;
    if (auto plain = gunzip(in, cap)) {
        check(plain->size() <= cap);
        auto again = gzip(*plain);
        check(again && gunzip(*again, cap) == plain);
        // A cap below the decoded size refuses it instead of truncating.
        if (!plain->empty()) check(!gunzip(in, plain->size() - 1));
    }
    if (in.size() <= cap) {
        auto packed = gzip(in, 1);
        check(packed && gunzip(*packed, cap) == std::string(in));
    }
}

void fuzz_tokens(std::string_view in) {
    if (accepts_gzip(in)) check(in.find_first_of("gG*") != std::string_view::npos);
    const auto lowered = to_lower(in);
    check(iequals(lowered, in) && lowered.size() == in.size());
    const auto t = trim(in);
    check(t.empty() || (t.front() != ' ' && t.front() != '\t' && t.back() != ' ' && t.back() != '\t'));
    const auto ranges = parse_accept(in);
    for (const auto& r : ranges) {
        check(!r.type.empty() && !r.subtype.empty() && r.q >= 0 && r.q <= 1000);
        check(r.type.data() >= in.data() && r.subtype.data() + r.subtype.size() <= in.data() + in.size());
        check(accept_quality(ranges, r.type == "*" ? "a" : r.type, r.subtype == "*" ? "b" : r.subtype) >= 0);
    }
}

void fuzz_duration(std::string_view in) {
    auto d = parse_duration(in);
    if (!d) return;
    std::size_t digits = 0;
    while (digits < in.size() && in[digits] >= '0' && in[digits] <= '9') ++digits;
    const auto unit = in.substr(digits);
    check(digits > 0 && (unit.empty() || unit == "ms" || unit == "s" || unit == "m" || unit == "h"));
    check(d->count() >= 0);
}

void fuzz_utc(std::string_view in) {
    if (in.size() < 8) return;
    std::int64_t raw = 0;
    std::memcpy(&raw, in.data(), sizeof raw);
    // 1970..2255: within system_clock's range (64-bit nanoseconds end in 2262).
    constexpr std::int64_t last_ms = 9'000'000'000'000;
    const std::int64_t ms = (raw % (last_ms + 1) + last_ms + 1) % (last_ms + 1);
    const std::chrono::system_clock::time_point t{std::chrono::milliseconds(ms)};
    const auto text = format_utc(t, utc_precision::milliseconds);
    std::tm tm{};
    int millis = -1;
    check(text.size() == 24 && std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon,
                                           &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &millis) == 7);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    check(static_cast<std::int64_t>(timegm(&tm)) * 1000 + millis == ms);
    check(format_utc(t) == text.substr(0, 19) + "Z");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    fuzz_utf8(input);
    fuzz_base64(input);
    fuzz_gzip(input);
    fuzz_tokens(input);
    fuzz_duration(input);
    fuzz_utc(input);
    return 0;
}
