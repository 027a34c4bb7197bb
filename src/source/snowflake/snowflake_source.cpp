#include "source/snowflake/snowflake_source.hpp"

namespace frost::source::snowflake {

model::result<std::unique_ptr<snowflake_source>> snowflake_source::open(const config::source_config& cfg) {
    if (!cfg.snowflake || !cfg.snowflake->resolved)
        return model::error{model::error_code::config_error,
                            "source " + cfg.name + ": its Snowflake settings were not resolved",
                            {},
                            "load the config with config::apply_environment"};
    return open(cfg.name, *cfg.snowflake);
}

model::result<std::unique_ptr<snowflake_source>> snowflake_source::open(std::string name, snowflake_settings settings) {
    auto loaded = load_secrets(name, std::move(settings));
    if (!loaded) return std::move(loaded).error();
    settings = std::move(loaded).value();
    auto creds = credentials::create(settings);
    if (!creds) {
        auto e = std::move(creds).error();
        e.message = "source " + name + ": " + e.message;
        return e;
    }
    auto client = std::make_unique<sql_api_client>(std::move(settings), std::move(creds).value());
    return std::unique_ptr<snowflake_source>(new snowflake_source(std::move(name), std::move(client)));
}

model::result<positional_sql> snowflake_source::translate(std::string_view sql) {
    std::lock_guard lock(cache_mutex_);
    auto it = translated_.find(std::string(sql));
    if (it != translated_.end()) return it->second;
    auto t = to_positional(sql);
    if (!t) return t;
    if (translated_.size() < 4096) translated_.emplace(std::string(sql), t.value());
    return t;
}

model::result<model::table> snowflake_source::run(const query& q) {
    auto request = to_request(q);
    if (!request) return std::move(request).error();
    return client_->execute(request.value(), q.deadline, q.stop);
}

model::result<stream_summary> snowflake_source::stream(const query& q, row_sink& sink) {
    auto request = to_request(q);
    if (!request) return std::move(request).error();
    return client_->execute_stream(request.value(), q.deadline, q.stop, sink);
}

model::result<statement_request> snowflake_source::to_request(const query& q) {
    auto t = translate(q.sql);
    if (!t) return std::move(t).error();
    statement_request request;
    request.sql = t.value().sql;
    request.query_tag = std::string(q.tag);
    request.max_rows = q.max_rows;
    request.bindings.reserve(t.value().names.size());
    for (const auto& name : t.value().names) {
        const parameter* found = nullptr;
        for (const auto& p : q.params) {
            if (p.name == name) {
                found = &p;
                break;
            }
        }
        if (!found)
            return model::error{model::error_code::config_error,
                                "the SQL uses $" + name + " but the endpoint declares no such parameter",
                                {},
                                {}};
        request.bindings.push_back(to_binding(found->value));
    }
    return request;
}

}  // namespace frost::source::snowflake
