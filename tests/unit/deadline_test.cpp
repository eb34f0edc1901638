#include "vmha/ocf/deadline.hpp"

#include <cstdint>
#include <limits>

#include "support/catch.hpp"

using vmha::ocf::Deadline;
using vmha::ocf::safety_margin;
using vmha::sys::ManualClock;
using vmha::sys::Millis;

TEST_CASE("the safety margin is a tenth of the timeout, within 0.5 s and 5 s", "[deadline]") {
  const auto [timeout, margin] = GENERATE(table<long, long>({
      {1'000, 500},
      {5'000, 500},
      {20'000, 2'000},
      {30'000, 3'000},
      {90'000, 5'000},
      {600'000, 5'000},
  }));
  CHECK(safety_margin(Millis{timeout}) == Millis{margin});
}

TEST_CASE("a deadline counts from the agent's start and shrinks with time", "[deadline]") {
  ManualClock clock;
  const auto started = clock.now();
  clock.advance(Millis{300});  // time spent before the deadline is made still counts
  const auto deadline = Deadline::for_timeout(clock, started, Millis{20'000});
  CHECK(deadline.at() == started + Millis{18'000});
  CHECK(deadline.remaining() == Millis{17'700});
  CHECK_FALSE(deadline.expired());
  clock.advance(Millis{17'700});
  CHECK(deadline.expired());
  CHECK(deadline.remaining() == Millis{0});
  clock.advance(Millis{1'000});
  CHECK(deadline.remaining() == Millis{0});
}

TEST_CASE("keep_back reserves time for a later step, never before now", "[deadline]") {
  ManualClock clock;
  const auto deadline = Deadline::for_timeout(clock, clock.now(), Millis{90'000});  // 85 s budget
  CHECK(deadline.keep_back(Millis{20'000}).remaining() == Millis{65'000});
  CHECK(deadline.keep_back(Millis{100'000}).remaining() == Millis{0});
  CHECK(deadline.within(Millis{1'000}).remaining() == Millis{1'000});
  CHECK(deadline.within(Millis{100'000}).remaining() == Millis{85'000});
}

TEST_CASE("a tiny timeout gives an empty budget, not a negative one", "[deadline]") {
  ManualClock clock;
  const auto deadline = Deadline::for_timeout(clock, clock.now(), Millis{200});
  CHECK(deadline.remaining() == Millis{0});
  CHECK(deadline.expired());
}

TEST_CASE("a huge timeout is capped, never an overflow into the past", "[deadline]") {
  ManualClock clock;
  const auto deadline = Deadline::for_timeout(clock, clock.now(), Millis{std::numeric_limits<std::int64_t>::max()});
  CHECK_FALSE(deadline.expired());
  CHECK(deadline.at() > clock.now());
  CHECK(deadline.remaining() == vmha::ocf::kLongestTimeout - vmha::ocf::safety_margin(vmha::ocf::kLongestTimeout));
}
