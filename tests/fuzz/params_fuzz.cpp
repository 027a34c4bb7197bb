// libFuzzer target: a request target (path + query string) through split_target and
// bind_params for endpoints with every parameter type and a date range (src/api/params.*).
// Checks that it never crashes and that every bound value respects its declaration.

#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>

#include "api/params.hpp"

namespace {

const frost::config::config& fuzz_config() {
    static const frost::config::config cfg = [] {
        auto c = frost::config::load_text(R"(
sources: {db: {type: duckdb, path: ':memory:'}}
endpoints:
  - path: /e
    source: db
    sql: select 1
    params:
      - {name: s, type: string, max_length: 16}
      - {name: i, type: integer, minimum: -5, maximum: 1000, aliases: [int]}
      - {name: n, type: number}
      - {name: b, type: boolean, default: "false"}
      - {name: d, type: date}
      - {name: k, type: string, enum: [a, bb, ccc]}
    date_range: {start: start_range, end: end_range, start_aliases: [start], end_aliases: [end],
                 random: {param: random, from: 2019-01-01, to: 2020-12-31}}
  - path: /loose
    source: db
    strict: false
    sql: select 1
    params: [{name: r, type: integer, required: true}]
)",
                                          "fuzz.yaml", "/");
        if (!c) std::abort();
        return std::move(c).value();
    }();
    return cfg;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > 8192) return 0;
    const std::string text(reinterpret_cast<const char*>(data), size);
    static std::mt19937_64 rng{42};
    for (const char* prefix : {"/e?", "/loose?", ""}) {
        auto split = frost::api::split_target(prefix + text);
        if (!split) continue;
        for (const auto& e : fuzz_config().endpoints) {
            auto bound = frost::api::bind_params(e, split.value().second, rng);
            if (!bound) {
                if (bound.error().message.empty()) std::abort();
                continue;
            }
            for (const auto& p : bound.value()) {
                if (p.name == "i") {
                    if (auto* v = std::get_if<std::int64_t>(&p.value); v && (*v < -5 || *v > 1000)) std::abort();
                }
                if (p.name == "s") {
                    if (auto* v = std::get_if<std::string>(&p.value); v && v->size() > 16) std::abort();
                }
                if (p.name == "k") {
                    if (auto* v = std::get_if<std::string>(&p.value); v && *v != "a" && *v != "bb" && *v != "ccc")
                        std::abort();
                }
            }
        }
    }
    return 0;
}
