#include "snapshot/credentials.hpp"

#include <boost/json.hpp>

#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "snapshot/http_exchange.hpp"

namespace frost::snapshot {

namespace {

model::error credentials_error(std::string message, std::string hint = {}) {
    return {model::error_code::source_unavailable, "AWS credentials: " + std::move(message), {}, std::move(hint)};
}

std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
    std::size_t i = 0;
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
    return s.substr(i);
}

std::optional<std::string> read_small_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::string out;
    char buf[4096];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        out.append(buf, static_cast<std::size_t>(in.gcount()));
        if (out.size() > (1u << 20)) return std::nullopt;  // a token is a few KiB
    }
    return out;
}

std::string form_encode(std::string_view s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

// The text of the first `<tag>...</tag>` inside `xml`, entities decoded; nullopt when absent.
std::optional<std::string> xml_text(std::string_view xml, std::string_view tag) {
    const std::string open = "<" + std::string(tag) + ">", close = "</" + std::string(tag) + ">";
    const auto a = xml.find(open);
    if (a == std::string_view::npos) return std::nullopt;
    const auto b = xml.find(close, a + open.size());
    if (b == std::string_view::npos) return std::nullopt;
    std::string_view raw = xml.substr(a + open.size(), b - a - open.size());
    std::string out;
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] != '&') {
            out += raw[i];
            continue;
        }
        static constexpr std::pair<std::string_view, char> entities[] = {
            {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
        bool matched = false;
        for (const auto& [name, ch] : entities) {
            if (raw.substr(i, name.size()) == name) {
                out += ch;
                i += name.size() - 1;
                matched = true;
                break;
            }
        }
        if (!matched) return std::nullopt;  // numeric or unknown entities never occur in credentials
    }
    return out;
}

bool plausible_key(std::string_view s) {
    if (s.empty() || s.size() > 4096) return false;
    for (unsigned char c : s)
        if (c < 0x21 || c > 0x7e) return false;  // a header value: printable ASCII, no spaces
    return true;
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view t) {
    // YYYY-MM-DDTHH:MM:SS[.fff][Z|+00:00]
    if (t.size() < 19 || t[4] != '-' || t[7] != '-' || (t[10] != 'T' && t[10] != ' ') || t[13] != ':' || t[16] != ':')
        return std::nullopt;
    auto num = [&](std::size_t pos, std::size_t len, int lo, int hi) -> std::optional<int> {
        int v = 0;
        auto [p, ec] = std::from_chars(t.data() + pos, t.data() + pos + len, v);
        if (ec != std::errc{} || p != t.data() + pos + len || v < lo || v > hi) return std::nullopt;
        return v;
    };
    auto y = num(0, 4, 1970, 2200), mo = num(5, 2, 1, 12), d = num(8, 2, 1, 31), h = num(11, 2, 0, 23),
         mi = num(14, 2, 0, 59), s = num(17, 2, 0, 60);
    if (!y || !mo || !d || !h || !mi || !s) return std::nullopt;
    std::string_view rest = t.substr(19);
    if (!rest.empty() && rest[0] == '.') {
        std::size_t i = 1;
        while (i < rest.size() && std::isdigit(static_cast<unsigned char>(rest[i]))) ++i;
        if (i == 1) return std::nullopt;
        rest.remove_prefix(i);
    }
    if (!(rest == "Z" || rest == "+00:00" || rest.empty())) return std::nullopt;
    const std::chrono::year_month_day ymd{std::chrono::year(*y), std::chrono::month(static_cast<unsigned>(*mo)),
                                          std::chrono::day(static_cast<unsigned>(*d))};
    if (!ymd.ok()) return std::nullopt;
    return std::chrono::sys_days(ymd) + std::chrono::hours(*h) + std::chrono::minutes(*mi) + std::chrono::seconds(*s);
}

model::result<aws_credentials> parse_container_credentials(std::string_view json) {
    boost::system::error_code ec;
    auto v = boost::json::parse(json, ec);
    if (ec || !v.is_object()) return credentials_error("the container endpoint did not answer a JSON object");
    const auto& o = v.as_object();
    auto field = [&](std::string_view name) -> std::string {
        const auto* f = o.if_contains(name);
        return f && f->is_string() ? std::string(f->as_string()) : std::string();
    };
    aws_credentials c;
    c.access_key_id = field("AccessKeyId");
    c.secret_access_key = field("SecretAccessKey");
    c.session_token = field("Token");
    c.origin = "container";
    if (!plausible_key(c.access_key_id) || !plausible_key(c.secret_access_key) ||
        (!c.session_token.empty() && !plausible_key(c.session_token)))
        return credentials_error("the container endpoint's answer lacks AccessKeyId or SecretAccessKey");
    if (auto exp = field("Expiration"); !exp.empty()) {
        auto t = parse_iso8601(exp);
        if (!t) return credentials_error("the container endpoint's Expiration is not an ISO 8601 time");
        c.expiration = *t;
    }
    return c;
}

