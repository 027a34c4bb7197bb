#include "config/snowflake.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

#include "codec/duration.hpp"
#include "codec/http_tokens.hpp"
#include "config/config.hpp"

namespace frost::config {

namespace {

constexpr std::array<std::string_view, 25> known_keys = {"account",
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

bool is_loopback(std::string_view host) {
    return host == "127.0.0.1" || host == "localhost" || host == "[::1]" || host.starts_with("127.");
}

// "host", "host:port", "https://host[:port]", "http://127.0.0.1:port" -> base URL, or what is wrong.
std::optional<std::string> base_url_from_host(const std::string& host, std::string& url) {
    std::string scheme = "https";
    std::string_view rest = host;
    if (auto p = rest.find("://"); p != std::string_view::npos) {
        scheme = codec::to_lower(rest.substr(0, p));
        rest = rest.substr(p + 3);
    }
    while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
    if (scheme != "https" && scheme != "http") return "the scheme must be https (or http for a loopback test host)";
    if (rest.empty() || rest.find_first_of("/?#@ \t\r\n") != std::string_view::npos)
        return "expected a host name like myorg-myaccount.snowflakecomputing.com, optionally with a port";
    std::string_view name = rest;
    if (!name.starts_with('[')) {
        if (auto colon = name.rfind(':'); colon != std::string_view::npos) name = name.substr(0, colon);
    } else if (auto close = name.find(']'); close != std::string_view::npos) {
        name = name.substr(0, close + 1);
    }
    if (scheme == "http" && !is_loopback(name))
        return "plain http would send credentials in clear text; use https (http is allowed only for a loopback "
               "host such as the test emulator)";
    url = scheme + "://" + std::string(rest);
    return std::nullopt;
}

bool has_control_characters(std::string_view s) {
    // Database, schema, warehouse and role names go into the JSON body, never into SQL text;
    // still, refuse control characters so a broken env file shows up at start-up.
    return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; });
}

// Keys pasted into one-line env files often carry literal "\n".
std::string unescape_newlines(const std::string& pem) {
    if (pem.find('\n') != std::string::npos) return pem;
    std::string fixed;
    for (std::size_t i = 0; i < pem.size(); ++i) {
        if (pem[i] == '\\' && i + 1 < pem.size() && pem[i + 1] == 'n') {
            fixed += '\n';
            ++i;
        } else {
            fixed += pem[i];
        }
    }
    return fixed;
}

template <typename Duration>
std::optional<std::string> set_duration(Duration& out, const std::string& value, std::chrono::milliseconds lo,
                                        std::chrono::milliseconds hi) {
    auto d = codec::parse_duration(value);
    if (!d || *d < lo || *d > hi)
        return "expected a duration like 250ms, 30s, 5m or 1h from " + std::to_string(lo.count()) + "ms to " +
               std::to_string(hi.count()) + "ms";
    out = std::chrono::duration_cast<Duration>(*d);
    return std::nullopt;
}

std::optional<std::string> set_count(unsigned& out, const std::string& value, unsigned lo, unsigned hi) {
    unsigned n = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc{} || p != value.data() + value.size() || n < lo || n > hi)
        return "expected a whole number from " + std::to_string(lo) + " to " + std::to_string(hi);
    out = n;
    return std::nullopt;
}

model::error fail(const std::string& message, std::string hint = {}) {
    return {model::error_code::config_error, message, {}, std::move(hint)};
}

}  // namespace

std::span<const std::string_view> snowflake_keys() {
    return known_keys;
}

std::string default_snowflake_base_url(std::string_view account) {
    return "https://" + codec::to_lower(account) + ".snowflakecomputing.com";
}

