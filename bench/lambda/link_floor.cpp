// The process-start floor of each layer of libraries Frost links (issue 14, R2). Built several
// times by bench/lambda/link_floor.sh with a different FLOOR_LAYER and link line each time: the
// program prints `{}` and exits, so its CPU time is the dynamic loader's work (mapping and
// relocating the libraries) plus static initialisers, and nothing of Frost's own. The calls
// under `argc > 99` never run; they only make the linker keep each library as a dependency.
#include <cstdio>

#if FLOOR_LAYER >= 1
#include <string>
#endif
#if FLOOR_LAYER >= 2
#include <openssl/evp.h>
#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>
#include <zlib.h>

#include <boost/json.hpp>
#include <boost/url.hpp>
#endif
#if FLOOR_LAYER >= 3
#include <curl/curl.h>
#endif
#if FLOOR_LAYER >= 4
#include <duckdb.h>
#endif

int main(int argc, char** argv) {
    if (argc > 99) {
#if FLOOR_LAYER >= 1
        std::string s(argv[0]);
        std::puts(s.c_str());
#endif
#if FLOOR_LAYER >= 2
        (void)YAML::Load("a: 1");
        spdlog::info("{}", argc);
        (void)boost::json::parse("{}");
        (void)boost::urls::parse_uri("http://a");
        (void)EVP_sha256();
        (void)zlibVersion();
#endif
#if FLOOR_LAYER >= 3
        curl_global_init(CURL_GLOBAL_DEFAULT);
#endif
#if FLOOR_LAYER >= 4
        duckdb_database db = nullptr;
        (void)duckdb_open(nullptr, &db);
#endif
    }
    std::puts("{}");
    return 0;
}
