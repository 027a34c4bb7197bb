#include "emulators/snowflake/emulator.hpp"

#include <sys/socket.h>
#include <zlib.h>

#include <openssl/sha.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <atomic>
#include <deque>
#include <random>
#include <thread>

#include "emulators/snowflake/engine.hpp"
#include "emulators/snowflake/jwt_verifier.hpp"

namespace frost::emulators::snowflake {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
namespace json = boost::json;
using tcp = net::ip::tcp;
using steady = std::chrono::steady_clock;

namespace {

// The parameters the SQL API documents for `parameters`; anything else is 400 391917.
constexpr std::string_view allowed_parameters[] = {"BINARY_OUTPUT_FORMAT",
                                                   "CLIENT_RESULT_CHUNK_SIZE",
                                                   "DATE_OUTPUT_FORMAT",
                                                   "MULTI_STATEMENT_COUNT",
                                                   "QUERY_TAG",
                                                   "ROWS_PER_RESULTSET",
                                                   "TIME_OUTPUT_FORMAT",
                                                   "TIMESTAMP_LTZ_OUTPUT_FORMAT",
                                                   "TIMESTAMP_NTZ_OUTPUT_FORMAT",
                                                   "TIMESTAMP_OUTPUT_FORMAT",
                                                   "TIMESTAMP_TZ_OUTPUT_FORMAT",
                                                   "TIMEZONE",
                                                   "USE_CACHED_RESULT"};

std::string upper(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

std::string random_hex(std::size_t n) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < n; ++i) out += digits[rng() % 16];
    return out;
}

std::string new_uuid() {
    return random_hex(8) + "-" + random_hex(4) + "-4" + random_hex(3) + "-a" + random_hex(3) + "-" + random_hex(12);
}

// Query IDs look like UUIDs: 01b8f3c2-0004-2a1e-0000-00a1b2c3d4e5, as in `statementHandle`.
std::string new_handle() {
    return "01" + random_hex(6) + "-0004-" + random_hex(4) + "-0000-" + random_hex(12);
}

bool uuid_like(std::string_view s) {
    if (s.size() != 36) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') return false;
        } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
            return false;
        }
    }
    return true;
}

std::string digest(const std::string& s) {
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (int i = 0; i < 8; ++i) {
        out += digits[d[i] >> 4];
        out += digits[d[i] & 15];
    }
    return out;
}

