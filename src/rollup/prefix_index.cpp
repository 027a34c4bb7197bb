#include "rollup/prefix_index.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <utility>

#include "rollup/bytes.hpp"

namespace frost::rollup {

namespace json = boost::json;

namespace {

__extension__ using i128 = __int128;  // NOLINT: exact sums of 64-bit partial sums

model::error decline(std::string why) {
    return {model::error_code::config_error, std::move(why), {}, {}};
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// Runs `sql` on `db` with `params`; a helper query of the index, never an API call.
model::result<model::table> run_sql(source::source& db, const std::string& sql,
                                    const std::vector<source::parameter>& params = {},
                                    std::size_t max_rows = prefix_index::max_cells + 1) {
    source::query q{sql, params, model::deadline::after(std::chrono::seconds(60)), "rollup:prefix-index", max_rows};
    return db.run(q);
}

model::result<std::string> single_text(model::result<model::table> t) {
    if (!t) return std::move(t).error();
    const auto& rows = t.value().rows;
    if (rows.size() != 1 || rows[0].size() != 1 || !std::holds_alternative<std::string>(rows[0][0]))
        return decline("DuckDB gave no text");
    return std::get<std::string>(rows[0][0]);
}

// The parse tree of one SELECT statement, as DuckDB serialises it.
model::result<json::value> parse_sql(source::source& db, std::string_view sql) {
    auto text = single_text(run_sql(db, "SELECT json_serialize_sql($sql::VARCHAR)", {{"sql", std::string(sql)}}));
    if (!text) return std::move(text).error();
    boost::system::error_code ec;
    auto tree = json::parse(text.value(), ec);
    if (ec || !tree.is_object()) return decline("the parse tree is not JSON");
    const auto& root = tree.as_object();
    const auto* err = root.if_contains("error");
    if (err == nullptr || !err->is_bool() || err->as_bool()) return decline("DuckDB cannot parse it as one SELECT");
    const auto* stmts = root.if_contains("statements");
    if (stmts == nullptr || !stmts->is_array() || stmts->as_array().size() != 1)
        return decline("not exactly one statement");
    return tree;
}

model::result<std::string> to_sql(source::source& db, const json::value& tree) {
    return single_text(
        run_sql(db, "SELECT json_deserialize_sql($tree::VARCHAR::JSON)", {{"tree", json::serialize(tree)}}));
}

std::string_view str(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string_view(v->as_string()) : std::string_view();
}

bool is_null(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v == nullptr || v->is_null();
}

std::string_view cls(const json::value& v) {
    return v.is_object() ? str(v.as_object(), "class") : "";
}

// Functions that may appear in a row expression: scalar and CONSISTENT for every overload, no
// aggregate, macro or volatile function of the same name.
struct function_table {
    std::set<std::string> pure;
};

model::result<function_table> load_functions(source::source& db) {
    auto t = run_sql(db,
                     "SELECT function_name, bool_and(function_type = 'scalar' AND stability = 'CONSISTENT') "
                     "FROM duckdb_functions() GROUP BY function_name");
    if (!t) return std::move(t).error();
    function_table f;
    for (const auto& row : t.value().rows)
        if (const auto* name = std::get_if<std::string>(&row[0]))
            if (const auto* ok = std::get_if<bool>(&row[1]); ok && *ok) f.pure.insert(lower(*name));
    return f;
}

// Empty when `e` is a plain row expression (columns, constants, operators and consistent scalar
// functions only); else why not.
std::string impure(const json::value& e, const function_table& fns) {
    if (e.is_array()) {
        for (const auto& x : e.as_array())
            if (auto why = impure(x, fns); !why.empty()) return why;
        return {};
    }
    if (!e.is_object()) return {};
    const auto& o = e.as_object();
    if (const auto c = str(o, "class"); !c.empty()) {
        static const std::set<std::string_view> allowed{"COLUMN_REF",  "CONSTANT", "CAST",    "OPERATOR", "COMPARISON",
                                                        "CONJUNCTION", "CASE",     "BETWEEN", "COLLATE",  "FUNCTION"};
        if (!allowed.contains(c)) return "it uses a " + std::string(c) + " expression";
        if (c == "FUNCTION") {
            const auto name = lower(str(o, "function_name"));
            if (!fns.pure.contains(name)) return "it uses " + name + "(), which is not a consistent scalar function";
            if (!str(o, "schema").empty() || !str(o, "catalog").empty()) return "it uses a qualified function";
            if (!is_null(o, "filter")) return "it uses a FILTER clause";
        }
    }
    for (const auto& [k, v] : o)
        if (auto why = impure(v, fns); !why.empty()) return why;
    return {};
}

// One range term on the range column: `D >= $p` (lower) or `D <= $p`, guarded by `$p IS NULL OR`.
struct range_term {
    std::string param;
    bool lower = true;
    bool guarded = false;
    json::value column;
};

std::optional<range_term> as_comparison(const json::object& o) {
    const auto type = str(o, "type");
    if (str(o, "class") != "COMPARISON" ||
        (type != "COMPARE_GREATERTHANOREQUALTO" && type != "COMPARE_LESSTHANOREQUALTO"))
        return std::nullopt;
    const auto* l = o.if_contains("left");
    const auto* r = o.if_contains("right");
    if (l == nullptr || r == nullptr) return std::nullopt;
    range_term t;
    t.lower = type == "COMPARE_GREATERTHANOREQUALTO";
    // `$p::DATE` is `$p` for the values the index reads (a DATE or NULL; others go to DuckDB).
    auto unwrap = [](const json::value* v) {
        if (cls(*v) != "CAST") return v;
        const auto& o = v->as_object();
        const auto* type = o.if_contains("cast_type");
        const auto* child = o.if_contains("child");
        const auto* tc = o.if_contains("try_cast");
        if (type && type->is_object() && str(type->as_object(), "id") == "DATE" && child &&
            cls(*child) == "PARAMETER" && tc && tc->is_bool() && !tc->as_bool())
            return child;
        return v;
    };
    l = unwrap(l);
    r = unwrap(r);
    const json::value* param = r;
    if (cls(*l) == "COLUMN_REF" && cls(*r) == "PARAMETER") {
        t.column = *l;
    } else if (cls(*l) == "PARAMETER" && cls(*r) == "COLUMN_REF") {
        t.column = *r;  // `$p <= D` bounds D from below
        t.lower = !t.lower;
        param = l;
    } else {
        return std::nullopt;
    }
    t.param = std::string(str(param->as_object(), "identifier"));
    if (t.param.empty()) return std::nullopt;
    return t;
}

// The range terms a WHERE conjunct stands for, or nullopt when it is not one.
std::optional<std::vector<range_term>> as_range(const json::value& v) {
    if (!v.is_object()) return std::nullopt;
    const auto& o = v.as_object();
    if (auto t = as_comparison(o)) return std::vector<range_term>{*t};
    if (str(o, "class") == "BETWEEN") {
        const auto* in = o.if_contains("input");
        const auto* lo = o.if_contains("lower");
        const auto* hi = o.if_contains("upper");
        if (in == nullptr || lo == nullptr || hi == nullptr || cls(*in) != "COLUMN_REF" || cls(*lo) != "PARAMETER" ||
            cls(*hi) != "PARAMETER")
            return std::nullopt;
        range_term a{std::string(str(lo->as_object(), "identifier")), true, false, *in};
        range_term b{std::string(str(hi->as_object(), "identifier")), false, false, *in};
        if (a.param.empty() || b.param.empty()) return std::nullopt;
        return std::vector<range_term>{a, b};
    }
    if (str(o, "type") == "CONJUNCTION_OR") {
        const auto* ch = o.if_contains("children");
        if (ch == nullptr || !ch->is_array() || ch->as_array().size() != 2) return std::nullopt;
        for (int first = 0; first < 2; ++first) {
            const auto& guard = ch->as_array()[first];
            const auto& cmp = ch->as_array()[1 - first];
            if (!guard.is_object() || str(guard.as_object(), "type") != "OPERATOR_IS_NULL" || !cmp.is_object())
                continue;
            const auto* gch = guard.as_object().if_contains("children");
            if (gch == nullptr || !gch->is_array() || gch->as_array().size() != 1 ||
                cls(gch->as_array()[0]) != "PARAMETER")
                continue;
            auto t = as_comparison(cmp.as_object());
            if (!t || t->param != str(gch->as_array()[0].as_object(), "identifier")) continue;
            t->guarded = true;
            return std::vector<range_term>{*t};
        }
    }
    return std::nullopt;
}

// `v` without its `query_location`s, to compare expressions written in different places.
json::value unlocated(json::value v) {
    if (v.is_object()) {
        auto& o = v.as_object();
        o.erase("query_location");
        for (auto& [k, x] : o) x = unlocated(std::move(x));
    } else if (v.is_array()) {
        for (auto& x : v.as_array()) x = unlocated(std::move(x));
    }
    return v;
}

void flatten_and(const json::value& v, std::vector<json::value>& out) {
    if (v.is_object() && str(v.as_object(), "type") == "CONJUNCTION_AND") {
        if (const auto* ch = v.as_object().if_contains("children"); ch && ch->is_array()) {
            for (const auto& c : ch->as_array()) flatten_and(c, out);
            return;
        }
    }
    out.push_back(v);
}

// Integer cast targets and the range an answer cell can hold (Frost reads every integer type
// as a 64-bit integer; past it DuckDB's answer is a double, so the index steps aside).
std::optional<std::pair<i128, i128>> integer_range(std::string_view id) {
    constexpr i128 i64min = std::numeric_limits<std::int64_t>::min(), i64max = std::numeric_limits<std::int64_t>::max();
    if (id == "TINYINT") return std::pair<i128, i128>{-128, 127};
    if (id == "SMALLINT") return std::pair<i128, i128>{-32768, 32767};
    if (id == "INTEGER")
        return std::pair<i128, i128>{std::numeric_limits<std::int32_t>::min(),
                                     std::numeric_limits<std::int32_t>::max()};
    if (id == "BIGINT" || id == "HUGEINT") return std::pair<i128, i128>{i64min, i64max};
    if (id == "UTINYINT") return std::pair<i128, i128>{0, 255};
    if (id == "USMALLINT") return std::pair<i128, i128>{0, 65535};
    if (id == "UINTEGER") return std::pair<i128, i128>{0, std::numeric_limits<std::uint32_t>::max()};
    if (id == "UBIGINT" || id == "UHUGEINT") return std::pair<i128, i128>{0, i64max};
    return std::nullopt;
}

// Appends a value to a group's key, type first, so that distinct values give distinct keys.
void append_key(std::string& key, const model::value& v) {
    key.push_back(static_cast<char>('0' + v.index()));
    auto raw = [&key](const auto& x) {
        char buf[sizeof(x)];
        std::memcpy(buf, &x, sizeof(x));
        key.append(buf, sizeof(x));
    };
    std::visit(
        [&](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, std::string>) {
                raw(x.size());
                key += x;
            } else if constexpr (std::is_same_v<T, model::decimal>) {
                raw(x.unscaled);
                raw(x.scale);
            } else if constexpr (std::is_same_v<T, model::date>) {
                raw(x.days);
            } else if constexpr (std::is_same_v<T, model::timestamp>) {
                raw(x.micros);
            } else if constexpr (!std::is_same_v<T, std::monostate>) {
                raw(x);
            }
        },
        v);
}

}  // namespace

/// What kind of answer column an item of the select list is.
enum class item_kind {
    sum,         ///< sum(e): NULL when no non-NULL e in range
    count,       ///< count(e)
    count_star,  ///< count(*)
    label,       ///< any_value(e) & co., constant within each group (checked at build)
    fixed,       ///< an expression of the group keys
};

struct prefix_plan {
    std::string rollup;
    std::string sql;
    struct item {
        item_kind kind = item_kind::fixed;
        i128 min = 0, max = 0;   ///< the range of the integer type the answer holds
        std::size_t prefix = 0;  ///< first prefix column (sum: sum, then non-NULL count; count: count)
        std::size_t check = 0;   ///< label: its value, distinct count and non-NULL count in the partial query
    };
    std::vector<item> items;
    std::vector<range_term> bounds;
    std::vector<std::string> params;  ///< the distinct range parameters
    bool grouped = false;
    std::size_t keys = 0;        ///< GROUP BY expressions
    std::size_t order_keys = 0;  ///< ORDER BY expressions
    std::size_t prefixes = 1;    ///< prefix columns: 0 is rows, then the items'
    /// The SQL without range terms, with the group and order keys appended: every group, in order.
    std::string order_sql;
    /// Per (group keys..., D): rows, then each item's partial columns.
    std::string partial_sql;
};

struct prefix_index::group {
    std::vector<model::value> fixed;        ///< the answer row's cells of label and fixed items
    std::vector<std::int32_t> days;         ///< ascending
    std::vector<std::vector<i128>> prefix;  ///< [column][i]: sum over days[0..i), size days + 1
};

prefix_index::prefix_index() = default;
prefix_index::~prefix_index() = default;
std::size_t prefix_index::groups() const noexcept {
    return groups_.size();
}

model::result<std::shared_ptr<const prefix_plan>> prefix_index::recognise(source::source& db, std::string_view sql,
                                                                          std::string_view rollup) {
    auto parsed = parse_sql(db, sql);
    if (!parsed) return std::move(parsed).error();
    json::value tree = std::move(parsed).value();
    auto& stmt = tree.as_object()["statements"].as_array()[0].as_object();
    if (!stmt.contains("node") || !stmt["node"].is_object()) return decline("no query node");
    const json::object node = stmt["node"].as_object();
    if (str(node, "type") != "SELECT_NODE") return decline("not a plain SELECT (a set operation?)");
    if (const auto* cte = node.if_contains("cte_map"); cte && cte->is_object()) {
        const auto* m = cte->as_object().if_contains("map");
        if (m && m->is_array() && !m->as_array().empty()) return decline("it has a WITH clause");
    }
    for (const auto* k : {"having", "qualify", "sample"})
        if (!is_null(node, k)) return decline(std::string("it has a ") + k + " clause");
    if (str(node, "aggregate_handling") != "STANDARD_HANDLING") return decline("it uses GROUP BY ALL");
    const auto* from = node.if_contains("from_table");
    if (from == nullptr || !from->is_object()) return decline("no FROM");
    const auto& ft = from->as_object();
    if (str(ft, "type") != "BASE_TABLE") return decline("its FROM is not one table (a join or subquery?)");
    if (!is_null(ft, "sample") || !is_null(ft, "at_clause")) return decline("its FROM samples or time-travels");
    const auto schema = lower(str(ft, "schema_name"));
    if (lower(str(ft, "table_name")) != lower(rollup) || !str(ft, "catalog_name").empty() ||
        !(schema.empty() || schema == "main"))
        return decline("it does not read the rollup table " + std::string(rollup));
    if (const auto* a = ft.if_contains("column_name_alias"); a && a->is_array() && !a->as_array().empty())
        return decline("it renames the table's columns");

    // The functions are DuckDB's built-ins (the serving database defines none): listed once.
    static std::mutex functions_mutex;
    static std::optional<function_table> functions;
    std::unique_lock functions_lock(functions_mutex);
    if (!functions) {
        auto loaded = load_functions(db);
        if (!loaded) return std::move(loaded).error();
        functions = std::move(loaded).value();
    }
    const function_table f = *functions;
    functions_lock.unlock();

    auto plan = std::make_shared<prefix_plan>();
    plan->rollup = std::string(rollup);
    plan->sql = std::string(sql);

    // WHERE: range terms on one column, and terms without parameters.
    std::vector<json::value> conjuncts, kept;
    if (const auto* w = node.if_contains("where_clause"); w && !w->is_null()) flatten_and(*w, conjuncts);
    for (const auto& c : conjuncts) {
        if (auto r = as_range(c)) {
            for (auto& t : *r) plan->bounds.push_back(std::move(t));
            continue;
        }
        if (auto why = impure(c, f); !why.empty()) return decline("a WHERE term is not a range term: " + why);
        kept.push_back(c);
    }
    if (plan->bounds.empty()) return decline("no range term on a column");
    const json::value column = plan->bounds[0].column;
    for (const auto& b : plan->bounds) {
        if (unlocated(b.column) != unlocated(column)) return decline("its range terms name more than one column");
        if (std::find(plan->params.begin(), plan->params.end(), b.param) == plan->params.end())
            plan->params.push_back(b.param);
    }

    // GROUP BY: plain expressions, one grouping set.
    json::array groups;
    if (const auto* g = node.if_contains("group_expressions"); g && g->is_array()) groups = g->as_array();
    for (const auto& g : groups) {
        if (cls(g) == "CONSTANT") return decline("it groups by position");
        if (auto why = impure(g, f); !why.empty()) return decline("a GROUP BY expression: " + why);
    }
    plan->grouped = !groups.empty();
    plan->keys = groups.size();
    {
        json::array one;
        for (std::size_t i = 0; i < groups.size(); ++i) one.emplace_back(static_cast<std::int64_t>(i));
        json::array sets;
        if (!groups.empty()) sets.emplace_back(std::move(one));
        const auto* gs = node.if_contains("group_sets");
        if (gs == nullptr || *gs != json::value(sets)) return decline("it uses GROUPING SETS, ROLLUP or CUBE");
    }

    // Templates of the partial query's aggregates, from DuckDB's own parser.
    auto tpl =
        parse_sql(db, "SELECT count(*), count(x), sum(x), count(DISTINCT x), count(x) FILTER (WHERE false) FROM t");
    if (!tpl) return std::move(tpl).error();
    const auto tpl_list =
        tpl.value().as_object()["statements"].as_array()[0].as_object()["node"].as_object()["select_list"].as_array();
    auto make = [&](std::size_t which, const json::value* child, const std::string& alias) {
        json::value v = tpl_list[which];
        if (child) v.as_object()["children"] = json::array{*child};
        v.as_object()["alias"] = alias;
        return v;
    };

    // The select list.
    const auto* sl = node.if_contains("select_list");
    if (sl == nullptr || !sl->is_array() || sl->as_array().empty()) return decline("no select list");
    const auto& items = sl->as_array();
    json::array partial_items;
    for (std::size_t i = 0; i < groups.size(); ++i) {
        json::value k = groups[i];
        k.as_object()["alias"] = "__frost_k" + std::to_string(i);
        partial_items.push_back(std::move(k));
    }
    {
        json::value d = column;
        d.as_object()["alias"] = "__frost_d";
        partial_items.push_back(std::move(d));
        partial_items.push_back(make(0, nullptr, "__frost_rows"));
    }
    std::map<std::string, std::size_t> aliases;  // lower-case alias -> item
    for (std::size_t i = 0; i < items.size(); ++i) {
        const auto& it = items[i];
        if (!it.is_object()) return decline("a select item is not an expression");
        const auto& o = it.as_object();
        if (auto a = lower(str(o, "alias")); !a.empty()) aliases.emplace(a, i);
        prefix_plan::item item;
        item.min = std::numeric_limits<std::int64_t>::min();
        item.max = std::numeric_limits<std::int64_t>::max();
        const json::object* agg = &o;
        if (str(o, "class") == "CAST") {
            const auto* child = o.if_contains("child");
            const auto* type = o.if_contains("cast_type");
            const auto* tc = o.if_contains("try_cast");
            if (child && cls(*child) == "FUNCTION" && type && type->is_object()) {
                const auto fname = lower(str(child->as_object(), "function_name"));
                if (fname == "sum" || fname == "count" || fname == "count_star") {
                    auto range = integer_range(str(type->as_object(), "id"));
                    if (!range)
                        return decline("item " + std::to_string(i + 1) + " casts an aggregate to a non-integer type");
                    if (tc == nullptr || !tc->is_bool() || tc->as_bool())
                        return decline("item " + std::to_string(i + 1) + " uses TRY_CAST");
                    item.min = range->first;
                    item.max = range->second;
                    agg = &child->as_object();
                }
            }
        }
        const auto fname = str(*agg, "class") == "FUNCTION" ? lower(str(*agg, "function_name")) : std::string();
        static const std::set<std::string> counted{"sum", "count", "count_star"};
        static const std::set<std::string> labels{"any_value", "min", "max", "first", "arbitrary"};
        if (counted.contains(fname) || labels.contains(fname)) {
            const auto* ch = agg->if_contains("children");
            const auto* d = agg->if_contains("distinct");
            const auto* ob = agg->if_contains("order_bys");
            const bool ordered = ob && ob->is_object() && ob->as_object().contains("orders") &&
                                 ob->as_object().at("orders").is_array() &&
                                 !ob->as_object().at("orders").as_array().empty();
            if (!str(*agg, "schema").empty() || !str(*agg, "catalog").empty() || !is_null(*agg, "filter") ||
                (d && d->is_bool() && d->as_bool()) || ordered || ch == nullptr || !ch->is_array())
                return decline("item " + std::to_string(i + 1) + " is an aggregate with DISTINCT, FILTER or ORDER BY");
            const auto& args = ch->as_array();
            if (fname == "count_star" ? !args.empty() : args.size() != 1)
                return decline("item " + std::to_string(i + 1) + ": unexpected arguments");
            if (!args.empty())
                if (auto why = impure(args[0], f); !why.empty())
                    return decline("item " + std::to_string(i + 1) + ": " + why);
            const std::string n = std::to_string(i);
            if (fname == "sum") {
                item.kind = item_kind::sum;
                item.prefix = plan->prefixes;
                plan->prefixes += 2;
                partial_items.push_back(make(2, &args[0], "__frost_s" + n));
                partial_items.push_back(make(1, &args[0], "__frost_n" + n));
            } else if (fname == "count") {
                item.kind = item_kind::count;
                item.prefix = plan->prefixes++;
                partial_items.push_back(make(1, &args[0], "__frost_n" + n));
            } else if (fname == "count_star") {
                item.kind = item_kind::count_star;
            } else {
                if (!plan->grouped) return decline("a label without GROUP BY is NULL over an empty range");
                item.kind = item_kind::label;
                item.check = partial_items.size();
                json::value v = *agg;
                v.as_object()["alias"] = "__frost_v" + n;
                partial_items.push_back(std::move(v));
                partial_items.push_back(make(3, &args[0], "__frost_u" + n));
                partial_items.push_back(make(1, &args[0], "__frost_n" + n));
            }
        } else {
            if (!plan->grouped) return decline("item " + std::to_string(i + 1) + " is not an aggregate");
            if (auto why = impure(it, f); !why.empty()) return decline("item " + std::to_string(i + 1) + ": " + why);
            item.kind = item_kind::fixed;
        }
        plan->items.push_back(item);
    }

    // ORDER BY: over group keys and labels only, so that each range's groups keep one order.
    json::array orders;
    json::array order_keys;
    for (const auto& m : node.at("modifiers").as_array()) {
        if (str(m.as_object(), "type") != "ORDER_MODIFIER") return decline("it has DISTINCT or LIMIT");
        for (const auto& o : m.as_object().at("orders").as_array()) orders.push_back(o);
    }
    if (plan->grouped && orders.empty()) return decline("its groups have no ORDER BY, so their order is DuckDB's whim");
    for (const auto& o : orders) {
        json::value e = o.as_object().at("expression");
        const auto& eo = e.as_object();
        std::optional<std::size_t> target;
        if (str(eo, "class") == "CONSTANT") {
            const auto& v = eo.at("value").as_object();
            if (v.contains("value") && v.at("value").is_int64() && v.at("value").as_int64() >= 1 &&
                static_cast<std::size_t>(v.at("value").as_int64()) <= items.size())
                target = static_cast<std::size_t>(v.at("value").as_int64()) - 1;
            else
                return decline("it orders by a constant");
        } else if (str(eo, "class") == "COLUMN_REF" && eo.at("column_names").as_array().size() == 1) {
            if (auto a = aliases.find(lower(eo.at("column_names").as_array()[0].as_string())); a != aliases.end())
                target = a->second;
        }
        if (target) {
            const auto k = plan->items[*target].kind;
            if (k != item_kind::fixed && k != item_kind::label) return decline("it orders by a sum or count");
            e = items[*target];
        } else if (auto why = impure(e, f); !why.empty()) {
            return decline("an ORDER BY expression: " + why);
        }
        e.as_object()["alias"] = "__frost_o" + std::to_string(order_keys.size());
        order_keys.push_back(std::move(e));
    }
    plan->order_keys = order_keys.size();

    json::value where = nullptr;
    if (kept.size() == 1) {
        where = kept[0];
    } else if (kept.size() > 1) {
        where = node.at("where_clause");  // a CONJUNCTION_AND
        where.as_object()["children"] = json::array(kept.begin(), kept.end());
    }

    // Every group in the answer's order, with its keys.
    {
        json::value t = tree;
        auto& s = t.as_object()["statements"].as_array()[0].as_object();
        s["named_param_map"] = json::array{};
        auto& n = s["node"].as_object();
        n["where_clause"] = where;
        auto& list = n["select_list"].as_array();
        // Sums and counts over no row: the same types, and no overflow error over the whole table.
        const json::value never = tpl_list[4].as_object().at("filter");
        for (std::size_t i = 0; i < plan->items.size(); ++i) {
            const auto k = plan->items[i].kind;
            if (k != item_kind::sum && k != item_kind::count && k != item_kind::count_star) continue;
            auto* a = &list[i].as_object();
            if (str(*a, "class") == "CAST") a = &(*a)["child"].as_object();
            (*a)["filter"] = never;
        }
        for (std::size_t i = 0; i < groups.size(); ++i) list.push_back(partial_items[i]);
        for (const auto& k : order_keys) list.push_back(k);
        auto text = to_sql(db, t);
        if (!text) return decline("DuckDB cannot write the ordering query: " + text.error().message);
        plan->order_sql = std::move(text).value();
    }
    // Per (group, day) partial aggregates.
    {
        json::value t = tree;
        auto& s = t.as_object()["statements"].as_array()[0].as_object();
        s["named_param_map"] = json::array{};
        auto& n = s["node"].as_object();
        n["where_clause"] = where;
        n["modifiers"] = json::array{};
        n["select_list"] = partial_items;
        json::array g = groups;
        g.push_back(column);
        json::array set;
        for (std::size_t i = 0; i < g.size(); ++i) set.emplace_back(static_cast<std::int64_t>(i));
        n["group_expressions"] = std::move(g);
        n["group_sets"] = json::array{set};
        auto text = to_sql(db, t);
        if (!text) return decline("DuckDB cannot write the partial query: " + text.error().message);
        plan->partial_sql = std::move(text).value();
    }
    return std::shared_ptr<const prefix_plan>(std::move(plan));
}

namespace {

bool same_table(const model::table& a, const model::table& b) {
    if (a.columns.size() != b.columns.size() || a.rows != b.rows) return false;
    for (std::size_t i = 0; i < a.columns.size(); ++i)
        if (a.columns[i].name != b.columns[i].name || a.columns[i].type != b.columns[i].type) return false;
    return true;
}

std::optional<i128> as_int(const model::value& v) {
    if (const auto* i = std::get_if<std::int64_t>(&v)) return *i;
    return std::nullopt;
}

}  // namespace

model::result<std::shared_ptr<const prefix_index>> prefix_index::build(source::source& db,
                                                                       const std::shared_ptr<const prefix_plan>& plan,
                                                                       int checks, std::uint64_t seed) {
    const auto& p = *plan;
    std::shared_ptr<prefix_index> idx(new prefix_index());
    idx->plan_ = plan;

    auto ordered = run_sql(db, p.order_sql);
    if (!ordered) return decline("the ordering query failed: " + ordered.error().message);
    const auto& ot = ordered.value();
    const std::size_t n = p.items.size();
    if (ot.columns.size() != n + p.keys + p.order_keys) return decline("the ordering query has unexpected columns");
    idx->columns_.assign(ot.columns.begin(), ot.columns.begin() + static_cast<std::ptrdiff_t>(n));
    std::map<std::string, std::size_t> by_key;
    for (std::size_t r = 0; r < ot.rows.size(); ++r) {
        const auto& row = ot.rows[r];
        std::string key;
        for (std::size_t k = 0; k < p.keys; ++k) append_key(key, row[n + k]);
        if (!by_key.emplace(key, r).second) return decline("two groups have the same keys");
        if (r > 0 && std::equal(row.begin() + static_cast<std::ptrdiff_t>(n + p.keys), row.end(),
                                ot.rows[r - 1].begin() + static_cast<std::ptrdiff_t>(n + p.keys)))
            return decline("its ORDER BY has ties, so the order of groups is DuckDB's whim");
        group g;
        g.fixed.assign(row.begin(), row.begin() + static_cast<std::ptrdiff_t>(n));
        idx->groups_.push_back(std::move(g));
    }

    auto partial = run_sql(db, p.partial_sql);
    if (!partial && partial.error().code == model::error_code::result_too_large)
        return decline("more than " + std::to_string(max_cells) + " (group, day) cells");
    if (!partial) return decline("the partial query failed: " + partial.error().message);
    const auto& pt = partial.value();
    idx->cells_ = pt.rows.size();
    if (idx->cells_ > max_cells) return decline("more than " + std::to_string(max_cells) + " (group, day) cells");
    if (pt.columns.size() < p.keys + 2 || pt.columns[p.keys].type != model::column_type::date)
        return decline("the range column is not a DATE");
    for (std::size_t c = p.keys + 1; c < pt.columns.size(); ++c) {
        bool label_value = false;
        for (const auto& it : p.items) label_value = label_value || (it.kind == item_kind::label && c == it.check);
        if (!label_value && pt.columns[c].type != model::column_type::integer)
            return decline("a sum is not over an integer type (" + pt.columns[c].name + ")");
    }
    // Rows of each group, by day.
    std::vector<std::vector<const std::vector<model::value>*>> cells(idx->groups_.size());
    for (const auto& row : pt.rows) {
        std::string key;
        for (std::size_t k = 0; k < p.keys; ++k) append_key(key, row[k]);
        auto g = by_key.find(key);
        if (g == by_key.end()) return decline("a group of the partial query is not in the ordering query");
        if (!std::holds_alternative<model::date>(row[p.keys])) return decline("the range column has NULLs");
        cells[g->second].push_back(&row);
    }
    for (std::size_t gi = 0; gi < cells.size(); ++gi) {
        auto& rows = cells[gi];
        std::sort(rows.begin(), rows.end(), [&](const auto* a, const auto* b) {
            return std::get<model::date>((*a)[p.keys]) < std::get<model::date>((*b)[p.keys]);
        });
        auto& g = idx->groups_[gi];
        g.prefix.assign(p.prefixes, std::vector<i128>(rows.size() + 1, 0));
        g.days.reserve(rows.size());
        for (std::size_t r = 0; r < rows.size(); ++r) {
            const auto& row = *rows[r];
            g.days.push_back(std::get<model::date>(row[p.keys]).days);
            auto add = [&](std::size_t col, const model::value& v) -> bool {
                i128 x = 0;
                if (!std::holds_alternative<std::monostate>(v)) {
                    auto i = as_int(v);
                    if (!i) return false;
                    x = *i;
                }
                g.prefix[col][r + 1] = g.prefix[col][r] + x;
                return true;
            };
            std::size_t c = p.keys + 1;
            if (!add(0, row[c++])) return decline("a partial count is not an integer");
            for (const auto& it : p.items) {
                if (it.kind == item_kind::sum) {
                    if (!add(it.prefix, row[c++]) || !add(it.prefix + 1, row[c++]))
                        return decline("a partial sum is past 64 bits");
                } else if (it.kind == item_kind::count) {
                    if (!add(it.prefix, row[c++])) return decline("a partial count is not an integer");
                } else if (it.kind == item_kind::label) {
                    // Constant within the group: one distinct value on every day, never NULL on
                    // some rows only, the same on every day as over the whole group.
                    const auto& value = row[c];
                    const auto distinct = as_int(row[c + 1]), nonnull = as_int(row[c + 2]),
                               all = as_int(row[p.keys + 1]);
                    c += 3;
                    const auto fixed = static_cast<std::size_t>(&it - p.items.data());
                    if (!distinct || !nonnull || !all || *distinct > 1 || (*nonnull != 0 && *nonnull != *all) ||
                        value != g.fixed[fixed])
                        return decline("label " + idx->columns_[fixed].name + " is not constant within each group");
                }
            }
        }
        // A group whose label is NULL on some days and set on others was caught above: the
        // value of each day equals the whole group's.
    }

    // Compare with DuckDB for the unbounded range, and random ones in and around the span.
    std::int32_t lo = std::numeric_limits<std::int32_t>::max(), hi = std::numeric_limits<std::int32_t>::min();
    for (const auto& g : idx->groups_)
        if (!g.days.empty()) lo = std::min(lo, g.days.front()), hi = std::max(hi, g.days.back());
    if (lo > hi) lo = hi = 0;
    std::mt19937_64 rng(seed);
    for (int round = -1; round < checks; ++round) {
        std::vector<source::parameter> params;
        for (const auto& name : p.params) {
            model::value v = std::monostate{};
            if (round >= 0 && rng() % 8 != 0) {
                std::uniform_int_distribution<std::int32_t> pick(lo - 3, hi + 3);
                v = model::date{pick(rng)};
            }
            params.push_back({name, std::move(v)});
        }
        // Lower bounds first: two random dates are put in order half of the time.
        if (params.size() == 2 && round % 2 == 0 && std::holds_alternative<model::date>(params[0].value) &&
            std::holds_alternative<model::date>(params[1].value)) {
            auto& a = std::get<model::date>(params[0].value);
            auto& b = std::get<model::date>(params[1].value);
            if (b < a) std::swap(a, b);
        }
        auto mine = idx->answer(params);
        if (!mine) continue;
        auto theirs = run_sql(db, p.sql, params);
        if (!theirs) return decline("DuckDB failed on a check range: " + theirs.error().message);
        if (!same_table(*mine, theirs.value()))
            return decline("its answers differ from DuckDB's (check " + std::to_string(round + 2) + ")");
    }
    return std::shared_ptr<const prefix_index>(std::move(idx));
}

std::optional<model::table> prefix_index::answer(std::span<const source::parameter> params,
                                                 std::size_t max_rows) const {
    const auto& p = *plan_;
    std::int32_t lo = std::numeric_limits<std::int32_t>::min(), hi = std::numeric_limits<std::int32_t>::max();
    bool empty = false;
    for (const auto& b : p.bounds) {
        const model::value* v = nullptr;
        for (const auto& q : params)
            if (q.name == b.param) v = &q.value;
        if (v == nullptr) return std::nullopt;  // DuckDB reports the missing parameter
        if (std::holds_alternative<std::monostate>(*v)) {
            empty = empty || !b.guarded;  // `D >= NULL` holds for no row
            continue;
        }
        const auto* d = std::get_if<model::date>(v);
        if (d == nullptr) return std::nullopt;  // DuckDB casts it its own way
        if (b.lower)
            lo = std::max(lo, d->days);
        else
            hi = std::min(hi, d->days);
    }
    empty = empty || lo > hi;

    model::table t;
    t.columns = columns_;
    for (const auto& g : groups_) {
        std::size_t from = 0, to = 0;
        if (!empty) {
            from = static_cast<std::size_t>(std::lower_bound(g.days.begin(), g.days.end(), lo) - g.days.begin());
            to = static_cast<std::size_t>(std::upper_bound(g.days.begin(), g.days.end(), hi) - g.days.begin());
            to = std::max(from, to);
        }
        auto sum = [&](std::size_t col) { return from == to ? i128{0} : g.prefix[col][to] - g.prefix[col][from]; };
        const i128 rows = sum(0);
        if (p.grouped && rows == 0) continue;  // SQL has no empty groups
        if (t.rows.size() == max_rows) return std::nullopt;
        std::vector<model::value> row;
        row.reserve(p.items.size());
        for (std::size_t i = 0; i < p.items.size(); ++i) {
            const auto& it = p.items[i];
            std::optional<i128> x;
            switch (it.kind) {
                case item_kind::sum:
                    if (sum(it.prefix + 1) != 0) x = sum(it.prefix);
                    break;
                case item_kind::count:
                    x = sum(it.prefix);
                    break;
                case item_kind::count_star:
                    x = rows;
                    break;
                case item_kind::label:
                case item_kind::fixed:
                    row.push_back(g.fixed[i]);
                    continue;
            }
            if (!x) {
                row.emplace_back(std::monostate{});
                continue;
            }
            if (*x < it.min || *x > it.max) return std::nullopt;  // DuckDB's overflow error or double
            row.emplace_back(static_cast<std::int64_t>(*x));
        }
        t.rows.push_back(std::move(row));
    }
    return t;
}

namespace {

// One cell of a group's fixed part: the variant's index, then its value.
void put_value(bytes::writer& w, const model::value& v) {
    w.put<std::uint8_t>(static_cast<std::uint8_t>(v.index()));
    std::visit(
        [&w](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, std::string>) {
                w.put_string(x);
            } else if constexpr (std::is_same_v<T, model::decimal>) {
                w.put(x.unscaled);
                w.put(x.scale);
            } else if constexpr (std::is_same_v<T, model::date>) {
                w.put(x.days);
            } else if constexpr (std::is_same_v<T, model::timestamp>) {
                w.put(x.micros);
            } else if constexpr (std::is_same_v<T, bool>) {
                w.put<std::uint8_t>(x ? 1 : 0);
            } else if constexpr (!std::is_same_v<T, std::monostate>) {
                w.put(x);
            }
        },
        v);
}

std::optional<model::value> get_value(bytes::reader& r) {
    auto tag = r.get<std::uint8_t>();
    if (!tag) return std::nullopt;
    switch (*tag) {
        case 0:
            return model::value{std::monostate{}};
        case 1: {
            auto b = r.get<std::uint8_t>();
            if (!b || *b > 1) return std::nullopt;
            return model::value{*b == 1};
        }
        case 2:
            if (auto i = r.get<std::int64_t>()) return model::value{*i};
            return std::nullopt;
        case 3:
            if (auto d = r.get<double>()) return model::value{*d};
            return std::nullopt;
        case 4: {
            auto u = r.get<std::int64_t>();
            auto s = r.get<std::uint8_t>();
            if (!u || !s) return std::nullopt;
            return model::value{model::decimal{*u, *s}};
        }
        case 5:
            if (auto d = r.get<std::int32_t>()) return model::value{model::date{*d}};
            return std::nullopt;
        case 6:
            if (auto t = r.get<std::int64_t>()) return model::value{model::timestamp{*t}};
            return std::nullopt;
        case 7:
            if (auto s = r.get_string()) return model::value{std::string(*s)};
            return std::nullopt;
        default:
            return std::nullopt;
    }
}

model::error malformed(const std::string& what) {
    return {model::error_code::config_error, "malformed prefix index: " + what, {}, {}};
}

}  // namespace

