#define FROST_CURL_NO_REDIRECT
#include "curl/curl_api.hpp"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>

namespace frost::curl {

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

// The soname Frost is built against; found on the library path as a linked library would be
// (the packages bundle it in lib/, with the libraries it needs).
constexpr const char* library = "libcurl.so.4";

std::string open_library() {
    void* handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        const char* why = dlerror();
        return std::string("cannot load ") + library + " (HTTP client): " + (why != nullptr ? why : "unknown error");
    }
    functions loaded_table;
    std::string missing;
#define FROST_CURL_RESOLVE(name)                                                             \
    loaded_table.name = reinterpret_cast<decltype(loaded_table.name)>(dlsym(handle, #name)); \
    if (loaded_table.name == nullptr && missing.empty()) missing = #name;
    FROST_CURL_FUNCTIONS(FROST_CURL_RESOLVE)
#undef FROST_CURL_RESOLVE
    if (!missing.empty()) return std::string(library) + " has no function " + missing;
    // Not thread-safe in old libcurls: done here, once, under the static's initialisation lock.
    if (const CURLcode rc = loaded_table.curl_global_init(CURL_GLOBAL_DEFAULT); rc != CURLE_OK)
        return std::string("libcurl: curl_global_init failed: ") + loaded_table.curl_easy_strerror(rc);
    detail::table = loaded_table;
    detail::loaded.store(true, std::memory_order_release);
    return {};
}

}  // namespace

const std::string& load() {
    static const std::string failure = open_library();
    return failure;
}

CURL* easy_init() noexcept {
    if (!load().empty()) return nullptr;
    return detail::table.curl_easy_init();
}

std::string library_path() {
    if (!load().empty()) return {};
    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(detail::table.curl_easy_init), &info) == 0 || info.dli_fname == nullptr)
        return {};
    return info.dli_fname;
}

}  // namespace frost::curl
