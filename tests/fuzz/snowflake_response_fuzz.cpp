// Snowflake SQL API answers are untrusted bytes from the network (or whatever sits in the
// path): the parser must turn any input into a typed table or a clean error, never crash, and
// what it accepts must keep its promises (row widths, counts, valid JSON in json columns).
#include <boost/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "source/snowflake/response.hpp"
#include "source/snowflake/statement.hpp"

namespace {

void check_json_cells(const frost::model::table& t) {
    for (const auto& row : t.rows) {
        if (row.size() != t.columns.size()) std::abort();
        for (std::size_t c = 0; c < row.size(); ++c) {
            if (t.columns[c].type != frost::model::column_type::json) continue;
            const auto* s = std::get_if<std::string>(&row[c]);
            if (!s) continue;
            boost::system::error_code ec;
            (void)boost::json::parse(*s, ec);
            if (ec) std::abort();  // rendered verbatim: must be JSON
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace sf = frost::source::snowflake;
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    if (auto rs = sf::parse_result_set(text)) {
        const auto& r = rs.value();
        if (r.partition_rows.empty()) std::abort();
        if (r.partition_rows[0] != static_cast<std::int64_t>(r.first.rows.size())) std::abort();
        std::int64_t total = 0;
        for (auto n : r.partition_rows) total += n;
        if (total != r.num_rows) std::abort();
        if (r.first.columns.size() != r.columns.size()) std::abort();
        check_json_cells(r.first);
        // The same bytes as a later partition of this result.
        if (r.partition_rows.size() > 1) {
            std::vector<std::vector<frost::model::value>> rows;
            if (sf::parse_partition(text, r.columns, r.partition_rows[1], rows) &&
                static_cast<std::int64_t>(rows.size()) != r.partition_rows[1])
                std::abort();
        }
    } else if (rs.error().code != frost::model::error_code::source_error) {
        std::abort();
    }

    (void)sf::parse_status(text);

    // A partition of one column of each documented type.
    static const std::vector<sf::column_meta> columns = {
        {"A", "fixed", 2, 10},   {"B", "real", {}, {}},    {"C", "text", {}, {}},         {"D", "boolean", {}, {}},
        {"E", "date", {}, {}},   {"F", "time", 9, {}},     {"G", "timestamp_ntz", 9, {}}, {"H", "timestamp_tz", 9, {}},
        {"I", "binary", {}, {}}, {"J", "variant", {}, {}}, {"K", "fixed", 0, 38}};
    std::vector<std::vector<frost::model::value>> rows;
    if (sf::parse_partition(text, columns, 1, rows) && rows.size() != 1) std::abort();

    // The bytes as one cell of each type.
    for (const auto& c : columns) {
        auto v = sf::decode_cell(c, text);
        if (v && c.type == "variant") {
            boost::system::error_code ec;
            (void)boost::json::parse(std::get<std::string>(v.value()), ec);
            if (ec) std::abort();
        }
    }
    (void)sf::sanitize_message(text, 64);
    (void)sf::to_positional(text);
    return 0;
}
