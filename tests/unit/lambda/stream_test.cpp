// Issue 11, deliverable 3 on Lambda: buffered responses hold at most 6 MB, so a streamed export
// is read whole there: under the limit an ordinary answer, past it (or when the source fails)
// a JSON error and the query stopped, never a cut body.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <thread>

#include "api/service.hpp"
#include "api/worker_pool.hpp"
#include "config/config.hpp"
#include "emulators/lambda/gateway.hpp"
#include "lambda/runtime.hpp"

namespace frost::lambda {
namespace {

namespace json = boost::json;
namespace emu = frost::emulators::lambda;

// `rows` rows of about 1 KB each, in batches of 100; fails after `fail_after` batches when set.
class kilobyte_rows final : public source::source {
public:
    std::size_t rows = 1000;
    std::size_t fail_after = 0;
    std::atomic<bool> stopped{false};
    std::string_view name() const override { return "kb"; }
    std::string_view dialect() const override { return "duckdb"; }
    model::result<model::table> run(const frost::source::query&) override {
        return model::error{model::error_code::internal, "not used", {}, {}};
    }
    model::result<frost::source::stream_summary> stream(const frost::source::query&,
                                                        frost::source::row_sink& sink) override {
        frost::source::stream_summary s;
        if (!sink.begin({{"i", model::column_type::integer}, {"pad", model::column_type::text}})) return s;
        for (std::size_t b = 0; b * 100 < rows; ++b) {
            if (fail_after && b == fail_after)
                return model::error{model::error_code::source_error, "the warehouse went away", {}, {}};
            std::vector<std::vector<model::value>> batch;
            for (std::size_t r = b * 100; r < std::min(rows, (b + 1) * 100); ++r)
                batch.push_back({model::value(static_cast<std::int64_t>(r)), model::value(std::string(1000, 'x'))});
            s.rows += batch.size();
            if (!sink.rows(batch)) {
                stopped = true;
                s.stopped = true;
                return s;
            }
        }
        return s;
    }
};

constexpr std::string_view config_text = R"(
sources:
  kb: {type: duckdb, path: ":memory:"}
endpoints:
  - path: /export
    source: kb
    stream: true
    sql: select 1
)";

struct fixture {
    std::shared_ptr<kilobyte_rows> src = std::make_shared<kilobyte_rows>();
    api::worker_pool workers{1, 4};
    std::unique_ptr<api::service> svc;
    std::unique_ptr<runtime> rt;
    fixture() {
        auto cfg = config::load_text(std::string(config_text), "stream.yaml", ".");
        if (!cfg) throw std::runtime_error(cfg.error().message);
        auto s = api::service::create(std::make_shared<const config::config>(std::move(cfg).value()), {{"kb", src}},
                                      workers);
        if (!s) throw std::runtime_error(s.error().message);
        svc = std::move(s).value();
        runtime_options o;
        o.metrics_sink = [](std::string_view) {};
        rt = std::make_unique<runtime>(*svc, o);
    }
    emu::http_reply call(const std::string& target) {
        emu::http_call c;
        c.target = target;
        invocation inv;
        inv.request_id = "req-1";
        inv.payload = emu::make_event(emu::front_door::http_api, c);
        auto r = rt->handle(inv);
        EXPECT_FALSE(r.failed);
        return emu::read_reply(emu::front_door::http_api, r.payload);
    }
};

TEST(lambda_stream, an_export_under_the_limit_is_answered_whole) {
    fixture f;
    f.src->rows = 1000;  // about 1 MB
    auto reply = f.call("/export?format=ndjson");
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(std::count(reply.body.begin(), reply.body.end(), '\n'), 1000);
}

TEST(lambda_stream, an_export_over_6_mb_is_a_json_error_and_the_query_stops) {
    fixture f;
    f.src->rows = 20'000;  // about 20 MB
    auto reply = f.call("/export?format=csv");
    EXPECT_EQ(reply.status, 502);
    auto body = json::parse(reply.body).as_object();
    EXPECT_EQ(body.at("code").as_string(), "FR507");
    for (int i = 0; i < 200 && !f.src->stopped; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_TRUE(f.src->stopped);
}

TEST(lambda_stream, a_source_failure_mid_stream_is_a_json_error_not_a_short_body) {
    fixture f;
    f.src->rows = 1000;
    f.src->fail_after = 3;
    auto reply = f.call("/export?format=csv");
    EXPECT_EQ(reply.status, 502);
    EXPECT_EQ(json::parse(reply.body).as_object().at("code").as_string(), "FR502");
}

}  // namespace
}  // namespace frost::lambda
