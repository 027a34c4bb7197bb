// Issue 15, defects 8 and 9: readiness follows broken sources, not load; the health routes take
// GET and HEAD only.

#include <gtest/gtest.h>

#include "observe/health.hpp"

namespace {

using namespace std::chrono_literals;

class healthy_source final : public frost::source::source {
public:
    std::string_view name() const override { return "db"; }
    std::string_view dialect() const override { return "duckdb"; }
    frost::model::result<frost::model::table> run(const frost::source::query&) override {
        return frost::model::table{};
    }
};

TEST(readiness_under_load, deadline_misses_do_not_make_a_healthy_source_unready) {
    frost::api::source_map sources{{"db", std::make_shared<healthy_source>()}};
    frost::observe::health h(sources, 1h);
    ASSERT_TRUE(h.ready());
    for (int i = 0; i < 5 * frost::observe::health::failures_to_unready; ++i) h.record_answer("db", 504);
    EXPECT_TRUE(h.ready()) << h.readyz().body;
    EXPECT_EQ(h.readyz().status, 200);
}

TEST(readiness_under_load, the_source_s_own_failures_still_do) {
    frost::api::source_map sources{{"db", std::make_shared<healthy_source>()}};
    frost::observe::health h(sources, 1h);
    for (int status : {502, 503}) {
        for (int i = 0; i < frost::observe::health::failures_to_unready; ++i) h.record_answer("db", status);
        EXPECT_FALSE(h.ready()) << status;
        h.record_answer("db", 200);
        EXPECT_TRUE(h.ready()) << status;
    }
    // A timeout in between neither resets nor extends a run of real failures.
    for (int i = 0; i + 1 < frost::observe::health::failures_to_unready; ++i) h.record_answer("db", 502);
    h.record_answer("db", 504);
    EXPECT_TRUE(h.ready());
    h.record_answer("db", 502);
    EXPECT_FALSE(h.ready());
    // The caller's own mistakes never count.
    h.record_answer("db", 200);
    for (int i = 0; i < 10; ++i) h.record_answer("db", 400);
    EXPECT_TRUE(h.ready());
}

TEST(health_routes, only_get_and_head) {
    frost::api::source_map sources;
    frost::observe::health h(sources, 1h);
    for (const char* method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
        frost::api::request req;
        req.method = method;
        for (const auto& r : {h.livez(req), h.readyz(req)}) {
            EXPECT_EQ(r.status, 405) << method;
            bool allow = false;
            for (const auto& [k, v] : r.headers) allow = allow || (k == "Allow" && v == "GET, HEAD");
            EXPECT_TRUE(allow) << method;
        }
    }
    for (const char* method : {"GET", "HEAD"}) {
        frost::api::request req;
        req.method = method;
        EXPECT_EQ(h.livez(req).status, 200) << method;
        EXPECT_EQ(h.readyz(req).status, 200) << method;
    }
}

}  // namespace
