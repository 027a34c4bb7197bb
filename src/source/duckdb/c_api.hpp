#pragma once
// DuckDB's C API, loaded on first use. Frost does not link libduckdb.so: relocating it is most of a
// process start (about 12 ms of CPU, its tens of thousands of symbol relocations), which every
// `frost` command and every Lambda cold start would pay before its first line of work, even when
// no DuckDB instance is needed (a static route, a rollup answer from a packaged index, a Snowflake
// source). Instead `load()` opens it with dlopen on the first call and fills a table of function
// pointers; the macros at the end of this header send every `duckdb_*` call of the files that
// include it through that table, so code reads as plain C API calls.
//
// Include this header, never <duckdb.h> directly, in Frost's sources. Tests and benchmarks that
// call DuckDB as an oracle may link it directly: dlopen then returns the library already loaded.
#include <duckdb.h>

#include <atomic>
#include <string>

// Every DuckDB C function Frost calls. A call to one missing here is not redirected: `frost`,
// which does not link libduckdb.so, then fails to link (undefined reference), so the list cannot
// silently fall short.
#define FROST_DUCKDB_FUNCTIONS(X)             \
    X(duckdb_append_bool)                     \
    X(duckdb_append_data_chunk)               \
    X(duckdb_append_date)                     \
    X(duckdb_append_double)                   \
    X(duckdb_append_int64)                    \
    X(duckdb_append_null)                     \
    X(duckdb_append_timestamp)                \
    X(duckdb_append_value)                    \
    X(duckdb_append_varchar_length)           \
    X(duckdb_appender_add_column)             \
    X(duckdb_appender_close)                  \
    X(duckdb_appender_create)                 \
    X(duckdb_appender_destroy)                \
    X(duckdb_appender_end_row)                \
    X(duckdb_appender_error)                  \
    X(duckdb_bind_boolean)                    \
    X(duckdb_bind_decimal)                    \
    X(duckdb_bind_double)                     \
    X(duckdb_bind_int64)                      \
    X(duckdb_bind_null)                       \
    X(duckdb_bind_timestamp)                  \
    X(duckdb_bind_value)                      \
    X(duckdb_bind_varchar_length)             \
    X(duckdb_clear_bindings)                  \
    X(duckdb_close)                           \
    X(duckdb_column_count)                    \
    X(duckdb_column_logical_type)             \
    X(duckdb_column_name)                     \
    X(duckdb_connect)                         \
    X(duckdb_create_config)                   \
    X(duckdb_create_data_chunk)               \
    X(duckdb_create_date)                     \
    X(duckdb_create_decimal)                  \
    X(duckdb_create_logical_type)             \
    X(duckdb_data_chunk_get_size)             \
    X(duckdb_data_chunk_get_vector)           \
    X(duckdb_data_chunk_reset)                \
    X(duckdb_data_chunk_set_size)             \
    X(duckdb_decimal_internal_type)           \
    X(duckdb_decimal_scale)                   \
    X(duckdb_destroy_config)                  \
    X(duckdb_destroy_data_chunk)              \
    X(duckdb_destroy_logical_type)            \
    X(duckdb_destroy_pending)                 \
    X(duckdb_destroy_prepare)                 \
    X(duckdb_destroy_result)                  \
    X(duckdb_destroy_value)                   \
    X(duckdb_disconnect)                      \
    X(duckdb_execute_pending)                 \
    X(duckdb_execute_prepared)                \
    X(duckdb_fetch_chunk)                     \
    X(duckdb_free)                            \
    X(duckdb_get_type_id)                     \
    X(duckdb_interrupt)                       \
    X(duckdb_nparams)                         \
    X(duckdb_open_ext)                        \
    X(duckdb_parameter_name)                  \
    X(duckdb_pending_error)                   \
    X(duckdb_pending_prepared_streaming)      \
    X(duckdb_prepare)                         \
    X(duckdb_prepare_error)                   \
    X(duckdb_query)                           \
    X(duckdb_query_progress)                  \
    X(duckdb_result_error)                    \
    X(duckdb_result_error_type)               \
    X(duckdb_set_config)                      \
    X(duckdb_string_t_data)                   \
    X(duckdb_string_t_length)                 \
    X(duckdb_table_description_create)        \
    X(duckdb_table_description_destroy)       \
    X(duckdb_validity_row_is_valid)           \
    X(duckdb_validity_set_row_invalid)        \
    X(duckdb_vector_assign_string_element)    \
    X(duckdb_vector_ensure_validity_writable) \
    X(duckdb_vector_get_data)                 \
    X(duckdb_vector_get_validity)             \
    X(duckdb_vector_size)