model::result<aws_credentials> parse_sts_credentials(std::string_view xml) {
    if (xml.find("<ErrorResponse") != std::string_view::npos || xml.find("<Error>") != std::string_view::npos) {
        // STS's own code and message name the problem (an expired token, a role that does not trust it).
        auto code = xml_text(xml, "Code").value_or("unknown");
        auto message = xml_text(xml, "Message").value_or("");
        return credentials_error("STS refused AssumeRoleWithWebIdentity: " + code.substr(0, 100) + " " +
                                 message.substr(0, 300));
    }
    const auto at = xml.find("<Credentials>");
    if (at == std::string_view::npos) return credentials_error("STS's answer holds no <Credentials>");
    const auto inner = xml.substr(at);
    aws_credentials c;
    c.access_key_id = xml_text(inner, "AccessKeyId").value_or("");
    c.secret_access_key = xml_text(inner, "SecretAccessKey").value_or("");
    c.session_token = xml_text(inner, "SessionToken").value_or("");
    c.origin = "web identity";
    if (!plausible_key(c.access_key_id) || !plausible_key(c.secret_access_key) || !plausible_key(c.session_token))
        return credentials_error("STS's answer lacks AccessKeyId, SecretAccessKey or SessionToken");
    auto exp = xml_text(inner, "Expiration");
    auto t = exp ? parse_iso8601(*exp) : std::nullopt;
    if (!t) return credentials_error("STS's answer has no valid Expiration");
    c.expiration = *t;
    return c;
}

credential_sources credential_sources::from_environment() {
    credential_sources s;
    s.env = [](std::string_view name) {
        const char* v = std::getenv(std::string(name).c_str());
        return std::string(v ? v : "");
    };
    if (auto r = s.env("AWS_REGION"); !r.empty())
        s.region = r;
    else if (auto d = s.env("AWS_DEFAULT_REGION"); !d.empty())
        s.region = d;
    return s;
}

credentials_chain::credentials_chain(credential_sources sources, std::chrono::seconds refresh_margin)
    : sources_(std::move(sources)), refresh_margin_(refresh_margin) {}

model::result<aws_credentials> credentials_chain::get() {
    std::lock_guard lock(mutex_);
    if (cached_ && (!cached_->expires() || std::chrono::system_clock::now() + refresh_margin_ < cached_->expiration))
        return *cached_;
    auto fresh = resolve();
    if (!fresh) {
        // Still-valid credentials beat none while the endpoint is briefly down.
        if (cached_ && std::chrono::system_clock::now() < cached_->expiration) return *cached_;
        return fresh;
    }
    cached_ = fresh.value();
    return fresh;
}

model::result<aws_credentials> credentials_chain::resolve() {
    const auto& env = sources_.env;
    const auto id = env("AWS_ACCESS_KEY_ID"), secret = env("AWS_SECRET_ACCESS_KEY");
    if (!id.empty() || !secret.empty()) {
        if (id.empty() || secret.empty())
            return credentials_error("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together");
        aws_credentials c{id, secret, env("AWS_SESSION_TOKEN"), {}, "environment"};
        return c;
    }
    if (!env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI").empty() || !env("AWS_CONTAINER_CREDENTIALS_FULL_URI").empty())
        return from_container();
    if (!env("AWS_WEB_IDENTITY_TOKEN_FILE").empty()) return from_web_identity();
    return credentials_error("none found",
                             "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, run with a container role "
                             "(AWS_CONTAINER_CREDENTIALS_*), or a web identity (AWS_WEB_IDENTITY_TOKEN_FILE, "
                             "AWS_ROLE_ARN)");
}

model::result<aws_credentials> credentials_chain::from_container() {
    const auto& env = sources_.env;
    http_request req;
    req.timeout = sources_.timeout;
    if (auto rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"); !rel.empty()) {
        if (rel.front() != '/') return credentials_error("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must start with /");
        req.url = sources_.ecs_base + rel;
    } else {
        req.url = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
        if (!req.url.starts_with("http://") && !req.url.starts_with("https://"))
            return credentials_error("AWS_CONTAINER_CREDENTIALS_FULL_URI must be an http(s) URL");
        std::string token;
        if (auto file = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"); !file.empty()) {
            auto text = read_small_file(file);
            if (!text) return credentials_error("cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE " + file);
            token = trimmed(*text);
        } else {
            token = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
        }
        if (token.find_first_of("\r\n") != std::string::npos)
            return credentials_error("the container authorization token holds a line break");
        if (!token.empty()) req.headers.emplace_back("Authorization", token);
    }
    auto reply = perform(req);
    if (!reply.transport_error.empty())
        return credentials_error("container endpoint unreachable: " + reply.transport_error);
    if (reply.status != 200)
        return credentials_error("container endpoint answered HTTP " + std::to_string(reply.status));
    return parse_container_credentials(reply.body);
}

model::result<aws_credentials> credentials_chain::from_web_identity() {
    const auto& env = sources_.env;
    const auto file = env("AWS_WEB_IDENTITY_TOKEN_FILE"), role = env("AWS_ROLE_ARN");
    if (role.empty()) return credentials_error("AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not");
    auto token = read_small_file(file);
    if (!token) return credentials_error("cannot read AWS_WEB_IDENTITY_TOKEN_FILE " + file);
    auto session = env("AWS_ROLE_SESSION_NAME");
    if (session.empty()) session = "frost-" + std::to_string(::getpid());
    http_request req;
    req.method = "POST";
    req.timeout = sources_.timeout;
    req.url = env("AWS_ENDPOINT_URL_STS");
    if (req.url.empty()) req.url = "https://sts." + sources_.region + ".amazonaws.com/";
    req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    req.body = "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=" + form_encode(role) +
               "&RoleSessionName=" + form_encode(session) + "&WebIdentityToken=" + form_encode(trimmed(*token));
    auto reply = perform(req);
    if (!reply.transport_error.empty()) return credentials_error("STS unreachable: " + reply.transport_error);
    auto parsed = parse_sts_credentials(reply.body);
    if (!parsed) return parsed;
    if (reply.status != 200) return credentials_error("STS answered HTTP " + std::to_string(reply.status));
    return parsed;
}

}  // namespace frost::snapshot
