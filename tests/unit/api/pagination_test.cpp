// Keyset pagination (issue 11.2, docs/formats.md): signed cursors, the page parameters, and
// walks over a DuckDB table that grows while it is walked, checked against the table itself.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <filesystem>
#include <random>
#include <set>

#include <unistd.h>

#include "api/pagination.hpp"
#include "api/service.hpp"
#include "config/config.hpp"
#include "source/duckdb/duckdb_source.hpp"

namespace frost::api {
namespace {

const std::string context = "/rows\x1fmin_v=i0\x1f";

TEST(cursor, signed_values_come_back_typed) {
    cursor_signer s(std::string(32, 'k'));
    const std::vector<model::value> values{std::int64_t{-42},
                                           std::string("a\x1f:b,\"c\" \xc3\xa9"),
                                           model::date{15857},
                                           model::timestamp{1'370'044'801'000'123},
                                           model::decimal{-705, 1},
                                           2.5,
                                           true,
                                           std::monostate{}};
    const auto c = s.sign(context, values);
    EXPECT_EQ(c.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."),
              std::string::npos);
    auto back = s.verify(context, c, values.size());
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back.value(), values);
}

TEST(cursor, forged_foreign_or_damaged_cursors_are_refused) {
    cursor_signer s(std::string(32, 'k'));
    const std::vector<model::value> values{std::int64_t{1000}};
    const auto c = s.sign(context, values);
    ASSERT_TRUE(s.verify(context, c, 1));
    // Every single-character change anywhere is refused.
    const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
    for (std::size_t i = 0; i < c.size(); ++i) {
        for (char x : {'A', 'x', '0', '_', '.'}) {
            if (c[i] == x) continue;
            auto t = c;
            t[i] = x;
            auto r = s.verify(context, t, 1);
            EXPECT_FALSE(r) << t;
            if (!r) {
                EXPECT_EQ(model::http_status(r.error().code), 400);
            }
        }
    }
    // A payload of the attacker's choosing, with a MAC from another key.
    cursor_signer other(std::string(32, 'o'));
    EXPECT_FALSE(s.verify(context, other.sign(context, values), 1));
    // Another query's cursor (other parameters), a wrong arity, garbage.
    EXPECT_FALSE(s.verify("/rows\x1fmin_v=i5\x1f", c, 1));
    EXPECT_FALSE(s.verify(context, c, 2));
    const std::vector<std::string> junk{
        "", ".", "abc", "abc.def", c + ".", c.substr(0, c.size() - 1), std::string(5000, 'a')};
    for (const auto& j : junk) EXPECT_FALSE(s.verify(context, j, 1)) << j;
}

TEST(cursor, a_generated_key_is_random) {
    bool generated = false;
    auto a = cursor_signer::with_key_or_random("", generated);
    EXPECT_TRUE(generated);
    auto b = cursor_signer::with_key_or_random("", generated);
    const std::vector<model::value> v{std::int64_t{1}};
    EXPECT_NE(a.sign(context, v), b.sign(context, v));
    auto c = cursor_signer::with_key_or_random(std::string(40, 'z'), generated);
    EXPECT_FALSE(generated);
}

TEST(page_params, limit_is_checked_and_the_pairs_are_taken_out) {
    config::paginate_config p{{"id"}, 10, 50};
    query_pairs q{{"a", "1"}, {"limit", "25"}, {"cursor", "xyz"}, {"b", "2"}};
    auto r = take_page_params(p, q);
    ASSERT_TRUE(r);
    EXPECT_EQ(r.value().limit, 25u);
    EXPECT_EQ(r.value().cursor, "xyz");
    EXPECT_EQ(q, (query_pairs{{"a", "1"}, {"b", "2"}}));
    query_pairs none{};
    EXPECT_EQ(take_page_params(p, none).value().limit, 10u);
    for (const std::string bad : {"0", "51", "-1", "", "1.5", "10x", "99999999999999999999999"}) {
        query_pairs b{{"limit", bad}};
        EXPECT_FALSE(take_page_params(p, b)) << bad;
    }
    query_pairs twice{{"cursor", "a"}, {"cursor", "b"}};
    EXPECT_FALSE(take_page_params(p, twice));
}

TEST(page_params, next_link_replaces_the_cursor_and_keeps_the_rest) {
    EXPECT_EQ(next_link("/rows", "C.D"), "</rows?cursor=C.D>; rel=\"next\"");
    EXPECT_EQ(next_link("/rows?limit=5&cursor=old&format=csv", "C.D"),
              "</rows?limit=5&format=csv&cursor=C.D>; rel=\"next\"");
    EXPECT_EQ(next_link("/rows?a=<x>&&cursor", "C"), "</rows?a=%3Cx%3E&cursor=C>; rel=\"next\"");
}

// A table that grows while it is walked: pages must still give every row once, in order.
class walk : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() / ("frost-pagination-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir_);
        const auto path = (dir_ / "rows.duckdb").string();
        std::filesystem::remove(path);
        source::duckdb::duckdb_settings settings;
        settings.path = path;
        settings.read_only = false;
        auto src = source::duckdb::duckdb_source::open("rows", settings);
        ASSERT_TRUE(src) << src.error().message;
        src_ = std::shared_ptr<source::duckdb::duckdb_source>(std::move(src).value());
        auto con = source::duckdb::connection::open(src_->db());
        ASSERT_TRUE(con);
        con_ = std::move(con).value();
        ASSERT_TRUE(con_->execute("create table t (id bigint, v varchar)"));

        const std::string yaml = R"(
sources:
  rows: {type: duckdb, path: ":memory:"}
endpoints:
  - path: /rows
    source: rows
    params: [{name: min_v, type: integer, default: "0"}]
    paginate: {key: [id], page_size: 7, max_page_size: 50}
    sql: |
      select id, v from t
      where ($after_id is null or id > $after_id) and id >= $min_v
      order by id
      limit $page_limit
)";
        auto cfg = config::load_text(yaml, "pagination_test.yaml", "/");
        ASSERT_TRUE(cfg) << cfg.error().message;
        cfg.value().server.cursor_key = std::string(32, 's');
        auto s =
            service::create(std::make_shared<const config::config>(std::move(cfg).value()), {{"rows", src_}}, workers_);
        ASSERT_TRUE(s) << s.error().message;
        svc_ = std::move(s).value();
    }
    void TearDown() override {
        svc_.reset();
        con_.reset();
        src_.reset();
        std::filesystem::remove_all(dir_);
    }

