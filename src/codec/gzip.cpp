#include "codec/gzip.hpp"

#include <zlib.h>

#include <limits>

namespace frost::codec {

namespace {

// windowBits 15 + 16: a gzip header and trailer instead of zlib's.
constexpr int gzip_window_bits = 15 + 16;

// Owns a z_stream from deflateInit2 or inflateInit2; ends it on every path.
class z_stream_owner {
public:
    enum class mode { deflate, inflate };
    explicit z_stream_owner(mode m) : mode_(m) {}
    ~z_stream_owner() {
        if (!ready_) return;
        if (mode_ == mode::deflate)
            deflateEnd(&z_);
        else
            inflateEnd(&z_);
    }
    z_stream_owner(const z_stream_owner&) = delete;
    z_stream_owner& operator=(const z_stream_owner&) = delete;

    bool init_deflate(int level) {
        ready_ = deflateInit2(&z_, level, Z_DEFLATED, gzip_window_bits, 8, Z_DEFAULT_STRATEGY) == Z_OK;
        return ready_;
    }
    bool init_inflate() {
        ready_ = inflateInit2(&z_, gzip_window_bits) == Z_OK;
        return ready_;
    }
    z_stream& get() { return z_; }

private:
    z_stream z_{};
    mode mode_;
    bool ready_ = false;
};

}  // namespace

std::optional<std::string> gzip(std::string_view bytes, int level) {
    if (bytes.size() > std::numeric_limits<uInt>::max()) return std::nullopt;
    z_stream_owner s(z_stream_owner::mode::deflate);
    if (!s.init_deflate(level)) return std::nullopt;
    auto& z = s.get();
    std::string out(deflateBound(&z, static_cast<uLong>(bytes.size())), '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
    z.avail_in = static_cast<uInt>(bytes.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    // deflateBound is an upper bound, so one Z_FINISH call completes the stream.
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) return std::nullopt;
    out.resize(z.total_out);
    return out;
}

std::optional<std::string> gunzip(std::string_view bytes, std::size_t max_output) {
    if (bytes.empty() || bytes.size() > std::numeric_limits<uInt>::max()) return std::nullopt;
    z_stream_owner s(z_stream_owner::mode::inflate);
    if (!s.init_inflate()) return std::nullopt;
    auto& z = s.get();
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
    z.avail_in = static_cast<uInt>(bytes.size());
    std::string out;
    char chunk[16384];
    for (;;) {
        z.next_out = reinterpret_cast<Bytef*>(chunk);
        z.avail_out = sizeof chunk;
        const int rc = inflate(&z, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) return std::nullopt;
        const std::size_t produced = sizeof chunk - z.avail_out;
        if (produced > max_output - out.size()) return std::nullopt;
        out.append(chunk, produced);
        if (rc == Z_STREAM_END) {
            if (z.avail_in == 0) return out;
            // Another member follows; anything else after the trailer is damage.
            if (inflateReset(&z) != Z_OK) return std::nullopt;
            continue;
        }
        if (z.avail_in == 0 && z.avail_out != 0) return std::nullopt;  // truncated
    }
}

}  // namespace frost::codec
