// A cache hit must not copy or render the answer: counts the heap allocations one hit makes
// on the calling thread, for a small and a large answer. They are the same (a handful, for the
// header list), so nothing scales with the body; the body itself is shared, never copied.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "api/service.hpp"
#include "config/config.hpp"

// The replacement pair below is malloc/free underneath; GCC cannot see they match.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {
thread_local bool counting = false;
thread_local std::size_t allocations = 0;
thread_local std::size_t allocated_bytes = 0;
}  // namespace

void* operator new(std::size_t n) {
    if (counting) {
        ++allocations;
        allocated_bytes += n;
    }
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}

namespace frost::api {
namespace {

class rows_source final : public frost::source::source {
public:
    std::string_view name() const override { return "rows"; }
    std::string_view dialect() const override { return "duckdb"; }
    model::result<model::table> run(const frost::source::query& q) override {
        std::int64_t n = 1;
        for (const auto& p : q.params)
            if (p.name == "n") n = std::get<std::int64_t>(p.value);
        model::table t;
        t.columns = {{"i", model::column_type::integer}, {"label", model::column_type::text}};
        for (std::int64_t i = 0; i < n; ++i) {
            std::vector<model::value> row;
            row.emplace_back(i);
            row.emplace_back(std::string("some text to make the row longer"));
            t.rows.push_back(std::move(row));
        }
        return t;
    }
};

struct measured {
    std::size_t allocations = 0, bytes = 0, body = 0;
};

measured one_hit(service& svc, const std::string& target) {
    request warm;
    warm.target = target;
    (void)svc.handle_sync(std::move(warm));  // the miss that fills the entry
    request first;
    first.target = target;
    svc.handle(std::move(first), [](response) {});  // a first hit grows the per-thread key buffer
    request r;
    r.target = target;
    r.headers = {{"accept-encoding", "gzip"}};
    measured m;
    response got;
    counting = true;
    allocations = allocated_bytes = 0;
    svc.handle(std::move(r), [&](response res) { got = std::move(res); });
    counting = false;
    m.allocations = allocations;
    m.bytes = allocated_bytes;
    m.body = got.body_view().size();
    EXPECT_EQ(got.header("X-Cache"), "hit");
    return m;
}

TEST(cache_hit, allocations_do_not_grow_with_the_answer) {
    auto cfg = config::load_text(R"(
sources: {rows: {type: duckdb, path: ":memory:"}}
endpoints:
  - path: /rows
    source: rows
    cache: {ttl: 60s}
    params: [{name: n, type: integer}]
    sql: select $n
)",
                                 "alloc.yaml", "/");
    ASSERT_TRUE(cfg) << cfg.error().message;
    worker_pool workers(1, 16);
    auto svc = service::create(std::make_shared<const config::config>(std::move(cfg).value()),
                               {{"rows", std::make_shared<rows_source>()}}, workers);
    ASSERT_TRUE(svc);
    const auto small = one_hit(*svc.value(), "/rows?n=10");  // both big enough to have a gzip form
    const auto large = one_hit(*svc.value(), "/rows?n=20000");
    EXPECT_GT(large.body, 20 * small.body);
    EXPECT_EQ(large.allocations, small.allocations);
    EXPECT_LT(large.bytes, large.body / 10) << "a hit allocated bytes in proportion to the answer";
    EXPECT_LE(small.allocations, 24u);
    std::printf("one cache hit: %zu allocations, %zu bytes (answer: %zu bytes gzip)\n", large.allocations, large.bytes,
                large.body);
}

}  // namespace
}  // namespace frost::api