std::optional<std::string> set_snowflake_key(snowflake_config& cfg, std::string_view key, const std::string& value) {
    using std::chrono::milliseconds;
    if (std::find(known_keys.begin(), known_keys.end(), key) == known_keys.end()) {
        std::string known;
        for (auto k : known_keys) known += (known.empty() ? "" : ", ") + std::string(k);
        return "unknown key \"" + std::string(key) + "\" (known: " + known + ")";
    }
    if (value.empty()) return std::nullopt;  // unset, as an empty environment variable is
    const std::pair<std::string_view, std::string*> texts[] = {
        {"account", &cfg.account},     {"user", &cfg.user}, {"database", &cfg.database},    {"schema", &cfg.schema},
        {"warehouse", &cfg.warehouse}, {"role", &cfg.role}, {"user_agent", &cfg.user_agent}};
    for (const auto& [name, out] : texts) {
        if (key != name) continue;
        if (has_control_characters(value)) return "contains control characters";
        if (key == "account") {
            // Account identifiers are letters, digits, _ and -, with . between the parts of a locator.
            const bool ok = value.size() <= 255 && std::all_of(value.begin(), value.end(), [](char c) {
                                return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
                            });
            if (!ok) return "is not an account identifier (expected e.g. myorg-myaccount)";
            if (value.find(".snowflakecomputing.") != std::string::npos)
                return "should be the account identifier (e.g. myorg-myaccount), not the host name; put a full "
                       "host name in host";
        }
        *out = value;
        return std::nullopt;
    }
    if (key == "host") return base_url_from_host(value, cfg.base_url);
    if (key == "authenticator") {
        const auto method = codec::to_lower(value);
        if (method == "snowflake_jwt" || method == "jwt" || method == "key_pair" || method == "keypair") {
            cfg.auth = snowflake_auth::key_pair;
        } else if (method == "oauth") {
            cfg.auth = snowflake_auth::oauth;
        } else if (method == "pat" || method == "programmatic_access_token") {
            cfg.auth = snowflake_auth::pat;
        } else {
            return "expected snowflake_jwt, oauth or programmatic_access_token";
        }
        cfg.authenticator = method;
        return std::nullopt;
    }
    if (key == "private_key") {
        cfg.private_key_pem = unescape_newlines(value);
        return std::nullopt;
    }
    if (key == "private_key_path") {
        cfg.private_key_path = value;
        return std::nullopt;
    }
    if (key == "private_key_passphrase") {
        cfg.passphrase = value;
        return std::nullopt;
    }
    if (key == "token") {
        if (std::any_of(value.begin(), value.end(), [](char c) { return static_cast<unsigned char>(c) <= 0x20; }))
            return "the token contains spaces or control characters";
        cfg.token = value;
        return std::nullopt;
    }
    if (key == "token_path") {
        cfg.token_path = value;
        return std::nullopt;
    }
    if (key == "env_prefix") {
        if (!std::all_of(value.begin(), value.end(),
                         [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }))
            return "expected letters, digits and _ (e.g. SNOWFLAKE_)";
        cfg.env_prefix = value;
        return std::nullopt;
    }
    if (key == "statement_timeout")
        return set_duration(cfg.statement_timeout, value, milliseconds(1000), milliseconds(604'800'000));
    if (key == "jwt_lifetime")
        return set_duration(cfg.jwt_lifetime, value, milliseconds(60'000), milliseconds(3'600'000));
    if (key == "poll_initial") return set_duration(cfg.poll_initial, value, milliseconds(1), milliseconds(60'000));
    if (key == "poll_max") return set_duration(cfg.poll_max, value, milliseconds(1), milliseconds(60'000));
    if (key == "retry_base") return set_duration(cfg.retry_base, value, milliseconds(1), milliseconds(60'000));
    if (key == "retry_cap") return set_duration(cfg.retry_cap, value, milliseconds(1), milliseconds(300'000));
    if (key == "connect_timeout")
        return set_duration(cfg.connect_timeout, value, milliseconds(100), milliseconds(120'000));
    if (key == "cancel_timeout")
        return set_duration(cfg.cancel_timeout, value, milliseconds(100), milliseconds(30'000));
    if (key == "max_attempts") return set_count(cfg.max_attempts, value, 1, 20);
    return set_count(cfg.partition_parallelism, value, 1, 32);  // the last known key
}

model::result<model::done> resolve_snowflake(source_config& source, const env_lookup& env) {
    if (source.type != "snowflake") return model::done{};
    if (!source.snowflake) source.snowflake.emplace();
    auto& c = *source.snowflake;
    const std::string at = (source.origin.empty() ? "" : source.origin + ": ") + "source " + source.name + ": ";
    // "sources.warehouse.account (or SNOWFLAKE_ACCOUNT)"
    auto where = [&](std::string_view key) {
        return "sources." + source.name + "." + std::string(key) + " (or " + c.env_prefix + upper(key) + ")";
    };

    // The environment wins, like FROST_* over the server section: the seed's deployment sets
    // SNOWFLAKE_* and the file holds defaults.
    for (auto key : known_keys) {
        if (key == "env_prefix") continue;
        const auto var = c.env_prefix + upper(key);
        if (auto v = env(var))
            if (auto what = set_snowflake_key(c, key, *v)) return fail(at + var + ": " + *what);
    }

    const std::pair<std::string_view, const std::string*> required[] = {{"account", &c.account},
                                                                        {"user", &c.user},
                                                                        {"database", &c.database},
                                                                        {"schema", &c.schema},
                                                                        {"warehouse", &c.warehouse}};
    for (const auto& [key, value] : required)
        if (value->empty()) return fail(at + "missing " + where(key));
    if (c.base_url.empty()) c.base_url = default_snowflake_base_url(c.account);

    if (c.auth == snowflake_auth::key_pair) {
        if (!c.private_key_pem.empty() && !c.private_key_path.empty())
            return fail(at + "both " + where("private_key") + " and " + where("private_key_path") +
                        " are set; keep one");
        if (c.private_key_pem.empty() && c.private_key_path.empty())
            return fail(at + "missing the private key: set " + where("private_key") + " to the PEM text or " +
                            where("private_key_path") + " to its file",
                        "see docs/snowflake.md, 'Key pair'");
    } else {
        if (!c.token.empty() && !c.token_path.empty())
            return fail(at + "both " + where("token") + " and " + where("token_path") + " are set; keep one");
        if (c.token.empty() && c.token_path.empty())
            return fail(at + "missing " + where("token") + " for authenticator " + c.authenticator);
    }

    c.poll_max = std::max(c.poll_max, c.poll_initial);
    c.retry_cap = std::max(c.retry_cap, c.retry_base);
    // Renew well before expiry, but never before a fifth of the lifetime has passed.
    c.jwt_renew_before = std::min<std::chrono::seconds>(std::chrono::seconds(300), c.jwt_lifetime / 5);
    c.resolved = true;
    return model::done{};
}

model::result<snowflake_config> snowflake_from_keys(const std::string& source_name,
                                                    const std::map<std::string, std::string>& keys,
                                                    const env_lookup& env) {
    source_config source;
    source.name = source_name;
    source.type = "snowflake";
    source.snowflake.emplace();
    for (const auto& [key, value] : keys)
        if (auto what = set_snowflake_key(*source.snowflake, key, value))
            return fail("source " + source_name + ": sources." + source_name + "." + key + ": " + *what);
    if (auto r = resolve_snowflake(source, env); !r) return std::move(r).error();
    return std::move(*source.snowflake);
}

}  // namespace frost::config
