#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "source/source.hpp"

namespace frost::source {

/// Where a lazily opened source stands; `/readyz` shows its name.
enum class open_state { not_opened = 0, open = 1, failed = 2 };

/// The state's name: "not opened yet", "open", "failed to open".
[[nodiscard]] std::string_view state_name(open_state s) noexcept;

/// A source opened on its first call instead of at start (`frost lambda`: the rollup endpoints
/// are answered from the serving store, so a cold start that never runs a live query never pays
/// for the source's DuckDB instance). The first `run`, `run_detached` or `stream` opens it, once;
/// concurrent first calls wait for that one open. An open that fails fails the call with the
/// opener's error (naming the source) and is tried again at the next call. Thread-safe.
class lazy_source final : public source {
public:
    using opener = std::function<model::result<std::shared_ptr<source>>()>;

    /// `name` and `dialect` are answered without opening; `open` opens the real source.
    lazy_source(std::string name, std::string dialect, opener open);

    [[nodiscard]] std::string_view name() const override { return name_; }
    [[nodiscard]] std::string_view dialect() const override { return dialect_; }
    [[nodiscard]] model::result<model::table> run(const query& q) override;
    [[nodiscard]] model::result<model::table> run_detached(const query& q) override;
    [[nodiscard]] model::result<stream_summary> stream(const query& q, row_sink& sink) override;

    [[nodiscard]] open_state state() const;
    /// The source once opened, else null: never opens it.
    [[nodiscard]] std::shared_ptr<source> opened() const;
    /// The last failed open's message (empty when none failed).
    [[nodiscard]] std::string last_error() const;

private:
    model::result<std::shared_ptr<source>> get();

    std::string name_;
    std::string dialect_;
    opener open_;
    std::mutex open_mutex_;     // held while opening: concurrent first calls wait for one open
    mutable std::mutex mutex_;  // guards the two below, never held while opening
    std::shared_ptr<source> inner_;
    std::string last_error_;
};

/// The lazy source `src` is, or the one a circuit breaker around it guards; null for any other.
[[nodiscard]] const lazy_source* as_lazy(const source* src) noexcept;

}  // namespace frost::source
