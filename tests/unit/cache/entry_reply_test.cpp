// Answering one request from one stored entry (cache/entry_reply.hpp): 304 or 200, gzip or
// identity, and the headers of each; the body is shared with the entry, never copied.
#include <gtest/gtest.h>

#include "cache/entry_reply.hpp"
#include "cache/http_caching.hpp"
#include "codec/gzip.hpp"

namespace frost::cache {
namespace {

using namespace std::chrono_literals;

std::string header(const header_list& h, std::string_view name) {
    for (const auto& [k, v] : h)
        if (k == name) return v;
    return {};
}

std::shared_ptr<const entry> sample(std::size_t min_gzip = 64) {
    std::string body;
    for (int i = 0; i < 100; ++i) body += "[" + std::to_string(i) + ",\"Jan\"],";
    config::cache_policy p;
    p.ttl = 60s;
    return make_entry("k", 200, body, {{"Content-Type", "application/json"}, {"X-Data-Version", "live"}}, p, min_gzip,
                      model::clock::now());
}

TEST(entry_reply, identity_or_gzip_by_accept_encoding) {
    const auto e = sample();
    ASSERT_TRUE(e->gzip_body);
    auto plain = reply_from(*e, {}, {});
    EXPECT_EQ(plain.status, 200);
    EXPECT_EQ(plain.body, e->body);  // the same bytes, not a copy
    EXPECT_EQ(header(plain.headers, "ETag"), e->etag);
    EXPECT_EQ(header(plain.headers, "Content-Encoding"), "");
    EXPECT_EQ(header(plain.headers, "Content-Type"), "application/json");
    EXPECT_EQ(header(plain.headers, "X-Data-Version"), "live");
    EXPECT_EQ(header(plain.headers, "Vary"), "Accept-Encoding");

    auto gz = reply_from(*e, {}, "br, gzip");
    EXPECT_EQ(gz.status, 200);
    EXPECT_EQ(gz.body, e->gzip_body);
    EXPECT_EQ(*codec::gunzip(*gz.body, std::size_t{1} << 20), *e->body);
    EXPECT_EQ(header(gz.headers, "ETag"), e->gzip_etag);
    EXPECT_EQ(header(gz.headers, "Content-Encoding"), "gzip");

    EXPECT_EQ(reply_from(*e, {}, "gzip;q=0").body, e->body);
    // Without a gzip form, gzip-accepting clients get the identity bytes.
    const auto small = sample(1 << 20);
    ASSERT_FALSE(small->gzip_body);
    EXPECT_EQ(reply_from(*small, {}, "gzip").body, small->body);
}

TEST(entry_reply, not_modified_for_either_forms_tag) {
    const auto e = sample();
    for (const auto& tag : {e->etag, e->gzip_etag, std::string("*"), "\"other\", " + e->etag}) {
        SCOPED_TRACE(tag);
        auto r = reply_from(*e, tag, {});
        EXPECT_EQ(r.status, 304);
        EXPECT_FALSE(r.body);
        EXPECT_EQ(header(r.headers, "Content-Type"), "");
        EXPECT_EQ(header(r.headers, "ETag"), e->etag);
        EXPECT_EQ(header(r.headers, "X-Data-Version"), "live");
        // The tag sent back is that of the form this client would be given.
        EXPECT_EQ(header(reply_from(*e, tag, "gzip").headers, "ETag"), e->gzip_etag);
    }
    EXPECT_EQ(reply_from(*e, "\"other\"", {}).status, 200);
}

TEST(entry_reply, static_entries_carry_their_own_headers) {
    auto bytes = std::make_shared<const std::string>(std::string(1000, 'a'));
    auto gz = std::make_shared<const std::string>(*codec::gzip(*bytes));
    const auto e = make_static_entry(bytes, gz, strong_etag(*bytes), strong_etag(*bytes, "-gz"),
                                     {{"Cache-Control", "no-cache"}, {"Content-Type", "text/html"}});
    auto r = reply_from(*e, {}, "gzip");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, gz);
    EXPECT_EQ(header(r.headers, "Cache-Control"), "no-cache");
    EXPECT_EQ(header(r.headers, "Content-Type"), "text/html");
    EXPECT_EQ(header(r.headers, "Content-Encoding"), "gzip");
    EXPECT_EQ(header(r.headers, "Vary"), "Accept-Encoding");
    auto nm = reply_from(*e, strong_etag(*bytes), {});
    EXPECT_EQ(nm.status, 304);
    EXPECT_EQ(header(nm.headers, "Cache-Control"), "no-cache");
    EXPECT_EQ(header(nm.headers, "Content-Type"), "");
    // No gzip form: no Vary either (the answer does not depend on Accept-Encoding).
    const auto plain = make_static_entry(bytes, nullptr, strong_etag(*bytes), {}, {{"Content-Type", "text/html"}});
    EXPECT_EQ(header(reply_from(*plain, {}, "gzip").headers, "Vary"), "");
    EXPECT_EQ(reply_from(*plain, {}, "gzip").body, bytes);
}

}  // namespace
}  // namespace frost::cache
