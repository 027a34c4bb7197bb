#include "api/pagination.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/random.h>

#include <cerrno>
#include <charconv>
#include <stdexcept>

#include "cache/cache_key.hpp"
#include "codec/base64.hpp"
#include "codec/http_tokens.hpp"

namespace frost::api {

namespace {

constexpr char payload_version = '1';
constexpr std::size_t mac_bytes = 32;

std::string hmac(std::string_view key, std::string_view context, std::string_view payload) {
    // The context is length-prefixed, so no (context, payload) pair can pass for another.
    std::string message = std::to_string(context.size());
    message += ':';
    message += context;
    message += payload;
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
              reinterpret_cast<const unsigned char*>(message.data()), message.size(), out, &len) ||
        len != mac_bytes)
        throw std::runtime_error("HMAC-SHA256 failed");
    return {reinterpret_cast<const char*>(out), len};
}

model::error invalid_cursor() {
    return {model::error_code::bad_parameter,
            "parameter cursor is not valid for this query",
            {},
            "use the cursor of the previous page unchanged, with the same parameters; leave it out for the first page"};
}

template <typename N>
bool read_number(std::string_view& in, N& n) {
    auto [p, ec] = std::from_chars(in.data(), in.data() + in.size(), n);
    if (ec != std::errc{}) return false;
    in.remove_prefix(static_cast<std::size_t>(p - in.data()));
    return true;
}

// Reads one value written by `cache::append_key_value`; the input is authenticated already, so a
// failure here means a key from another Frost version, not an attack.
std::optional<model::value> read_value(std::string_view& in) {
    if (in.empty()) return std::nullopt;
    const char tag = in.front();
    in.remove_prefix(1);
    switch (tag) {
        case '~':
            return model::value{std::monostate{}};
        case 'b':
            if (in.empty() || (in.front() != '0' && in.front() != '1')) return std::nullopt;
            in.remove_prefix(1);
            return model::value{in.data()[-1] == '1'};
        case 'i': {
            std::int64_t n = 0;
            if (!read_number(in, n)) return std::nullopt;
            return model::value{n};
        }
        case 'd': {
            double d = 0;
            if (!read_number(in, d)) return std::nullopt;
            return model::value{d};
        }
        case 'm': {
            std::int64_t unscaled = 0;
            int scale = 0;
            if (!read_number(in, unscaled) || in.empty() || in.front() != 'e') return std::nullopt;
            in.remove_prefix(1);
            if (!read_number(in, scale) || scale < 0 || scale > 38) return std::nullopt;
            return model::value{model::decimal{unscaled, static_cast<std::uint8_t>(scale)}};
        }
        case 'D': {
            std::int32_t days = 0;
            if (!read_number(in, days)) return std::nullopt;
            return model::value{model::date{days}};
        }
        case 'T': {
            std::int64_t micros = 0;
            if (!read_number(in, micros)) return std::nullopt;
            return model::value{model::timestamp{micros}};
        }
        case 's': {
            std::size_t len = 0;
            if (!read_number(in, len) || in.empty() || in.front() != ':' || in.size() - 1 < len) return std::nullopt;
            std::string s(in.substr(1, len));
            in.remove_prefix(1 + len);
            return model::value{std::move(s)};
        }
        default:
            return std::nullopt;
    }
}

}  // namespace

cursor_signer::cursor_signer(std::string key) : key_(std::move(key)) {
    if (key_.empty()) throw std::invalid_argument("cursor_signer: empty key");
}

