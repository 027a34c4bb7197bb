#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "model/value.hpp"
#include "source/source.hpp"

namespace frost::cache {

/// The version of the data an answer was read from (a rollup's), so that answers computed
/// before a refresh are never served after it.
struct data_version {
    std::int64_t version = 0;
    bool stale = false;  ///< the last refresh failed: the answer is marked stale, so it is keyed apart
};

/// Appends one bound value, tagged with its type and length-prefixed when it is text, so `1`
/// and `"1"` never share a key and no text value can imitate a separator.
void append_key_value(std::string& key, const model::value& v);

/// Writes the cache key of an answer into `key`: the endpoint path, then each bound parameter
/// as `name=value` (in the canonical order `api::bind_params` produces), then the data
/// version when the endpoint reads a rollup, then `variant` when not empty (the representation,
/// e.g. the output format `csv`: the default one has none); fields are separated by U+001F. Two
/// requests share a key exactly when they bind the same values on the same endpoint at the same
/// data version and ask for the same variant. `key` is cleared first and its capacity kept, so
/// a caller that reuses one buffer per thread allocates nothing on a hit. Thread-safe for
/// distinct `key` buffers.
void encode_key(std::string& key, std::string_view endpoint, std::span<const source::parameter> params,
                const std::optional<data_version>& version, std::string_view variant = {});

}  // namespace frost::cache