namespace frost::source::duckdb::c_api {

/// The C API's functions, as loaded from libduckdb.so.
struct functions {
// NOLINTNEXTLINE(bugprone-macro-parentheses): a declarator names the member; it cannot be parenthesised.
#define FROST_DUCKDB_POINTER(name) decltype(&::name) name = nullptr;
    FROST_DUCKDB_FUNCTIONS(FROST_DUCKDB_POINTER)
#undef FROST_DUCKDB_POINTER
};

/// Loads libduckdb.so (from the library path: `lib/` beside the binary in the packages, the
/// build's DuckDB otherwise) and every function above, once per process; later calls return the
/// first outcome. Empty on success, else why it failed (dlerror's text). Thread-safe.
[[nodiscard]] const std::string& load();

/// The file libduckdb.so was loaded from (loading it first); empty when it cannot be loaded.
/// Packaging bundles it (`frost libraries`, scripts/lib/bundle.sh).
[[nodiscard]] std::string library_path();

namespace detail {
extern functions table;
extern std::atomic<bool> loaded;
/// Loads, or ends the process with the reason. Reached only by a DuckDB call made before any
/// `database::open` (which reports a failed load as an error instead).
void load_or_die();
}  // namespace detail

/// The loaded functions (loading them first when needed).
inline const functions& get() {
    if (!detail::loaded.load(std::memory_order_acquire)) [[unlikely]]
        detail::load_or_die();
    return detail::table;
}

}  // namespace frost::source::duckdb::c_api