std::string prefix_index::serialize() const {
    const auto& p = *plan_;
    bytes::writer w;
    w.put_string(p.rollup);
    w.put_string(p.sql);
    w.put<std::uint64_t>(p.items.size());
    for (const auto& it : p.items) {
        w.put<std::uint8_t>(static_cast<std::uint8_t>(it.kind));
        w.put(it.min);
        w.put(it.max);
        w.put<std::uint64_t>(it.prefix);
    }
    w.put<std::uint64_t>(p.bounds.size());
    for (const auto& b : p.bounds) {
        w.put_string(b.param);
        w.put<std::uint8_t>(b.lower ? 1 : 0);
        w.put<std::uint8_t>(b.guarded ? 1 : 0);
    }
    w.put<std::uint8_t>(p.grouped ? 1 : 0);
    w.put<std::uint64_t>(p.prefixes);
    w.put<std::uint64_t>(columns_.size());
    for (const auto& c : columns_) {
        w.put_string(c.name);
        w.put<std::uint8_t>(static_cast<std::uint8_t>(c.type));
    }
    w.put<std::uint64_t>(groups_.size());
    for (const auto& g : groups_) {
        for (const auto& v : g.fixed) put_value(w, v);
        w.put<std::uint64_t>(g.days.size());
        for (auto d : g.days) w.put(d);
        // Each day's own value, not the prefix sums: a partial sum or count of one day fits 64
        // bits (build checks), and the reader adds them up again.
        for (const auto& col : g.prefix)
            for (std::size_t d = 0; d + 1 < col.size(); ++d) w.put(static_cast<std::int64_t>(col[d + 1] - col[d]));
    }
    return std::move(w.data());
}

