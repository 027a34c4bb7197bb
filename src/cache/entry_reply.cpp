#include "cache/entry_reply.hpp"

#include "cache/http_caching.hpp"
#include "codec/http_tokens.hpp"

namespace frost::cache {

reply reply_from(const entry& e, std::string_view if_none_match, std::string_view accept_encoding) {
    reply r;
    const bool gz = e.gzip_body && codec::accepts_gzip(accept_encoding);
    const bool not_modified =
        !if_none_match.empty() && (cache::if_none_match(if_none_match, e.etag) ||
                                   (e.gzip_body && cache::if_none_match(if_none_match, e.gzip_etag)));
    if (not_modified) {
        r.status = 304;
        r.headers.reserve(e.not_modified_headers.size() + reply::added_fields);
        r.headers.assign(e.not_modified_headers.begin(), e.not_modified_headers.end());
        if (gz) {
            for (auto& [k, v] : r.headers)
                if (k == "ETag") v = e.gzip_etag;
        }
        return r;
    }
    r.status = e.status;
    // Room for the fields the service adds to every answer (X-Cache, Server-Timing): no regrowth.
    const auto& headers = gz ? e.gzip_headers : e.identity_headers;
    r.headers.reserve(headers.size() + reply::added_fields);
    r.headers.assign(headers.begin(), headers.end());
    r.body = gz ? e.gzip_body : e.body;
    return r;
}

}  // namespace frost::cache
