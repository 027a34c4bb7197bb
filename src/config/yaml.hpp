// The YAML document model the config loader reads: a tree of maps, sequences and text scalars,
// each node with its position in the text, parsed by libyaml.
//
// Why not yaml-cpp's YAML::Node: its scanner matches regular expressions character by character
// and read the default 11 KB config in 2.3 ms, a fifth of a Lambda cold start; libyaml reads it
// in 0.3 ms (BENCHMARKS.md, "Cold start, fifth pass"). The loader needs only what is here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace frost::config::yaml {

/// Where a node starts in the text, zero-based. A block scalar (`|`, `>`) starts at its indicator.
struct mark {
    int line = -1;        ///< -1: no position (an undefined node)
    int column = -1;      ///< in characters, as an editor counts them (yaml-cpp counted bytes)
    std::size_t pos = 0;  ///< byte offset into the text
};

/// A syntax error, or a document past the limits below, at `where`.
struct parse_error : std::runtime_error {
    parse_error(const std::string& what, mark where) : std::runtime_error(what), where(where) {}
    mark where;
};

struct entry;

/// A node of the tree, or an undefined one (a missing key, an index past the end). Copies share
/// the node; the tree is immutable once parsed. An alias (`*name`) is the anchored node itself.
class node {
public:
    enum class kind : std::uint8_t { undefined, null, scalar, sequence, map };

    node() = default;

    [[nodiscard]] kind type() const noexcept { return data_ ? data_->type : kind::undefined; }
    /// True unless undefined; a null value (`key:`, `~`, `null`) is defined.
    explicit operator bool() const noexcept { return data_ != nullptr; }
    [[nodiscard]] bool is_null() const noexcept { return type() == kind::null; }
    [[nodiscard]] bool is_scalar() const noexcept { return type() == kind::scalar; }
    [[nodiscard]] bool is_sequence() const noexcept { return type() == kind::sequence; }
    [[nodiscard]] bool is_map() const noexcept { return type() == kind::map; }

    /// A scalar's text (empty for any other node).
    [[nodiscard]] const std::string& scalar() const noexcept;
    /// True for a plain scalar without a tag: YAML would type `42`, `true`, `null` as such.
    /// False for quoted and block scalars, and for tagged ones (`!!str 42`).
    [[nodiscard]] bool plain() const noexcept { return data_ && data_->plain; }
    [[nodiscard]] mark where() const noexcept { return data_ ? data_->where : mark{}; }

    /// Items of a sequence, entries of a map; 0 otherwise.
    [[nodiscard]] std::size_t size() const noexcept;
    /// A map's value for `key` (the first, keys are unique), or undefined: also on a non-map.
    node operator[](std::string_view key) const;
    /// A sequence's item, or undefined: past the end or on a non-sequence.
    node operator[](std::size_t index) const;
    /// A sequence's items (empty for any other node).
    [[nodiscard]] const std::vector<node>& items() const noexcept;
    /// A map's entries in document order (empty for any other node); also what `for` walks.
    [[nodiscard]] const std::vector<entry>& entries() const noexcept;
    [[nodiscard]] std::vector<entry>::const_iterator begin() const noexcept;
    [[nodiscard]] std::vector<entry>::const_iterator end() const noexcept;

private:
    friend class builder;
    struct data {
        kind type = kind::null;
        bool plain = false;
        mark where;
        std::string text;
        std::vector<node> items;
        std::vector<entry> map;
    };
    explicit node(std::shared_ptr<data> d) noexcept : data_(std::move(d)) {}
    std::shared_ptr<data> data_;
};

/// One `key: value` of a map, in document order; `first` is always a scalar.
struct entry {
    node first;
    node second;
};

inline std::vector<entry>::const_iterator node::begin() const noexcept {
    return entries().begin();
}
inline std::vector<entry>::const_iterator node::end() const noexcept {
    return entries().end();
}

/// Limits that keep a hostile document from exhausting the stack or memory.
inline constexpr std::size_t max_depth = 128;
/// Nodes counted with every alias expanded (a "billion laughs" document stops here).
inline constexpr std::size_t max_expanded_nodes = 1'000'000;

/// Parses the first document of `text` (as YAML::Load does; later documents are not read).
/// Rejects: syntax errors, a key that is not a scalar, a key given twice in one map, an unknown
/// alias, nesting past max_depth, a document past max_expanded_nodes. An empty text is a null node.
/// @throws parse_error
node parse(std::string_view text);

}  // namespace frost::config::yaml
