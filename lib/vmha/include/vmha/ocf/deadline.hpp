// Time budgets. Pacemaker SIGKILLs the agent's whole process group when an operation's
// timeout passes, so every action finishes, successfully or not, before its own deadline.
#pragma once

#include <chrono>

#include "vmha/sys/clock.hpp"

namespace vmha::ocf {

/// The timeout assumed when Pacemaker passes none (a hand-run agent): the action's timeout
/// advertised in the meta-data, else this.
inline constexpr sys::Millis kFallbackTimeout{20'000};

/// The longest timeout honoured: a larger one (say 9223372036854775807 ms) would overflow the
/// clock's nanoseconds, so it counts as this.
inline constexpr sys::Millis kLongestTimeout{std::chrono::hours(24 * 30)};

/// Room kept between the agent's deadline and Pacemaker's SIGKILL: a tenth of the timeout,
/// at least 500 ms and at most 5 s (process exit, log flushing, scheduling noise).
[[nodiscard]] sys::Millis safety_margin(sys::Millis timeout);

class Deadline {
 public:
  Deadline(sys::Clock& clock, sys::Clock::time_point at) : clock_(&clock), at_(at) {}
  /// `timeout` (at most kLongestTimeout) counted from `started` (the agent's start), less the
  /// safety margin.
  static Deadline for_timeout(sys::Clock& clock, sys::Clock::time_point started, sys::Millis timeout);

  [[nodiscard]] sys::Clock::time_point at() const { return at_; }
  [[nodiscard]] sys::Millis remaining() const;
  [[nodiscard]] bool expired() const { return clock_->now() >= at_; }
  /// A deadline `reserve` earlier (never earlier than now): time kept back for a later step.
  [[nodiscard]] Deadline keep_back(sys::Millis reserve) const;
  /// The earlier of this deadline and now + `limit`.
  [[nodiscard]] Deadline within(sys::Millis limit) const;
  [[nodiscard]] sys::Clock& clock() const { return *clock_; }
  /// Waits `step` before asking again, or less when the deadline comes first: the one sleep of
  /// every poll loop, on the deadline's clock (a manual clock in tests).
  void sleep(sys::Millis step) const;

 private:
  sys::Clock* clock_;
  sys::Clock::time_point at_;
};

}  // namespace vmha::ocf
