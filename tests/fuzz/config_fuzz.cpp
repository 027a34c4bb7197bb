// libFuzzer target: a config file's bytes through the YAML parser (src/config/yaml.cpp, over
// libyaml) and the loader behind it (src/config/load.cpp). Neither may crash; a rejected file
// names itself in its message; a parsed tree keeps its invariants (map keys are unique scalars,
// positions lie inside the text).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "config/yaml.hpp"

namespace {

namespace yaml = frost::config::yaml;

void check(bool ok) {
    if (!ok) std::abort();
}

// Walks the tree (aliases included, so a bounded number of visits).
void walk(const yaml::node& n, std::size_t text_size, std::size_t& visits) {
    if (++visits > 2 * yaml::max_expanded_nodes) std::abort();
    check(static_cast<bool>(n));
    check(n.where().line >= 0 && n.where().pos <= text_size);
    if (n.is_map()) {
        std::set<std::string> keys;
        for (const auto& e : n) {
            check(e.first.is_scalar());
            check(keys.insert(e.first.scalar()).second);
            check(n[e.first.scalar()].where().pos == e.second.where().pos);
            walk(e.second, text_size, visits);
        }
        check(keys.size() == n.size());
    } else if (n.is_sequence()) {
        for (std::size_t i = 0; i < n.size(); ++i) walk(n[i], text_size, visits);
        check(!n[n.size()]);
    } else {
        check(n.size() == 0 && !n["x"] && !n[std::size_t{0}]);
        check(n.is_scalar() || n.scalar().empty());
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);  // NOLINT: libFuzzer's bytes
    try {
        std::size_t visits = 0;
        walk(yaml::parse(in), in.size(), visits);
    } catch (const yaml::parse_error& e) {
        check(std::string_view(e.what()).size() > 0);
    }
    auto cfg = frost::config::load_text(std::string(in), "fuzz.yaml", "/");
    if (!cfg) check(cfg.error().message.rfind("fuzz.yaml", 0) == 0);
    return 0;
}
