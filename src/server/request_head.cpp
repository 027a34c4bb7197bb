#include "server/request_head.hpp"

#include <boost/beast/http/parser.hpp>

namespace frost::server {

namespace http = boost::beast::http;

namespace {

model::error bad(std::string message) {
    return {model::error_code::bad_request, std::move(message), {}, {}};
}

head_scan rejected(model::error e) {
    head_scan s;
    s.status = head_scan::state::rejected;
    s.error = std::move(e);
    return s;
}

bool all_digits(std::string_view s) {
    if (s.empty() || s.size() > 18) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

char lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
        if (lower(s[i]) != prefix[i]) return false;
    return true;
}

// `host[:port]` lower-cased, with the scheme's default port removed, for comparison.
std::string canonical_authority(std::string_view authority, std::string_view default_port) {
    std::string out;
    out.reserve(authority.size());
    for (char c : authority) out += lower(c);
    // The port follows the last ':' unless that ':' is inside an IPv6 literal (`[::1]`).
    const auto colon = out.rfind(':');
    if (colon != std::string::npos && out.find(']', colon) == std::string::npos) {
        const std::string_view port(out.data() + colon + 1, out.size() - colon - 1);
        if (port.empty() || port == default_port) out.resize(colon);
    }
    return out;
}

}  // namespace

model::result<std::optional<origin_target>> absolute_form_target(std::string_view target, std::string_view host) {
    if (target.empty() || target.front() == '/' || target == "*") return std::optional<origin_target>();
    std::string_view default_port;
    std::size_t scheme_end = 0;
    if (starts_with_nocase(target, "http://")) {
        default_port = "80";
        scheme_end = 7;
    } else if (starts_with_nocase(target, "https://")) {
        default_port = "443";
        scheme_end = 8;
    } else {
        const auto colon = target.find(':');
        if (colon != std::string_view::npos && target.substr(colon).starts_with("://"))
            return bad("only http and https request targets are served here");
        return std::optional<origin_target>();  // not absolute-form: routing refuses it
    }
    const auto rest = target.substr(scheme_end);
    const auto path_start = rest.find_first_of("/?#");
    const auto authority = rest.substr(0, path_start);
    if (authority.empty()) return bad("the request target has no host");
    if (authority.find('@') != std::string_view::npos)
        return bad("user information in the request target is not accepted");
    origin_target out;
    out.host = std::string(authority);
    if (path_start == std::string_view::npos) {
        out.target = "/";
    } else {
        const auto tail = rest.substr(path_start);
        if (tail.front() == '#') return bad("a fragment is not allowed in the request target");
        out.target = tail.front() == '?' ? "/" + std::string(tail) : std::string(tail);
    }
    if (!host.empty() && canonical_authority(host, default_port) != canonical_authority(authority, default_port))
        return bad("the request target's host does not match the Host header");
    return std::optional<origin_target>(std::move(out));
}

head_scan head_scanner::feed(std::string_view received) {
    for (; pos_ < received.size(); ++pos_) {
        const auto c = static_cast<unsigned char>(received[pos_]);
        if (c == '\n') {
            if (pos_ == 0 || received[pos_ - 1] != '\r') return rejected(bad("bare LF line ending"));
            const std::size_t line_length = pos_ - 1 - line_start_;
            if (!first_line_done_) {
                if (line_length == 0) return rejected(bad("empty line before the request line"));
                first_line_done_ = true;
            } else if (line_length == 0) {
                head_scan s;
                s.status = head_scan::state::complete;
                s.size = pos_ + 1;
                return s;
            }
            line_start_ = pos_ + 1;
            continue;
        }
        if (pos_ > 0 && received[pos_ - 1] == '\r') return rejected(bad("bare CR in the request head"));
        if (c == '\r') {
            // checked when the next byte arrives
        } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
            return rejected(bad("control character in the request head"));
        } else if (first_line_done_ && pos_ == line_start_ && (c == ' ' || c == '\t')) {
            return rejected(bad("folded header line (obs-fold)"));
        }
        if (!first_line_done_ && pos_ - line_start_ > limits_.max_url_bytes + 32)
            return rejected({model::error_code::uri_too_long,
                             "the URL is longer than " + std::to_string(limits_.max_url_bytes) + " bytes",
                             {},
                             {}});
        if (pos_ + 1 > limits_.max_header_bytes)
            return rejected({model::error_code::headers_too_large,
                             "request headers are larger than " + std::to_string(limits_.max_header_bytes) + " bytes",
                             {},
                             {}});
    }
    return {};
}

