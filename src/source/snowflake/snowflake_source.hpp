#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "source/snowflake/settings.hpp"
#include "source/snowflake/sql_api_client.hpp"
#include "source/snowflake/statement.hpp"
#include "source/source.hpp"

namespace frost::source::snowflake {

/// A `source` over Snowflake's SQL API (dialect `snowflake`). Each `run` becomes one
/// statement with typed bindings and QUERY_TAG = the query's tag. Thread-safe.
class snowflake_source final : public source {
public:
    /// Opens the source of `cfg`, whose Snowflake settings were parsed and checked at load
    /// (`config::apply_environment`), and loads the key (`load_secrets`, `credentials::create`).
    /// Fails with `config_error` naming what is wrong, never showing a secret.
    static model::result<std::unique_ptr<snowflake_source>> open(const config::source_config& cfg);
    /// Same, from settings already resolved (`config::snowflake_from_keys` builds them in tests).
    static model::result<std::unique_ptr<snowflake_source>> open(std::string name, snowflake_settings settings);

    [[nodiscard]] std::string_view name() const override { return name_; }
    [[nodiscard]] std::string_view dialect() const override { return "snowflake"; }
    [[nodiscard]] model::result<model::table> run(const query& q) override;
    /// Streams the result partition by partition, in order (`sql_api_client::execute_stream`).
    [[nodiscard]] model::result<stream_summary> stream(const query& q, row_sink& sink) override;

    /// The underlying client (counters, settings), for tests and health reports.
    [[nodiscard]] const sql_api_client& client() const noexcept { return *client_; }

private:
    snowflake_source(std::string name, std::unique_ptr<sql_api_client> client)
        : name_(std::move(name)), client_(std::move(client)) {}
    model::result<positional_sql> translate(std::string_view sql);
    model::result<statement_request> to_request(const query& q);

    std::string name_;
    std::unique_ptr<sql_api_client> client_;
    std::mutex cache_mutex_;
    std::unordered_map<std::string, positional_sql> translated_;
};

}  // namespace frost::source::snowflake