    void insert(std::int64_t id) {
        ASSERT_TRUE(con_->execute("insert into t values (" + std::to_string(id) + ", 'v" + std::to_string(id) + "')"));
    }
    response get(const std::string& target) {
        request req;
        req.target = target;
        return svc_->handle_sync(std::move(req));
    }

    std::filesystem::path dir_;
    std::shared_ptr<source::duckdb::duckdb_source> src_;
    std::unique_ptr<source::duckdb::connection> con_;
    worker_pool workers_{2, 64};
    std::unique_ptr<service> svc_;
};

// One page's ids and its next cursor, read the way the format carries them.
struct page {
    std::vector<std::int64_t> ids;
    std::string next;
};

page read_page(const response& r, const std::string& format) {
    page p;
    const std::string body(r.body_view());
    if (format == "csv") {
        std::size_t at = body.find("\r\n") + 2;  // past the header row
        while (at < body.size()) {
            const auto eol = body.find("\r\n", at);
            p.ids.push_back(std::stoll(body.substr(at, body.find(',', at) - at)));
            at = eol + 2;
        }
    } else if (format == "ndjson") {
        std::size_t at = 0;
        while (at < body.size()) {
            const auto eol = body.find('\n', at);
            const auto obj = boost::json::parse(body.substr(at, eol - at)).as_object();
            if (obj.contains("@next"))
                p.next = obj.at("@next").as_string();
            else
                p.ids.push_back(obj.at("id").as_int64());
            at = eol + 1;
        }
    } else {
        const auto v = boost::json::parse(body);
        for (const auto& row : v.at("result").as_array())
            p.ids.push_back(row.is_object() ? row.at("id").as_int64() : row.at(0).as_int64());
        if (const auto* n = v.as_object().if_contains("next")) p.next = n->as_string();
    }
    // The Link header carries the same cursor in every format.
    const auto link = r.header("Link");
    if (p.next.empty() && !link.empty()) {
        const auto at = link.find("cursor=") + 7;
        p.next = std::string(link.substr(at, link.find('>') - at));
    }
    if (!p.next.empty()) {
        EXPECT_NE(link.find("cursor=" + p.next + ">; rel=\"next\""), std::string_view::npos) << link;
    }
    return p;
}

