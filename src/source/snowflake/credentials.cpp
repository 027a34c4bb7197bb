#include "source/snowflake/credentials.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <boost/json.hpp>

#include <cstring>

#include "codec/base64.hpp"

namespace frost::source::snowflake {

namespace {

model::error key_error(std::string message, std::string hint = {}) {
    ERR_clear_error();  // OpenSSL's queue is per thread; leave it clean for the next caller
    return {model::error_code::config_error, std::move(message), {}, std::move(hint)};
}

struct bio_deleter {
    void operator()(BIO* b) const noexcept { BIO_free(b); }
};
struct md_ctx_deleter {
    void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};

// OpenSSL asks for the passphrase through this; an empty one means "none given", so OpenSSL
// fails instead of prompting on a terminal.
int passphrase_callback(char* buf, int size, int /*rwflag*/, void* user) {
    const auto* pass = static_cast<const std::string_view*>(user);
    if (!pass || pass->empty() || static_cast<int>(pass->size()) > size) return 0;
    std::memcpy(buf, pass->data(), pass->size());
    return static_cast<int>(pass->size());
}

// JWS parts are base64url without padding (RFC 7515 §2).
std::string base64url(std::string_view bytes) {
    return codec::base64_encode(bytes, codec::base64_alphabet::url, codec::base64_padding::forbidden);
}

}  // namespace

key_pair::key_pair(evp_pkey_st* key) : key_(key) {}
key_pair::key_pair(key_pair&& other) noexcept : key_(other.key_), fingerprint_(std::move(other.fingerprint_)) {
    other.key_ = nullptr;
}
key_pair& key_pair::operator=(key_pair&& other) noexcept {
    if (this != &other) {
        EVP_PKEY_free(key_);
        key_ = other.key_;
        fingerprint_ = std::move(other.fingerprint_);
        other.key_ = nullptr;
    }
    return *this;
}
key_pair::~key_pair() {
    EVP_PKEY_free(key_);
}

model::result<key_pair> key_pair::load(std::string_view pem, std::string_view passphrase) {
    ERR_clear_error();
    if (pem.find("-----BEGIN") == std::string_view::npos)
        return key_error("the private key is not PEM text (expected -----BEGIN PRIVATE KEY-----)",
                         "give the PEM text itself, or a file path in private_key_path");
    if (pem.find("PUBLIC KEY-----") != std::string_view::npos && pem.find("PRIVATE KEY-----") == std::string_view::npos)
        return key_error("the private key setting holds a public key; Frost needs the private key (rsa_key.p8)");
    const bool encrypted = pem.find("ENCRYPTED") != std::string_view::npos;
    if (encrypted && passphrase.empty())
        return key_error("the private key is encrypted but no passphrase is set",
                         "set SNOWFLAKE_PRIVATE_KEY_PASSPHRASE (or private_key_passphrase)");
    std::unique_ptr<BIO, bio_deleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) return key_error("cannot read the private key (out of memory)");
    EVP_PKEY* raw = PEM_read_bio_PrivateKey(bio.get(), nullptr, passphrase_callback, &passphrase);
    if (!raw) {
        if (encrypted) return key_error("cannot decrypt the private key: wrong passphrase or damaged key");
        return key_error("the private key is not a valid PEM RSA private key");
    }
    key_pair out(raw);
    if (EVP_PKEY_base_id(raw) != EVP_PKEY_RSA)
        return key_error("the private key is not an RSA key; Snowflake key-pair auth needs RSA (2048 bits or more)");
    if (EVP_PKEY_bits(raw) < 2048)
        return key_error("the RSA key has " + std::to_string(EVP_PKEY_bits(raw)) +
                         " bits; Snowflake requires at least 2048");

    unsigned char* der = nullptr;
    const int der_len = i2d_PUBKEY(raw, &der);
    if (der_len <= 0) return key_error("cannot encode the public key");
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    const int ok = EVP_Digest(der, static_cast<std::size_t>(der_len), digest, &digest_len, EVP_sha256(), nullptr);
    OPENSSL_free(der);
    if (ok != 1) return key_error("cannot hash the public key");
    out.fingerprint_ =
        "SHA256:" + codec::base64_encode(std::string_view(reinterpret_cast<const char*>(digest), digest_len));
    return out;
}

std::string key_pair::public_key_pem() const {
    std::unique_ptr<BIO, bio_deleter> bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PUBKEY(bio.get(), key_) != 1) return {};
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

model::result<std::string> key_pair::sign_rs256(std::string_view data) const {
    std::unique_ptr<EVP_MD_CTX, md_ctx_deleter> ctx(EVP_MD_CTX_new());
    std::size_t len = 0;
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()), data.size()) !=
            1) {
        ERR_clear_error();
        return model::error{model::error_code::internal, "cannot sign the Snowflake JWT", {}, {}};
    }
    std::string sig(len, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
        ERR_clear_error();
        return model::error{model::error_code::internal, "cannot sign the Snowflake JWT", {}, {}};
    }
    sig.resize(len);
    return sig;
}

model::result<std::string> sign_jwt(const key_pair& key, const jwt_claims& claims) {
    boost::json::object payload;
    payload["iss"] = claims.issuer;
    payload["sub"] = claims.subject;
    payload["iat"] = claims.issued_at;
    payload["exp"] = claims.expires_at;
    std::string input = base64url(R"({"alg":"RS256","typ":"JWT"})") + "." + base64url(boost::json::serialize(payload));
    auto sig = key.sign_rs256(input);
    if (!sig) return std::move(sig).error();
    input += '.';
    input += base64url(sig.value());
    return input;
}

model::result<std::unique_ptr<credentials>> credentials::create(const snowflake_settings& settings, wall_clock now) {
    std::unique_ptr<credentials> c(new credentials());
    c->method_ = settings.auth;
    c->now_ = std::move(now);
    c->lifetime_ = settings.jwt_lifetime;
    c->renew_before_ = settings.jwt_renew_before;
    if (settings.auth == auth_method::key_pair) {
        auto key = key_pair::load(settings.private_key_pem, settings.passphrase);
        if (!key) return std::move(key).error();
        c->key_ = std::make_unique<key_pair>(std::move(key).value());
        c->subject_ = jwt_account(settings.account) + ".";
        for (char ch : settings.user) c->subject_ += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    } else {
        c->token_ = settings.token;
    }
    return c;
}

model::result<bearer> credentials::current() {
    if (method_ == auth_method::oauth) return bearer{token_, "OAUTH"};
    if (method_ == auth_method::pat) return bearer{token_, "PROGRAMMATIC_ACCESS_TOKEN"};
    std::lock_guard lock(mutex_);
    const auto now = now_();
    if (token_.empty() || now >= renew_at_) {
        const auto iat = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
        jwt_claims claims{subject_ + "." + key_->fingerprint(), subject_, iat, iat + lifetime_.count()};
        auto token = sign_jwt(*key_, claims);
        if (!token) return std::move(token).error();
        token_ = std::move(token).value();
        renew_at_ = now + lifetime_ - renew_before_;
    }
    return bearer{token_, "KEYPAIR_JWT"};
}

void credentials::reject(const std::string& token) {
    if (method_ != auth_method::key_pair) return;
    std::lock_guard lock(mutex_);
    if (token == token_) token_.clear();
}

}  // namespace frost::source::snowflake
