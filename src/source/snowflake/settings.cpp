#include "source/snowflake/settings.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "codec/duration.hpp"
#include "codec/http_tokens.hpp"

namespace frost::source::snowflake {

namespace {

constexpr std::string_view known_keys[] = {"account",
                                           "user",
                                           "host",
                                           "database",
                                           "schema",
                                           "warehouse",
                                           "role",
                                           "authenticator",
                                           "private_key",
                                           "private_key_path",
                                           "private_key_passphrase",
                                           "token",
                                           "token_path",
                                           "env_prefix",
                                           "statement_timeout",
                                           "jwt_lifetime",
                                           "poll_initial",
                                           "poll_max",
                                           "retry_base",
                                           "retry_cap",
                                           "connect_timeout",
                                           "cancel_timeout",
                                           "max_attempts",
                                           "partition_parallelism",
                                           "user_agent"};

std::string upper(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

std::string lower(std::string_view s) {
    return codec::to_lower(s);
}

// Reads keys from the config file first, then from the environment, and remembers where a
// value came from so messages can name it without showing it.
class lookup {
public:
    lookup(const config::source_config& source, const env_lookup& env, std::string prefix)
        : source_(source), env_(env), prefix_(std::move(prefix)) {}

    // The environment wins, like FROST_* over the server section: the seed's deployment sets
    // SNOWFLAKE_* and the file holds defaults.
    std::optional<std::string> get(const std::string& key) const {
        if (auto v = env_(prefix_ + upper(key))) return v;
        if (auto it = source_.settings.find(key); it != source_.settings.end() && !it->second.empty())
            return it->second;
        return std::nullopt;
    }

    // "sources.warehouse.account (or SNOWFLAKE_ACCOUNT)"
    std::string where(const std::string& key) const {
        return "sources." + source_.name + "." + key + " (or " + prefix_ + upper(key) + ")";
    }

private:
    const config::source_config& source_;
    const env_lookup& env_;
    std::string prefix_;
};

model::error fail(const std::string& message, std::string hint = {}) {
    return {model::error_code::config_error, message, {}, std::move(hint)};
}

bool is_loopback(std::string_view host) {
    return host == "127.0.0.1" || host == "localhost" || host == "[::1]" || host.starts_with("127.");
}

// "host", "host:port", "https://host[:port]", "http://127.0.0.1:port" -> base URL.
model::result<std::string> base_url_from_host(const std::string& host, const std::string& where) {
    std::string scheme = "https";
    std::string_view rest = host;
    if (auto p = rest.find("://"); p != std::string_view::npos) {
        scheme = lower(rest.substr(0, p));
        rest = rest.substr(p + 3);
    }
    while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
    if (scheme != "https" && scheme != "http")
        return fail(where + ": the scheme must be https (or http for a loopback test host)");
    if (rest.empty() || rest.find_first_of("/?#@ \t\r\n") != std::string_view::npos)
        return fail(where +
                    ": expected a host name like myorg-myaccount.snowflakecomputing.com, optionally with a port");
    std::string_view name = rest;
    if (!name.starts_with('[')) {
        if (auto colon = name.rfind(':'); colon != std::string_view::npos) name = name.substr(0, colon);
    } else if (auto close = name.find(']'); close != std::string_view::npos) {
        name = name.substr(0, close + 1);
    }
    if (scheme == "http" && !is_loopback(name))
        return fail(where +
                    ": plain http would send credentials in clear text; use https (http is allowed only "
                    "for a loopback host such as the test emulator)");
    return scheme + "://" + std::string(rest);
}

model::result<std::string> read_file(const std::string& path, const std::string& where) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) return fail(where + ": cannot read " + path + " (" + ec.message() + ")");
    if (size > 64 * 1024) return fail(where + ": " + path + " is larger than 64 KiB; expected a PEM key or a token");
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(where + ": cannot read " + path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

bool valid_identifier_text(std::string_view s) {
    // Database, schema, warehouse and role names go into the JSON body, never into SQL text;
    // still, refuse control characters so a broken env file shows up at start-up.
    return std::none_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; });
}

}  // namespace

env_lookup process_environment() {
    return [](const std::string& name) -> std::optional<std::string> {
        const char* v = std::getenv(name.c_str());
        if (!v || !*v) return std::nullopt;
        return std::string(v);
    };
}

