// Lambda events are untrusted bytes (anyone who can call the API shapes most of them): the
// parser must reject bad input with an error, never crash, and whatever it accepts must be
// answerable with a well-formed response payload within the limit.
#include <boost/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "api/service.hpp"
#include "lambda/event.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace frost;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto event = lambda::parse_event(text, {"/api"});
    if (!event) {
        if (event.error().code != model::error_code::bad_request) std::abort();
        return 0;
    }
    const auto& req = event.value().request;
    if (req.method.empty() || req.target.empty() || req.target.front() != '/') std::abort();
    // Echo part of the request back so its bytes (any encoding) reach the encoder too.
    auto res = api::json_response(200, R"({"target":")" + req.target + "\"}");
    res.headers.emplace_back("Set-Cookie", std::string(req.header("cookie")));
    if (!req.body.empty()) res.body = req.body;
    const auto out = lambda::encode_response(event.value(), res, 4096);
    if (out.payload.size() > 4096 && out.status != 502) std::abort();
    boost::system::error_code ec;
    auto doc = boost::json::parse(out.payload, ec);
    if (ec || !doc.is_object() || !doc.as_object().contains("statusCode")) std::abort();
    return 0;
}
