// The request pipeline of `api::service` without sockets: its last-resort catch (issue 10.6)
// and what callers see of server-side errors (issue 10.7).
#include <gtest/gtest.h>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include <atomic>
#include <sstream>
#include <stdexcept>

#include "api/service.hpp"
#include "config/config.hpp"

namespace frost::api {
namespace {

namespace json = boost::json;

// What DuckDB says about a bad column: SQL text and a table name the public must not see.
const std::string binder_error =
    "Binder Error: Referenced column \"no_such_column\" not found in FROM clause!\nLINE 4: from demo.trips";

class scripted_source final : public source::source {
public:
    enum class mode { rows, fail, throw_std, throw_other };
    std::atomic<mode> next{mode::rows};

    std::string_view name() const override { return "scripted"; }
    std::string_view dialect() const override { return "duckdb"; }
    model::result<model::table> run(const frost::source::query&) override {
        switch (next.load()) {
            case mode::fail:
                return model::error{model::error_code::source_error, binder_error, "SQLSTATE 42703",
                                    "check the column"};
            case mode::throw_std:
                throw std::runtime_error("the source blew up");
            case mode::throw_other:
                throw 42;
            case mode::rows:
                break;
        }
        model::table t;
        t.columns = {{"n", model::column_type::integer}};
        t.rows.push_back({model::value(std::int64_t{1})});
        return t;
    }
};

constexpr const char* config_text = R"(
sources:
  scripted: {type: duckdb, path: ":memory:"}
endpoints:
  - path: /live
    source: scripted
    sql: select 1
  - path: /cached
    source: scripted
    cache: {ttl: 60s}
    params: [{name: n, type: integer, default: "1"}]
    sql: select $n
)";

struct fixture {
    std::shared_ptr<scripted_source> src = std::make_shared<scripted_source>();
    worker_pool workers{2, 64};
    std::unique_ptr<service> svc;
    std::atomic<int> observed{0};

