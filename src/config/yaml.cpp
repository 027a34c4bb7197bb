#include "config/yaml.hpp"

#include <yaml.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace frost::config::yaml {

const std::string& node::scalar() const noexcept {
    static const std::string none;
    return data_ && data_->type == kind::scalar ? data_->text : none;
}

std::size_t node::size() const noexcept {
    if (!data_) return 0;
    return data_->type == kind::map ? data_->map.size() : data_->items.size();
}

const std::vector<node>& node::items() const noexcept {
    static const std::vector<node> none;
    return data_ && data_->type == kind::sequence ? data_->items : none;
}

const std::vector<entry>& node::entries() const noexcept {
    static const std::vector<entry> none;
    return data_ && data_->type == kind::map ? data_->map : none;
}

node node::operator[](std::string_view key) const {
    for (const auto& e : entries())
        if (e.first.scalar() == key) return e.second;
    return {};
}

node node::operator[](std::size_t index) const {
    if (!data_ || data_->type != kind::sequence || index >= data_->items.size()) return {};
    return data_->items[index];
}

namespace {

std::string_view text_of(const yaml_char_t* s) {
    return s ? std::string_view(reinterpret_cast<const char*>(s)) : std::string_view{};
}

// A plain scalar YAML reads as null (the core schema's null, and an absent value: `key:`).
bool null_text(std::string_view s) {
    return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

struct parser_handle {
    yaml_parser_t p{};
    parser_handle() {
        if (yaml_parser_initialize(&p) == 0) throw parse_error("out of memory starting the YAML parser", {});
    }
    ~parser_handle() { yaml_parser_delete(&p); }
    parser_handle(const parser_handle&) = delete;
    parser_handle& operator=(const parser_handle&) = delete;
    parser_handle(parser_handle&&) = delete;
    parser_handle& operator=(parser_handle&&) = delete;
};

struct event_handle {
    yaml_event_t e{};
    event_handle() = default;
    ~event_handle() { yaml_event_delete(&e); }
    event_handle(const event_handle&) = delete;
    event_handle& operator=(const event_handle&) = delete;
    event_handle(event_handle&&) = delete;
    event_handle& operator=(event_handle&&) = delete;
};

}  // namespace

// Builds the tree from libyaml's events; a friend of node.
class builder {
public:
    node run(std::string_view text) {
        text_ = text;
        parser_handle parser;
        yaml_parser_set_input_string(&parser.p, reinterpret_cast<const unsigned char*>(text.data()), text.size());
        for (;;) {
            event_handle ev;
            if (yaml_parser_parse(&parser.p, &ev.e) == 0) fail(parser.p);
            switch (ev.e.type) {
                case YAML_STREAM_END_EVENT:
                case YAML_DOCUMENT_END_EVENT:  // the first document only, as YAML::Load
                    return root_ ? root_ : make(node::kind::null, false, mark{0, 0, 0});
                case YAML_SCALAR_EVENT:
                    on_scalar(ev.e);
                    break;
                case YAML_ALIAS_EVENT:
                    on_alias(ev.e);
                    break;
                case YAML_SEQUENCE_START_EVENT:
                    open(make(node::kind::sequence, false, to_mark(ev.e.start_mark)), ev.e.data.sequence_start.anchor);
                    break;
                case YAML_MAPPING_START_EVENT:
                    open(make(node::kind::map, false, to_mark(ev.e.start_mark)), ev.e.data.mapping_start.anchor);
                    break;
                case YAML_SEQUENCE_END_EVENT:
                case YAML_MAPPING_END_EVENT:
                    close();
                    break;
                default:
                    break;  // stream and document starts
            }
        }
    }

private:
    struct frame {
        node n;
        std::string anchor;
        std::size_t expanded = 1;  // nodes in it, aliases expanded, this one included
        node key;                  // a map's key waiting for its value
        // A map's keys, for the repeated-key check once it is past a linear scan's size.
        std::unique_ptr<std::unordered_set<std::string_view>> keys;
    };
    struct anchored {
        node n;
        std::size_t expanded;
    };

    // Names where the construct that failed starts when that is earlier (an unclosed `[` is found
    // out only at the end of the text), and what was found where.
    [[noreturn]] void fail(const yaml_parser_t& p) {
        const std::string problem = p.problem ? p.problem : "malformed YAML";
        const auto at = to_mark(p.problem_mark);
        const auto where = " at line " + std::to_string(at.line + 1) + ", column " + std::to_string(at.column + 1);
        if (p.context != nullptr && p.context_mark.index < p.problem_mark.index)
            throw parse_error(std::string(p.context) + ": " + problem + where, to_mark(p.context_mark));
        if (at.pos >= text_.size() && !stack_.empty()) {
            const auto& open = stack_.back().n;
            throw parse_error(problem + where + ", the end of the text: the " +
                                  (open.is_map() ? "mapping" : "sequence") + " that starts here is not closed",
                              open.where());
        }
        throw parse_error(p.context != nullptr ? std::string(p.context) + ": " + problem : problem, at);
    }

