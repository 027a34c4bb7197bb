// The emulator itself against Snowflake's documented protocol: key-pair JWT rules, status codes
// and bodies, jsonv2 type encodings as decoded by the client, and the emulator program with its
// control API.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include "codec/base64.hpp"
#include "emulators/snowflake/engine.hpp"
#include "emulators/snowflake/jwt_verifier.hpp"
#include "fixture.hpp"
#include "source/snowflake/credentials.hpp"
#include "source/snowflake/http_client.hpp"

namespace {

namespace sft = frost::testing::snowflake;
namespace emu = frost::emulators::snowflake;
namespace sf = frost::source::snowflake;
namespace model = frost::model;

std::string base64url(std::string_view bytes) {
    return frost::codec::base64_encode(bytes, frost::codec::base64_alphabet::url,
                                       frost::codec::base64_padding::forbidden);
}
using frost::testing::snowflake_keys::keys;

std::string token(const std::string& private_pem, const std::string& header, const boost::json::object& claims) {
    auto key = sf::key_pair::load(private_pem, "");
    if (!key) throw std::runtime_error(key.error().message);
    const std::string input = base64url(header) + "." + base64url(boost::json::serialize(claims));
    return input + "." + base64url(key.value().sign_rs256(input).value());
}

class EmulatorJwt : public ::testing::Test {
protected:
    EmulatorJwt() : verifier_("TESTORG-TESTACCOUNT", "FROST", {keys().public_pem}) {}

    boost::json::object claims(long long iat, long long exp) const {
        return {{"iss", "TESTORG-TESTACCOUNT.FROST." + keys().fingerprint},
                {"sub", "TESTORG-TESTACCOUNT.FROST"},
                {"iat", iat},
                {"exp", exp}};
    }
    std::string check(const std::string& t) const { return verifier_.check(t, now_); }

