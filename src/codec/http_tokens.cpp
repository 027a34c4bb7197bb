#include "codec/http_tokens.hpp"

#include <algorithm>
#include <optional>

namespace frost::codec {

namespace {

char lower_ascii(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// A qvalue (RFC 9110 §12.4.2) in thousandths: "0", "0.5", "1", "1.000"; nullopt when malformed.
std::optional<int> parse_qvalue(std::string_view v) noexcept {
    if (v.empty() || (v[0] != '0' && v[0] != '1')) return std::nullopt;
    int whole = v[0] - '0';
    if (v.size() == 1) return whole * 1000;
    if (v[1] != '.' || v.size() > 5) return std::nullopt;
    int thousandths = 0, scale = 100;
    for (char c : v.substr(2)) {
        if (c < '0' || c > '9') return std::nullopt;
        thousandths += (c - '0') * scale;
        scale /= 10;
    }
    if (whole == 1 && thousandths != 0) return std::nullopt;
    return whole * 1000 + thousandths;
}

// An RFC 9110 token (§5.6.2): one or more tchars.
bool is_token(std::string_view s) noexcept {
    if (s.empty()) return false;
    for (char c : s) {
        const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos) return false;
    }
    return true;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower_ascii(x) == lower_ascii(y); });
}

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::string to_lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = lower_ascii(c);
    return out;
}

bool accepts_gzip(std::string_view header) noexcept {
    // q-values in thousandths; -1 while a coding is not named.
    int gzip_q = -1, identity_q = -1, star_q = -1;
    while (!header.empty()) {
        const auto comma = header.find(',');
        auto member = header.substr(0, comma);
        header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
        const auto semi = member.find(';');
        const auto coding = trim(member.substr(0, semi));
        if (coding.empty()) continue;  // "a, , b" and a trailing comma are allowed (RFC 9110 §5.6.1)
        std::optional<int> q = 1000;
        auto params = semi == std::string_view::npos ? std::string_view{} : member.substr(semi + 1);
        while (!params.empty()) {
            const auto next = params.find(';');
            const auto p = trim(params.substr(0, next));
            params = next == std::string_view::npos ? std::string_view{} : params.substr(next + 1);
            const auto eq = p.find('=');
            if (eq != std::string_view::npos && iequals(trim(p.substr(0, eq)), "q"))
                q = parse_qvalue(trim(p.substr(eq + 1)));
        }
        if (!q) continue;
        int* slot = iequals(coding, "gzip") || iequals(coding, "x-gzip") ? &gzip_q
                    : iequals(coding, "identity")                        ? &identity_q
                    : coding == "*"                                      ? &star_q
                                                                         : nullptr;
        if (slot) *slot = std::max(*slot, *q);
    }
    const int gzip = gzip_q >= 0 ? gzip_q : star_q >= 0 ? star_q : 0;
    // Identity not named is acceptable but preferred least (RFC 9110 §12.5.3 gives it no q-value).
    const int identity = identity_q >= 0 ? identity_q : star_q >= 0 ? star_q : 0;
    return gzip > 0 && gzip >= identity;
}

std::vector<media_range> parse_accept(std::string_view header) {
    std::vector<media_range> out;
    while (!header.empty()) {
        const auto comma = header.find(',');
        auto member = header.substr(0, comma);
        header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
        const auto semi = member.find(';');
        const auto range = trim(member.substr(0, semi));
        if (range.empty()) continue;
        const auto slash = range.find('/');
        if (slash == std::string_view::npos) continue;
        media_range m{range.substr(0, slash), range.substr(slash + 1), 1000};
        if (!is_token(m.type) || !is_token(m.subtype) || (m.type == "*" && m.subtype != "*")) continue;
        bool good = true;
        auto params = semi == std::string_view::npos ? std::string_view{} : member.substr(semi + 1);
        while (!params.empty()) {
            const auto next = params.find(';');
            const auto p = trim(params.substr(0, next));
            params = next == std::string_view::npos ? std::string_view{} : params.substr(next + 1);
            const auto eq = p.find('=');
            if (eq == std::string_view::npos || !iequals(trim(p.substr(0, eq)), "q")) continue;
            const auto q = parse_qvalue(trim(p.substr(eq + 1)));
            good = q.has_value();
            if (good) m.q = *q;
            break;  // what follows the weight is an accept extension (RFC 7231 §5.3.2), not a media type parameter
        }
        if (good) out.push_back(m);
    }
    return out;
}

int accept_quality(std::span<const media_range> ranges, std::string_view type, std::string_view subtype) noexcept {
    int best_rank = 0, best_q = -1;
    for (const auto& r : ranges) {
        int rank = 0;
        if (r.type == "*" && r.subtype == "*")
            rank = 1;
        else if (iequals(r.type, type) && r.subtype == "*")
            rank = 2;
        else if (iequals(r.type, type) && iequals(r.subtype, subtype))
            rank = 3;
        if (rank == 0) continue;
        if (rank > best_rank) {
            best_rank = rank;
            best_q = r.q;
        } else if (rank == best_rank) {
            best_q = std::max(best_q, r.q);
        }
    }
    return best_q;
}

}  // namespace frost::codec