    explicit fixture(bool expose = false) {
        auto cfg = config::load_text(config_text, "service_test.yaml", "/");
        if (!cfg) throw std::runtime_error(cfg.error().message);
        cfg.value().server.expose_errors = expose;
        auto s = service::create(std::make_shared<const config::config>(std::move(cfg).value()), {{"scripted", src}},
                                 workers);
        if (!s) throw std::runtime_error(s.error().message);
        svc = std::move(s).value();
        svc->add_route("/builtin/throws",
                       [](const request&) -> response { throw std::runtime_error("builtin failed"); });
        svc->add_route("/builtin/throws_other", [](const request&) -> response { throw 7; });
        svc->add_guard([](request& r, const config::endpoint_config&) -> std::optional<response> {
            if (r.header("x-throw") == "guard") throw std::logic_error("guard failed");
            return std::nullopt;
        });
        svc->add_observer([](const request& r, const response&, const request_stats&) {
            if (r.header("x-throw") == "observer") throw std::runtime_error("observer failed");
        });
        svc->add_observer([this](const request&, const response&, const request_stats&) { ++observed; });
    }
    response get(const std::string& target, std::vector<std::pair<std::string, std::string>> headers = {},
                 std::string id = "req-1") {
        request r;
        r.target = target;
        r.headers = std::move(headers);
        r.request_id = std::move(id);
        return svc->handle_sync(std::move(r));
    }
};

json::object body_of(const response& r) {
    return json::parse(r.body_view()).as_object();
}

// Captures what the default logger writes while it lives.
class log_capture {
public:
    log_capture() : previous_(spdlog::default_logger()) {
        auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
        spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
    }
    ~log_capture() { spdlog::set_default_logger(previous_); }
    [[nodiscard]] std::string text() {
        spdlog::default_logger()->flush();
        return out_.str();
    }

private:
    std::ostringstream out_;
    std::shared_ptr<spdlog::logger> previous_;
};

void expect_internal_error(const response& r, const std::string& id) {
    EXPECT_EQ(r.status, 500) << r.body_view();
    auto b = body_of(r);
    EXPECT_EQ(b.at("code").as_string(), "FR500");
    EXPECT_EQ(b.at("error").as_string(), "internal error");
    EXPECT_EQ(b.at("request_id").as_string(), id);
    EXPECT_EQ(r.header("Content-Type"), "application/json");
    EXPECT_EQ(std::string(r.body_view()).find("failed"), std::string::npos);
}

TEST(service_barrier, a_throwing_guard_builtin_or_source_is_a_logged_500_and_the_next_request_works) {
    fixture f;
    log_capture log;
    expect_internal_error(f.get("/live", {{"x-throw", "guard"}}, "id-guard"), "id-guard");
    expect_internal_error(f.get("/builtin/throws", {}, "id-builtin"), "id-builtin");
    expect_internal_error(f.get("/builtin/throws_other", {}, "id-other"), "id-other");
    f.src->next = scripted_source::mode::throw_std;
    expect_internal_error(f.get("/live", {}, "id-std"), "id-std");
    f.src->next = scripted_source::mode::throw_other;
    expect_internal_error(f.get("/live", {}, "id-int"), "id-int");
    // The cache's single-flight is not left waiting on a fill that threw.
    expect_internal_error(f.get("/cached?n=2", {}, "id-fill"), "id-fill");
    f.src->next = scripted_source::mode::rows;
    EXPECT_EQ(f.get("/cached?n=2").status, 200);
    EXPECT_EQ(f.get("/live").status, 200);
    const auto text = log.text();
    for (const char* needle : {"id-guard", "guard failed", "id-builtin", "builtin failed", "id-std",
                               "the source blew up", "id-int", "id-other"})
        EXPECT_NE(text.find(needle), std::string::npos) << needle << " not in the log:\n" << text;
    // Every answer, the 500s included, was seen by the observers.
    EXPECT_EQ(f.observed.load(), 8);
}

TEST(service_barrier, a_throwing_observer_changes_no_answer_and_the_others_still_run) {
    fixture f;
    log_capture log;
    auto r = f.get("/live", {{"x-throw", "observer"}}, "id-obs");
    EXPECT_EQ(r.status, 200) << r.body_view();
    EXPECT_EQ(f.observed.load(), 1);
    EXPECT_NE(log.text().find("observer failed"), std::string::npos);
}

TEST(service_barrier, done_is_called_once_even_when_it_throws) {
    fixture f;
    log_capture log;
    int calls = 0;
    request r;
    r.target = "/";  // unknown here: a 404 answered on this thread
    r.request_id = "id-done";
    f.svc->handle(std::move(r), [&](response) {
        ++calls;
        throw std::runtime_error("the transport failed");
    });
    EXPECT_EQ(calls, 1);
    EXPECT_NE(log.text().find("the transport failed"), std::string::npos);
}

TEST(error_detail, a_source_error_is_logged_and_hidden_from_callers_by_default) {
    fixture f;
    f.src->next = scripted_source::mode::fail;
    for (const char* target : {"/live", "/cached?n=3"}) {
        SCOPED_TRACE(target);
        log_capture log;
        auto r = f.get(target, {}, std::string("id-") + target);
        EXPECT_EQ(r.status, 502);
        auto b = body_of(r);
        EXPECT_EQ(b.at("code").as_string(), "FR502");
        EXPECT_EQ(b.at("error").as_string(), model::generic_message(model::error_code::source_error));
        EXPECT_EQ(b.at("request_id").as_string(), std::string("id-") + target);
        EXPECT_FALSE(b.contains("details"));
        EXPECT_FALSE(b.contains("hint"));
        for (const char* secret : {"Binder", "no_such_column", "demo.trips", "LINE 4", "42703"})
            EXPECT_EQ(std::string(r.body_view()).find(secret), std::string::npos) << secret;
        const auto text = log.text();
        EXPECT_NE(text.find(std::string("id-") + target), std::string::npos) << text;
        EXPECT_NE(text.find("no_such_column"), std::string::npos) << text;
        EXPECT_NE(text.find("42703"), std::string::npos) << text;
    }
}

TEST(error_detail, expose_errors_shows_the_detail) {
    fixture f(true);
    f.src->next = scripted_source::mode::fail;
    for (const char* target : {"/live", "/cached?n=4"}) {
        SCOPED_TRACE(target);
        auto r = f.get(target, {}, "id-exposed");
        EXPECT_EQ(r.status, 502);
        auto b = body_of(r);
        EXPECT_EQ(b.at("code").as_string(), "FR502");
        EXPECT_EQ(b.at("error").as_string(), binder_error);
        EXPECT_EQ(b.at("details").as_string(), "SQLSTATE 42703");
        EXPECT_EQ(b.at("hint").as_string(), "check the column");
        EXPECT_EQ(b.at("request_id").as_string(), "id-exposed");
    }
}

TEST(error_detail, client_errors_keep_their_helpful_messages) {
    for (bool expose : {false, true}) {
        fixture f(expose);
        auto unknown = f.get("/live?nope=1");
        EXPECT_EQ(unknown.status, 400);
        EXPECT_NE(body_of(unknown).at("error").as_string().find("nope"), std::string::npos);
        EXPECT_FALSE(body_of(unknown).contains("request_id"));
        auto bad = f.get("/cached?n=abc");
        EXPECT_EQ(bad.status, 400);
        EXPECT_NE(body_of(bad).at("error").as_string().find("parameter n"), std::string::npos);
        EXPECT_EQ(body_of(f.get("/missing")).at("error").as_string(), "Not found!");
    }
}

}  // namespace
}  // namespace frost::api
