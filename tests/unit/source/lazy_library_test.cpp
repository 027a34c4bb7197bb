// libduckdb.so and libcurl are loaded on first use, not at process start: this binary links
// frost_source_duckdb and frost_curl the way `frost` does, and neither library is mapped until
// the first `database::open` / `curl_easy_init`. ctest runs each test in a fresh process.
// Linking either library again (e.g. duckdb_c into frost_source_duckdb) fails the first test.

#include <gtest/gtest.h>
#include <link.h>

#include <filesystem>
#include <string>
#include <vector>

#include "curl/curl_api.hpp"
#include "source/duckdb/database.hpp"

namespace {

namespace duckdb = frost::source::duckdb;

// The files of the shared objects mapped into this process now.
std::vector<std::string> mapped_objects() {
    std::vector<std::string> names;
    dl_iterate_phdr(
        [](dl_phdr_info* info, size_t, void* out) {
            if (info->dlpi_name != nullptr && info->dlpi_name[0] != '\0')
                static_cast<std::vector<std::string>*>(out)->emplace_back(info->dlpi_name);
            return 0;
        },
        &names);
    return names;
}

bool is_mapped(const std::string& file_name_part) {
    for (const auto& name : mapped_objects())
        if (std::filesystem::path(name).filename().string().find(file_name_part) != std::string::npos) return true;
    return false;
}

TEST(lazy_library, duckdb_is_loaded_by_the_first_database_open_and_curl_by_the_first_handle) {
    ASSERT_FALSE(is_mapped("libduckdb")) << "libduckdb.so is loaded at process start";
    ASSERT_FALSE(is_mapped("libcurl")) << "libcurl is loaded at process start";

    auto db = duckdb::database::open(":memory:");
    ASSERT_TRUE(db) << db.error().message;
    EXPECT_TRUE(is_mapped("libduckdb"));
    EXPECT_FALSE(is_mapped("libcurl"));
    auto conn = duckdb::connection::open(*db.value());
    ASSERT_TRUE(conn) << conn.error().message;

    CURL* handle = curl_easy_init();
    ASSERT_NE(handle, nullptr) << frost::curl::load();
    EXPECT_TRUE(is_mapped("libcurl"));
    curl_easy_cleanup(handle);
}

TEST(lazy_library, library_paths_name_the_mapped_files) {
    const std::string duckdb_path = duckdb::c_api::library_path();
    const std::string curl_path = frost::curl::library_path();
    ASSERT_FALSE(duckdb_path.empty()) << duckdb::c_api::load();
    ASSERT_FALSE(curl_path.empty()) << frost::curl::load();
    EXPECT_TRUE(std::filesystem::exists(duckdb_path)) << duckdb_path;
    EXPECT_TRUE(std::filesystem::exists(curl_path)) << curl_path;
    const auto objects = mapped_objects();
    EXPECT_NE(std::find(objects.begin(), objects.end(), duckdb_path), objects.end()) << duckdb_path;
    EXPECT_NE(std::find(objects.begin(), objects.end(), curl_path), objects.end()) << curl_path;
}

TEST(lazy_library, a_setting_check_loads_duckdb_and_answers) {
    ASSERT_FALSE(is_mapped("libduckdb"));
    EXPECT_TRUE(duckdb::database::check_setting("threads", "2"));
    EXPECT_FALSE(duckdb::database::check_setting("memory_limit", "plenty"));
    EXPECT_TRUE(is_mapped("libduckdb"));
}

}  // namespace
