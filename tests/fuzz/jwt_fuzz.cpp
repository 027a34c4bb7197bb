// libFuzzer target: untrusted token text through verify_jwt, and untrusted JWKS documents
// through parse_jwks (src/auth/jwt.*). Checks that nothing crashes and that no input is
// accepted as a valid token (the fuzzer holds no private key).

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "auth/jwt.hpp"

namespace {

const frost::auth::key_set& keys() {
    // A fixed public P-256 key (RFC 7515 appendix A.3) and RSA key (appendix A.2).
    static const frost::auth::key_set set = [] {
        auto k = frost::auth::parse_jwks(R"({"keys":[
 {"kty":"EC","crv":"P-256","kid":"a3","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
 {"kty":"RSA","kid":"a2","e":"AQAB","n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"}
]})");
        if (!k) std::abort();
        return std::move(k).value();
    }();
    return set;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    frost::config::jwt_config rules;
    rules.algorithms = {"RS256", "ES256"};
    auto out = frost::auth::verify_jwt(text, keys(), rules, 1.7e9);
    if (out.failure == frost::auth::jwt_failure::none) std::abort();  // forged without a private key
    if (size < 200'000) (void)frost::auth::parse_jwks(text);
    return 0;
}
