// The response cache inside the API core: single-flight, TTL and stale windows, 304s and gzip,
// through `service::handle` with a fake source that counts and can be slowed or failed.
#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <thread>

#include "api/service.hpp"
#include "cache/http_caching.hpp"
#include "codec/gzip.hpp"
#include "config/config.hpp"

namespace frost::api {
namespace {

using namespace std::chrono_literals;

class fake_source final : public source::source {
public:
    std::atomic<int> calls{0};
    std::atomic<int> generation{1};
    std::atomic<bool> fail{false};
    std::chrono::milliseconds delay{0};

    std::string_view name() const override { return "fake"; }
    std::string_view dialect() const override { return "duckdb"; }
    model::result<model::table> run(const frost::source::query& q) override {
        calls.fetch_add(1);
        std::this_thread::sleep_for(delay);
        if (fail) return model::error{model::error_code::source_unavailable, "fake source is down", {}, {}};
        std::int64_t n = 1;
        for (const auto& p : q.params)
            if (p.name == "n") n = std::get<std::int64_t>(p.value);
        model::table t;
        t.columns = {{"i", model::column_type::integer}, {"gen", model::column_type::integer}};
        for (std::int64_t i = 0; i < n; ++i) {
            std::vector<model::value> row;
            row.emplace_back(i);
            row.emplace_back(static_cast<std::int64_t>(generation.load()));
            t.rows.push_back(std::move(row));
        }
        return t;
    }
};

constexpr const char* config_text = R"(
sources:
  fake: {type: duckdb, path: ":memory:"}
cache: {max_bytes: 1048576, min_gzip_bytes: 64}
endpoints:
  - path: /numbers
    source: fake
    cache: {ttl: 300ms, stale_while_revalidate: 1s, stale_if_error: 30s}
    params: [{name: n, type: integer, default: "10"}]
    sql: select $n
  - path: /live
    source: fake
    params: [{name: n, type: integer, default: "1"}]
    sql: select $n
)";

struct fixture {
    std::shared_ptr<fake_source> src = std::make_shared<fake_source>();
    worker_pool workers{2, 64};
    std::unique_ptr<service> svc;

