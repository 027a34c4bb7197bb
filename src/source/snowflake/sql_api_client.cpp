#include "source/snowflake/sql_api_client.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <random>
#include <system_error>
#include <thread>

namespace frost::source::snowflake {

namespace json = boost::json;
using std::chrono::milliseconds;

namespace {

std::mt19937_64& thread_rng() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return rng;
}

milliseconds remaining_ms(const model::deadline& d) {
    return std::chrono::duration_cast<milliseconds>(d.remaining());
}

bool retryable_status(long status) {
    return status == 0 || status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

// Retry-After as delta-seconds (HTTP dates are not used by APIs like this one; ignored).
std::optional<milliseconds> retry_after(const std::string& header) {
    if (header.empty()) return std::nullopt;
    unsigned long secs = 0;
    auto [p, ec] = std::from_chars(header.data(), header.data() + header.size(), secs);
    if (ec != std::errc{} || p != header.data() + header.size() || secs > 3600) return std::nullopt;
    return milliseconds(secs * 1000);
}

bool valid_handle(std::string_view h) {
    if (h.empty() || h.size() > 128) return false;
    return std::all_of(h.begin(), h.end(),
                       [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; });
}

std::string describe(const http_answer& a) {
    if (a.status == 0) return "no answer (" + a.transport_error + ")";
    std::string out = "HTTP " + std::to_string(a.status);
    if (auto st = parse_status(a.body); st && !st.value().code.empty())
        out += " (" + st.value().code + ": " + sanitize_message(st.value().message, 120) + ")";
    return out;
}

model::error upstream_error(const http_answer& a) {
    statement_status st;
    if (auto parsed = parse_status(a.body)) st = std::move(parsed).value();
    std::string details = "Snowflake answered HTTP " + std::to_string(a.status);
    if (!st.code.empty()) details += ", error " + st.code;
    if (!st.sql_state.empty()) details += " (SQLSTATE " + st.sql_state + ")";
    const std::string message = st.message.empty() ? std::string() : ": " + sanitize_message(st.message);
    switch (a.status) {
        case 422:
            return {model::error_code::source_error, "Snowflake could not run the query" + message, details, {}};
        case 408:
            return {
                model::error_code::timeout, "Snowflake stopped the statement at its timeout" + message, details, {}};
        case 401:
            return {model::error_code::source_unavailable, "Snowflake refused Frost's credentials" + message, details,
                    "check the account, user and that the user's RSA_PUBLIC_KEY matches the private key"};
        case 403:
            return {model::error_code::source_unavailable, "Snowflake refused access" + message, details,
                    "check that the SQL API is enabled and the network policy admits this host"};
        default:
            return {model::error_code::source_error, "Snowflake rejected the request" + message, details, {}};
    }
}

}  // namespace

std::string random_uuid() {
    auto& rng = thread_rng();
    std::uint64_t hi = rng(), lo = rng();
    hi = (hi & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;  // version 4
    lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // RFC 4122 variant
    char buf[37];
    std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                  static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                  static_cast<unsigned>(lo >> 48), static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
    return buf;
}

std::string statement_body(const snowflake_settings& settings, const statement_request& request,
                           std::chrono::seconds timeout) {
    json::object body;
    body["statement"] = request.sql;
    body["timeout"] = timeout.count();
    body["database"] = settings.database;
    body["schema"] = settings.schema;
    body["warehouse"] = settings.warehouse;
    if (!settings.role.empty()) body["role"] = settings.role;
    if (!request.bindings.empty()) {
        json::object b;
        for (std::size_t i = 0; i < request.bindings.size(); ++i) {
            json::object one;
            one["type"] = request.bindings[i].type;
            if (request.bindings[i].value)
                one["value"] = *request.bindings[i].value;
            else
                one["value"] = nullptr;
            b[std::to_string(i + 1)] = std::move(one);
        }
        body["bindings"] = std::move(b);
    }
    json::object params;
    if (!request.query_tag.empty()) params["QUERY_TAG"] = request.query_tag.substr(0, 2000);
    params["ROWS_PER_RESULTSET"] = std::to_string(request.max_rows + 1);
    body["parameters"] = std::move(params);
    return json::serialize(body);
}

// One logical HTTP exchange with its retries. `check` inspects a non-retryable answer and
// returns why it must be retried anyway (unreadable body), or nullopt to accept it.
struct sql_api_client::exchange {
    sql_api_client& client;
    model::deadline deadline;
    bool deadline_hit = false;  ///< the exchange ended because time ran out

    model::result<http_answer> send(const std::string& method, const std::function<std::string(bool)>& url,
                                    const std::string& body,
                                    const std::function<std::optional<std::string>(const http_answer&)>& check) {
        const auto& s = client.settings_;
        bool renewed = false;
        std::string last_failure;
        for (unsigned attempt = 0;; ++attempt) {
            if (deadline.expired()) {
                deadline_hit = true;
                return timed_out(last_failure);
            }
            auto token = client.creds_->current();
            if (!token) return std::move(token).error();
            const std::vector<std::pair<std::string, std::string>> headers{
                {"Authorization", "Bearer " + token.value().token},
                {"X-Snowflake-Authorization-Token-Type", std::string(token.value().type)},
                {"Content-Type", "application/json"},
                {"Accept", "application/json"}};
            auto answer = client.http_.send(method, url(attempt > 0), headers, body, remaining_ms(deadline));
            ++client.counters_.http_requests;

            if (answer.status == 401 && !renewed) {
                renewed = true;
                client.creds_->reject(token.value().token);
                ++client.counters_.token_renewals;
                last_failure = describe(answer);
                continue;
            }
            if (answer.timed_out) {
                // Our limit was the time left: the deadline ended this exchange, not Snowflake.
                deadline_hit = true;
                return timed_out(last_failure);
            }
            std::optional<std::string> failure;
            if (retryable_status(answer.status)) {
                failure = describe(answer);
            } else if (auto why = check(answer)) {
                failure = "HTTP " + std::to_string(answer.status) + " with " + *why;
            } else {
                return answer;
            }
            last_failure = *failure;
            if (attempt + 1 >= s.max_attempts)
                return model::error{
                    model::error_code::source_unavailable,
                    "Snowflake did not answer usefully after " + std::to_string(attempt + 1) + " attempts",
                    "last: " + last_failure,
                    {}};
            // Full jitter: uniform in [0, min(cap, base * 2^attempt)].
            const auto ceiling = std::min<double>(
                static_cast<double>(s.retry_cap.count()),
                static_cast<double>(s.retry_base.count()) * std::ldexp(1.0, static_cast<int>(std::min(attempt, 20u))));
            std::uniform_real_distribution<double> jitter(0.0, ceiling);
            auto wait = milliseconds(static_cast<long long>(jitter(thread_rng())));
            if (auto ra = retry_after(answer.retry_after)) wait = std::max(wait, *ra);
            if (wait >= remaining_ms(deadline)) {
                deadline_hit = true;
                if (retry_after(answer.retry_after))
                    return model::error{model::error_code::source_unavailable,
                                        "Snowflake asked Frost to retry after " + answer.retry_after +
                                            " s, past the request's deadline",
                                        "last: " + last_failure,
                                        {}};
                std::this_thread::sleep_for(remaining_ms(deadline));
                return timed_out(last_failure);
            }
            std::this_thread::sleep_for(wait);
            ++client.counters_.retries;
        }
    }

    static model::error timed_out(const std::string& last_failure) {
        if (last_failure.empty())
            return {model::error_code::timeout, "Snowflake did not answer within the request's deadline", {}, {}};
        return {model::error_code::source_unavailable,
                "Snowflake did not answer usefully within the request's deadline",
                "last: " + last_failure,
                {}};
    }
};

sql_api_client::sql_api_client(snowflake_settings settings, std::unique_ptr<credentials> creds)
    : settings_(std::move(settings)),
      creds_(std::move(creds)),
      http_(settings_.connect_timeout, settings_.max_response_bytes, settings_.user_agent) {}

std::string sql_api_client::statement_url(const std::string& status_url, const std::string& handle) const {
    // Snowflake sends `statementStatusUrl` relative to the account URL; an absolute one is only
    // followed to our own host, so a forged answer cannot send the token elsewhere.
    if (status_url.starts_with("/api/v2/statements/")) return settings_.base_url + status_url;
    if (status_url.starts_with(settings_.base_url + "/api/v2/statements/")) return status_url;
    return settings_.base_url + "/api/v2/statements/" + handle;
}

void sql_api_client::cancel(const std::string& handle, const std::string& request_id) {
    ++counters_.cancels;
    const auto url = settings_.base_url + "/api/v2/statements/" + handle + "/cancel?requestId=" + request_id;
    auto token = creds_->current();
    if (!token) return;
    const std::vector<std::pair<std::string, std::string>> headers{
        {"Authorization", "Bearer " + token.value().token},
        {"X-Snowflake-Authorization-Token-Type", std::string(token.value().type)},
        {"Content-Type", "application/json"},
        {"Accept", "application/json"}};
    // Best effort, once: the statement's own timeout stops it if this is lost.
    (void)http_.send("POST", url, headers, std::string(), settings_.cancel_timeout);
    ++counters_.http_requests;
}

model::result<model::table> sql_api_client::execute(const statement_request& request, model::deadline deadline,
                                                    const std::stop_token& stop) {
    std::string request_id;
    auto finished = wait_for_result(request, deadline, stop, request_id);
    if (!finished) return std::move(finished).error();
    return collect(std::move(finished).value(), request_id, request.max_rows, deadline);
}

model::result<result_set> sql_api_client::wait_for_result(const statement_request& request, model::deadline deadline,
                                                          const std::stop_token& stop, std::string& request_id) {
    ++counters_.statements;
    if (stop.stop_requested())
        return model::error{model::error_code::timeout, "the client went away before the query started", {}, {}};
    if (deadline.expired())
        return model::error{
            model::error_code::timeout, "the request's deadline passed before the query started", {}, {}};
    request_id = random_uuid();
    // Snowflake's own timeout backs up our cancel: a little past our deadline, never past the
    // configured statement timeout.
    const auto left = std::chrono::duration_cast<std::chrono::seconds>(deadline.remaining()) + std::chrono::seconds(2);
    const auto timeout = std::max(std::chrono::seconds(1), std::min(settings_.statement_timeout, left));
    const std::string body = statement_body(settings_, request, timeout);

    exchange x{*this, deadline};
    std::optional<result_set> finished;
    std::string handle;
    std::string status_url;
    // Accept 200 with a readable result set, 202 with a handle, or another status to report.
    auto read_answer = [&](const http_answer& a) -> std::optional<std::string> {
        if (a.status == 200) {
            auto rs = parse_result_set(a.body);
            if (!rs) return rs.error().message;
            finished = std::move(rs).value();
            return std::nullopt;
        }
        if (a.status == 202) {
            auto st = parse_status(a.body);
            if (!st) return st.error().message;
            const std::string h = st.value().handle.empty() ? handle : st.value().handle;
            if (!valid_handle(h)) return std::string("no valid statementHandle");
            handle = h;
            if (!st.value().status_url.empty()) status_url = st.value().status_url;
            return std::nullopt;
        }
        return std::nullopt;
    };

    const auto submit_url = [&](bool resubmission) {
        std::string url = settings_.base_url + "/api/v2/statements?requestId=" + request_id + "&async=true";
        if (resubmission) url += "&retry=true";
        return url;
    };
    auto submitted = x.send("POST", submit_url, body, read_answer);
    if (!submitted) return std::move(submitted).error();
    http_answer answer = std::move(submitted).value();

    milliseconds interval = settings_.poll_initial;
    while (!finished) {
        if (answer.status != 202) return upstream_error(answer);
        const auto wait = std::min(interval, remaining_ms(deadline));
        if (wait.count() > 0) {
            // Sleeps until the next poll, or until the client goes away.
            std::mutex m;
            std::condition_variable_any woken;
            std::unique_lock lock(m);
            (void)woken.wait_for(lock, stop, wait, [] { return false; });
        }
        interval = std::min(settings_.poll_max, milliseconds(interval.count() * 3 / 2 + 1));
        if (stop.stop_requested()) {
            cancel(handle, request_id);
            return model::error{model::error_code::timeout, "the client went away; the query was cancelled", {}, {}};
        }
        if (deadline.expired()) {
            cancel(handle, request_id);
            return model::error{model::error_code::timeout,
                                "Snowflake did not finish the query within the request's deadline; it was cancelled",
                                {},
                                {}};
        }
        const auto url = statement_url(status_url, handle);
        auto polled = x.send(
            "GET", [&](bool) -> const std::string& { return url; }, std::string(), read_answer);
        if (!polled) {
            if (x.deadline_hit) {
                // The statement was still running when time ran out, whatever the last poll met.
                cancel(handle, request_id);
                const auto& e = polled.error();
                return model::error{
                    model::error_code::timeout,
                    "Snowflake did not finish the query within the request's deadline; it was cancelled",
                    e.details,
                    {}};
            }
            return std::move(polled).error();
        }
        answer = std::move(polled).value();
    }
    return std::move(*finished);
}

model::result<frost::source::stream_summary> sql_api_client::execute_stream(const statement_request& request,
                                                                            model::deadline deadline,
                                                                            const std::stop_token& stop,
                                                                            frost::source::row_sink& sink) {
    std::string request_id;
    auto finished = wait_for_result(request, deadline, stop, request_id);
    if (!finished) return std::move(finished).error();
    result_set rs = std::move(finished).value();
    // Snowflake says how many rows there are before any is sent: over the cap is refused whole.
    if (rs.num_rows > static_cast<std::int64_t>(request.max_rows))
        return model::error{model::error_code::result_too_large,
                            "the query returned more than " + std::to_string(request.max_rows) + " rows",
                            {},
                            "narrow the query or raise the endpoint's max_export_rows"};
    const std::size_t n = rs.partition_rows.size();
    if (n > 1 && !valid_handle(rs.status.handle))
        return model::error{model::error_code::source_error,
                            "Snowflake sent a partitioned result without a valid statementHandle",
                            {},
                            {}};
    frost::source::stream_summary summary;
    if (!sink.begin(rs.first.columns)) {
        summary.stopped = true;
        return summary;
    }
    std::vector<std::vector<model::value>> batch = std::move(rs.first.rows);
    for (std::size_t i = 1;; ++i) {
        if (!batch.empty()) {
            summary.rows += batch.size();
            if (!sink.rows(batch)) {
                summary.stopped = true;
                return summary;
            }
        }
        if (i >= n) break;
        // One partition at a time, in order: memory is one partition, whatever the result's size.
        if (stop.stop_requested())
            return model::error{model::error_code::timeout, "the client went away during the export", {}, {}};
        batch.clear();
        exchange x{*this, deadline};
        const auto url = settings_.base_url + "/api/v2/statements/" + rs.status.handle + "?requestId=" + request_id +
                         "&partition=" + std::to_string(i);
        auto read_partition = [&](const http_answer& a) -> std::optional<std::string> {
            if (a.status != 200) return std::nullopt;
            batch.clear();
            auto ok = parse_partition(a.body, rs.columns, rs.partition_rows[i], batch);
            if (!ok) {
                batch.clear();
                return ok.error().message;
            }
            return std::nullopt;
        };
        auto got = x.send(
            "GET", [&](bool) -> const std::string& { return url; }, std::string(), read_partition);
        ++counters_.partitions;
        std::optional<model::error> err;
        if (!got)
            err = std::move(got).error();
        else if (got.value().status != 200)
            err = upstream_error(got.value());
        if (err) {
            err->message = "fetching result partition " + std::to_string(i) + ": " + err->message;
            return std::move(*err);
        }
    }
    if (static_cast<std::int64_t>(summary.rows) != rs.num_rows)
        return model::error{
            model::error_code::source_error, "Snowflake's partitions did not add up to numRows", {}, {}};
    return summary;
}

model::result<model::table> sql_api_client::collect(result_set rs, const std::string& request_id, std::size_t max_rows,
                                                    model::deadline deadline) {
    if (rs.num_rows > static_cast<std::int64_t>(max_rows))
        return model::error{model::error_code::result_too_large,
                            "the query returned more than " + std::to_string(max_rows) + " rows",
                            {},
                            "narrow the query or raise the endpoint's max_rows"};
    model::table table = std::move(rs.first);
    const std::size_t n = rs.partition_rows.size();
    if (n <= 1) return table;
    if (!valid_handle(rs.status.handle))
        return model::error{model::error_code::source_error,
                            "Snowflake sent a partitioned result without a valid statementHandle",
                            {},
                            {}};

    std::vector<std::vector<std::vector<model::value>>> parts(n);
    std::atomic<std::size_t> next{1};
    std::atomic<bool> failed{false};
    std::mutex error_mutex;
    std::optional<model::error> first_error;
    auto worker = [&] {
        for (;;) {
            const std::size_t i = next.fetch_add(1);
            if (i >= n || failed.load()) return;
            exchange x{*this, deadline};
            const auto url = settings_.base_url + "/api/v2/statements/" + rs.status.handle +
                             "?requestId=" + request_id + "&partition=" + std::to_string(i);
            auto read_partition = [&](const http_answer& a) -> std::optional<std::string> {
                if (a.status != 200) return std::nullopt;
                parts[i].clear();
                auto ok = parse_partition(a.body, rs.columns, rs.partition_rows[i], parts[i]);
                if (!ok) {
                    parts[i].clear();
                    return ok.error().message;
                }
                return std::nullopt;
            };
            auto got = x.send(
                "GET", [&](bool) -> const std::string& { return url; }, std::string(), read_partition);
            ++counters_.partitions;
            std::optional<model::error> err;
            if (!got)
                err = std::move(got).error();
            else if (got.value().status != 200)
                err = upstream_error(got.value());
            if (err) {
                std::lock_guard lock(error_mutex);
                if (!first_error) {
                    err->message = "fetching result partition " + std::to_string(i) + ": " + err->message;
                    first_error = std::move(err);
                }
                failed.store(true);
                return;
            }
        }
    };
    const unsigned threads = std::min<unsigned>(settings_.partition_parallelism, static_cast<unsigned>(n - 1));
    std::vector<std::thread> pool;
    pool.reserve(threads);
    for (unsigned t = 0; t < threads; ++t) {
        try {
            pool.emplace_back(worker);
        } catch (const std::system_error&) {
            break;  // fewer threads than asked: the ones running take every partition
        }
    }
    if (pool.empty()) worker();
    for (auto& t : pool) t.join();
    if (first_error) return std::move(*first_error);

    table.rows.reserve(static_cast<std::size_t>(rs.num_rows));
    for (std::size_t i = 1; i < n; ++i)
        for (auto& row : parts[i]) table.rows.push_back(std::move(row));
    if (static_cast<std::int64_t>(table.rows.size()) != rs.num_rows)
        return model::error{
            model::error_code::source_error, "Snowflake's partitions did not add up to numRows", {}, {}};
    return table;
}

}  // namespace frost::source::snowflake
