// The asynchronous access log: nothing lost below capacity, and a full queue drops and counts
// instead of blocking the caller.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <future>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "observe/access_log.hpp"
#include "support/sanitized.hpp"

namespace {

frost::api::request sample_request(int i) {
    frost::api::request req;
    req.method = "GET";
    req.target = "/trips/monthly?start_range=2019-01-01&n=" + std::to_string(i);
    req.request_id = "req-" + std::to_string(i);
    req.client_address = "127.0.0.1";
    return req;
}

// Counts newline-terminated lines in `f` from the start and checks each is a JSON object.
std::size_t count_json_lines(std::FILE* f, std::size_t& invalid) {
    std::rewind(f);
    std::size_t lines = 0;
    invalid = 0;
    std::string line;
    for (int c; (c = std::fgetc(f)) != EOF;) {
        if (c != '\n') {
            line += static_cast<char>(c);
            continue;
        }
        ++lines;
        boost::system::error_code ec;
        auto v = boost::json::parse(line, ec);
        if (ec || !v.is_object()) ++invalid;
        line.clear();
    }
    if (!line.empty()) ++invalid;  // a torn last line
    return lines;
}

// What a JSON reader must get back from `json_string(text)`: each byte as the code point of
// the same value (bytes >= 0x80 are escaped one by one, as Latin-1), in UTF-8.
std::string latin1_as_utf8(std::string_view text) {
    std::string out;
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x80) {
            out += static_cast<char>(c);
        } else {
            out += static_cast<char>(0xc0 | (c >> 6));
            out += static_cast<char>(0x80 | (c & 0x3f));
        }
    }
    return out;
}

// Oracle: Boost.JSON's parser. Random strings of runs of plain text, quotes, backslashes,
// control bytes and bytes >= 0x80: the literal is ASCII, parses, and reads back as the text.
TEST(access_log, json_string_round_trips_5000_random_texts) {
    std::mt19937_64 rng(20261202);
    static constexpr std::string_view specials("\"\\\x00\x01\x1f\x7f\x80\xc3\xa9\xff\n\t", 12);
    for (int round = 0; round < frost::testing::rounds(5000); ++round) {
        std::string text;
        const auto pieces = rng() % 8;
        for (std::uint64_t p = 0; p < pieces; ++p) {
            switch (rng() % 3) {
                case 0:
                    for (auto n = rng() % 20; n > 0; --n) text += static_cast<char>(0x20 + rng() % 0x5f);
                    break;
                case 1:
                    text += specials[rng() % specials.size()];
                    break;
                default:
                    text += static_cast<char>(rng() % 256);
            }
        }
        const auto literal = frost::observe::json_string(text);
        for (const char c : literal) ASSERT_LT(static_cast<unsigned char>(c), 0x80) << literal;
        boost::system::error_code ec;
        const auto v = boost::json::parse(literal, ec);
        ASSERT_FALSE(ec) << literal;
        ASSERT_TRUE(v.is_string()) << literal;
        EXPECT_EQ(std::string_view(v.as_string()), latin1_as_utf8(text)) << literal;
    }
}

TEST(access_log, hundred_thousand_requests_make_hundred_thousand_lines) {
    std::FILE* out = std::tmpfile();
    ASSERT_NE(out, nullptr);
    constexpr int threads = 4, per_thread = 25'000;
    {
        // Capacity at the burst size: nothing may be dropped however far the drain falls behind.
        frost::observe::access_log log(out, threads * per_thread);
        frost::api::response res;
        res.status = 200;
        res.body = R"({"data":[]})";
        std::vector<std::thread> writers;
        for (int t = 0; t < threads; ++t) {
            writers.emplace_back([&, t] {
                for (int i = 0; i < per_thread; ++i) {
                    const auto req = sample_request(t * per_thread + i);
                    frost::api::request_stats stats{"/trips/monthly", frost::model::clock::now(),
                                                    std::chrono::microseconds(10), "hit", ""};
                    log.write(req, res, stats);
                }
            });
        }
        for (auto& w : writers) w.join();
        EXPECT_EQ(log.dropped(), 0u);
    }  // the destructor writes what is still queued
    std::size_t invalid = 0;
    EXPECT_EQ(count_json_lines(out, invalid), std::size_t{threads * per_thread});
    EXPECT_EQ(invalid, 0u);
    std::fclose(out);
}

TEST(access_log, flush_waits_for_the_lines_queued_before_it) {
    std::FILE* out = std::tmpfile();
    ASSERT_NE(out, nullptr);
    frost::observe::access_log log(out, 16);
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(log.enqueue("{\"n\":" + std::to_string(i) + "}"));
    log.flush();
    EXPECT_EQ(log.written(), 10u);
    std::size_t invalid = 0;
    EXPECT_EQ(count_json_lines(out, invalid), 10u);
    EXPECT_EQ(invalid, 0u);
    std::fclose(out);
}

TEST(access_log, a_full_queue_drops_and_counts_instead_of_blocking) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    std::FILE* out = ::fdopen(fds[1], "w");
    ASSERT_NE(out, nullptr);
    constexpr int total = 5000;
    const std::string line(200, 'x');
    std::uint64_t dropped = 0;
    {
        frost::observe::access_log log(out, 8);
        // Nobody reads the pipe yet: after ~64 KiB the drain thread blocks in fwrite, the
        // queue fills, and every further line must be dropped at once.
        auto writer = std::async(std::launch::async, [&] {
            for (int i = 0; i < total; ++i) (void)log.enqueue("\"" + line + "\"");
        });
        const bool finished = writer.wait_for(std::chrono::seconds(20)) == std::future_status::ready;
        EXPECT_TRUE(finished) << "enqueue blocked on a full queue";
        dropped = log.dropped();
        EXPECT_GT(dropped, 0u);
        // Now read everything so the drain thread (and a blocked writer) can finish.
        std::thread reader([fd = fds[0]] {
            char buf[65536];
            while (::read(fd, buf, sizeof buf) > 0) {
            }
        });
        writer.wait();
        log.flush();
        EXPECT_EQ(log.written() + log.dropped(), std::uint64_t{total});
        std::fclose(out);  // EOF for the reader
        reader.join();
    }
    ::close(fds[0]);
}

}  // namespace
