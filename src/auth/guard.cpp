#include "auth/guard.hpp"

#include <boost/json/serialize.hpp>

#include <chrono>

#include "api/service.hpp"
#include "codec/http_tokens.hpp"

namespace frost::auth {

namespace {

api::response refuse(int status, std::string message, std::string_view challenge_error = {}) {
    const auto code = status == 401 ? model::error_code::unauthorized : model::error_code::forbidden;
    auto r = api::error_response({code, std::move(message), {}, {}});
    std::string challenge = "Bearer realm=\"frost\"";
    if (!challenge_error.empty()) challenge += ", error=\"" + std::string(challenge_error) + "\"";
    r.set_header("WWW-Authenticate", challenge);
    r.set_header("Cache-Control", "no-store");
    return r;
}

using codec::trim;

// A compact JWS is three base64url parts; an API key is anything else.
bool looks_like_jwt(std::string_view s) {
    std::size_t dots = 0;
    for (char c : s) dots += c == '.';
    return dots == 2;
}

std::optional<std::string> claim_text(const boost::json::value& v) {
    if (v.is_string()) return std::string(v.get_string());
    if (v.is_int64()) return std::to_string(v.get_int64());
    if (v.is_uint64()) return std::to_string(v.get_uint64());
    if (v.is_bool()) return v.get_bool() ? "true" : "false";
    if (v.is_double()) return boost::json::serialize(v);
    return std::nullopt;  // objects, arrays, null: nothing a scalar parameter can hold
}

}  // namespace

request_guard::request_guard(std::shared_ptr<const config::config> cfg)
    : cfg_(std::move(cfg)), keys_(cfg_->auth.api_keys) {}

model::result<std::unique_ptr<request_guard>> request_guard::create(std::shared_ptr<const config::config> cfg) {
    const auto& a = cfg->auth;
    for (const auto& e : cfg->endpoints) {
        const auto mode = e.auth.value_or(a.default_mode);
        auto fail = [&](const std::string& why) {
            return model::error{
                model::error_code::config_error, cfg->file + ": endpoint " + e.path + ": " + why, {}, {}};
        };
        if ((mode == config::auth_mode::jwt || !e.claims.empty()) && !a.jwt)
            return fail("needs JWT but auth.jwt is not configured");
        if (!e.claims.empty() && mode != config::auth_mode::jwt) return fail("claims need auth: jwt");
        if (mode == config::auth_mode::api_key && a.api_keys.empty())
            return fail("needs an API key but no keys are configured (auth.api_keys or FROST_API_KEYS)");
        if (mode == config::auth_mode::any && a.api_keys.empty() && !a.jwt)
            return fail("auth: any needs API keys or auth.jwt");
    }
    for (const auto& k : a.api_keys)
        for (const auto& p : k.endpoints) {
            bool known = false;
            for (const auto& e : cfg->endpoints) known = known || e.path == p;
            if (!known)
                return model::error{
                    model::error_code::config_error, cfg->file + ": API key " + k.name + ": no endpoint " + p, {}, {}};
        }
    std::unique_ptr<request_guard> g(new request_guard(cfg));
    if (a.jwt) g->jwks_ = jwks_cache::start(*a.jwt, cfg->base_dir);
    return g;
}

std::string request_guard::client_ip(const api::request& req) const {
    if (cfg_->auth.trust_forwarded_for) {
        auto xff = req.header("x-forwarded-for");
        if (!xff.empty()) {
            const auto comma = xff.rfind(',');
            auto last = trim(comma == std::string_view::npos ? xff : xff.substr(comma + 1));
            if (!last.empty() && last.size() <= 64) return std::string(last);
        }
    }
    return req.client_address;
}

std::optional<api::response> request_guard::check(api::request& req, const config::endpoint_config& endpoint) {
    const auto& a = cfg_->auth;
    const auto mode = endpoint.auth.value_or(a.default_mode);
    std::string bucket_owner;

    if (mode != config::auth_mode::none) {
        std::string_view presented = trim(req.header("x-api-key"));
        bool from_api_key_header = !presented.empty();
        if (!from_api_key_header) {
            auto authz = trim(req.header("authorization"));
            if (authz.size() > 7 && (authz.substr(0, 7) == "Bearer " || authz.substr(0, 7) == "bearer "))
                presented = trim(authz.substr(7));
            else if (!authz.empty()) {
                ++counters_.unauthorized;
                return refuse(401, "use Authorization: Bearer <token> or X-Api-Key", "invalid_request");
            }
        }
        if (presented.empty()) {
            ++counters_.unauthorized;
            return refuse(401, "this endpoint needs credentials");
        }
        const bool is_jwt = !from_api_key_header && looks_like_jwt(presented);
        const bool want_key = mode == config::auth_mode::api_key || mode == config::auth_mode::any;
        const bool want_jwt = mode == config::auth_mode::jwt || mode == config::auth_mode::any;

        if (!is_jwt) {
            const auto* key = want_key ? keys_.match(presented) : nullptr;
            if (!key) {
                ++counters_.unauthorized;
                return refuse(401, want_key ? "the API key is not valid" : "this endpoint needs a JWT",
                              "invalid_token");
            }
            if (!api_key_store::allows(*key, endpoint.path)) {
                ++counters_.forbidden;
                return refuse(403, "the API key may not call " + endpoint.path, "insufficient_scope");
            }
            req.principal = "key:" + key->name;
        } else {
            if (!want_jwt || !jwks_) {
                ++counters_.unauthorized;
                return refuse(401, "this endpoint needs an API key", "invalid_token");
            }
            auto keys = jwks_->keys();
            if (!keys) {
                auto r = api::error_response({model::error_code::source_unavailable,
                                              "token signing keys are not available yet; try again shortly",
                                              {},
                                              {}});
                r.set_header("Cache-Control", "no-store");
                return r;
            }
            const double now =
                std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
            auto outcome = verify_jwt(presented, *keys, *a.jwt, now);
            if (outcome.failure == jwt_failure::unknown_key) {
                ++counters_.unknown_kid;
                jwks_->request_refetch();
            }
            if (outcome.failure != jwt_failure::none) {
                ++counters_.unauthorized;
                return refuse(401, std::string(describe(outcome.failure)), "invalid_token");
            }
            for (const auto& [param, claim] : endpoint.claims) {
                auto it = outcome.claims.find(claim);
                auto text = it == outcome.claims.end() ? std::nullopt : claim_text(it->value());
                if (!text) {
                    ++counters_.forbidden;
                    return refuse(403, "the token has no usable claim " + claim, "insufficient_scope");
                }
                req.fixed_params.emplace_back(param, std::move(*text));
            }
            std::string subject = "jwt";
            if (auto it = outcome.claims.find("sub"); it != outcome.claims.end() && it->value().is_string())
                subject = std::string(
                    it->value().get_string().subview(0, std::min<std::size_t>(128, it->value().get_string().size())));
            req.principal = "sub:" + subject;
        }
        bucket_owner = req.principal;
    }

    const auto& limit = endpoint.rate_limit ? *endpoint.rate_limit : a.rate_limit;
    if (limit.per_second > 0) {
        if (bucket_owner.empty()) bucket_owner = "ip:" + client_ip(req);
        const std::string bucket = endpoint.path + '|' + bucket_owner;
        if (auto wait = limiter_.take(bucket, limit, model::clock::now())) {
            ++counters_.rate_limited;
            auto r = api::error_response({model::error_code::rate_limited, "too many requests; slow down", {}, {}});
            const auto seconds = std::max<long long>(1, (wait->count() + 999) / 1000);
            r.set_header("Retry-After", std::to_string(seconds));
            return r;
        }
    }
    return std::nullopt;
}

}  // namespace frost::auth
