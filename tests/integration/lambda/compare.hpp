#pragma once

// Shared by the Lambda integration tests: which requests to send, and how an answer through
// a front door is compared with the HTTP server's answer to the same request.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <string>
#include <vector>

#include "config/config.hpp"
#include "emulators/lambda/gateway.hpp"
#include "support/test_server.hpp"

namespace frost::testing {

/// Every seed route of `cfg` (endpoints under /test/ excluded) with no dates, ISO dates, the
/// seed's MM/DD/YYYY dates and a bad date; plus an unknown path and an unknown parameter.
inline std::vector<std::string> seed_targets(const config::config& cfg) {
    std::vector<std::string> out;
    for (const auto& e : cfg.endpoints) {
        if (e.path.starts_with("/test/")) continue;
        out.push_back(e.path);
        if (!e.date_range) continue;
        const auto& r = *e.date_range;
        out.push_back(e.path + "?" + r.start + "=2013-06-01&" + r.end + "=2013-07-31");
        out.push_back(e.path + "?" + r.start + "=06/01/2013&" + r.end + "=07/31/2013");
        out.push_back(e.path + "?" + r.start + "=2013-13-45&" + r.end + "=2013-07-31");
    }
    out.push_back("/not/a/route");
    out.push_back("/trips/monthly?no_such_parameter=1");
    return out;
}

inline std::vector<emulators::lambda::front_door> all_doors() {
    using emulators::lambda::front_door;
    return {front_door::rest, front_door::http_api, front_door::function_url, front_door::alb,
            front_door::alb_multi_value};
}

/// Same status, same content type and CORS header, same JSON body apart from `time_ms`
/// (the handler's own run time, different on every call).
inline void expect_same_answer(const http_answer& expected, const emulators::lambda::http_reply& got) {
    namespace json = boost::json;
    EXPECT_EQ(got.status, expected.status);
    EXPECT_EQ(got.header("content-type"), expected.header("content-type"));
    EXPECT_EQ(got.header("access-control-allow-origin"), expected.header("access-control-allow-origin"));
    EXPECT_EQ(got.header("cache-control"), expected.header("cache-control"));
    boost::system::error_code ea, eb;
    auto a = json::parse(expected.body, ea);
    auto b = json::parse(got.body, eb);
    if (ea || eb || !a.is_object() || !b.is_object()) {
        EXPECT_EQ(got.body, expected.body);
        return;
    }
    a.as_object().erase("time_ms");
    b.as_object().erase("time_ms");
    EXPECT_EQ(b, a) << "HTTP: " << expected.body.substr(0, 400) << "\nLambda: " << got.body.substr(0, 400);
}

}  // namespace frost::testing
