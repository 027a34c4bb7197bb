#pragma once

#include <chrono>

namespace frost::model {

using clock = std::chrono::steady_clock;

/// The instant by which a request must be answered. Passed down from the transport
/// (HTTP read time + configured budget, or Lambda's `Lambda-Runtime-Deadline-Ms`) to sources.
struct deadline {
    clock::time_point at = clock::time_point::max();

    [[nodiscard]] static deadline after(clock::duration d) { return {clock::now() + d}; }
    [[nodiscard]] bool expired() const { return clock::now() >= at; }
    [[nodiscard]] clock::duration remaining() const {
        const auto now = clock::now();
        return at > now ? at - now : clock::duration::zero();
    }
};

}  // namespace frost::model
