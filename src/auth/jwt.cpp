#include "auth/jwt.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <cmath>

#include "codec/base64.hpp"

namespace frost::auth {

namespace {

// JWS parts and JWK members are base64url without padding (RFC 7515 §2, RFC 7518 §6).
std::optional<std::string> unpadded_base64url(std::string_view text) {
    return codec::base64_decode(text, codec::base64_alphabet::url, codec::base64_padding::forbidden);
}

constexpr std::size_t max_token_bytes = std::size_t{8} * 1024;
constexpr std::size_t max_jwks_bytes = 150'000;  // API Gateway's JWKS size quota

struct bn_free {
    void operator()(BIGNUM* p) const noexcept { BN_free(p); }
};
struct bld_free {
    void operator()(OSSL_PARAM_BLD* p) const noexcept { OSSL_PARAM_BLD_free(p); }
};
struct param_free {
    void operator()(OSSL_PARAM* p) const noexcept { OSSL_PARAM_free(p); }
};
struct pkey_ctx_free {
    void operator()(EVP_PKEY_CTX* p) const noexcept { EVP_PKEY_CTX_free(p); }
};
struct md_ctx_free {
    void operator()(EVP_MD_CTX* p) const noexcept { EVP_MD_CTX_free(p); }
};
struct ecdsa_sig_free {
    void operator()(ECDSA_SIG* p) const noexcept { ECDSA_SIG_free(p); }
};

std::shared_ptr<EVP_PKEY> own(EVP_PKEY* k) {
    return std::shared_ptr<EVP_PKEY>(k, [](EVP_PKEY* p) { EVP_PKEY_free(p); });
}

const boost::json::string* string_at(const boost::json::object& o, std::string_view key) {
    auto it = o.find(key);
    return it != o.end() && it->value().is_string() ? &it->value().get_string() : nullptr;
}

std::shared_ptr<EVP_PKEY> from_params(const char* type, OSSL_PARAM_BLD* bld) {
    std::unique_ptr<OSSL_PARAM, param_free> params(OSSL_PARAM_BLD_to_param(bld));
    if (!params) return nullptr;
    std::unique_ptr<EVP_PKEY_CTX, pkey_ctx_free> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    EVP_PKEY* key = nullptr;
    if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
        EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0)
        return nullptr;
    return own(key);
}

std::shared_ptr<EVP_PKEY> rsa_key(const std::string& n, const std::string& e) {
    std::unique_ptr<BIGNUM, bn_free> bn_n(
        BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()), static_cast<int>(n.size()), nullptr));
    std::unique_ptr<BIGNUM, bn_free> bn_e(
        BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()), static_cast<int>(e.size()), nullptr));
    std::unique_ptr<OSSL_PARAM_BLD, bld_free> bld(OSSL_PARAM_BLD_new());
    if (!bn_n || !bn_e || !bld) return nullptr;
    if (BN_num_bits(bn_n.get()) < 2048 || BN_num_bits(bn_n.get()) > 8192 || BN_num_bits(bn_e.get()) > 64)
        return nullptr;
    if (!OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) ||
        !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()))
        return nullptr;
    return from_params("RSA", bld.get());
}

std::shared_ptr<EVP_PKEY> p256_key(const std::string& x, const std::string& y) {
    if (x.size() != 32 || y.size() != 32) return nullptr;
    std::string point = "\x04" + x + y;
    std::unique_ptr<OSSL_PARAM_BLD, bld_free> bld(OSSL_PARAM_BLD_new());
    if (!bld) return nullptr;
    char group[] = "prime256v1";
    if (!OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()))
        return nullptr;
    auto key = from_params("EC", bld.get());
    if (!key) return nullptr;
    // fromdata does not promise an on-curve check: ask for one.
    std::unique_ptr<EVP_PKEY_CTX, pkey_ctx_free> check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
    if (!check || EVP_PKEY_public_check(check.get()) != 1) return nullptr;
    return key;
}

