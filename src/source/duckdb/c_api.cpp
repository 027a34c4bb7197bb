#define FROST_DUCKDB_NO_REDIRECT
#include "source/duckdb/c_api.hpp"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace frost::source::duckdb::c_api {

namespace detail {
functions table;
std::atomic<bool> loaded{false};

void load_or_die() {
    const std::string& failure = load();
    if (failure.empty()) return;
    std::fprintf(stderr, "frost: %s\n", failure.c_str());
    std::abort();
}
}  // namespace detail

namespace {

// The library's soname; dlopen looks for it on the library path (LD_LIBRARY_PATH, which the
// packages' `--library-path lib` sets, then the binary's RUNPATH: `$ORIGIN/lib` and the build's
// DuckDB), as the loader would have for a linked library.
constexpr const char* library = "libduckdb.so";

std::string open_library() {
    // RTLD_NOW: a libduckdb.so without one of the functions fails here, not at a later call.
    // RTLD_LOCAL: its symbols are reached only through the table.
    void* handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        const char* why = dlerror();
        return std::string("cannot load ") + library + " (DuckDB): " + (why != nullptr ? why : "unknown error");
    }
    functions loaded_table;
    std::string missing;
#define FROST_DUCKDB_RESOLVE(name)                                                           \
    loaded_table.name = reinterpret_cast<decltype(loaded_table.name)>(dlsym(handle, #name)); \
    if (loaded_table.name == nullptr && missing.empty()) missing = #name;
    FROST_DUCKDB_FUNCTIONS(FROST_DUCKDB_RESOLVE)
#undef FROST_DUCKDB_RESOLVE
    if (!missing.empty()) {
        // The library stays loaded (unloading DuckDB is not supported); nothing calls into it.
        return std::string(library) + " has no function " + missing + ": a DuckDB older than Frost was built for?";
    }
    detail::table = loaded_table;
    detail::loaded.store(true, std::memory_order_release);
    return {};
}

}  // namespace

const std::string& load() {
    static const std::string failure = open_library();
    return failure;
}

std::string library_path() {
    if (!load().empty()) return {};
    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(detail::table.duckdb_open_ext), &info) == 0 || info.dli_fname == nullptr)
        return {};
    return info.dli_fname;
}

}  // namespace frost::source::duckdb::c_api