    static node make(node::kind type, bool plain, mark where) {
        auto d = std::make_shared<node::data>();
        d->type = type;
        d->plain = plain;
        d->where = where;
        return node(std::move(d));
    }

    void on_scalar(const yaml_event_t& e) {
        const auto& s = e.data.scalar;
        const std::string_view value(reinterpret_cast<const char*>(s.value), s.length);
        const bool plain = s.style == YAML_PLAIN_SCALAR_STYLE && s.tag == nullptr;
        // A key is its text, `null` included; a value that reads as null is one.
        const bool key = !stack_.empty() && stack_.back().n.is_map() && !stack_.back().key;
        node n = make(!key && plain && null_text(value) ? node::kind::null : node::kind::scalar, plain,
                      to_mark(e.start_mark));
        if (n.is_scalar()) n.data_->text.assign(value);
        count(1, n.where());
        add(std::move(n), 1, text_of(s.anchor));
    }

    void on_alias(const yaml_event_t& e) {
        const auto it = anchors_.find(std::string(text_of(e.data.alias.anchor)));
        if (it == anchors_.end())
            throw parse_error("unknown alias *" + std::string(text_of(e.data.alias.anchor)), to_mark(e.start_mark));
        count(it->second.expanded, to_mark(e.start_mark));
        add(it->second.n, it->second.expanded, {});
    }

    void open(node n, const yaml_char_t* anchor) {
        if (stack_.size() >= max_depth)
            throw parse_error("nested deeper than " + std::to_string(max_depth) + " levels", n.where());
        count(1, n.where());
        frame f;
        f.n = std::move(n);
        f.anchor = std::string(text_of(anchor));
        stack_.push_back(std::move(f));
    }

    void close() {
        frame f = std::move(stack_.back());
        stack_.pop_back();
        add(std::move(f.n), f.expanded, f.anchor);
    }

    // Whether `key` is already in the map of `f`: a scan of the few entries of a config's maps, a
    // hash set past 16 (its views point into the entries' strings, which do not move).
    static bool repeated(frame& f, std::string_view key) {
        const auto& entries = f.n.data_->map;
        constexpr std::size_t scan = 16;
        if (entries.size() < scan) {
            for (const auto& e : entries)
                if (e.first.scalar() == key) return true;
            return false;
        }
        if (!f.keys) {
            f.keys = std::make_unique<std::unordered_set<std::string_view>>();
            for (const auto& e : entries) f.keys->insert(e.first.scalar());
        }
        return f.keys->contains(key);
    }

    // Counts `nodes` more in the document, once each (a collection when it opens, an alias as
    // the nodes it stands for), and refuses a document past max_expanded_nodes.
    void count(std::size_t nodes, mark where) {
        total_ += nodes;
        if (total_ > max_expanded_nodes)
            throw parse_error("more than " + std::to_string(max_expanded_nodes) + " nodes with aliases expanded",
                              where);
    }

    // Adds a finished node to the open collection (or makes it the root); `expanded`: its nodes,
    // aliases expanded, kept for an anchor on it.
    void add(node n, std::size_t expanded, std::string_view anchor) {
        if (!anchor.empty()) anchors_[std::string(anchor)] = anchored{n, expanded};
        if (stack_.empty()) {
            root_ = std::move(n);
            return;
        }
        auto& top = stack_.back();
        top.expanded += expanded;
        if (top.n.is_sequence()) {
            top.n.data_->items.push_back(std::move(n));
            return;
        }
        if (!top.key) {
            if (!n.is_scalar()) throw parse_error("a key must be a text value", n.where());
            if (repeated(top, n.scalar()))
                throw parse_error("the key \"" + n.scalar() + "\" is given twice", n.where());
            top.key = std::move(n);
            return;
        }
        top.n.data_->map.push_back(entry{std::move(top.key), std::move(n)});
        top.key = node{};
        if (top.keys) top.keys->insert(top.n.data_->map.back().first.scalar());
    }

    // libyaml counts characters; a mark's `pos` is a byte offset into the text (UTF-8).
    mark to_mark(const yaml_mark_t& m) {
        if (m.index < chars_) chars_ = bytes_ = 0;  // marks mostly move forward: restart if not
        while (chars_ < m.index && bytes_ < text_.size()) {
            ++bytes_;
            while (bytes_ < text_.size() && (static_cast<unsigned char>(text_[bytes_]) & 0xC0U) == 0x80U) ++bytes_;
            ++chars_;
        }
        return {static_cast<int>(m.line), static_cast<int>(m.column), bytes_};
    }

    std::string_view text_;
    std::size_t chars_ = 0, bytes_ = 0;  // the last mark converted
    std::vector<frame> stack_;
    std::unordered_map<std::string, anchored> anchors_;
    std::size_t total_ = 0;  // nodes in the document, aliases expanded
    node root_;
};

node parse(std::string_view text) {
    return builder{}.run(text);
}

}  // namespace frost::config::yaml