    fixture() {
        auto cfg = config::load_text(config_text, "cache_test.yaml", "/");
        if (!cfg) throw std::runtime_error(cfg.error().message);
        auto s =
            service::create(std::make_shared<const config::config>(std::move(cfg).value()), {{"fake", src}}, workers);
        if (!s) throw std::runtime_error(s.error().message);
        svc = std::move(s).value();
    }
    response get(const std::string& target, std::vector<std::pair<std::string, std::string>> headers = {}) {
        request r;
        r.target = target;
        r.headers = std::move(headers);
        return svc->handle_sync(std::move(r));
    }
};

std::string body_of(const response& r) {
    return std::string(r.body_view());
}

TEST(service_cache, concurrent_misses_for_one_key_run_one_query) {
    fixture f;
    f.src->delay = 300ms;
    constexpr int callers = 16;
    std::barrier start(callers);
    std::vector<response> answers(callers);
    std::vector<std::thread> threads;
    for (int i = 0; i < callers; ++i)
        threads.emplace_back([&, i] {
            start.arrive_and_wait();
            answers[i] = f.get("/numbers?n=50");
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(f.src->calls.load(), 1);
    for (const auto& a : answers) {
        EXPECT_EQ(a.status, 200);
        EXPECT_EQ(body_of(a), body_of(answers[0]));
    }
    EXPECT_EQ(f.svc->collapsed_misses(), static_cast<std::uint64_t>(callers - 1));
    // A different canonical parameter is a different key.
    EXPECT_EQ(f.get("/numbers?n=51").status, 200);
    EXPECT_EQ(f.src->calls.load(), 2);
    // The default value and the explicit one are the same key.
    f.get("/numbers");
    f.get("/numbers?n=10");
    EXPECT_EQ(f.src->calls.load(), 3);
}

TEST(service_cache, a_hit_is_answered_on_the_calling_thread_from_shared_bytes) {
    fixture f;
    auto first = f.get("/numbers?n=5");
    ASSERT_EQ(first.status, 200);
    EXPECT_EQ(first.header("X-Cache"), "miss");
    request r;
    r.target = "/numbers?n=5";
    std::thread::id answered_on;
    response got;
    f.svc->handle(std::move(r), [&](response res) {
        answered_on = std::this_thread::get_id();
        got = std::move(res);
    });
    EXPECT_EQ(answered_on, std::this_thread::get_id());  // no hop to a worker
    EXPECT_EQ(got.header("X-Cache"), "hit");
    ASSERT_TRUE(got.shared_body);
    EXPECT_TRUE(got.body.empty());
    EXPECT_EQ(body_of(got), body_of(first));
    EXPECT_EQ(f.src->calls.load(), 1);
    EXPECT_EQ(f.svc->response_cache().hits(), 1u);
}

TEST(service_cache, if_none_match_gets_304_without_a_body) {
    fixture f;
    auto first = f.get("/numbers?n=20");
    const std::string etag(first.header("ETag"));
    ASSERT_FALSE(etag.empty());
    EXPECT_EQ(etag, cache::strong_etag(body_of(first)));
    EXPECT_EQ(first.header("Cache-Control"), "public, max-age=0, stale-while-revalidate=1, stale-if-error=30");
    auto again = f.get("/numbers?n=20", {{"if-none-match", etag}});
    EXPECT_EQ(again.status, 304);
    EXPECT_TRUE(body_of(again).empty());
    EXPECT_EQ(again.header("ETag"), etag);
    EXPECT_EQ(again.header("Content-Type"), "");
    auto listed = f.get("/numbers?n=20", {{"if-none-match", "\"nope\", " + etag}});
    EXPECT_EQ(listed.status, 304);
    auto other = f.get("/numbers?n=20", {{"if-none-match", "\"nope\""}});
    EXPECT_EQ(other.status, 200);
    EXPECT_EQ(body_of(other), body_of(first));
    EXPECT_EQ(f.src->calls.load(), 1);
}

TEST(service_cache, gzip_when_accepted_and_it_decodes_to_the_identity_bytes) {
    fixture f;
    auto plain = f.get("/numbers?n=500");
    auto zipped = f.get("/numbers?n=500", {{"accept-encoding", "gzip, deflate, br"}});
    EXPECT_EQ(plain.header("Content-Encoding"), "");
    EXPECT_EQ(zipped.header("Content-Encoding"), "gzip");
    EXPECT_EQ(zipped.header("Vary"), "Accept, Accept-Encoding");  // the format is negotiated too (issue 11)
    EXPECT_LT(body_of(zipped).size(), body_of(plain).size());
    auto decoded = codec::gunzip(body_of(zipped), 1 << 24);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, body_of(plain));
    EXPECT_NE(zipped.header("ETag"), plain.header("ETag"));
    // The gzip form's validator revalidates the gzip form.
    auto again =
        f.get("/numbers?n=500", {{"accept-encoding", "gzip"}, {"if-none-match", std::string(zipped.header("ETag"))}});
    EXPECT_EQ(again.status, 304);
    EXPECT_EQ(again.header("ETag"), zipped.header("ETag"));
    auto refused = f.get("/numbers?n=500", {{"accept-encoding", "gzip;q=0"}});
    EXPECT_EQ(refused.header("Content-Encoding"), "");
    EXPECT_EQ(f.src->calls.load(), 1);
}

TEST(service_cache, ttl_expiry_then_stale_while_revalidate_then_stale_if_error) {
    fixture f;
    auto first = f.get("/numbers?n=3");
    EXPECT_EQ(first.header("X-Cache"), "miss");
    EXPECT_EQ(f.get("/numbers?n=3").header("X-Cache"), "hit");
    EXPECT_EQ(f.src->calls.load(), 1);

    // Past the TTL, inside stale-while-revalidate: the old answer at once, one refresh behind it.
    f.src->generation = 2;
    std::this_thread::sleep_for(350ms);
    auto stale = f.get("/numbers?n=3");
    EXPECT_EQ(stale.header("X-Cache"), "stale");
    EXPECT_EQ(body_of(stale), body_of(first));
    for (int i = 0; i < 100 && f.src->calls.load() < 2; ++i) std::this_thread::sleep_for(10ms);
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(f.src->calls.load(), 2);
    auto fresh = f.get("/numbers?n=3");
    EXPECT_EQ(fresh.header("X-Cache"), "hit");
    EXPECT_NE(body_of(fresh), body_of(first));  // generation 2

    // Past both TTL and revalidate windows, the source fails: the last good answer stands in.
    f.src->fail = true;
    std::this_thread::sleep_for(1400ms);
    auto fallback = f.get("/numbers?n=3");
    EXPECT_EQ(fallback.status, 200);
    EXPECT_EQ(fallback.header("X-Cache"), "stale");
    EXPECT_EQ(body_of(fallback), body_of(fresh));
    EXPECT_EQ(f.src->calls.load(), 3);

    // A key with nothing to fall back on gets the error, and errors are not cached.
    auto error = f.get("/numbers?n=4");
    EXPECT_EQ(error.status, 503);
    f.src->fail = false;
    EXPECT_EQ(f.get("/numbers?n=4").status, 200);
}

TEST(service_cache, live_routes_are_not_cached_and_say_so) {
    fixture f;
    auto a = f.get("/live");
    auto b = f.get("/live");
    EXPECT_EQ(f.src->calls.load(), 2);
    EXPECT_EQ(a.header("ETag"), "");
    EXPECT_EQ(a.header("X-Data-Version"), "live");
    EXPECT_FALSE(b.header("X-Data-As-Of").empty());
}

}  // namespace
}  // namespace frost::api
