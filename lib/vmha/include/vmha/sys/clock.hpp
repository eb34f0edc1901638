// Monotonic time and sleeping, behind an interface so deadline logic runs instantly in tests.
#pragma once

#include <chrono>

namespace vmha::sys {

using Millis = std::chrono::milliseconds;

class Clock {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  [[nodiscard]] virtual time_point now() const = 0;
  /// Sleeps until `when` (returns at once if it has passed).
  virtual void sleep_until(time_point when) = 0;
};

/// The real monotonic clock.
class SteadyClock final : public Clock {
 public:
  [[nodiscard]] time_point now() const override { return std::chrono::steady_clock::now(); }
  void sleep_until(time_point when) override;
};

/// A clock that only moves when told to, or when something sleeps on it.
class ManualClock final : public Clock {
 public:
  [[nodiscard]] time_point now() const override { return now_; }
  void sleep_until(time_point when) override {
    if (when > now_) now_ = when;
  }
  void advance(std::chrono::nanoseconds by) { now_ += by; }

 private:
  time_point now_{std::chrono::hours(1)};
};

}  // namespace vmha::sys