cursor_signer cursor_signer::with_key_or_random(const std::string& configured, bool& generated) {
    generated = configured.empty();
    if (!generated) return cursor_signer(configured);
    // The kernel's CSPRNG, not RAND_bytes: seeding OpenSSL's generator initialises its providers,
    // about 1 ms of a Lambda cold start for a key drawn once.
    std::string key(32, '\0');
    std::size_t got = 0;
    while (got < key.size()) {
        const ssize_t n = getrandom(key.data() + got, key.size() - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw std::runtime_error("no random bytes for a cursor key");
        got += static_cast<std::size_t>(n);
    }
    return cursor_signer(std::move(key));
}

std::string cursor_signer::sign(std::string_view context, std::span<const model::value> values) const {
    std::string payload(1, payload_version);
    for (const auto& v : values) {
        cache::append_key_value(payload, v);
        payload += '\x1f';
    }
    std::string out = codec::base64_encode(payload, codec::base64_alphabet::url, codec::base64_padding::forbidden);
    out += '.';
    out += codec::base64_encode(hmac(key_, context, payload), codec::base64_alphabet::url,
                                codec::base64_padding::forbidden);
    return out;
}

model::result<std::vector<model::value>> cursor_signer::verify(std::string_view context, std::string_view cursor,
                                                               std::size_t count) const {
    if (cursor.size() > 4096) return invalid_cursor();
    const auto dot = cursor.find('.');
    if (dot == std::string_view::npos) return invalid_cursor();
    const auto payload =
        codec::base64_decode(cursor.substr(0, dot), codec::base64_alphabet::url, codec::base64_padding::forbidden);
    const auto mac =
        codec::base64_decode(cursor.substr(dot + 1), codec::base64_alphabet::url, codec::base64_padding::forbidden);
    if (!payload || !mac || mac->size() != mac_bytes) return invalid_cursor();
    const auto expected = hmac(key_, context, *payload);
    if (CRYPTO_memcmp(expected.data(), mac->data(), mac_bytes) != 0) return invalid_cursor();

    std::string_view in = *payload;
    if (in.empty() || in.front() != payload_version) return invalid_cursor();
    in.remove_prefix(1);
    std::vector<model::value> values;
    while (!in.empty()) {
        auto v = read_value(in);
        if (!v || in.empty() || in.front() != '\x1f') return invalid_cursor();
        in.remove_prefix(1);
        values.push_back(std::move(*v));
    }
    if (values.size() != count) return invalid_cursor();
    return values;
}

model::result<page_request> take_page_params(const config::paginate_config& paging, query_pairs& query) {
    page_request page;
    page.limit = paging.page_size;
    bool limit_seen = false;
    for (auto it = query.begin(); it != query.end();) {
        const bool is_limit = it->first == limit_param, is_cursor = it->first == cursor_param;
        if (!is_limit && !is_cursor) {
            ++it;
            continue;
        }
        if ((is_limit && limit_seen) || (is_cursor && page.cursor))
            return model::error{
                model::error_code::bad_parameter, "parameter " + it->first + " is given more than once", {}, {}};
        if (is_cursor) {
            page.cursor = std::move(it->second);
        } else {
            limit_seen = true;
            std::size_t n = 0;
            const auto& v = it->second;
            auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
            if (ec != std::errc{} || p != v.data() + v.size() || n < 1 || n > paging.max_page_size)
                return model::error{
                    model::error_code::bad_parameter,
                    "parameter limit: expected a whole number from 1 to " + std::to_string(paging.max_page_size),
                    {},
                    "leave it out for pages of " + std::to_string(paging.page_size) + " rows"};
            page.limit = n;
        }
        it = query.erase(it);
    }
    return page;
}

std::string cursor_context(std::string_view endpoint, std::span<const source::parameter> params) {
    std::string context;
    cache::encode_key(context, endpoint, params, std::nullopt);
    return context;
}

void bind_page(std::vector<source::parameter>& params, const config::paginate_config& paging,
               std::span<const model::value> after, std::size_t limit) {
    for (std::size_t i = 0; i < paging.key.size(); ++i)
        params.push_back(
            {std::string(after_prefix) + paging.key[i], i < after.size() ? after[i] : model::value{std::monostate{}}});
    params.push_back({std::string(page_limit_param), static_cast<std::int64_t>(limit) + 1});
}

model::result<std::optional<std::vector<model::value>>> cut_page(model::table& t, const config::paginate_config& paging,
                                                                 std::size_t limit) {
    std::vector<std::size_t> columns;
    for (const auto& k : paging.key) {
        std::size_t c = 0;
        while (c < t.columns.size() && !codec::iequals(t.columns[c].name, k)) ++c;
        if (c == t.columns.size())
            return model::error{model::error_code::config_error,
                                "the paginate key column " + k + " is not in the endpoint's result",
                                {},
                                "select every key column"};
        columns.push_back(c);
    }
    if (t.rows.size() <= limit) return std::optional<std::vector<model::value>>{};
    t.rows.resize(limit);
    std::vector<model::value> last;
    for (auto c : columns) {
        const auto& v = t.rows.back()[c];
        if (std::holds_alternative<std::monostate>(v))
            return model::error{model::error_code::config_error,
                                "the paginate key column " + t.columns[c].name + " is NULL in a row",
                                {},
                                "keyset pagination needs key columns that are never NULL"};
        last.push_back(v);
    }
    return std::optional<std::vector<model::value>>(std::move(last));
}

namespace {

// Appends request-target text, percent-encoding what may not appear inside `<...>` of a Link
// header (RFC 8288 §3: a URI-Reference): controls, space, `<`, `>`, `"` and non-ASCII bytes.
void append_uri_text(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '"') {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        } else {
            out += ch;
        }
    }
}

}  // namespace

std::string next_link(std::string_view target, std::string_view cursor) {
    const auto q = target.find('?');
    std::string out = "<";
    append_uri_text(out, target.substr(0, q));
    char sep = '?';
    if (q != std::string_view::npos) {
        auto rest = target.substr(q + 1);
        while (!rest.empty()) {
            const auto amp = rest.find('&');
            const auto pair = rest.substr(0, amp);
            rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
            const auto name = pair.substr(0, pair.find('='));
            if (pair.empty() || name == cursor_param) continue;
            out += sep;
            append_uri_text(out, pair);
            sep = '&';
        }
    }
    out += sep;
    out += cursor_param;
    out += '=';
    out += cursor;  // base64url and '.': nothing to escape in a query
    out += ">; rel=\"next\"";
    return out;
}

}  // namespace frost::api