    const std::string header_ = R"({"alg":"RS256","typ":"JWT"})";
    const long long t0_ = 1'764'000'000;
    const std::chrono::system_clock::time_point now_{std::chrono::seconds(1'764'000'000)};
    emu::jwt_verifier verifier_;
};

TEST_F(EmulatorJwt, FingerprintOfTheRegisteredKey) {
    ASSERT_EQ(verifier_.fingerprints().size(), 1u);
    EXPECT_EQ(verifier_.fingerprints()[0], keys().fingerprint);  // openssl CLI oracle
}

TEST_F(EmulatorJwt, AcceptsValidTokensInSecondsOrMilliseconds) {
    EXPECT_EQ(check(token(keys().private_pkcs8, header_, claims(t0_, t0_ + 3540))), "");
    EXPECT_EQ(check(token(keys().private_pkcs8, header_, claims(t0_ * 1000, (t0_ + 60) * 1000))), "");
    EXPECT_EQ(check(token(keys().private_pkcs8, R"({"alg":"RS256"})", claims(t0_ - 10, t0_ + 60))), "");
    auto with_nbf = claims(t0_, t0_ + 60);
    with_nbf["nbf"] = 1'444'478'400;  // gosnowflake's fixed nbf
    EXPECT_EQ(check(token(keys().private_pkcs8, header_, with_nbf)), "");
}

TEST_F(EmulatorJwt, RejectsEachBrokenClaim) {
    EXPECT_EQ(check(token(keys().other_private, header_, claims(t0_, t0_ + 60))),
              "signature does not match a registered key");
    EXPECT_EQ(check(token(keys().private_pkcs8, header_, claims(t0_ - 120, t0_ - 1))), "expired");
    EXPECT_EQ(check(token(keys().private_pkcs8, header_, claims(t0_ - 3601, t0_ + 86400))), "older than one hour");
    EXPECT_EQ(check(token(keys().private_pkcs8, header_, claims(t0_ + 120, t0_ + 600))), "issued in the future");
    auto c = claims(t0_, t0_ + 60);
    c["iss"] = "TESTORG-TESTACCOUNT.FROST.SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    EXPECT_EQ(check(token(keys().private_pkcs8, header_, c)), "wrong iss");
    c = claims(t0_, t0_ + 60);
    c["sub"] = "TESTORG-TESTACCOUNT.SOMEONE";
    EXPECT_EQ(check(token(keys().private_pkcs8, header_, c)), "wrong sub");
    c = claims(t0_, t0_ + 60);
    c["sub"] = "testorg-testaccount.frost";  // claims must be upper case
    EXPECT_EQ(check(token(keys().private_pkcs8, header_, c)), "wrong sub");
    c = claims(t0_, t0_ + 60);
    c.erase("exp");
    EXPECT_EQ(check(token(keys().private_pkcs8, header_, c)), "missing iat or exp");
    EXPECT_EQ(check(token(keys().private_pkcs8, R"({"alg":"HS256"})", claims(t0_, t0_ + 60))), "alg is not RS256");
    EXPECT_EQ(check(token(keys().private_pkcs8, R"({"alg":"none"})", claims(t0_, t0_ + 60))), "alg is not RS256");
    EXPECT_EQ(check("a.b"), "not three parts");
    EXPECT_EQ(check("!!.??.**"), "bad base64url");
    // A valid token whose payload was altered after signing.
    auto good = token(keys().private_pkcs8, header_, claims(t0_, t0_ + 60));
    const auto a = good.find('.'), b = good.find('.', a + 1);
    auto altered = claims(t0_, t0_ + 7200);
    const auto forged = good.substr(0, a + 1) + base64url(boost::json::serialize(altered)) + good.substr(b);
    EXPECT_EQ(check(forged), "signature does not match a registered key");
}

TEST_F(EmulatorJwt, TheClientsTokensPass) {
    sf::snowflake_settings s;
    s.account = "testorg-testaccount";
    s.user = "frost";
    s.private_key_pem = keys().private_pkcs8;
    auto creds = sf::credentials::create(s, [&] { return now_; });
    ASSERT_TRUE(creds);
    EXPECT_EQ(check(creds.value()->current().value().token), "");
}

TEST(EmulatorSql, TranslatesTheSeedsSnowflakeFunctions) {
    EXPECT_EQ(emu::engine::translate("select MONTHNAME(starttime), dayname (x) from t"),
              "select sf_monthname(starttime), sf_dayname (x) from t");
    EXPECT_EQ(emu::engine::translate("dateadd(day, 1, ?::date)"), "sf_dateadd_day( 1, ?::date)");
    EXPECT_EQ(emu::engine::translate("DATEADD('months', -2, d)"), "sf_dateadd_month( -2, d)");
    EXPECT_EQ(emu::engine::translate("date_trunc(day, t.starttime)"), "date_trunc('day', t.starttime)");
    EXPECT_EQ(emu::engine::translate("date_trunc('DAY', x)"), "date_trunc('day', x)");
    EXPECT_EQ(emu::engine::translate("select 'monthname(x)' -- dayname(y)\n"), "select 'monthname(x)' -- dayname(y)\n");
    EXPECT_EQ(emu::engine::translate("select monthname from t"), "select monthname from t");
}

// Each documented jsonv2 type produced by the emulator from DuckDB and decoded by the client.
TEST(EmulatorTypes, EveryDocumentedEncodingRoundTrips) {
    auto e = sft::start_emulator();
    auto src = sf::snowflake_source::open("warehouse", sft::resolved_settings(*e));
    ASSERT_TRUE(src) << src.error().message;
    struct row {
        std::string sql;
        model::column_type type;
        model::value expected;
    };
    const std::vector<row> table = {
        {"select 42::bigint", model::column_type::integer, std::int64_t{42}},
        {"select -7::tinyint", model::column_type::integer, std::int64_t{-7}},
        {"select 19.99::decimal(10,2)", model::column_type::decimal, model::decimal{1999, 2}},
        {"select 1.5::decimal(10,2)", model::column_type::decimal, model::decimal{150, 2}},
        {"select 0.25::double", model::column_type::real, 0.25},
        {"select 'Ada ''L'' é'", model::column_type::text, std::string("Ada 'L' é")},
        {"select true", model::column_type::boolean, true},
        {"select false", model::column_type::boolean, false},
        {"select date '2021-01-01'", model::column_type::date, model::date{18628}},
        {"select date '1969-12-31'", model::column_type::date, model::date{-1}},
        {"select time '13:45:30.5'", model::column_type::time, std::string("13:45:30.500000")},
        {"select timestamp '2021-01-28 22:09:37.123456'", model::column_type::timestamp,
         model::timestamp{1'611'871'777'123'456}},
        {"select timestamp '1969-12-31 23:59:59.5'", model::column_type::timestamp, model::timestamp{-500'000}},
        {"select timestamptz '2021-01-28 22:09:37+00'", model::column_type::timestamp,
         std::string("2021-01-28 22:09:37+00:00")},
        {"select '\\x48\\x65'::blob", model::column_type::binary, std::string("4865")},
        {"select [1, 2, 3]", model::column_type::json, std::string("[1,2,3]")},
        {"select {'a': 1, 'b': 'x'}", model::column_type::json, std::string("{\"a\":1,\"b\":\"x\"}")},
        {"select null::integer", model::column_type::integer, model::value{}},
        {"select 12345678901234567890::hugeint", model::column_type::integer, std::string("12345678901234567890")},
    };
    std::vector<frost::source::parameter> none;
    for (const auto& r : table) {
        SCOPED_TRACE(r.sql);
        auto t = src.value()->run({r.sql, none, model::deadline::after(std::chrono::seconds(10)), "/types", 10});
        ASSERT_TRUE(t) << t.error().message;
        ASSERT_EQ(t.value().columns.size(), 1u);
        EXPECT_EQ(t.value().columns[0].type, r.type);
        ASSERT_EQ(t.value().rows.size(), 1u);
        EXPECT_EQ(t.value().rows[0][0], r.expected);
    }
    auto nan = src.value()->run(
        {"select 'nan'::double", none, model::deadline::after(std::chrono::seconds(10)), "/types", 10});
    ASSERT_TRUE(nan);
    EXPECT_TRUE(std::isnan(std::get<double>(nan.value().rows[0][0])));
}

// Every value type as a typed binding, through the emulator and back.
TEST(EmulatorTypes, BindingsRoundTrip) {
    auto e = sft::start_emulator();
    auto src = sf::snowflake_source::open("warehouse", sft::resolved_settings(*e));
    ASSERT_TRUE(src);
    struct row {
        std::string sql;
        model::value bound;
        model::value expected;
    };
    const std::vector<row> table = {
        {"select $v as x", std::int64_t{-42}, std::int64_t{-42}},
        {"select $v as x", 0.5, 0.5},
        {"select $v as x", true, true},
        {"select $v as x", std::string("it's $v -- not a comment"), std::string("it's $v -- not a comment")},
        {"select $v as x", model::date{18628}, model::date{18628}},
        {"select $v as x", model::date{-365}, model::date{-365}},
        {"select $v as x", model::timestamp{1'611'871'777'123'456}, model::timestamp{1'611'871'777'123'456}},
        {"select $v::decimal(10,2) as x", model::decimal{1999, 2}, model::decimal{1999, 2}},
        {"select $v::integer is null as x", model::value{}, true},
        {"select '$v' || $v as x", std::string("a"), std::string("$va")},
    };
    for (const auto& r : table) {
        SCOPED_TRACE(r.sql);
        std::vector<frost::source::parameter> params{{"v", r.bound}};
        auto t = src.value()->run({r.sql, params, model::deadline::after(std::chrono::seconds(10)), "/bind", 10});
        ASSERT_TRUE(t) << t.error().message;
        ASSERT_EQ(t.value().rows.size(), 1u);
        EXPECT_EQ(t.value().rows[0][0], r.expected);
    }
    // A placeholder the endpoint does not declare is a configuration error, not an upstream call.
    std::vector<frost::source::parameter> none;
    auto missing =
        src.value()->run({"select $nope", none, model::deadline::after(std::chrono::seconds(10)), "/bind", 10});
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, model::error_code::config_error);
}

// The documented bodies and statuses, over raw HTTP.
TEST(EmulatorProtocol, StatusesAndBodies) {
    auto e = sft::start_emulator();
    sf::snowflake_settings s = sft::resolved_settings(*e);
    auto creds = sf::credentials::create(s);
    ASSERT_TRUE(creds);
    const std::string bearer = "Bearer " + creds.value()->current().value().token;
    sf::http_client http(std::chrono::milliseconds(2000), 1 << 20, "test/1");
    auto send = [&](const std::string& method, const std::string& target, const std::string& body,
                    std::string type = "application/json", std::string auth = {}) {
        return http.send(method, e->base_url() + target,
                         {{"Authorization", auth.empty() ? bearer : auth},
                          {"X-Snowflake-Authorization-Token-Type", "KEYPAIR_JWT"},
                          {"Content-Type", type}},
                         body, std::chrono::milliseconds(5000));
    };
    const std::string ok_body =
        R"({"statement":"select 1 as one","warehouse":"W","database":"DATA_APPS_DEMO","schema":"DEMO"})";

    auto r = send("POST", "/api/v2/statements", ok_body);  // synchronous, quick: 200 ResultSet
    ASSERT_EQ(r.status, 200) << r.body;
    auto rs = boost::json::parse(r.body).as_object();
    EXPECT_EQ(rs.at("code").as_string(), "090001");
    EXPECT_EQ(rs.at("sqlState").as_string(), "00000");
    EXPECT_EQ(rs.at("resultSetMetaData").at("format").as_string(), "jsonv2");
    EXPECT_EQ(rs.at("resultSetMetaData").at("rowType").at(0).at("type").as_string(), "fixed");
    EXPECT_EQ(rs.at("resultSetMetaData").at("rowType").at(0).at("name").as_string(), "ONE");
    EXPECT_EQ(rs.at("data").at(0).at(0).as_string(), "1");
    EXPECT_TRUE(rs.at("statementStatusUrl").as_string().starts_with("/api/v2/statements/"));

    r = send("POST", "/api/v2/statements?async=true", ok_body);
    EXPECT_EQ(r.status, 202);
    EXPECT_EQ(boost::json::parse(r.body).at("code").as_string(), "333334");

    EXPECT_EQ(send("POST", "/api/v2/statements", ok_body, "text/plain").status, 415);
    r = send("POST", "/api/v2/statements", "{not json");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(boost::json::parse(r.body).at("code").as_string(), "390142");
    r = send("POST", "/api/v2/statements",
             R"({"statement":"select 1","warehouse":"W","parameters":{"STATEMENT_TIMEOUT_IN_SECONDS":"5"}})");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(boost::json::parse(r.body).at("code").as_string(), "391917");
    r = send("POST", "/api/v2/statements", R"({"statement":"select 1"})");  // no warehouse
    EXPECT_EQ(r.status, 422);
    EXPECT_EQ(boost::json::parse(r.body).at("code").as_string(), "000606");
    r = send("POST", "/api/v2/statements",
             R"({"statement":"select nope","warehouse":"W","database":"DATA_APPS_DEMO"})");
    EXPECT_EQ(r.status, 422);
    EXPECT_EQ(boost::json::parse(r.body).at("code").as_string(), "000904");
    r = send("POST", "/api/v2/statements",
             R"({"statement":"select ?","warehouse":"W","bindings":{"1":{"type":"DATE","value":"soon"}}})");
    EXPECT_EQ(r.status, 422);
    EXPECT_EQ(boost::json::parse(r.body).at("code").as_string(), "100037");
    r = send("POST", "/api/v2/statements", ok_body, "application/json", "Bearer not-a-jwt");
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(boost::json::parse(r.body).at("code").as_string(), "390144");
    r = send("GET", "/api/v2/statements/01000000-0004-0000-0000-000000000000", "");
    EXPECT_EQ(r.status, 422);
    EXPECT_EQ(boost::json::parse(r.body).at("code").as_string(), "000709");
    r = send("POST", "/api/v2/statements/01000000-0004-0000-0000-000000000000/cancel", "");
    EXPECT_EQ(r.status, 422);
    EXPECT_EQ(send("GET", "/api/v2/statements", "").status, 405);
    EXPECT_EQ(send("GET", "/api/v3/nothing", "").status, 404);
}

#ifdef FROST_SNOWFLAKE_EMULATOR_BIN
// The emulator program, as CI or a developer runs it next to `frost serve`.
TEST(EmulatorProgram, ServesQueriesAndItsControlApi) {
    const auto dir = std::filesystem::temp_directory_path() / ("frost-sf-emu-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto port_file = (dir / "port").string();
    const auto pub = (dir / "key.pub").string();
    std::ofstream(pub) << keys().public_pem;
    const std::string db = frost::testing::sample_database(sft::sample_trips);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        execl(FROST_SNOWFLAKE_EMULATOR_BIN, FROST_SNOWFLAKE_EMULATOR_BIN, "--database", db.c_str(), "--public-key",
              pub.c_str(), "--port-file", port_file.c_str(), "--partition-rows", "100", static_cast<char*>(nullptr));
        _exit(127);
    }
    std::uint16_t port = 0;
    for (int i = 0; i < 200 && port == 0; ++i) {
        std::ifstream in(port_file);
        unsigned p = 0;
        if (in >> p)
            port = static_cast<std::uint16_t>(p);
        else
            std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    ASSERT_NE(port, 0) << "the emulator did not start";

    // Faults through the control API, then a query that must survive them.
    sf::http_client http(std::chrono::milliseconds(2000), 1 << 20, "test/1");
    const std::string base = "http://127.0.0.1:" + std::to_string(port);
    auto added =
        http.send("POST", base + "/_emulator/faults", {{"Content-Type", "application/json"}},
                  R"([{"target":"submit","action":"status","status":503,"count":1}])", std::chrono::milliseconds(2000));
    EXPECT_EQ(added.status, 200);
    EXPECT_EQ(
        http.send("POST", base + "/_emulator/faults", {}, R"([{"action":"explode"}])", std::chrono::milliseconds(2000))
            .status,
        400);

    auto c = frost::config::snowflake_from_keys("warehouse",
                                                {{"env_prefix", "FROST_TEST_UNSET_"},
                                                 {"account", "testorg-testaccount"},
                                                 {"user", "frost"},
                                                 {"private_key", keys().private_pkcs8},
                                                 {"host", base},
                                                 {"database", "DATA_APPS_DEMO"},
                                                 {"schema", "DEMO"},
                                                 {"warehouse", "W"},
                                                 {"poll_initial", "1ms"},
                                                 {"retry_base", "5ms"}},
                                                [](const std::string&) { return std::optional<std::string>(); });
    ASSERT_TRUE(c) << c.error().message;
    auto src = sf::snowflake_source::open("warehouse", std::move(c).value());
    ASSERT_TRUE(src) << src.error().message;
    std::vector<frost::source::parameter> none;
    auto t = src.value()->run({"select to_date(starttime) as d, count(*) as n from demo.trips group by 1 order by 1",
                               none, model::deadline::after(std::chrono::seconds(20)), "/program", 100'000});
    ASSERT_TRUE(t) << t.error().message;
    EXPECT_GT(t.value().rows.size(), 2000u);

    auto log = http.send("GET", base + "/_emulator/log", {}, "", std::chrono::milliseconds(2000));
    ASSERT_EQ(log.status, 200);
    const auto entries = boost::json::parse(log.body).as_array();
    int submits = 0, partitions = 0;
    for (const auto& en : entries) {
        submits += en.at("kind").as_string() == "submit";
        partitions += en.at("kind").as_string() == "partition";
    }
    EXPECT_EQ(submits, 2);
    EXPECT_GE(partitions, 20);

    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
}
#endif

}  // namespace
