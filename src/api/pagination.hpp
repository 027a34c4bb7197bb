#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "api/params.hpp"
#include "config/config.hpp"
#include "model/error.hpp"
#include "model/value.hpp"
#include "source/source.hpp"

namespace frost::api {

/// Keyset pagination (docs/formats.md). A paginated endpoint's SQL sees, besides its own
/// parameters, `$after_<key>` for each key column (NULL on the first page) and `$page_limit`
/// (the page size plus one). The client sees `limit` and `cursor` query parameters, and the
/// cursor to the next page in the envelope (`"next"`), in a `Link: <...>; rel="next"` header
/// and as the last NDJSON line.

/// The query parameters a paginated endpoint reserves.
inline constexpr std::string_view limit_param = "limit";
inline constexpr std::string_view cursor_param = "cursor";
/// The bound parameter holding the page size plus one.
inline constexpr std::string_view page_limit_param = "page_limit";
/// The prefix of the bound parameters holding the previous page's last key.
inline constexpr std::string_view after_prefix = "after_";

/// Signs and checks cursors: `base64url(payload).base64url(HMAC-SHA256(key, context || payload))`,
/// where the payload holds the key values, typed, and the context is the endpoint and every
/// other bound parameter, so a cursor is valid only for the query that produced it. Immutable
/// after construction; thread-safe.
class cursor_signer {
public:
    /// `key` must not be empty.
    explicit cursor_signer(std::string key);

    /// A signer with `configured` as key, or with 32 random bytes (OpenSSL's RAND_bytes) when it
    /// is empty; `generated` tells which. Throws `std::runtime_error` when no random bytes can be had.
    [[nodiscard]] static cursor_signer with_key_or_random(const std::string& configured, bool& generated);

    /// The cursor that resumes after `values` (the last row's key) within `context`.
    [[nodiscard]] std::string sign(std::string_view context, std::span<const model::value> values) const;

    /// The key values of `cursor`, when it was signed by this key for `context` and holds
    /// `count` values; otherwise a `bad_parameter` error (400) that says the cursor is not
    /// valid for this query, without saying why (forged, foreign, truncated).
    [[nodiscard]] model::result<std::vector<model::value>> verify(std::string_view context, std::string_view cursor,
                                                                  std::size_t count) const;

private:
    std::string key_;
};

/// What one request asks of a paginated endpoint.
struct page_request {
    std::size_t limit = 0;              ///< rows on this page
    std::optional<std::string> cursor;  ///< as sent; absent on the first page
};

/// Takes `limit` and `cursor` out of `query` (so the endpoint's own binding never sees them) and
/// checks `limit`: a whole number from 1 to `max_page_size`, `page_size` when absent. Fails with
/// `bad_parameter` for a bad limit or either parameter given twice.
[[nodiscard]] model::result<page_request> take_page_params(const config::paginate_config& paging, query_pairs& query);

/// The context a cursor is bound to: the endpoint path and its bound parameters (the cache key
/// encoding, before the paging parameters are added).
[[nodiscard]] std::string cursor_context(std::string_view endpoint, std::span<const source::parameter> params);

/// Appends the paging parameters to `params`: `after_<key>` for each key column (`after`, or
/// NULLs when empty) and `page_limit` = `limit` + 1.
void bind_page(std::vector<source::parameter>& params, const config::paginate_config& paging,
               std::span<const model::value> after, std::size_t limit);

/// Cuts `t` to its first `limit` rows. When it held more, returns the last kept row's key values
/// (the next cursor's content), else nullopt. Fails with `config_error` when a key column is not
/// in the result (matched ignoring ASCII case, as Snowflake upper-cases names), or a kept row's
/// key is NULL (keyset paging cannot resume after NULL).
[[nodiscard]] model::result<std::optional<std::vector<model::value>>> cut_page(model::table& t,
                                                                               const config::paginate_config& paging,
                                                                               std::size_t limit);

/// The `Link` header value for the next page: `target` (the request's path and query as sent)
/// without its `cursor` pairs, plus `cursor=<cursor>`, as `<...>; rel="next"`.
[[nodiscard]] std::string next_link(std::string_view target, std::string_view cursor);

}  // namespace frost::api
