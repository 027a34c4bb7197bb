// libFuzzer target: the answer index file (src/rollup/answer_index.hpp), which `frost lambda`
// reads at every cold start. The bytes are tried twice: as a whole file, and as a payload behind
// a valid header (its length and checksum computed here), so that the field checks past the
// checksum are reached. Whatever decodes must answer any range without crashing and encode back
// to the bytes it came from.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "rollup/answer_index.hpp"

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

void exercise(std::string_view bytes) {
    // Lazily: the structure decodes at least whenever all of it does, and each entry's bytes
    // go through deserialize on their own, as the serving store does on first use.
    auto lazy = frost::rollup::answer_index::decode(bytes, frost::rollup::answer_index::entries_mode::lazy);
    if (lazy)
        for (const auto& e : lazy.value().entries) {
            check(e.index == nullptr);
            if (auto index = frost::rollup::prefix_index::deserialize(e.serialized))
                (void)index.value()->answer({}, 1000);
        }
    auto read = frost::rollup::answer_index::decode(bytes);
    check(!read || lazy);
    if (!read) {
        check(!read.error().message.empty());
        return;
    }
    check(read.value().encode() == bytes);
    using frost::model::date;
    const std::vector<std::vector<frost::source::parameter>> ranges = {
        {},
        {{"a", date{18000}}, {"b", date{18030}}},
        {{"a", std::monostate{}}, {"b", date{-5}}},
        {{"start_range", date{0}}, {"end_range", std::monostate{}}},
    };
    for (const auto& e : read.value().entries) {
        check(e.index != nullptr);
        for (const auto& params : ranges) (void)e.index->answer(params, 1000);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);  // NOLINT: libFuzzer's bytes
    exercise(in);
    std::string file = "FROSTAIX";
    const std::uint32_t version = frost::rollup::answer_index::format_version;
    const std::uint64_t length = in.size(), sum = frost::rollup::answer_index::checksum(in);
    file.append(reinterpret_cast<const char*>(&version), sizeof version);  // NOLINT
    file.append(reinterpret_cast<const char*>(&length), sizeof length);    // NOLINT
    file.append(reinterpret_cast<const char*>(&sum), sizeof sum);          // NOLINT
    file += in;
    exercise(file);
    return 0;
}
