#include "cache/cache_key.hpp"

#include <charconv>
#include <type_traits>
#include <variant>

namespace frost::cache {

void append_key_value(std::string& key, const model::value& v) {
    char buf[64];
    auto num = [&](char tag, auto n) {
        key += tag;
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
        key.append(buf, end);
    };
    std::visit(
        [&](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, std::monostate>)
                key += '~';
            else if constexpr (std::is_same_v<T, bool>)
                key += x ? "b1" : "b0";
            else if constexpr (std::is_same_v<T, std::int64_t>)
                num('i', x);
            else if constexpr (std::is_same_v<T, double>)
                num('d', x);
            else if constexpr (std::is_same_v<T, model::decimal>) {
                num('m', x.unscaled);
                num('e', static_cast<int>(x.scale));
            } else if constexpr (std::is_same_v<T, model::date>)
                num('D', x.days);
            else if constexpr (std::is_same_v<T, model::timestamp>)
                num('T', x.micros);
            else {
                num('s', x.size());
                key += ':';
                key += x;
            }
        },
        v);
}

void encode_key(std::string& key, std::string_view endpoint, std::span<const source::parameter> params,
                const std::optional<data_version>& version, std::string_view variant) {
    key.clear();
    key += endpoint;
    for (const auto& p : params) {
        key += '\x1f';
        key += p.name;
        key += '=';
        append_key_value(key, p.value);
    }
    key += '\x1f';
    if (version) {
        append_key_value(key, version->version);
        if (version->stale) key += '!';
    }
    if (!variant.empty()) {
        // After the version field, which is empty or starts with a type tag: never U+001F.
        key += '\x1f';
        key += variant;
    }
}

}  // namespace frost::cache
