#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace frost::rollup::bytes {

/// Appends fixed-width little-endian integers and length-prefixed strings (the answer index
/// file, answer_index.hpp). The machine's own byte order is written: Frost runs on x86-64 and
/// arm64 Linux, both little-endian, and a file from another order fails its checksum or its
/// checks, never silently.
class writer {
public:
    template <class T>
    requires std::is_trivially_copyable_v<T>
    void put(T v) {
        char buf[sizeof(T)];
        std::memcpy(buf, &v, sizeof(T));
        out_.append(buf, sizeof(T));
    }
    void put_string(std::string_view s) {
        put<std::uint64_t>(s.size());
        out_.append(s);
    }
    [[nodiscard]] std::string& data() noexcept { return out_; }

private:
    std::string out_;
};

/// Reads what `writer` wrote; every read checks the bytes left, and a failed read leaves the
/// reader failed (every later read fails too), so a caller checks `ok()` once at the end or
/// wherever a count decides an allocation.
class reader {
public:
    explicit reader(std::string_view in) : in_(in) {}
    template <class T>
    requires std::is_trivially_copyable_v<T> std::optional<T> get() {
        if (!ok_ || in_.size() < sizeof(T)) return fail<T>();
        T v;
        std::memcpy(&v, in_.data(), sizeof(T));
        in_.remove_prefix(sizeof(T));
        return v;
    }
    std::optional<std::string_view> get_string() {
        auto n = get<std::uint64_t>();
        if (!n || *n > in_.size()) return fail<std::string_view>();
        auto s = in_.substr(0, static_cast<std::size_t>(*n));
        in_.remove_prefix(s.size());
        return s;
    }
    /// A count of items of at least `min_bytes` each: fails when the bytes left cannot hold them.
    std::optional<std::size_t> get_count(std::size_t min_bytes) {
        auto n = get<std::uint64_t>();
        if (!n || (min_bytes != 0 && *n > in_.size() / min_bytes)) return fail<std::size_t>();
        return static_cast<std::size_t>(*n);
    }
    [[nodiscard]] bool ok() const noexcept { return ok_; }
    [[nodiscard]] std::size_t left() const noexcept { return in_.size(); }

private:
    template <class T>
    std::optional<T> fail() {
        ok_ = false;
        return std::nullopt;
    }
    std::string_view in_;
    bool ok_ = true;
};

}  // namespace frost::rollup::bytes