#ifndef FROST_DUCKDB_NO_REDIRECT
#define duckdb_append_bool (::frost::source::duckdb::c_api::get().duckdb_append_bool)
#define duckdb_append_data_chunk (::frost::source::duckdb::c_api::get().duckdb_append_data_chunk)
#define duckdb_append_date (::frost::source::duckdb::c_api::get().duckdb_append_date)
#define duckdb_append_double (::frost::source::duckdb::c_api::get().duckdb_append_double)
#define duckdb_append_int64 (::frost::source::duckdb::c_api::get().duckdb_append_int64)
#define duckdb_append_null (::frost::source::duckdb::c_api::get().duckdb_append_null)
#define duckdb_append_timestamp (::frost::source::duckdb::c_api::get().duckdb_append_timestamp)
#define duckdb_append_value (::frost::source::duckdb::c_api::get().duckdb_append_value)
#define duckdb_append_varchar_length (::frost::source::duckdb::c_api::get().duckdb_append_varchar_length)
#define duckdb_appender_add_column (::frost::source::duckdb::c_api::get().duckdb_appender_add_column)
#define duckdb_appender_close (::frost::source::duckdb::c_api::get().duckdb_appender_close)
#define duckdb_appender_create (::frost::source::duckdb::c_api::get().duckdb_appender_create)
#define duckdb_appender_destroy (::frost::source::duckdb::c_api::get().duckdb_appender_destroy)
#define duckdb_appender_end_row (::frost::source::duckdb::c_api::get().duckdb_appender_end_row)
#define duckdb_appender_error (::frost::source::duckdb::c_api::get().duckdb_appender_error)
#define duckdb_bind_boolean (::frost::source::duckdb::c_api::get().duckdb_bind_boolean)
#define duckdb_bind_decimal (::frost::source::duckdb::c_api::get().duckdb_bind_decimal)
#define duckdb_bind_double (::frost::source::duckdb::c_api::get().duckdb_bind_double)
#define duckdb_bind_int64 (::frost::source::duckdb::c_api::get().duckdb_bind_int64)
#define duckdb_bind_null (::frost::source::duckdb::c_api::get().duckdb_bind_null)
#define duckdb_bind_timestamp (::frost::source::duckdb::c_api::get().duckdb_bind_timestamp)
#define duckdb_bind_value (::frost::source::duckdb::c_api::get().duckdb_bind_value)
#define duckdb_bind_varchar_length (::frost::source::duckdb::c_api::get().duckdb_bind_varchar_length)
#define duckdb_clear_bindings (::frost::source::duckdb::c_api::get().duckdb_clear_bindings)
#define duckdb_close (::frost::source::duckdb::c_api::get().duckdb_close)
#define duckdb_column_count (::frost::source::duckdb::c_api::get().duckdb_column_count)
#define duckdb_column_logical_type (::frost::source::duckdb::c_api::get().duckdb_column_logical_type)
#define duckdb_column_name (::frost::source::duckdb::c_api::get().duckdb_column_name)
#define duckdb_connect (::frost::source::duckdb::c_api::get().duckdb_connect)
#define duckdb_create_config (::frost::source::duckdb::c_api::get().duckdb_create_config)
#define duckdb_create_data_chunk (::frost::source::duckdb::c_api::get().duckdb_create_data_chunk)
#define duckdb_create_date (::frost::source::duckdb::c_api::get().duckdb_create_date)
#define duckdb_create_decimal (::frost::source::duckdb::c_api::get().duckdb_create_decimal)
#define duckdb_create_logical_type (::frost::source::duckdb::c_api::get().duckdb_create_logical_type)
#define duckdb_data_chunk_get_size (::frost::source::duckdb::c_api::get().duckdb_data_chunk_get_size)
#define duckdb_data_chunk_get_vector (::frost::source::duckdb::c_api::get().duckdb_data_chunk_get_vector)
#define duckdb_data_chunk_reset (::frost::source::duckdb::c_api::get().duckdb_data_chunk_reset)
#define duckdb_data_chunk_set_size (::frost::source::duckdb::c_api::get().duckdb_data_chunk_set_size)
#define duckdb_decimal_internal_type (::frost::source::duckdb::c_api::get().duckdb_decimal_internal_type)
#define duckdb_decimal_scale (::frost::source::duckdb::c_api::get().duckdb_decimal_scale)
#define duckdb_destroy_config (::frost::source::duckdb::c_api::get().duckdb_destroy_config)
#define duckdb_destroy_data_chunk (::frost::source::duckdb::c_api::get().duckdb_destroy_data_chunk)
#define duckdb_destroy_logical_type (::frost::source::duckdb::c_api::get().duckdb_destroy_logical_type)
#define duckdb_destroy_pending (::frost::source::duckdb::c_api::get().duckdb_destroy_pending)
#define duckdb_destroy_prepare (::frost::source::duckdb::c_api::get().duckdb_destroy_prepare)
#define duckdb_destroy_result (::frost::source::duckdb::c_api::get().duckdb_destroy_result)
#define duckdb_destroy_value (::frost::source::duckdb::c_api::get().duckdb_destroy_value)
#define duckdb_disconnect (::frost::source::duckdb::c_api::get().duckdb_disconnect)
#define duckdb_execute_pending (::frost::source::duckdb::c_api::get().duckdb_execute_pending)
#define duckdb_execute_prepared (::frost::source::duckdb::c_api::get().duckdb_execute_prepared)
#define duckdb_fetch_chunk (::frost::source::duckdb::c_api::get().duckdb_fetch_chunk)
#define duckdb_free (::frost::source::duckdb::c_api::get().duckdb_free)
#define duckdb_get_type_id (::frost::source::duckdb::c_api::get().duckdb_get_type_id)
#define duckdb_interrupt (::frost::source::duckdb::c_api::get().duckdb_interrupt)
#define duckdb_nparams (::frost::source::duckdb::c_api::get().duckdb_nparams)
#define duckdb_open_ext (::frost::source::duckdb::c_api::get().duckdb_open_ext)
#define duckdb_parameter_name (::frost::source::duckdb::c_api::get().duckdb_parameter_name)
#define duckdb_pending_error (::frost::source::duckdb::c_api::get().duckdb_pending_error)
#define duckdb_pending_prepared_streaming (::frost::source::duckdb::c_api::get().duckdb_pending_prepared_streaming)
#define duckdb_prepare (::frost::source::duckdb::c_api::get().duckdb_prepare)
#define duckdb_prepare_error (::frost::source::duckdb::c_api::get().duckdb_prepare_error)
#define duckdb_query (::frost::source::duckdb::c_api::get().duckdb_query)
#define duckdb_query_progress (::frost::source::duckdb::c_api::get().duckdb_query_progress)
#define duckdb_result_error (::frost::source::duckdb::c_api::get().duckdb_result_error)
#define duckdb_result_error_type (::frost::source::duckdb::c_api::get().duckdb_result_error_type)
#define duckdb_set_config (::frost::source::duckdb::c_api::get().duckdb_set_config)
#define duckdb_string_t_data (::frost::source::duckdb::c_api::get().duckdb_string_t_data)
#define duckdb_string_t_length (::frost::source::duckdb::c_api::get().duckdb_string_t_length)
#define duckdb_table_description_create (::frost::source::duckdb::c_api::get().duckdb_table_description_create)
#define duckdb_table_description_destroy (::frost::source::duckdb::c_api::get().duckdb_table_description_destroy)
#define duckdb_validity_row_is_valid (::frost::source::duckdb::c_api::get().duckdb_validity_row_is_valid)
#define duckdb_validity_set_row_invalid (::frost::source::duckdb::c_api::get().duckdb_validity_set_row_invalid)
#define duckdb_vector_assign_string_element (::frost::source::duckdb::c_api::get().duckdb_vector_assign_string_element)
#define duckdb_vector_ensure_validity_writable \
    (::frost::source::duckdb::c_api::get().duckdb_vector_ensure_validity_writable)
#define duckdb_vector_get_data (::frost::source::duckdb::c_api::get().duckdb_vector_get_data)
#define duckdb_vector_get_validity (::frost::source::duckdb::c_api::get().duckdb_vector_get_validity)
#define duckdb_vector_size (::frost::source::duckdb::c_api::get().duckdb_vector_size)
#endif
