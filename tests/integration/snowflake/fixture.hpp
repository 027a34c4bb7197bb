#pragma once

// Shared set-up of the Snowflake integration tests: the sample database, an in-process SQL API
// emulator serving it, and settings that point a Snowflake source at that emulator.

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "config/config.hpp"
#include "emulators/snowflake/emulator.hpp"
#include "emulators/snowflake/test_keys.hpp"
#include "source/snowflake/settings.hpp"
#include "source/snowflake/snowflake_source.hpp"
#include "support/test_server.hpp"

namespace frost::testing::snowflake {

namespace emu = frost::emulators::snowflake;

/// Trips in the sample database the Snowflake tests use.
inline constexpr std::uint64_t sample_trips = 200'000;

/// An emulator over the sample database with the test key registered.
inline std::unique_ptr<emu::emulator> start_emulator(std::size_t partition_rows = 1000) {
    emu::emulator_options o;
    o.database_path = sample_database(sample_trips);
    o.public_keys_pem = {snowflake_keys::keys().public_pem};
    o.tokens = {"test-oauth-token"};
    o.partition_rows = partition_rows;
    o.sync_wait = std::chrono::milliseconds(200);
    return std::make_unique<emu::emulator>(o);
}

/// Config-file settings of a Snowflake source pointed at `e`, with quick polls and backoff so
/// the fault tests run in seconds. `env_prefix` keeps a developer's SNOWFLAKE_* variables out.
inline std::map<std::string, std::string> source_settings(const emu::emulator& e) {
    return {{"env_prefix", "FROST_TEST_UNSET_"},
            {"account", "testorg-testaccount"},
            {"user", "frost"},
            {"private_key", snowflake_keys::keys().private_pkcs8},
            {"host", e.base_url()},
            {"database", "DATA_APPS_DEMO"},
            {"schema", "DEMO"},
            {"warehouse", "DATA_APPS_DEMO"},
            {"poll_initial", "1ms"},
            {"poll_max", "20ms"},
            {"retry_base", "5ms"},
            {"retry_cap", "40ms"},
            {"cancel_timeout", "1s"}};
}

/// The resolved settings of `source_settings(e)` with `changes` over them, parsed as config
/// load parses a file's keys (for a source_config or opening a source directly).
inline source::snowflake::snowflake_settings resolved_settings(const emu::emulator& e,
                                                               const std::map<std::string, std::string>& changes = {}) {
    auto keys = source_settings(e);
    for (const auto& [k, v] : changes) keys[k] = v;
    auto s =
        config::snowflake_from_keys("warehouse", keys, [](const std::string&) { return std::optional<std::string>(); });
    if (!s) throw std::runtime_error(s.error().message);
    return std::move(s).value();
}

}  // namespace frost::testing::snowflake