std::optional<model::error> check_head(const http::request_header<>& head, const head_limits& limits) {
    if (head.target().size() > limits.max_url_bytes)
        return model::error{model::error_code::uri_too_long,
                            "the URL is longer than " + std::to_string(limits.max_url_bytes) + " bytes",
                            {},
                            {}};
    if (head.version() != 10 && head.version() != 11) return bad("only HTTP/1.0 and HTTP/1.1 are spoken here");
    std::size_t fields = 0, hosts = 0, lengths = 0;
    std::string_view length;
    for (const auto& f : head) {
        ++fields;
        if (f.name() == http::field::host) ++hosts;
        if (f.name() == http::field::transfer_encoding)
            return bad("Transfer-Encoding is not accepted here; send a Content-Length body or none");
        if (f.name() == http::field::content_length) {
            ++lengths;
            length = f.value();
        }
        if (f.name_string().empty() || f.name_string().find_first_of(" \t") != std::string_view::npos)
            return bad("malformed header field name");
    }
    if (fields > limits.max_header_count)
        return model::error{model::error_code::headers_too_large,
                            "more than " + std::to_string(limits.max_header_count) + " header fields",
                            {},
                            {}};
    if (head.version() == 11 && hosts != 1)
        return bad(hosts == 0 ? "the Host header is missing" : "more than one Host header");
    if (head.version() == 10 && hosts > 1) return bad("more than one Host header");
    if (lengths > 1) return bad("more than one Content-Length");
    if (lengths == 1) {
        if (!all_digits(length)) return bad("Content-Length must be plain digits");
        if (std::stoull(std::string(length)) > limits.max_body_bytes)
            return model::error{model::error_code::payload_too_large,
                                "request body is larger than " + std::to_string(limits.max_body_bytes) + " bytes",
                                {},
                                {}};
    }
    return std::nullopt;
}

model::result<parsed_request> parse_request(std::string_view bytes, const head_limits& limits) {
    head_scanner scanner(limits);
    const auto scan = scanner.feed(bytes);
    if (scan.status == head_scan::state::rejected) return scan.error;
    if (scan.status == head_scan::state::need_more) return bad("incomplete request head");
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    parser.body_limit(limits.max_body_bytes);
    boost::beast::error_code ec;
    std::size_t used = parser.put(boost::asio::buffer(bytes.data(), scan.size), ec);
    if (ec == http::error::need_more) ec = {};
    if (ec == http::error::body_limit)
        return model::error{model::error_code::payload_too_large,
                            "request body is larger than " + std::to_string(limits.max_body_bytes) + " bytes",
                            {},
                            {}};
    if (ec || !parser.is_header_done()) return bad("malformed HTTP request");
    if (auto e = check_head(parser.get().base(), limits)) return *e;
    auto absolute = absolute_form_target(parser.get().target(), parser.get()[http::field::host]);
    if (!absolute) return std::move(absolute).error();
    if (absolute.value()) {
        parser.get().target(absolute.value()->target);
        parser.get().set(http::field::host, absolute.value()->host);
    }
    while (!parser.is_done() && used < bytes.size()) {
        const auto n = parser.put(boost::asio::buffer(bytes.data() + used, bytes.size() - used), ec);
        if (ec == http::error::need_more) break;
        if (ec) return bad("malformed HTTP request body");
        used += n;
        if (n == 0) break;
    }
    if (!parser.is_done()) return bad("incomplete request body");
    return parsed_request{parser.release(), used};
}

}  // namespace frost::server
