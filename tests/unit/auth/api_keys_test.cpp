#include <gtest/gtest.h>
#include <openssl/sha.h>

#include "auth/api_keys.hpp"

namespace {

std::string oracle_sha256_hex(const std::string& s) {
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
    char hex[65];
    for (int i = 0; i < 32; ++i) std::snprintf(hex + 2 * i, 3, "%02x", d[i]);
    return std::string(hex, 64);
}

TEST(api_keys, sha256_hex_matches_known_vector) {
    // FIPS 180-2 test vector.
    EXPECT_EQ(frost::auth::sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(frost::auth::sha256_hex("frost-key-1"), oracle_sha256_hex("frost-key-1"));
}

TEST(api_keys, matches_by_hash_and_scopes_by_path) {
    std::vector<frost::config::api_key_config> keys = {
        {"mobile", oracle_sha256_hex("k-mobile"), {"/trips/monthly"}},
        {"admin", oracle_sha256_hex("k-admin"), {}},
    };
    frost::auth::api_key_store store(keys);
    const auto* m = store.match("k-mobile");
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->name, "mobile");
    EXPECT_TRUE(frost::auth::api_key_store::allows(*m, "/trips/monthly"));
    EXPECT_FALSE(frost::auth::api_key_store::allows(*m, "/trips/day_of_week"));
    const auto* a = store.match("k-admin");
    ASSERT_NE(a, nullptr);
    EXPECT_TRUE(frost::auth::api_key_store::allows(*a, "/anything"));
    EXPECT_EQ(store.match("k-mobil"), nullptr);
    EXPECT_EQ(store.match(""), nullptr);
    EXPECT_EQ(store.match(oracle_sha256_hex("k-mobile")), nullptr) << "the stored hash is not itself a key";
}

}  // namespace