bool verify_signature(const public_key& key, std::string_view signed_part, const std::string& signature) {
    std::string der;
    const std::string* sig = &signature;
    if (key.alg == "ES256") {
        // JWS carries r || s (32 bytes each); OpenSSL wants DER.
        if (signature.size() != 64) return false;
        std::unique_ptr<ECDSA_SIG, ecdsa_sig_free> es(ECDSA_SIG_new());
        BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(signature.data()), 32, nullptr);
        BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(signature.data()) + 32, 32, nullptr);
        if (!es || !r || !s || ECDSA_SIG_set0(es.get(), r, s) != 1) {
            BN_free(r);
            BN_free(s);
            return false;
        }
        unsigned char* out = nullptr;
        const int len = i2d_ECDSA_SIG(es.get(), &out);
        if (len <= 0) return false;
        der.assign(reinterpret_cast<const char*>(out), static_cast<std::size_t>(len));
        OPENSSL_free(out);
        sig = &der;
    } else if (key.alg != "RS256") {
        return false;
    }
    std::unique_ptr<EVP_MD_CTX, md_ctx_free> ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.key.get()) != 1) return false;
    return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig->data()), sig->size(),
                            reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size()) == 1;
}

std::optional<boost::json::object> parse_object(const std::string& text) {
    boost::system::error_code ec;
    auto v = boost::json::parse(text, ec);
    if (ec || !v.is_object()) return std::nullopt;
    return std::move(v.get_object());
}

std::optional<double> number_at(const boost::json::object& o, std::string_view key, bool& present) {
    auto it = o.find(key);
    present = it != o.end();
    if (!present || !it->value().is_number()) return std::nullopt;
    boost::system::error_code ec;
    const double v = it->value().to_number<double>(ec);
    if (ec || !std::isfinite(v)) return std::nullopt;
    return v;
}

}  // namespace

const public_key* key_set::find(std::string_view kid) const noexcept {
    for (const auto& k : keys)
        if (k.kid == kid) return &k;
    return nullptr;
}

model::result<key_set> parse_jwks(std::string_view json) {
    auto fail = [](std::string m) {
        return model::error{model::error_code::config_error, "JWKS: " + std::move(m), {}, {}};
    };
    if (json.size() > max_jwks_bytes) return fail("document larger than 150000 bytes");
    boost::system::error_code ec;
    auto doc = boost::json::parse(json, ec);
    if (ec || !doc.is_object()) return fail("not a JSON object");
    auto it = doc.get_object().find("keys");
    if (it == doc.get_object().end() || !it->value().is_array()) return fail("no \"keys\" array");
    key_set out;
    for (const auto& item : it->value().get_array()) {
        if (!item.is_object()) continue;
        const auto& k = item.get_object();
        const auto* kty = string_at(k, "kty");
        const auto* use = string_at(k, "use");
        const auto* alg = string_at(k, "alg");
        const auto* kid = string_at(k, "kid");
        if (!kty || (use && *use != "sig")) continue;
        public_key pk;
        if (kid) pk.kid = std::string(*kid);
        if (*kty == "RSA") {
            const auto* n = string_at(k, "n");
            const auto* e = string_at(k, "e");
            if (!n || !e || (alg && *alg != "RS256")) continue;
            auto nb = unpadded_base64url(*n), eb = unpadded_base64url(*e);
            if (!nb || !eb) continue;
            pk.alg = "RS256";
            pk.key = rsa_key(*nb, *eb);
        } else if (*kty == "EC") {
            const auto* crv = string_at(k, "crv");
            const auto* x = string_at(k, "x");
            const auto* y = string_at(k, "y");
            if (!crv || *crv != "P-256" || !x || !y || (alg && *alg != "ES256")) continue;
            auto xb = unpadded_base64url(*x), yb = unpadded_base64url(*y);
            if (!xb || !yb) continue;
            pk.alg = "ES256";
            pk.key = p256_key(*xb, *yb);
        } else {
            continue;  // oct (HMAC) and anything else: never
        }
        if (pk.key) out.keys.push_back(std::move(pk));
    }
    if (out.keys.empty()) return fail("no usable RS256 or ES256 signing key");
    return out;
}

std::string_view describe(jwt_failure f) noexcept {
    switch (f) {
        case jwt_failure::none:
            return "valid";
        case jwt_failure::malformed:
            return "the token is malformed";
        case jwt_failure::bad_algorithm:
            return "the token's algorithm is not accepted";
        case jwt_failure::unknown_key:
            return "the token is signed with an unknown key";
        case jwt_failure::bad_signature:
            return "the token's signature is invalid";
        case jwt_failure::expired:
            return "the token has expired";
        case jwt_failure::missing_exp:
            return "the token has no expiry (exp)";
        case jwt_failure::not_yet_valid:
            return "the token is not valid yet (nbf)";
        case jwt_failure::issued_in_future:
            return "the token is issued in the future (iat)";
        case jwt_failure::bad_issuer:
            return "the token's issuer is not accepted";
        case jwt_failure::bad_audience:
            return "the token's audience is not accepted";
    }
    return "the token is invalid";
}

