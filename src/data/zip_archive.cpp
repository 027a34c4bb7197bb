#include "data/zip_archive.hpp"

#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

namespace frost::data {

namespace {

struct file_closer {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
using file_ptr = std::unique_ptr<std::FILE, file_closer>;

model::error zip_error(const std::string& path, const std::string& what) {
    return {model::error_code::bad_parameter, path + ": " + what, {}, {}};
}

std::uint16_t le16(const unsigned char* p) {
    return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
std::uint32_t le32(const unsigned char* p) {
    return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
           (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}
std::uint64_t le64(const unsigned char* p) {
    return le32(p) | (static_cast<std::uint64_t>(le32(p + 4)) << 32);
}

bool read_at(std::FILE* f, std::uint64_t offset, void* buf, std::size_t n) {
    if (fseeko(f, static_cast<off_t>(offset), SEEK_SET) != 0) return false;
    return std::fread(buf, 1, n, f) == n;
}

constexpr std::uint32_t eocd_signature = 0x06054b50;
constexpr std::uint32_t zip64_locator_signature = 0x07064b50;
constexpr std::uint32_t zip64_eocd_signature = 0x06064b50;
constexpr std::uint32_t central_signature = 0x02014b50;
constexpr std::uint32_t local_signature = 0x04034b50;

}  // namespace

model::result<std::vector<zip_member>> list_zip(const std::string& path) {
    file_ptr f{std::fopen(path.c_str(), "rb")};
    if (!f) return zip_error(path, "cannot open: " + std::string(std::strerror(errno)));
    std::error_code ec;
    const std::uint64_t size = std::filesystem::file_size(path, ec);
    if (ec || size < 22) return zip_error(path, "not a zip archive (too short)");

    // The end-of-central-directory record sits in the last 22 bytes plus a comment of up to 64 KiB.
    const std::uint64_t tail_size = std::min<std::uint64_t>(size, 22 + 65535);
    std::vector<unsigned char> tail(tail_size);
    if (!read_at(f.get(), size - tail_size, tail.data(), tail.size())) return zip_error(path, "cannot read");
    std::int64_t eocd = -1;
    for (std::int64_t i = static_cast<std::int64_t>(tail_size) - 22; i >= 0; --i) {
        if (le32(&tail[i]) == eocd_signature) {
            eocd = i;
            break;
        }
    }
    if (eocd < 0) return zip_error(path, "not a zip archive (no end of central directory)");
    const unsigned char* e = &tail[eocd];
    std::uint64_t entries = le16(e + 10);
    std::uint64_t dir_size = le32(e + 12);
    std::uint64_t dir_offset = le32(e + 16);
    const std::uint64_t eocd_pos = size - tail_size + static_cast<std::uint64_t>(eocd);
    if ((entries == 0xffff || dir_size == 0xffffffff || dir_offset == 0xffffffff) && eocd_pos >= 20) {
        unsigned char loc[20];
        if (read_at(f.get(), eocd_pos - 20, loc, 20) && le32(loc) == zip64_locator_signature) {
            unsigned char rec[56];
            if (!read_at(f.get(), le64(loc + 8), rec, 56) || le32(rec) != zip64_eocd_signature)
                return zip_error(path, "damaged zip64 directory");
            entries = le64(rec + 32);
            dir_size = le64(rec + 40);
            dir_offset = le64(rec + 48);
        }
    }
    if (dir_offset + dir_size > size || dir_size > (1ULL << 32)) return zip_error(path, "damaged central directory");
    std::vector<unsigned char> dir(dir_size);
    if (!read_at(f.get(), dir_offset, dir.data(), dir.size()))
        return zip_error(path, "cannot read the central directory");

    std::vector<zip_member> out;
    std::size_t pos = 0;
    for (std::uint64_t i = 0; i < entries; ++i) {
        if (pos + 46 > dir.size() || le32(&dir[pos]) != central_signature)
            return zip_error(path, "damaged central directory");
        const unsigned char* h = &dir[pos];
        zip_member m;
        m.method = le16(h + 10);
        m.crc32 = le32(h + 16);
        m.compressed_size = le32(h + 20);
        m.uncompressed_size = le32(h + 24);
        const std::size_t name_len = le16(h + 28), extra_len = le16(h + 30), comment_len = le16(h + 32);
        m.local_header_offset = le32(h + 42);
        if (pos + 46 + name_len + extra_len + comment_len > dir.size())
            return zip_error(path, "damaged central directory");
        m.name.assign(reinterpret_cast<const char*>(h + 46), name_len);
        // Zip64: the 32-bit fields set to all ones are in the extra field 0x0001, in this order.
        const unsigned char* x = h + 46 + name_len;
        for (std::size_t xp = 0; xp + 4 <= extra_len;) {
            const std::uint16_t id = le16(x + xp), len = le16(x + xp + 2);
            if (xp + 4 + len > extra_len) break;
            if (id == 0x0001) {
                const unsigned char* v = x + xp + 4;
                std::size_t used = 0;
                auto take = [&](std::uint64_t& field) {
                    if (used + 8 <= len) field = le64(v + used), used += 8;
                };
                if (m.uncompressed_size == 0xffffffff) take(m.uncompressed_size);
                if (m.compressed_size == 0xffffffff) take(m.compressed_size);
                if (m.local_header_offset == 0xffffffff) take(m.local_header_offset);
            }
            xp += 4 + len;
        }
        out.push_back(std::move(m));
        pos += 46 + name_len + extra_len + comment_len;
    }
    return out;
}

model::result<model::done> extract_zip_member(const std::string& path, const zip_member& member,
                                              const std::string& out_path, const std::atomic<bool>& cancel) {
    if (member.method != 0 && member.method != 8)
        return zip_error(path, member.name + ": compression method " + std::to_string(member.method) +
                                   " is not supported (only stored and deflate)");
    file_ptr in{std::fopen(path.c_str(), "rb")};
    if (!in) return zip_error(path, "cannot open: " + std::string(std::strerror(errno)));
    unsigned char local[30];
    if (!read_at(in.get(), member.local_header_offset, local, 30) || le32(local) != local_signature)
        return zip_error(path, member.name + ": damaged local header");
    const std::uint64_t data_offset = member.local_header_offset + 30 + le16(local + 26) + le16(local + 28);
    if (fseeko(in.get(), static_cast<off_t>(data_offset), SEEK_SET) != 0) return zip_error(path, "cannot seek");

    file_ptr out{std::fopen(out_path.c_str(), "wb")};
    if (!out)
        return model::error{
            model::error_code::internal, "cannot create " + out_path + ": " + std::strerror(errno), {}, {}};
    // From here on, every failure removes the partial output.
    struct remover {
        const std::string& p;
        bool keep = false;
        ~remover() {
            if (!keep) {
                std::error_code ec;
                std::filesystem::remove(p, ec);
            }
        }
    } cleanup{out_path};

    z_stream z{};
    const bool deflated = member.method == 8;
    if (deflated && inflateInit2(&z, -MAX_WBITS) != Z_OK) return zip_error(path, "cannot start inflate");
    struct inflate_end_guard {
        z_stream& z;
        bool active;
        ~inflate_end_guard() {
            if (active) inflateEnd(&z);
        }
    } z_guard{z, deflated};

    constexpr std::size_t block = 1 << 20;
    std::vector<unsigned char> inbuf(block), outbuf(block);
    std::uint64_t remaining = member.compressed_size, written = 0;
    uLong crc = crc32(0L, Z_NULL, 0);
    auto write_out = [&](const unsigned char* p, std::size_t n) {
        crc = crc32(crc, p, static_cast<uInt>(n));
        written += n;
        return std::fwrite(p, 1, n, out.get()) == n;
    };
    bool stream_end = !deflated;
    while (remaining > 0) {
        if (cancel) return model::error{model::error_code::internal, "interrupted", {}, {}};
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, block));
        if (std::fread(inbuf.data(), 1, n, in.get()) != n) return zip_error(path, member.name + ": truncated archive");
        remaining -= n;
        if (!deflated) {
            if (!write_out(inbuf.data(), n))
                return model::error{model::error_code::internal, "cannot write " + out_path, {}, {}};
            continue;
        }
        z.next_in = inbuf.data();
        z.avail_in = static_cast<uInt>(n);
        while (z.avail_in > 0 && !stream_end) {
            z.next_out = outbuf.data();
            z.avail_out = static_cast<uInt>(outbuf.size());
            const int rc = inflate(&z, Z_NO_FLUSH);
            if (rc != Z_OK && rc != Z_STREAM_END) return zip_error(path, member.name + ": corrupt deflate data");
            if (!write_out(outbuf.data(), outbuf.size() - z.avail_out))
                return model::error{model::error_code::internal, "cannot write " + out_path, {}, {}};
            stream_end = rc == Z_STREAM_END;
        }
    }
    while (deflated && !stream_end) {  // flush what inflate still holds
        z.next_out = outbuf.data();
        z.avail_out = static_cast<uInt>(outbuf.size());
        const int rc = inflate(&z, Z_FINISH);
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
            return zip_error(path, member.name + ": corrupt deflate data");
        const std::size_t got = outbuf.size() - z.avail_out;
        if (got == 0 && rc != Z_STREAM_END) return zip_error(path, member.name + ": truncated deflate data");
        if (!write_out(outbuf.data(), got))
            return model::error{model::error_code::internal, "cannot write " + out_path, {}, {}};
        stream_end = rc == Z_STREAM_END;
    }
    if (written != member.uncompressed_size || crc != member.crc32)
        return zip_error(path, member.name + ": size or CRC-32 mismatch (damaged archive)");
    if (std::fflush(out.get()) != 0)
        return model::error{model::error_code::internal, "cannot write " + out_path, {}, {}};
    cleanup.keep = true;
    return model::done{};
}

}  // namespace frost::data