std::string gzip(const std::string& in) {
    z_stream z{};
    deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    std::string out(deflateBound(&z, static_cast<uLong>(in.size())) + 32, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

// Decoded query parameters of a target.
std::map<std::string, std::string> query_of(std::string_view target) {
    std::map<std::string, std::string> out;
    const auto q = target.find('?');
    if (q == std::string_view::npos) return out;
    auto rest = target.substr(q + 1);
    while (!rest.empty()) {
        const auto amp = rest.find('&');
        const auto pair = rest.substr(0, amp);
        const auto eq = pair.find('=');
        out[std::string(pair.substr(0, eq))] = eq == std::string_view::npos ? "" : std::string(pair.substr(eq + 1));
        if (amp == std::string_view::npos) break;
        rest = rest.substr(amp + 1);
    }
    return out;
}

const char* target_name(fault_target t) {
    switch (t) {
        case fault_target::any:
            return "any";
        case fault_target::submit:
            return "submit";
        case fault_target::poll:
            return "poll";
        case fault_target::partition:
            return "partition";
        case fault_target::cancel:
            return "cancel";
    }
    return "any";
}

const char* action_name(fault_action a) {
    switch (a) {
        case fault_action::status:
            return "status";
        case fault_action::reset:
            return "reset";
        case fault_action::reset_after_execute:
            return "reset_after_execute";
        case fault_action::truncate:
            return "truncate";
        case fault_action::malformed:
            return "malformed";
        case fault_action::delay:
            return "delay";
        case fault_action::short_partition:
            return "short_partition";
        case fault_action::bad_gzip:
            return "bad_gzip";
        case fault_action::slow_statement:
            return "slow_statement";
        case fault_action::never_finish:
            return "never_finish";
    }
    return "status";
}

struct statement {
    std::string handle;
    std::string request_id;
    long long created_ms = 0;
    steady::time_point created;
    std::chrono::seconds timeout{172'800};
    std::optional<steady::time_point> ready_at;  ///< nullopt: never finishes
    std::size_t partition_rows = 1000;
    bool nullable = true;
    std::size_t max_rows = 0;

    std::mutex mutex;
    bool executed = false;
    bool cancelled = false;
    execution result;
    std::vector<std::string> partitions;  ///< JSON text of each partition's data array
    std::vector<std::string> compressed;  ///< gzip of partitions[i] for i >= 1
};

enum class phase { running, succeeded, failed, cancelled, timed_out };

struct answer {
    answer() = default;
    answer(int s, std::string b, std::string type = "application/json")
        : status(s), body(std::move(b)), content_type(std::move(type)) {}
    int status = 200;
    std::string body;
    std::string content_type = "application/json";
    bool gzipped = false;
    std::string retry_after;
};

answer json_answer(int status, const json::object& o) {
    return {status, json::serialize(o)};
}

answer error_answer(int status, std::string code, std::string message, std::string sql_state = {},
                    const std::string& handle = {}) {
    json::object o;
    o["code"] = std::move(code);
    o["message"] = std::move(message);
    if (!sql_state.empty()) o["sqlState"] = std::move(sql_state);
    if (!handle.empty()) {
        o["statementHandle"] = handle;
        o["statementStatusUrl"] = "/api/v2/statements/" + handle;
    }
    return json_answer(status, o);
}

std::string cells_json(const std::vector<std::vector<std::optional<std::string>>>& rows, std::size_t from,
                       std::size_t to, bool nullable) {
    json::array data;
    for (std::size_t r = from; r < to; ++r) {
        json::array row;
        for (const auto& cell : rows[r]) {
            if (cell)
                row.emplace_back(json::string(*cell));
            else if (nullable)
                row.emplace_back(nullptr);
            else
                row.emplace_back("null");
        }
        data.emplace_back(std::move(row));
    }
    return json::serialize(data);
}

}  // namespace

struct emulator::state {
    emulator_options options;
    std::unique_ptr<engine> db;
    std::unique_ptr<jwt_verifier> verifier;

    net::io_context ioc;
    tcp::acceptor acceptor{ioc};
    std::uint16_t port = 0;
    std::thread accept_thread;
    std::atomic<bool> stopping{false};
    std::uint64_t connections = 0;  ///< accepted so far (accept thread only)

    struct worker {
        std::thread thread;
        std::shared_ptr<std::atomic<bool>> done;
    };
    std::mutex threads_mutex;
    std::vector<worker> threads;
    std::vector<int> open_fds;

    mutable std::mutex mutex;
    std::map<std::string, std::shared_ptr<statement>> statements;
    std::map<std::string, std::string> by_request_id;
    std::deque<fault> faults;
    std::vector<log_entry> entries;
    std::uint64_t next_seq = 1;
    std::size_t execution_count = 0;
    std::size_t partition_rows = 1000;
    std::chrono::milliseconds sync_wait{45'000};

    std::optional<fault> take_fault(fault_target kind) {
        std::lock_guard lock(mutex);
        for (auto it = faults.begin(); it != faults.end(); ++it) {
            if (it->target != fault_target::any && it->target != kind) continue;
            fault f = *it;
            if (it->count > 0 && --it->count == 0) faults.erase(it);
            return f;
        }
        return std::nullopt;
    }

    void record(log_entry e) {
        std::lock_guard lock(mutex);
        e.seq = next_seq++;
        entries.push_back(std::move(e));
    }

    // Where a statement stands now (202 while running, 408 after its timeout).
    phase phase_of(statement& s) {
        std::lock_guard lock(s.mutex);
        if (s.cancelled) return phase::cancelled;
        const auto now = steady::now();
        if (s.executed && s.ready_at && now >= *s.ready_at) return s.result.ok ? phase::succeeded : phase::failed;
        if (now >= s.created + s.timeout) return phase::timed_out;
        return phase::running;
    }

    std::string status_url(const statement& s) const {
        return "/api/v2/statements/" + s.handle + (s.request_id.empty() ? "" : "?requestId=" + s.request_id);
    }

    answer result_answer(statement& s) {
        std::lock_guard lock(s.mutex);
        std::string meta =
            "{\"numRows\":" + std::to_string(s.result.rows.size()) + ",\"format\":\"jsonv2\",\"partitionInfo\":[";
        std::size_t begin = 0;
        for (std::size_t i = 0; i < s.partitions.size(); ++i) {
            const std::size_t rows = std::min(s.partition_rows, s.result.rows.size() - begin);
            begin += rows;
            meta += (i ? "," : "");
            meta += "{\"rowCount\":" + std::to_string(rows) +
                    ",\"uncompressedSize\":" + std::to_string(s.partitions[i].size());
            if (i > 0) meta += ",\"compressedSize\":" + std::to_string(s.compressed[i].size());
            meta += "}";
        }
        json::array row_type;
        for (const auto& c : s.result.columns) {
            json::object o;
            o["name"] = c.name;
            o["database"] = "";
            o["schema"] = "";
            o["table"] = "";
            o["type"] = c.type;
            o["scale"] = c.scale ? json::value(*c.scale) : json::value(nullptr);
            o["precision"] = c.precision ? json::value(*c.precision) : json::value(nullptr);
            o["length"] = c.length ? json::value(*c.length) : json::value(nullptr);
            o["byteLength"] = c.length ? json::value(*c.length * 4) : json::value(nullptr);
            o["nullable"] = true;
            o["collation"] = nullptr;
            row_type.emplace_back(std::move(o));
        }
        meta += "],\"rowType\":" + json::serialize(row_type) + "}";
        std::string body =
            "{\"resultSetMetaData\":" + meta + ",\"data\":" + s.partitions[0] +
            ",\"code\":\"090001\",\"statementStatusUrl\":" + json::serialize(json::string(status_url(s))) +
            ",\"sqlState\":\"00000\",\"statementHandle\":\"" + s.handle +
            "\",\"message\":\"Statement executed successfully.\",\"createdOn\":" + std::to_string(s.created_ms) + "}";
        return {200, std::move(body)};
    }

    answer status_answer(statement& s) {
        switch (phase_of(s)) {
            case phase::succeeded:
                return result_answer(s);
            case phase::failed: {
                std::lock_guard lock(s.mutex);
                json::object o;
                o["code"] = s.result.error_code;
                o["message"] = s.result.message;
                o["sqlState"] = s.result.sql_state;
                o["statementHandle"] = s.handle;
                o["statementStatusUrl"] = status_url(s);
                o["createdOn"] = s.created_ms;
                return json_answer(422, o);
            }
            case phase::cancelled:
                return error_answer(422, "000604", "SQL execution canceled", "57014", s.handle);
            case phase::timed_out:
                return error_answer(408, "000630",
                                    "Statement reached its statement or warehouse timeout of " +
                                        std::to_string(s.timeout.count()) + " second(s) and was canceled.",
                                    "57014", s.handle);
            case phase::running: {
                json::object o;
                o["code"] = "333334";
                o["message"] =
                    "Asynchronous execution in progress. Use provided query id to perform query monitoring and "
                    "management.";
                o["statementHandle"] = s.handle;
                o["statementStatusUrl"] = status_url(s);
                return json_answer(202, o);
            }
        }
        return error_answer(500, "000001", "emulator: unknown phase");
    }

    void execute(const std::shared_ptr<statement>& s, std::string sql, std::vector<bind_value> bindings,
                 std::string database, std::string schema) {
        auto result = db->run(sql, bindings, database, schema, s->max_rows);
        std::vector<std::string> parts, zipped;
        if (result.ok) {
            const std::size_t per = std::max<std::size_t>(1, s->partition_rows);
            std::size_t begin = 0;
            do {
                const std::size_t end = std::min(result.rows.size(), begin + per);
                parts.push_back(cells_json(result.rows, begin, end, s->nullable));
                zipped.push_back(parts.size() > 1 ? gzip("{\"data\":" + parts.back() + "}") : std::string());
                begin = end;
            } while (begin < result.rows.size());
        }
        std::lock_guard lock(s->mutex);
        s->result = std::move(result);
        s->partitions = std::move(parts);
        s->compressed = std::move(zipped);
        s->executed = true;
    }

    // Starts `fn` on its own thread; threads that already finished are joined here, so a long
    // test run does not pile them up. Call with threads_mutex held.
    void spawn_locked(std::function<void()> fn) {
        for (auto it = threads.begin(); it != threads.end();) {
            if (it->done->load()) {
                it->thread.join();
                it = threads.erase(it);
            } else {
                ++it;
            }
        }
        auto done = std::make_shared<std::atomic<bool>>(false);
        threads.push_back({std::thread([fn = std::move(fn), done] {
                               fn();
                               done->store(true);
                           }),
                           done});
    }

    void start_thread(std::function<void()> fn) {
        std::lock_guard lock(threads_mutex);
        spawn_locked(std::move(fn));
    }

    answer authenticate(const http::request<http::string_body>& req, log_entry& entry) {
        const std::string auth(req[http::field::authorization]);
        entry.token_type = std::string(req["X-Snowflake-Authorization-Token-Type"]);
        if (!auth.starts_with("Bearer ") || auth.size() <= 7) {
            entry.auth_error = "no bearer token";
            return error_answer(401, "390101", "Authorization header is missing or malformed.");
        }
        const std::string token = auth.substr(7);
        entry.token = digest(token);
        const std::string type = upper(entry.token_type);
        if (type == "OAUTH" || type == "PROGRAMMATIC_ACCESS_TOKEN") {
            for (const auto& t : options.tokens)
                if (t == token) return {0, {}};
            entry.auth_error = "unknown token";
            return error_answer(401, "390303", "Invalid OAuth access token. [" + new_uuid() + "]");
        }
        if (!type.empty() && type != "KEYPAIR_JWT") {
            entry.auth_error = "unknown token type";
            return error_answer(401, "390101", "Unsupported authorization token type.");
        }
        if (auto why = verifier->check(token, std::chrono::system_clock::now()); !why.empty()) {
            entry.auth_error = why;
            return error_answer(401, "390144", "JWT token is invalid. [" + new_uuid() + "]");
        }
        return {0, {}};
    }

    answer submit(const http::request<http::string_body>& req, log_entry& entry, const std::optional<fault>& f,
                  bool& reset_after) {
        const auto q = query_of(req.target());
        entry.request_id = q.contains("requestId") ? q.at("requestId") : "";
        entry.retry = q.contains("retry") && q.at("retry") == "true";
        entry.async = q.contains("async") && q.at("async") == "true";
        const std::string content_type(req[http::field::content_type]);
        if (!content_type.empty() && !content_type.starts_with("application/json")) return {415, {}};
        if (!entry.request_id.empty() && !uuid_like(entry.request_id))
            return error_answer(400, "390142", "Incoming request does not contain a valid payload.");
        entry.body = req.body();

        if (entry.retry && !entry.request_id.empty()) {
            std::shared_ptr<statement> known;
            {
                std::lock_guard lock(mutex);
                if (auto it = by_request_id.find(entry.request_id); it != by_request_id.end())
                    known = statements.at(it->second);
            }
            if (known) {  // never a second execution for a known requestId with retry=true
                entry.handle = known->handle;
                return entry.async ? status_answer_async(*known) : wait_and_answer(*known);
            }
        }

        boost::system::error_code ec;
        json::value body = json::parse(req.body(), ec);
        if (ec || !body.is_object())
            return error_answer(400, "390142", "Incoming request does not contain a valid payload.");
        const auto& o = body.get_object();
        const auto* sql = o.if_contains("statement");
        if (!sql || !sql->is_string() || sql->get_string().empty())
            return error_answer(400, "390142", "Incoming request does not contain a valid payload.");
        auto text_of = [&](std::string_view key) -> std::string {
            const auto* v = o.if_contains(key);
            return v && v->is_string() ? std::string(v->get_string()) : std::string();
        };
        const std::string warehouse = text_of("warehouse");
        std::size_t max_rows = 0;
        if (const auto* params = o.if_contains("parameters")) {
            if (!params->is_object())
                return error_answer(400, "390142", "Incoming request does not contain a valid payload.");
            for (const auto& kv : params->get_object()) {
                const std::string key = upper(kv.key());
                if (std::find(std::begin(allowed_parameters), std::end(allowed_parameters), key) ==
                    std::end(allowed_parameters))
                    return error_answer(
                        400, "391917",
                        "Invalid parameter. '" + std::string(kv.key()) + "' is not allowed or invalid for SQL API.");
                if (key == "ROWS_PER_RESULTSET" && kv.value().is_string())
                    max_rows = std::strtoull(std::string(kv.value().get_string()).c_str(), nullptr, 10);
            }
        }
        std::chrono::seconds timeout{172'800};
        if (const auto* t = o.if_contains("timeout")) {
            if (!t->is_int64() || t->get_int64() < 0 || t->get_int64() > 604'800)
                return error_answer(400, "390142", "Incoming request does not contain a valid payload.");
            timeout = std::chrono::seconds(t->get_int64() == 0 ? 604'800 : t->get_int64());
        }
        std::vector<bind_value> bindings;
        if (const auto* b = o.if_contains("bindings")) {
            if (!b->is_object())
                return error_answer(400, "390142", "Incoming request does not contain a valid payload.");
            const auto& bo = b->get_object();
            for (std::size_t i = 1; i <= bo.size(); ++i) {
                const auto* one = bo.if_contains(std::to_string(i));
                if (!one || !one->is_object())
                    return error_answer(400, "390142", "Incoming request does not contain a valid payload.");
                const auto* type = one->get_object().if_contains("type");
                const auto* value = one->get_object().if_contains("value");
                if (!type || !type->is_string() || (value && !value->is_string() && !value->is_null()))
                    return error_answer(400, "390142", "Incoming request does not contain a valid payload.");
                bind_value bv{std::string(type->get_string()), std::nullopt};
                if (value && value->is_string()) bv.value = std::string(value->get_string());
                bindings.push_back(std::move(bv));
            }
        }

        auto s = std::make_shared<statement>();
        s->handle = new_handle();
        s->request_id = entry.request_id;
        s->created = steady::now();
        s->created_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
                .count();
        s->timeout = timeout;
        s->ready_at = s->created;
        s->nullable = !(q.contains("nullable") && q.at("nullable") == "false");
        s->max_rows = max_rows;
        if (f && f->action == fault_action::slow_statement) s->ready_at = s->created + f->delay;
        if (f && f->action == fault_action::never_finish) s->ready_at.reset();
        {
            std::lock_guard lock(mutex);
            s->partition_rows = partition_rows;
            statements[s->handle] = s;
            if (!s->request_id.empty()) by_request_id[s->request_id] = s->handle;
            ++execution_count;
        }
        entry.handle = s->handle;
        entry.executed = true;
        if (warehouse.empty()) {
            std::lock_guard lock(s->mutex);
            s->result = execution{false,
                                  {},
                                  {},
                                  "000606",
                                  "57P03",
                                  "No active warehouse selected in the current session.  Select an active warehouse "
                                  "with the 'use warehouse' command."};
            s->executed = true;
        } else {
            start_thread([this, s, sql = std::string(sql->get_string()), bindings = std::move(bindings),
                          database = text_of("database"), schema = text_of("schema")]() mutable {
                execute(s, std::move(sql), std::move(bindings), std::move(database), std::move(schema));
            });
        }
        if (f && f->action == fault_action::reset_after_execute) {
            reset_after = true;
            return {};
        }
        return entry.async ? status_answer_async(*s) : wait_and_answer(*s);
    }

    // async=true answers 202 at once, even when the work is quick.
    answer status_answer_async(statement& s) {
        json::object o;
        o["code"] = "333334";
        o["message"] =
            "Asynchronous execution in progress. Use provided query id to perform query monitoring and management.";
        o["statementHandle"] = s.handle;
        o["statementStatusUrl"] = status_url(s);
        return json_answer(202, o);
    }

    answer wait_and_answer(statement& s) {
        const auto until = steady::now() + sync_wait;
        while (phase_of(s) == phase::running && steady::now() < until && !stopping)
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        return status_answer(s);
    }

    std::shared_ptr<statement> find(const std::string& handle) {
        std::lock_guard lock(mutex);
        auto it = statements.find(handle);
        return it == statements.end() ? nullptr : it->second;
    }

    answer poll(const std::string& handle, const std::map<std::string, std::string>& q, log_entry& entry,
                const std::optional<fault>& f) {
        entry.request_id = q.contains("requestId") ? q.at("requestId") : "";
        auto s = find(handle);
        if (!s) return error_answer(422, "000709", "Statement " + handle + " not found", "02000");
        std::size_t k = 0;
        if (q.contains("partition")) k = std::strtoull(q.at("partition").c_str(), nullptr, 10);
        if (k == 0) return status_answer(*s);
        if (phase_of(*s) != phase::succeeded) return status_answer(*s);
        std::lock_guard lock(s->mutex);
        if (k >= s->partitions.size())
            return error_answer(422, "000709",
                                "Partition " + std::to_string(k) + " of statement " + handle + " not found", "02000");
        answer a{200, s->compressed[k]};
        a.gzipped = true;
        if (f && f->action == fault_action::short_partition) {
            const std::size_t begin = k * s->partition_rows;
            const std::size_t end = std::min(s->result.rows.size(), begin + s->partition_rows);
            a.body = gzip("{\"data\":" + cells_json(s->result.rows, begin, end - 1, s->nullable) + "}");
        }
        if (f && f->action == fault_action::bad_gzip && a.body.size() > 20)
            for (std::size_t i = 10; i < a.body.size() - 8; i += 3) a.body[i] = static_cast<char>(a.body[i] ^ 0x5A);
        return a;
    }

    answer cancel(const std::string& handle, const std::map<std::string, std::string>& q, log_entry& entry) {
        entry.request_id = q.contains("requestId") ? q.at("requestId") : "";
        auto s = find(handle);
        if (!s) return error_answer(422, "000709", "Statement " + handle + " not found", "02000");
        {
            std::lock_guard lock(s->mutex);
            s->cancelled = true;
        }
        return error_answer(200, "000604", "SQL execution canceled", "57014", handle);
    }

    answer control(const http::request<http::string_body>& req, const std::string& path) {
        if (path == "/_emulator/log" && req.method() == http::verb::get) {
            std::vector<log_entry> copy;
            {
                std::lock_guard lock(mutex);
                copy = entries;
            }
            return {200, log_json(copy)};
        }
        if (path == "/_emulator/faults" && req.method() == http::verb::post) {
            try {
                auto list = parse_faults(req.body());
                std::lock_guard lock(mutex);
                for (auto& f : list) faults.push_back(f);
                return {200, "{\"added\":" + std::to_string(list.size()) + "}"};
            } catch (const std::runtime_error& e) {
                return error_answer(400, "390142", e.what());
            }
        }
        if (path == "/_emulator/reset" && req.method() == http::verb::post) {
            std::lock_guard lock(mutex);
            faults.clear();
            entries.clear();
            return {200, "{}"};
        }
        return {404, {}};
    }

    // Answers one request; false when the connection must be dropped without an answer.
    bool handle(const http::request<http::string_body>& req, answer& out, std::uint64_t connection) {
        const std::string target(req.target());
        const std::string path = target.substr(0, target.find('?'));
        log_entry entry;
        entry.connection = connection;
        entry.method = std::string(req.method_string());
        entry.target = target;
        entry.accept_encoding = std::string(req[http::field::accept_encoding]);
        entry.user_agent = std::string(req[http::field::user_agent]);
        const auto q = query_of(target);

        if (path.starts_with("/_emulator/")) {
            entry.kind = "control";
            out = control(req, path);
            entry.status = out.status;
            record(std::move(entry));
            return true;
        }

        constexpr std::string_view base = "/api/v2/statements";
        fault_target kind = fault_target::any;
        std::string handle_id;
        if (path == base) {
            kind = fault_target::submit;
            entry.kind = "submit";
        } else if (path.starts_with(std::string(base) + "/")) {
            auto rest = path.substr(base.size() + 1);
            if (rest.ends_with("/cancel")) {
                kind = fault_target::cancel;
                entry.kind = "cancel";
                handle_id = rest.substr(0, rest.size() - 7);
            } else {
                handle_id = rest;
                const bool part = q.contains("partition") && q.at("partition") != "0";
                kind = part ? fault_target::partition : fault_target::poll;
                entry.kind = part ? "partition" : "poll";
            }
            entry.handle = handle_id;
        } else {
            entry.kind = "unknown";
            out = {404, {}};
            entry.status = 404;
            record(std::move(entry));
            return true;
        }
        const bool method_ok = (kind == fault_target::submit || kind == fault_target::cancel)
                                   ? req.method() == http::verb::post
                                   : req.method() == http::verb::get;
        if (!method_ok) {
            out = {405, {}};
            entry.status = 405;
            record(std::move(entry));
            return true;
        }

        auto f = take_fault(kind);
        if (f) entry.fault = action_name(f->action);
        if (f && f->action == fault_action::delay) std::this_thread::sleep_for(f->delay);
        if (f && f->action == fault_action::reset) {
            entry.request_id = q.contains("requestId") ? q.at("requestId") : "";
            entry.retry = q.contains("retry") && q.at("retry") == "true";
            record(std::move(entry));
            return false;
        }
        if (f && f->action == fault_action::status) {
            entry.request_id = q.contains("requestId") ? q.at("requestId") : "";
            entry.retry = q.contains("retry") && q.at("retry") == "true";
            if (f->status == 429)
                out = error_answer(429, "390505", "Too many requests.");
            else if (f->status == 401)
                out = error_answer(401, "390144", "JWT token is invalid. [" + new_uuid() + "]");
            else if (f->status == 500)
                out = error_answer(500, "000001", "Internal error processing the request.");
            else
                out = {f->status, "<html><body><h1>" + std::to_string(f->status) + "</h1></body></html>", "text/html"};
            out.retry_after = f->retry_after;
            entry.status = out.status;
            record(std::move(entry));
            return true;
        }

        if (auto denied = authenticate(req, entry); denied.status != 0) {
            entry.request_id = q.contains("requestId") ? q.at("requestId") : "";
            entry.retry = q.contains("retry") && q.at("retry") == "true";
            out = std::move(denied);
            entry.status = out.status;
            record(std::move(entry));
            return true;
        }

        bool reset_after = false;
        switch (kind) {
            case fault_target::submit:
                out = submit(req, entry, f, reset_after);
                break;
            case fault_target::poll:
            case fault_target::partition:
                out = poll(handle_id, q, entry, f);
                break;
            case fault_target::cancel:
                out = cancel(handle_id, q, entry);
                break;
            default:
                out = {404, {}};
        }
        if (reset_after) {
            record(std::move(entry));
            return false;
        }
        if (f && f->action == fault_action::truncate) out.body.resize(out.body.size() / 2);
        if (f && f->action == fault_action::malformed) {
            out.status = 200;
            out.gzipped = false;
            out.body = "<html>upstream proxy error</html>";
        }
        if (f && !f->retry_after.empty()) out.retry_after = f->retry_after;
        entry.status = out.status;
        record(std::move(entry));
        return true;
    }

    void serve(std::shared_ptr<tcp::socket> socket, std::uint64_t connection) {
        const int fd = socket->native_handle();
        beast::flat_buffer buffer;
        for (;;) {
            http::request_parser<http::string_body> parser;
            parser.body_limit(16 * 1024 * 1024);
            beast::error_code ec;
            http::read(*socket, buffer, parser, ec);
            if (ec) break;
            const auto& req = parser.get();
            answer a;
            if (!handle(req, a, connection) || stopping) {
                socket->set_option(net::socket_base::linger(true, 0),
                                   ec);  // closed below: RST, like a dropped connection
                break;
            }
            http::response<http::string_body> res{static_cast<http::status>(a.status), 11};
            if (!a.body.empty() || a.status != 405) res.set(http::field::content_type, a.content_type);
            if (a.gzipped) res.set(http::field::content_encoding, "gzip");
            if (!a.retry_after.empty()) res.set(http::field::retry_after, a.retry_after);
            res.keep_alive(req.keep_alive());
            res.body() = std::move(a.body);
            res.prepare_payload();
            http::write(*socket, res, ec);
            if (ec || !req.keep_alive()) break;
        }
        std::lock_guard lock(threads_mutex);
        open_fds.erase(std::remove(open_fds.begin(), open_fds.end(), fd), open_fds.end());
        beast::error_code ignored;
        socket->close(ignored);  // under the lock: stop() never shuts down a reused descriptor
    }

    void accept_loop() {
        while (!stopping) {
            auto socket = std::make_shared<tcp::socket>(ioc);
            beast::error_code ec;
            acceptor.accept(*socket, ec);
            if (ec || stopping) break;
            std::lock_guard lock(threads_mutex);
            open_fds.push_back(socket->native_handle());
            spawn_locked([this, socket, n = ++connections] { serve(socket, n); });
        }
    }
};

emulator::emulator(emulator_options options) : state_(std::make_unique<state>()) {
    auto& s = *state_;
    s.options = std::move(options);
    s.partition_rows = s.options.partition_rows;
    s.sync_wait = s.options.sync_wait;
    s.db = std::make_unique<engine>(s.options.database_path, s.options.database_name, s.options.writable);
    s.verifier = std::make_unique<jwt_verifier>(s.options.account, s.options.user, s.options.public_keys_pem);
    const tcp::endpoint ep(net::ip::make_address("127.0.0.1"), s.options.port);
    s.acceptor.open(ep.protocol());
    s.acceptor.set_option(net::socket_base::reuse_address(true));
    s.acceptor.bind(ep);
    s.acceptor.listen(net::socket_base::max_listen_connections);
    s.port = s.acceptor.local_endpoint().port();
    s.accept_thread = std::thread([&s] { s.accept_loop(); });
}

emulator::~emulator() {
    stop();
}

void emulator::stop() {
    auto& s = *state_;
    if (s.stopping.exchange(true)) return;
    ::shutdown(s.acceptor.native_handle(), SHUT_RDWR);  // wakes the blocked accept
    if (s.accept_thread.joinable()) s.accept_thread.join();
    {
        std::lock_guard lock(s.threads_mutex);
        for (int fd : s.open_fds) ::shutdown(fd, SHUT_RDWR);
    }
    s.db->interrupt_all();
    for (;;) {
        std::vector<state::worker> threads;
        {
            std::lock_guard lock(s.threads_mutex);
            threads = std::move(s.threads);
            s.threads.clear();
        }
        if (threads.empty()) break;
        for (auto& t : threads) t.thread.join();
    }
    beast::error_code ec;
    s.acceptor.close(ec);
}

std::uint16_t emulator::port() const noexcept {
    return state_->port;
}
std::string emulator::base_url() const {
    return "http://127.0.0.1:" + std::to_string(state_->port);
}

void emulator::add_fault(fault f) {
    std::lock_guard lock(state_->mutex);
    state_->faults.push_back(f);
}

void emulator::clear_faults() {
    std::lock_guard lock(state_->mutex);
    state_->faults.clear();
}

std::vector<log_entry> emulator::log() const {
    std::lock_guard lock(state_->mutex);
    return state_->entries;
}

void emulator::clear_log() {
    std::lock_guard lock(state_->mutex);
    state_->entries.clear();
}

std::size_t emulator::executions() const {
    std::lock_guard lock(state_->mutex);
    return state_->execution_count;
}

void emulator::set_partition_rows(std::size_t rows) {
    std::lock_guard lock(state_->mutex);
    state_->partition_rows = rows;
}

void emulator::set_sync_wait(std::chrono::milliseconds wait) {
    std::lock_guard lock(state_->mutex);
    state_->sync_wait = wait;
}

std::vector<fault> parse_faults(const std::string& json_text) {
    boost::system::error_code ec;
    auto v = json::parse(json_text, ec);
    if (ec) throw std::runtime_error("faults: not JSON: " + ec.message());
    if (v.is_object()) v = json::array{v};
    if (!v.is_array()) throw std::runtime_error("faults: expected a list of objects");
    std::vector<fault> out;
    for (const auto& item : v.get_array()) {
        if (!item.is_object()) throw std::runtime_error("faults: expected objects");
        const auto& o = item.get_object();
        fault f;
        if (const auto* t = o.if_contains("target")) {
            const std::string name = t->is_string() ? std::string(t->get_string()) : "";
            bool found = false;
            for (auto k : {fault_target::any, fault_target::submit, fault_target::poll, fault_target::partition,
                           fault_target::cancel})
                if (name == target_name(k)) f.target = k, found = true;
            if (!found) throw std::runtime_error("faults: unknown target " + name);
        }
        if (const auto* a = o.if_contains("action")) {
            const std::string name = a->is_string() ? std::string(a->get_string()) : "";
            bool found = false;
            for (auto k :
                 {fault_action::status, fault_action::reset, fault_action::reset_after_execute, fault_action::truncate,
                  fault_action::malformed, fault_action::delay, fault_action::short_partition, fault_action::bad_gzip,
                  fault_action::slow_statement, fault_action::never_finish})
                if (name == action_name(k)) f.action = k, found = true;
            if (!found) throw std::runtime_error("faults: unknown action " + name);
        }
        if (const auto* c = o.if_contains("count"); c && c->is_int64()) f.count = static_cast<int>(c->get_int64());
        if (const auto* st = o.if_contains("status"); st && st->is_int64())
            f.status = static_cast<int>(st->get_int64());
        if (const auto* r = o.if_contains("retry_after"); r && r->is_string())
            f.retry_after = std::string(r->get_string());
        if (const auto* d = o.if_contains("delay_ms"); d && d->is_int64())
            f.delay = std::chrono::milliseconds(d->get_int64());
        if (f.count == 0) throw std::runtime_error("faults: count 0 does nothing");
        out.push_back(f);
    }
    return out;
}

std::string log_json(const std::vector<log_entry>& log) {
    json::array out;
    for (const auto& e : log) {
        json::object o;
        o["seq"] = e.seq;
        o["method"] = e.method;
        o["target"] = e.target;
        o["kind"] = e.kind;
        o["request_id"] = e.request_id;
        o["retry"] = e.retry;
        o["async"] = e.async;
        o["handle"] = e.handle;
        o["status"] = e.status;
        o["fault"] = e.fault;
        o["auth_error"] = e.auth_error;
        o["token_type"] = e.token_type;
        o["executed"] = e.executed;
        o["connection"] = e.connection;
        out.emplace_back(std::move(o));
    }
    return json::serialize(out);
}

}  // namespace frost::emulators::snowflake
