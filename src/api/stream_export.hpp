#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "api/formats.hpp"
#include "api/response.hpp"
#include "config/config.hpp"
#include "model/error.hpp"
#include "source/source.hpp"

namespace frost::api {

/// The formats a streamed endpoint writes (`api::output_format`, the encoders of formats.hpp);
/// `export_formats` are those it offers, chosen by `negotiate_format`.
using export_format = output_format;

/// What `run_export` did.
struct export_outcome {
    bool answered = false;  ///< the head went out: the caller must not answer again
    std::uint64_t rows = 0;
    /// Why it failed. Before `answered`: the caller answers with it (a normal JSON error).
    /// After: the body was cut (chunked: no last chunk; NDJSON: an error line first).
    std::optional<model::error> error;
};

/// Settings of one export.
struct export_request {
    const source::query* query = nullptr;  ///< its `max_rows` is the endpoint's `max_export_rows`
    export_format format = export_format::csv;
    config::row_format rows = config::row_format::arrays;  ///< for `json`: the envelope's row shape
    model::clock::time_point started{};                    ///< for `time_ms` of the JSON envelope
    std::string_view request_id;
    bool expose_errors = false;          ///< the NDJSON error line shows the source's own text
    std::size_t max_buffered = 1 << 20;  ///< bytes queued between the worker and the transport
};

/// Runs `req.query` on `src` as a stream: when the source has the columns, `send_head` gets a
/// 200 response whose `stream` then receives the encoded rows batch by batch; it blocks while
/// the transport has not written what is queued (back-pressure). On a source failure after the
/// head, writes the NDJSON error line (NDJSON only) and fails the stream, so the transport cuts
/// the response. A stream the transport cancelled (client gone) or whose deadline passed while
/// waiting ends the query. Runs on a worker thread.
export_outcome run_export(source::source& src, const export_request& req,
                          const std::function<void(response)>& send_head);

}  // namespace frost::api
