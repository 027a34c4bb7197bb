#include "api/stream_export.hpp"

#include <chrono>
#include <memory>

#include "api/render.hpp"

namespace frost::api {

namespace {

// The row encoder of formats.hpp, remembering the columns between batches.
class encoder {
public:
    encoder(export_format f, config::row_format shape) : enc_(f, shape) {}
    void head(const std::vector<model::column>& columns, std::string& out) {
        columns_ = columns;
        enc_.begin(out, columns_);
    }
    void rows(const std::vector<std::vector<model::value>>& batch, std::string& out) {
        for (const auto& row : batch) enc_.row(out, columns_, row);
    }
    void batch(const model::column_batch& batch, std::string& out) { enc_.batch(out, columns_, batch); }
    void tail(long long time_ms, std::string& out) { enc_.end(out, time_ms); }

private:
    row_encoder enc_;
    std::vector<model::column> columns_;
};

// Encodes each batch and queues it on the body stream; sends the head at `begin`.
class export_sink final : public source::row_sink {
public:
    export_sink(const export_request& req, const std::function<void(response)>& send_head)
        : req_(req), send_head_(send_head), enc_(req.format, req.rows) {}

    bool begin(const std::vector<model::column>& columns) override {
        body_ = std::make_shared<body_stream>(req_.max_buffered);
        response head;
        head.status = 200;
        head.headers.emplace_back("Content-Type", std::string(content_type(req_.format)));
        head.headers.emplace_back("Access-Control-Allow-Origin", "*");
        head.headers.emplace_back("Cache-Control", "no-store");
        head.headers.emplace_back("X-Data-Version", "live");
        if (req_.format == export_format::csv)
            head.headers.emplace_back("Content-Disposition", "attachment; filename=\"export.csv\"");
        head.stream = body_;
        std::string first;
        enc_.head(columns, first);
        // Queued before the head goes out, so it is the first thing the transport writes.
        if (!body_->write(std::move(first), req_.query->deadline)) return false;
        answered_ = true;
        send_head_(std::move(head));
        return true;
    }

    bool rows(std::vector<std::vector<model::value>>& batch) override {
        std::string out;
        out.reserve(batch.size() * 64);
        enc_.rows(batch, out);
        rows_ += batch.size();
        return body_->write(std::move(out), req_.query->deadline);
    }

    bool columns(const model::column_batch& batch) override {
        std::string out;
        out.reserve(batch.rows * (8 + 12 * batch.columns.size()));
        enc_.batch(batch, out);
        rows_ += batch.rows;
        return body_->write(std::move(out), req_.query->deadline);
    }

    [[nodiscard]] bool answered() const noexcept { return answered_; }
    [[nodiscard]] std::uint64_t row_count() const noexcept { return rows_; }
    [[nodiscard]] body_stream* body() const noexcept { return body_.get(); }
    encoder& enc() noexcept { return enc_; }

private:
    const export_request& req_;
    const std::function<void(response)>& send_head_;
    encoder enc_;
    std::shared_ptr<body_stream> body_;
    bool answered_ = false;
    std::uint64_t rows_ = 0;
};

}  // namespace

export_outcome run_export(source::source& src, const export_request& req,
                          const std::function<void(response)>& send_head) {
    export_sink sink(req, send_head);
    auto streamed = src.stream(*req.query, sink);
    export_outcome out;
    out.answered = sink.answered();
    out.rows = sink.row_count();
    if (!out.answered) {
        if (!streamed)
            out.error = std::move(streamed).error();
        else if (sink.body() == nullptr || !streamed.value().stopped)
            out.error =
                model::error{model::error_code::internal, "the source ended the stream before its columns", {}, {}};
        else
            out.error = model::error{model::error_code::timeout, "the export stopped before its first row", {}, {}};
        return out;
    }
    auto* body = sink.body();
    if (streamed && !streamed.value().stopped) {
        std::string last;
        sink.enc().tail(
            std::chrono::duration_cast<std::chrono::milliseconds>(model::clock::now() - req.started).count(), last);
        if (body->write(std::move(last), req.query->deadline)) {
            body->finish();
            return out;
        }
    }
    // Incomplete: say why, then cut the body so the client cannot take it for the whole answer.
    model::error why = !streamed ? std::move(streamed).error()
                       : req.query->deadline.expired()
                           ? model::error{model::error_code::timeout, "the export passed its deadline", {}, {}}
                           : model::error{model::error_code::timeout, "the client went away", {}, {}};
    if (req.format == export_format::ndjson && !body->cancelled()) {
        const bool expose = req.expose_errors || model::http_status(why.code) < 500;
        std::string line =
            render_error(expose ? why : model::error{why.code, std::string(model::generic_message(why.code)), {}, {}},
                         req.request_id);
        line += '\n';
        // The deadline may be gone: this only waits for room until one more second.
        (void)body->write(std::move(line), model::deadline::after(std::chrono::seconds(1)));
    }
    body->fail(why);
    out.error = std::move(why);
    return out;
}

}  // namespace frost::api