model::result<std::shared_ptr<const prefix_index>> prefix_index::deserialize(std::string_view in) {
    bytes::reader r(in);
    auto plan = std::make_shared<prefix_plan>();
    auto rollup = r.get_string();
    auto sql = r.get_string();
    if (!rollup || !sql) return malformed("no rollup or SQL");
    plan->rollup = std::string(*rollup);
    plan->sql = std::string(*sql);
    auto items = r.get_count(1 + 2 * sizeof(i128) + 8);
    if (!items) return malformed("item count");
    for (std::size_t i = 0; i < *items; ++i) {
        auto kind = r.get<std::uint8_t>();
        auto min = r.get<i128>();
        auto max = r.get<i128>();
        auto prefix = r.get<std::uint64_t>();
        if (!kind || !min || !max || !prefix) return malformed("items");
        if (*kind > static_cast<std::uint8_t>(item_kind::fixed) || *min > *max) return malformed("an item");
        prefix_plan::item it;
        it.kind = static_cast<item_kind>(*kind);
        it.min = *min;
        it.max = *max;
        it.prefix = static_cast<std::size_t>(*prefix);
        plan->items.push_back(it);
    }
    auto bounds = r.get_count(8 + 2);
    if (!bounds) return malformed("range term count");
    for (std::size_t i = 0; i < *bounds; ++i) {
        auto param = r.get_string();
        auto lower = r.get<std::uint8_t>();
        auto guarded = r.get<std::uint8_t>();
        if (!param || !lower || !guarded || *lower > 1 || *guarded > 1) return malformed("a range term");
        range_term t;
        t.param = std::string(*param);
        t.lower = *lower == 1;
        t.guarded = *guarded == 1;
        plan->bounds.push_back(std::move(t));
    }
    auto grouped = r.get<std::uint8_t>();
    auto prefixes = r.get<std::uint64_t>();
    if (!grouped || *grouped > 1 || !prefixes || *prefixes == 0 || *prefixes > 1024)
        return malformed("grouping or prefix columns");
    plan->grouped = *grouped == 1;
    plan->prefixes = static_cast<std::size_t>(*prefixes);
    for (const auto& it : plan->items) {
        const std::size_t needs = it.kind == item_kind::sum ? 2 : it.kind == item_kind::count ? 1 : 0;
        if (needs != 0 && (it.prefix == 0 || it.prefix + needs > plan->prefixes))
            return malformed("an item's prefix column");
    }
    std::shared_ptr<prefix_index> idx(new prefix_index());
    auto columns = r.get_count(8 + 1);
    if (!columns || *columns != plan->items.size()) return malformed("columns");
    for (std::size_t i = 0; i < *columns; ++i) {
        auto name = r.get_string();
        auto type = r.get<std::uint8_t>();
        if (!name || !type || *type > static_cast<std::uint8_t>(model::column_type::binary))
            return malformed("a column");
        idx->columns_.push_back({std::string(*name), static_cast<model::column_type>(*type)});
    }
    auto groups = r.get_count(8 + plan->items.size());
    if (!groups) return malformed("group count");
    idx->groups_.reserve(*groups);
    for (std::size_t gi = 0; gi < *groups; ++gi) {
        group g;
        for (std::size_t i = 0; i < plan->items.size(); ++i) {
            auto v = get_value(r);
            if (!v) return malformed("a group's fixed cells");
            g.fixed.push_back(std::move(*v));
        }
        auto days = r.get_count(sizeof(std::int32_t) + plan->prefixes * sizeof(std::int64_t));
        if (!days) return malformed("a group's day count");
        g.days.resize(*days);
        for (std::size_t d = 0; d < *days; ++d) {
            auto day = r.get<std::int32_t>();
            if (!day || (d > 0 && *day <= g.days[d - 1])) return malformed("a group's days");
            g.days[d] = *day;
        }
        g.prefix.assign(plan->prefixes, std::vector<i128>(*days + 1, 0));
        for (auto& col : g.prefix) {
            for (std::size_t d = 0; d < *days; ++d) {
                auto x = r.get<std::int64_t>();
                if (!x) return malformed("a group's day values");
                col[d + 1] = col[d] + *x;  // at most 2^31 days of 2^63: no overflow in 128 bits
            }
        }
        idx->cells_ += g.days.size();
        idx->groups_.push_back(std::move(g));
    }
    if (!r.ok() || r.left() != 0) return malformed("trailing bytes");
    if (idx->cells_ > max_cells) return malformed("more than " + std::to_string(max_cells) + " cells");
    idx->plan_ = std::move(plan);
    return std::shared_ptr<const prefix_index>(std::move(idx));
}

}  // namespace frost::rollup