jwt_outcome verify_jwt(std::string_view token, const key_set& keys, const config::jwt_config& rules, double now) {
    jwt_outcome out;
    auto fail = [&out](jwt_failure f) {
        out.failure = f;
        out.claims.clear();
        return out;
    };
    if (token.empty() || token.size() > max_token_bytes) return fail(jwt_failure::malformed);
    const auto dot1 = token.find('.');
    const auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
        return fail(jwt_failure::malformed);
    auto header_text = unpadded_base64url(token.substr(0, dot1));
    auto payload_text = unpadded_base64url(token.substr(dot1 + 1, dot2 - dot1 - 1));
    auto signature = unpadded_base64url(token.substr(dot2 + 1));
    if (!header_text || !payload_text || !signature) return fail(jwt_failure::malformed);
    auto header = parse_object(*header_text);
    if (!header) return fail(jwt_failure::malformed);

    const auto* alg = string_at(*header, "alg");
    if (!alg) return fail(jwt_failure::malformed);
    if (std::find(rules.algorithms.begin(), rules.algorithms.end(), std::string_view(*alg)) == rules.algorithms.end())
        return fail(jwt_failure::bad_algorithm);
    if (header->contains("crit")) return fail(jwt_failure::bad_algorithm);  // no extensions understood

    const std::string_view signed_part = token.substr(0, dot2);
    bool verified = false;
    if (const auto* kid = string_at(*header, "kid")) {
        const auto* key = keys.find(*kid);
        if (!key) return fail(jwt_failure::unknown_key);
        if (key->alg != *alg) return fail(jwt_failure::bad_algorithm);
        verified = verify_signature(*key, signed_part, *signature);
    } else if (header->contains("kid")) {
        return fail(jwt_failure::malformed);
    } else {
        bool any = false;
        for (const auto& key : keys.keys) {
            if (key.alg != *alg) continue;
            any = true;
            if (verify_signature(key, signed_part, *signature)) {
                verified = true;
                break;
            }
        }
        if (!any) return fail(jwt_failure::unknown_key);
    }
    if (!verified) return fail(jwt_failure::bad_signature);

    auto claims = parse_object(*payload_text);
    if (!claims) return fail(jwt_failure::malformed);
    const double leeway = std::chrono::duration<double>(rules.leeway).count();
    bool present = false;
    auto exp = number_at(*claims, "exp", present);
    if (!exp) return fail(present ? jwt_failure::malformed : jwt_failure::missing_exp);
    if (now > *exp + leeway) return fail(jwt_failure::expired);
    if (auto nbf = number_at(*claims, "nbf", present); present) {
        if (!nbf) return fail(jwt_failure::malformed);
        if (*nbf - leeway > now) return fail(jwt_failure::not_yet_valid);
    }
    if (auto iat = number_at(*claims, "iat", present); present) {
        if (!iat) return fail(jwt_failure::malformed);
        if (*iat - leeway > now) return fail(jwt_failure::issued_in_future);
    }
    if (!rules.issuer.empty()) {
        const auto* iss = string_at(*claims, "iss");
        if (!iss || *iss != rules.issuer) return fail(jwt_failure::bad_issuer);
    }
    if (!rules.audience.empty()) {
        auto accepted = [&rules](std::string_view a) {
            return std::find(rules.audience.begin(), rules.audience.end(), a) != rules.audience.end();
        };
        bool ok = false;
        if (auto it = claims->find("aud"); it != claims->end()) {
            if (it->value().is_string())
                ok = accepted(it->value().get_string());
            else if (it->value().is_array())
                for (const auto& a : it->value().get_array()) ok = ok || (a.is_string() && accepted(a.get_string()));
        } else if (const auto* client = string_at(*claims, "client_id")) {
            ok = accepted(*client);  // Cognito access tokens carry client_id instead of aud
        }
        if (!ok) return fail(jwt_failure::bad_audience);
    }
    out.claims = std::move(*claims);
    return out;
}

}  // namespace frost::auth
