#include "rollup/answer_index.hpp"

// Header-only (libxxhash-dev): no library to load at a cold start.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include "rollup/bytes.hpp"

namespace frost::rollup {

namespace {

constexpr std::string_view magic = "FROSTAIX";

// A file's bytes, mapped read-only and populated in one call. Both files are read at every
// cold start; reading them into fresh zero-filled buffers cost more in page faults (≈ 0.7 ms
// for a 1 MiB buffer) than their checksums.
class mapped_file {
public:
    explicit mapped_file(const std::string& path) {
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return;
        struct stat st {};
        if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
            size_ = static_cast<std::size_t>(st.st_size);
            ok_ = true;
            if (size_ > 0) {
                addr_ = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
                if (addr_ == MAP_FAILED) addr_ = nullptr, ok_ = false;
            }
        }
        ::close(fd);
    }
    ~mapped_file() {
        if (addr_ != nullptr) ::munmap(addr_, size_);
    }
    mapped_file(const mapped_file&) = delete;
    mapped_file& operator=(const mapped_file&) = delete;
    mapped_file(mapped_file&&) = delete;
    mapped_file& operator=(mapped_file&&) = delete;

    [[nodiscard]] bool ok() const noexcept { return ok_; }
    [[nodiscard]] std::string_view bytes() const noexcept {
        return addr_ != nullptr ? std::string_view(static_cast<const char*>(addr_), size_) : std::string_view{};
    }

private:
    void* addr_ = nullptr;
    std::size_t size_ = 0;
    bool ok_ = false;
};

model::error index_error(std::string message) {
    return {model::error_code::config_error, std::move(message), {}, {}};
}

}  // namespace

std::uint64_t answer_index::checksum(std::string_view bytes) {
    return XXH3_64bits(bytes.data(), bytes.size());
}

model::result<file_identity> identify_file(const std::string& path) {
    const mapped_file file(path);
    if (!file.ok()) return index_error("cannot read " + path);
    return file_identity{file.bytes().size(), answer_index::checksum(file.bytes())};
}

std::string answer_index::encode() const {
    bytes::writer p;
    p.put(serving.size);
    p.put(serving.checksum);
    p.put<std::uint64_t>(rollups.size());
    for (const auto& r : rollups) {
        p.put_string(r.name);
        p.put(r.version);
        p.put(r.built_at_ms);
        p.put_string(r.sql_hash);
    }
    p.put<std::uint64_t>(entries.size());
    for (const auto& e : entries) {
        p.put_string(e.sql);
        p.put_string(e.rollup);
        p.put_string(e.index->serialize());
    }
    bytes::writer out;
    out.data() = std::string(magic);
    out.put(format_version);
    out.put<std::uint64_t>(p.data().size());
    out.put(checksum(p.data()));
    out.data() += p.data();
    return std::move(out.data());
}

model::result<answer_index> answer_index::decode(std::string_view in, entries_mode mode) {
    if (in.size() < magic.size() || in.substr(0, magic.size()) != magic) return index_error("not an answer index");
    bytes::reader head(in.substr(magic.size()));
    auto version = head.get<std::uint32_t>();
    auto length = head.get<std::uint64_t>();
    auto sum = head.get<std::uint64_t>();
    if (!version || !length || !sum) return index_error("truncated header");
    if (*version != format_version)
        return index_error("format version " + std::to_string(*version) + ", this Frost reads " +
                           std::to_string(format_version));
    if (*length != head.left()) return index_error("truncated or extended (length mismatch)");
    const auto payload = in.substr(in.size() - head.left());
    if (checksum(payload) != *sum) return index_error("checksum mismatch");

    bytes::reader r(payload);
    answer_index out;
    auto size = r.get<std::uint64_t>();
    auto checksum = r.get<std::uint64_t>();
    if (!size || !checksum) return index_error("no serving file identity");
    out.serving = {*size, *checksum};
    auto rollups = r.get_count(8 + 8 + 8 + 8);
    if (!rollups) return index_error("rollup count");
    for (std::size_t i = 0; i < *rollups; ++i) {
        auto name = r.get_string();
        auto v = r.get<std::uint64_t>();
        auto at = r.get<std::int64_t>();
        auto hash = r.get_string();
        if (!name || !v || !at || !hash) return index_error("a rollup version");
        out.rollups.push_back({std::string(*name), *v, *at, std::string(*hash)});
    }
    auto entries = r.get_count(8 + 8 + 8);
    if (!entries) return index_error("entry count");
    for (std::size_t i = 0; i < *entries; ++i) {
        auto sql = r.get_string();
        auto rollup = r.get_string();
        auto bytes = r.get_string();
        if (!sql || !rollup || !bytes) return index_error("an entry");
        if (mode == entries_mode::lazy) {
            out.entries.push_back({std::string(*sql), std::string(*rollup), nullptr, *bytes});
            continue;
        }
        auto index = prefix_index::deserialize(*bytes);
        if (!index) return index_error("entry " + std::to_string(i + 1) + ": " + index.error().message);
        out.entries.push_back({std::string(*sql), std::string(*rollup), std::move(index).value(), {}});
    }
    if (!r.ok() || r.left() != 0) return index_error("trailing bytes");
    return out;
}

model::result<model::done> answer_index::write(const std::string& path) const {
    const auto bytes = encode();
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        out.close();
        if (!out) return index_error("cannot write " + tmp);
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        std::filesystem::remove(tmp, ec);
        return index_error("cannot move the answer index to " + path);
    }
    return model::done{};
}

model::result<answer_index> answer_index::read(const std::string& path, const std::string& serving_file,
                                               entries_mode mode) {
    auto file = std::make_shared<const mapped_file>(path);
    if (!file->ok()) return index_error("no answer index at " + path);
    auto decoded = decode(file->bytes(), mode);
    if (!decoded) return index_error(path + ": " + decoded.error().message);
    auto id = identify_file(serving_file);
    if (!id) return std::move(id).error();
    if (!(id.value() == decoded.value().serving))
        return index_error(path + " was written for another serving file than " + serving_file);
    if (mode == entries_mode::lazy) decoded.value().file = std::move(file);
    return decoded;
}

}  // namespace frost::rollup