std::string default_base_url(std::string_view account) {
    return "https://" + lower(account) + ".snowflakecomputing.com";
}

std::string jwt_account(std::string_view account) {
    std::string_view a = account;
    if (a.find(".global") != std::string_view::npos) {
        a = a.substr(0, a.find('-'));
    } else if (auto dot = a.find('.'); dot != std::string_view::npos) {
        a = a.substr(0, dot);
    }
    return upper(a);
}

model::result<snowflake_settings> read_settings(const config::source_config& source, const env_lookup& env) {
    const std::string at = "source " + source.name + ": ";
    for (const auto& [key, value] : source.settings) {
        if (std::find(std::begin(known_keys), std::end(known_keys), key) == std::end(known_keys)) {
            std::string known;
            for (auto k : known_keys) known += (known.empty() ? "" : ", ") + std::string(k);
            return fail(at + "unknown key \"" + key + "\" (known: " + known + ")");
        }
    }
    std::string prefix = "SNOWFLAKE_";
    if (auto it = source.settings.find("env_prefix"); it != source.settings.end()) prefix = it->second;
    const lookup get(source, env, prefix);
    snowflake_settings s;

    auto required = [&](const std::string& key, std::string& out) -> std::optional<model::error> {
        auto v = get.get(key);
        if (!v) return fail(at + "missing " + get.where(key));
        if (!valid_identifier_text(*v)) return fail(at + get.where(key) + " contains control characters");
        out = *v;
        return std::nullopt;
    };
    auto optional_text = [&](const std::string& key, std::string& out) -> std::optional<model::error> {
        if (auto v = get.get(key)) {
            if (!valid_identifier_text(*v)) return fail(at + get.where(key) + " contains control characters");
            out = *v;
        }
        return std::nullopt;
    };
    for (auto [key, out] : {std::pair{"account", &s.account},
                            {"user", &s.user},
                            {"database", &s.database},
                            {"schema", &s.schema},
                            {"warehouse", &s.warehouse}}) {
        if (auto e = required(key, *out)) return *e;
    }
    if (auto e = optional_text("role", s.role)) return *e;
    if (auto e = optional_text("user_agent", s.user_agent)) return *e;

    // Account identifiers are letters, digits, _ and -, with . between the parts of a locator.
    const bool account_ok = std::all_of(s.account.begin(), s.account.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
    });
    if (!account_ok || s.account.size() > 255)
        return fail(at + get.where("account") + " is not an account identifier (expected e.g. myorg-myaccount)");
    if (s.account.find(".snowflakecomputing.") != std::string::npos)
        return fail(at + get.where("account") + " should be the account identifier, not the host name",
                    "write myorg-myaccount; put a full host name in host (SNOWFLAKE_HOST)");

    if (auto host = get.get("host")) {
        auto url = base_url_from_host(*host, at + get.where("host"));
        if (!url) return std::move(url).error();
        s.base_url = std::move(url).value();
    } else {
        s.base_url = default_base_url(s.account);
    }

    const std::string method = lower(get.get("authenticator").value_or("snowflake_jwt"));
    if (method == "snowflake_jwt" || method == "jwt" || method == "key_pair" || method == "keypair") {
        s.auth = auth_method::key_pair;
    } else if (method == "oauth") {
        s.auth = auth_method::oauth;
    } else if (method == "pat" || method == "programmatic_access_token") {
        s.auth = auth_method::pat;
    } else {
        return fail(at + get.where("authenticator") + ": expected snowflake_jwt, oauth or programmatic_access_token");
    }

    if (s.auth == auth_method::key_pair) {
        auto pem = get.get("private_key");
        auto path = get.get("private_key_path");
        if (pem && path)
            return fail(at + "both " + get.where("private_key") + " and " + get.where("private_key_path") +
                        " are set; keep one");
        if (path) {
            auto text = read_file(*path, at + get.where("private_key_path"));
            if (!text) return std::move(text).error();
            s.private_key_pem = std::move(text).value();
        } else if (pem) {
            s.private_key_pem = *pem;
            // Keys pasted into one-line env files often carry literal "\n".
            if (s.private_key_pem.find('\n') == std::string::npos) {
                std::string fixed;
                for (std::size_t i = 0; i < s.private_key_pem.size(); ++i) {
                    if (s.private_key_pem[i] == '\\' && i + 1 < s.private_key_pem.size() &&
                        s.private_key_pem[i + 1] == 'n') {
                        fixed += '\n';
                        ++i;
                    } else {
                        fixed += s.private_key_pem[i];
                    }
                }
                s.private_key_pem = std::move(fixed);
            }
        } else {
            return fail(at + "missing the private key: set " + get.where("private_key") + " to the PEM text or " +
                            get.where("private_key_path") + " to its file",
                        "see docs/snowflake.md, 'Key pair'");
        }
        s.passphrase = get.get("private_key_passphrase").value_or("");
    } else {
        auto token = get.get("token");
        auto path = get.get("token_path");
        if (token && path)
            return fail(at + "both " + get.where("token") + " and " + get.where("token_path") + " are set; keep one");
        if (path) {
            auto text = read_file(*path, at + get.where("token_path"));
            if (!text) return std::move(text).error();
            s.token = std::move(text).value();
            while (!s.token.empty() && std::isspace(static_cast<unsigned char>(s.token.back()))) s.token.pop_back();
        } else if (token) {
            s.token = *token;
        }
        if (s.token.empty()) return fail(at + "missing " + get.where("token") + " for authenticator " + method);
        if (std::any_of(s.token.begin(), s.token.end(), [](char c) { return static_cast<unsigned char>(c) <= 0x20; }))
            return fail(at + "the token in " + get.where("token") + " contains spaces or control characters");
    }

    auto duration = [&](const std::string& key, auto& out, std::chrono::milliseconds lo,
                        std::chrono::milliseconds hi) -> std::optional<model::error> {
        auto v = get.get(key);
        if (!v) return std::nullopt;
        auto d = codec::parse_duration(*v);
        if (!d || *d < lo || *d > hi)
            return fail(at + get.where(key) + ": expected a duration like 250ms, 30s, 5m or 1h from " +
                        std::to_string(lo.count()) + "ms to " + std::to_string(hi.count()) + "ms");
        out = std::chrono::duration_cast<std::remove_reference_t<decltype(out)>>(*d);
        return std::nullopt;
    };
    using std::chrono::milliseconds;
    if (auto e = duration("statement_timeout", s.statement_timeout, milliseconds(1000), milliseconds(604'800'000)))
        return *e;
    if (auto e = duration("jwt_lifetime", s.jwt_lifetime, milliseconds(60'000), milliseconds(3'600'000))) return *e;
    if (auto e = duration("poll_initial", s.poll_initial, milliseconds(1), milliseconds(60'000))) return *e;
    if (auto e = duration("poll_max", s.poll_max, milliseconds(1), milliseconds(60'000))) return *e;
    if (auto e = duration("retry_base", s.retry_base, milliseconds(1), milliseconds(60'000))) return *e;
    if (auto e = duration("retry_cap", s.retry_cap, milliseconds(1), milliseconds(300'000))) return *e;
    if (auto e = duration("connect_timeout", s.connect_timeout, milliseconds(100), milliseconds(120'000))) return *e;
    if (auto e = duration("cancel_timeout", s.cancel_timeout, milliseconds(100), milliseconds(30'000))) return *e;
    if (s.poll_max < s.poll_initial) s.poll_max = s.poll_initial;
    if (s.retry_cap < s.retry_base) s.retry_cap = s.retry_base;
    // Renew well before expiry, but never before a fifth of the lifetime has passed.
    s.jwt_renew_before = std::min<std::chrono::seconds>(std::chrono::seconds(300), s.jwt_lifetime / 5);

    auto count = [&](const std::string& key, unsigned& out, unsigned lo, unsigned hi) -> std::optional<model::error> {
        auto v = get.get(key);
        if (!v) return std::nullopt;
        unsigned n = 0;
        auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
        if (ec != std::errc{} || p != v->data() + v->size() || n < lo || n > hi)
            return fail(at + get.where(key) + ": expected a whole number from " + std::to_string(lo) + " to " +
                        std::to_string(hi));
        out = n;
        return std::nullopt;
    };
    if (auto e = count("max_attempts", s.max_attempts, 1, 20)) return *e;
    if (auto e = count("partition_parallelism", s.partition_parallelism, 1, 32)) return *e;
    return s;
}

}  // namespace frost::source::snowflake
