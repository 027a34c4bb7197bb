#pragma once

// RSA keys for Snowflake tests, made by the `openssl` command-line tool (an oracle independent
// of Frost's OpenSSL calls), once per process, in a temporary folder removed at exit.

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>

#include <unistd.h>

namespace frost::testing::snowflake_keys {

/// Runs a shell command; its standard output, or throws when it fails.
inline std::string shell(const std::string& command) {
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
    if (!pipe) throw std::runtime_error("cannot run: " + command);
    std::string out;
    std::array<char, 4096> buf{};
    while (std::size_t n = fread(buf.data(), 1, buf.size(), pipe.get())) out.append(buf.data(), n);
    const int status = pclose(pipe.release());
    if (status != 0) throw std::runtime_error("command failed: " + command);
    return out;
}

inline std::string read(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/// The keys and their expected fingerprints.
struct key_set {
    std::filesystem::path dir;
    std::string private_pkcs8;      ///< -----BEGIN PRIVATE KEY-----
    std::string private_pkcs1;      ///< -----BEGIN RSA PRIVATE KEY----- (same key)
    std::string private_encrypted;  ///< -----BEGIN ENCRYPTED PRIVATE KEY----- (same key)
    std::string passphrase = "correct horse battery staple";
    std::string public_pem;     ///< -----BEGIN PUBLIC KEY-----
    std::string fingerprint;    ///< SHA256:... computed by openssl dgst + base64
    std::string other_private;  ///< a second 2048-bit key
    std::string other_public;
    std::string small_private;  ///< 1024 bits: Snowflake refuses it
    std::string ec_private;     ///< P-256: not RSA
};

/// Made once per process.
inline const key_set& keys() {
    static std::once_flag once;
    static key_set k;
    std::call_once(once, [] {
        k.dir = std::filesystem::temp_directory_path() / ("frost-sf-keys-" + std::to_string(::getpid()));
        std::filesystem::create_directories(k.dir);
        const std::string d = k.dir.string();
        shell("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out " + d + "/key.p8 2>/dev/null");
        shell("openssl pkey -in " + d + "/key.p8 -traditional -out " + d + "/key.pkcs1 2>/dev/null");
        shell("openssl pkcs8 -topk8 -v2 aes-256-cbc -in " + d + "/key.p8 -out " + d +
              "/key.enc.p8 -passout 'pass:" + k.passphrase + "' 2>/dev/null");
        shell("openssl pkey -in " + d + "/key.p8 -pubout -out " + d + "/key.pub 2>/dev/null");
        k.fingerprint = "SHA256:" + shell("openssl pkey -in " + d +
                                          "/key.p8 -pubout -outform DER 2>/dev/null | "
                                          "openssl dgst -sha256 -binary | openssl base64 -A");
        shell("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out " + d + "/other.p8 2>/dev/null");
        shell("openssl pkey -in " + d + "/other.p8 -pubout -out " + d + "/other.pub 2>/dev/null");
        shell("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out " + d + "/small.p8 2>/dev/null");
        shell("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " + d + "/ec.p8 2>/dev/null");
        k.private_pkcs8 = read(k.dir / "key.p8");
        k.private_pkcs1 = read(k.dir / "key.pkcs1");
        k.private_encrypted = read(k.dir / "key.enc.p8");
        k.public_pem = read(k.dir / "key.pub");
        k.other_private = read(k.dir / "other.p8");
        k.other_public = read(k.dir / "other.pub");
        k.small_private = read(k.dir / "small.p8");
        k.ec_private = read(k.dir / "ec.p8");
        static struct cleanup {
            std::filesystem::path d;
            ~cleanup() {
                std::error_code ec;
                std::filesystem::remove_all(d, ec);
            }
        } remover{k.dir};
    });
    return k;
}

}  // namespace frost::testing::snowflake_keys
