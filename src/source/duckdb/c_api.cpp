#define FROST_DUCKDB_NO_REDIRECT
#include "source/duckdb/c_api.hpp"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <system_error>
#include <vector>

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
// packages' `--library-path lib` sets, then the caller's RUNPATH), as the loader would have for a
// linked library.
constexpr const char* library = "libduckdb.so";

// Where the binary's RUNPATH points ($ORIGIN, $ORIGIN/lib, the build's DuckDB), tried by path
// when the name alone is not found: a sanitizer's dlopen interceptor makes itself the caller, so
// dlopen then reads the sanitizer runtime's RUNPATH instead of the binary's.
std::vector<std::string> runpath_candidates() {
    std::vector<std::string> out;
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        out.push_back((exe.parent_path() / library).string());
        out.push_back((exe.parent_path() / "lib" / library).string());
    }
#ifdef FROST_DUCKDB_LIBRARY_DIR
    out.push_back(std::string(FROST_DUCKDB_LIBRARY_DIR) + "/" + library);
#endif
    return out;
}

void* open_handle(std::string& why) {
    // RTLD_NOW: a libduckdb.so without one of the functions fails here, not at a later call.
    // RTLD_LOCAL: its symbols are reached only through the table.
    void* handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
    if (handle != nullptr) return handle;
    const char* first = dlerror();
    why = first != nullptr ? first : "unknown error";
    for (const auto& path : runpath_candidates()) {
        std::error_code ec;
        if (!std::filesystem::exists(path, ec)) continue;
        if ((handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL)) != nullptr) return handle;
    }
    return nullptr;
}

std::string open_library() {
    std::string why;
    void* handle = open_handle(why);
    if (handle == nullptr) return std::string("cannot load ") + library + " (DuckDB): " + why;
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