TEST_F(walk, every_row_once_in_order_while_rows_arrive_behind_and_ahead) {
    std::mt19937_64 rng(11);
    std::set<std::int64_t> table;
    while (table.size() < 120) {
        const auto id = static_cast<std::int64_t>(rng() % 100'000) * 2;  // even: room for odd ids between
        if (table.insert(id).second) insert(id);
    }
    for (const std::string format : {"json", "ndjson", "csv", "objects"}) {
        std::vector<std::int64_t> seen;
        std::set<std::int64_t> ahead;   // inserted past the cursor: must be seen
        std::set<std::int64_t> behind;  // inserted before the cursor: must not be
        std::string next;
        int pages = 0;
        do {
            const std::string limit = std::to_string(1 + rng() % 20);
            const auto r = get("/rows?format=" + format + "&limit=" + limit + (next.empty() ? "" : "&cursor=" + next));
            ASSERT_EQ(r.status, 200) << r.body_view();
            const auto p = read_page(r, format == "objects" ? "json" : format);
            ASSERT_LE(p.ids.size(), std::stoul(limit));
            if (!p.next.empty()) {
                ASSERT_EQ(p.ids.size(), std::stoul(limit));
            }
            seen.insert(seen.end(), p.ids.begin(), p.ids.end());
            next = p.next;
            if (!seen.empty() && !next.empty()) {
                // One row behind the cursor (never to be seen) and one ahead (to be seen once).
                const auto last = seen.back();
                const std::int64_t back = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(last + 1)) | 1;
                if (back < last && table.insert(back).second) {
                    insert(back);
                    behind.insert(back);
                }
                const std::int64_t front = last + 1 + static_cast<std::int64_t>(rng() % 1000) * 2;
                if (table.insert(front).second) {
                    insert(front);
                    ahead.insert(front);
                }
            }
            ++pages;
            ASSERT_LT(pages, 1000);
        } while (!next.empty());
        EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
        EXPECT_EQ(std::adjacent_find(seen.begin(), seen.end()), seen.end()) << "a row came twice";
        const std::set<std::int64_t> seen_set(seen.begin(), seen.end());
        for (auto id : ahead) EXPECT_TRUE(seen_set.contains(id)) << "row " << id << " inserted ahead was missed";
        // The oracle: DuckDB's whole table now. What the walk missed must be exactly the rows
        // inserted behind its cursor.
        auto res = con_->execute("select id from t order by id");
        ASSERT_TRUE(res);
        auto all = res.value().to_table(100'000);
        ASSERT_TRUE(all);
        std::set<std::int64_t> missed;
        for (const auto& row : all.value().rows) {
            const auto id = std::get<std::int64_t>(row[0]);
            if (!seen_set.contains(id)) missed.insert(id);
        }
        EXPECT_EQ(missed, behind) << format;
        EXPECT_EQ(seen_set.size() + missed.size(), all.value().rows.size());
        EXPECT_GT(behind.size(), 3u);
        EXPECT_GT(pages, 5);
    }
}

TEST_F(walk, a_tampered_or_foreign_cursor_is_a_400) {
    for (std::int64_t id = 1; id <= 20; ++id) insert(id);
    const auto first = get("/rows?limit=5");
    ASSERT_EQ(first.status, 200);
    const auto next = std::string(boost::json::parse(first.body_view()).at("next").as_string());
    ASSERT_EQ(get("/rows?limit=5&cursor=" + next).status, 200);
    auto tampered = next;
    tampered[2] = tampered[2] == 'A' ? 'B' : 'A';
    for (const auto& bad : std::vector<std::string>{tampered, "abc", next + "x"}) {
        const auto r = get("/rows?cursor=" + bad);
        EXPECT_EQ(r.status, 400) << bad;
        EXPECT_EQ(r.header("Content-Type"), "application/json");
        EXPECT_EQ(boost::json::parse(r.body_view()).at("code").as_string(), "FR400");
    }
    // The same cursor with other filters is another query's cursor.
    EXPECT_EQ(get("/rows?min_v=3&cursor=" + next).status, 400);
    // And the last page has no next.
    const auto last = get("/rows?limit=50");
    EXPECT_FALSE(boost::json::parse(last.body_view()).as_object().contains("next"));
    EXPECT_EQ(last.header("Link"), "");
}

TEST(paginate_config, the_sql_must_use_the_paging_placeholders_and_names_are_reserved) {
    const std::string head = R"(
sources:
  s: {type: duckdb, path: ":memory:"}
endpoints:
  - path: /p
    source: s
)";
    auto fails = [&](const std::string& rest, const std::string& needle) {
        auto cfg = config::load_text(head + rest, "p.yaml", "/");
        ASSERT_FALSE(cfg) << rest;
        EXPECT_NE(cfg.error().message.find(needle), std::string::npos) << cfg.error().message;
        EXPECT_NE(cfg.error().message.find("p.yaml:"), std::string::npos) << cfg.error().message;
    };
    fails("    paginate: {key: [id]}\n    sql: select id from t where $after_id is null or id > $after_id\n",
          "$page_limit");
    fails("    paginate: {key: [id]}\n    sql: select id from t order by id limit $page_limit\n", "$after_id");
    fails(
        "    paginate: {key: [id]}\n    params: [{name: limit, type: integer}]\n"
        "    sql: select id from t where id > $after_id limit $page_limit\n",
        "limit");
    fails("    params: [{name: format, type: string}]\n    sql: select $format\n", "reserved");
    fails("    paginate: {key: [id], bogus: 1}\n    sql: select 1 where $after_id limit $page_limit\n", "bogus");
    fails("    paginate: {key: [id], page_size: 0}\n    sql: select 1 where $after_id limit $page_limit\n",
          "page_size");
    auto ok = config::load_text(head +
                                    "    paginate: {key: [id], page_size: 5}\n"
                                    "    sql: select id from t where $after_id is null or id > $after_id "
                                    "order by id limit $page_limit\n",
                                "p.yaml", "/");
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_EQ(ok.value().endpoints[0].paginate->page_size, 5u);
    EXPECT_EQ(ok.value().endpoints[0].paginate->max_page_size, 1000u);
}

}  // namespace
}  // namespace frost::api
