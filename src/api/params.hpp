#pragma once

#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "model/error.hpp"
#include "source/source.hpp"

namespace frost::api {

/// Decoded query-string pairs, in order of appearance.
using query_pairs = std::vector<std::pair<std::string, std::string>>;

/// Splits a request target into its path and decoded query pairs. Empty pairs (`?`, `?&`, a
/// leading or trailing `&`, `&&`) are dropped; a name without `=` is a pair with an empty value.
/// Fails with `bad_request` for malformed percent-encoding or a target that is not origin-form.
/// The path is decoded except `%2F`, kept as those three characters: an encoded slash never
/// separates segments, so `/trips%2Fmonthly` matches no route.
[[nodiscard]] model::result<std::pair<std::string, query_pairs>> split_target(std::string_view target);

/// Turns the query pairs of a request into the typed values an endpoint's SQL binds, by the
/// endpoint's declared parameters: canonical names, defaults applied, ranges and types
/// checked. A date range becomes two DATE values, whole days, inclusive, both or neither
/// (both NULL when absent). Errors name the parameter and what is expected.
/// `rng` is only used for `random=true`; the caller owns it (one per thread).
[[nodiscard]] model::result<std::vector<source::parameter>> bind_params(const config::endpoint_config& endpoint,
                                                                        const query_pairs& query, std::mt19937_64& rng);

}  // namespace frost::api
