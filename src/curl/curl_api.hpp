#pragma once
// libcurl, loaded on first use (like DuckDB: source/duckdb/c_api.hpp). Frost needs it only for a
// Snowflake source, S3 snapshots and a JWKS URL; linking it would make every process start load
// and relocate it and its TLS and authentication libraries (about 5 ms of CPU, 28 shared objects)
// for nothing in the embedded default. `load()` opens it with dlopen and fills a table of
// function pointers; the macros at the end send the `curl_*` calls of the files that include this
// header through it. Include this header, never <curl/curl.h> directly, in Frost's sources.
#include <curl/curl.h>

#include <atomic>
#include <string>

// Every libcurl function Frost calls. A call to one missing here is not redirected, and `frost`,
// which does not link libcurl, fails to link.
#define FROST_CURL_FUNCTIONS(X) \
    X(curl_global_init)         \
    X(curl_easy_init)           \
    X(curl_easy_cleanup)        \
    X(curl_easy_reset)          \
    X(curl_easy_setopt)         \
    X(curl_easy_perform)        \
    X(curl_easy_getinfo)        \
    X(curl_easy_strerror)       \
    X(curl_slist_append)        \
    X(curl_slist_free_all)

namespace frost::curl {

/// libcurl's functions, as loaded from libcurl.so.4.
struct functions {
// NOLINTNEXTLINE(bugprone-macro-parentheses): a declarator names the member; it cannot be parenthesised.
#define FROST_CURL_POINTER(name) decltype(&::name) name = nullptr;
    FROST_CURL_FUNCTIONS(FROST_CURL_POINTER)
#undef FROST_CURL_POINTER
};

/// Loads libcurl.so.4 and the functions above once per process (later calls return the first
/// outcome) and runs `curl_global_init`. Empty on success, else why it failed. Thread-safe.
[[nodiscard]] const std::string& load();

/// The file libcurl was loaded from (loading it first); empty when it cannot be loaded.
[[nodiscard]] std::string library_path();

/// `curl_easy_init`, or null when libcurl cannot be loaded (callers already handle a null handle).
CURL* easy_init() noexcept;

namespace detail {
extern functions table;
extern std::atomic<bool> loaded;
/// Loads, or ends the process with the reason. Every call but `easy_init` needs a handle, so
/// this is reached only by a call made before any handle exists.
void load_or_die();
}  // namespace detail

/// The loaded functions (loading them first when needed).
inline const functions& get() {
    if (!detail::loaded.load(std::memory_order_acquire)) [[unlikely]]
        detail::load_or_die();
    return detail::table;
}

}  // namespace frost::curl

#ifndef FROST_CURL_NO_REDIRECT
// curl.h's compile-time option type checks (GCC) are macros of these two names; the calls go
// through the table instead, unchecked, as in any compiler without them.
#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_easy_init ::frost::curl::easy_init
#define curl_easy_cleanup (::frost::curl::get().curl_easy_cleanup)
#define curl_easy_reset (::frost::curl::get().curl_easy_reset)
#define curl_easy_setopt (::frost::curl::get().curl_easy_setopt)
#define curl_easy_perform (::frost::curl::get().curl_easy_perform)
#define curl_easy_getinfo (::frost::curl::get().curl_easy_getinfo)
#define curl_easy_strerror (::frost::curl::get().curl_easy_strerror)
#define curl_slist_append (::frost::curl::get().curl_slist_append)
#define curl_slist_free_all (::frost::curl::get().curl_slist_free_all)
#endif
