#include "vmha/ocf/deadline.hpp"

#include <algorithm>

namespace vmha::ocf {

sys::Millis safety_margin(sys::Millis timeout) {
  return std::clamp(timeout / 10, sys::Millis{500}, sys::Millis{5'000});
}

Deadline Deadline::for_timeout(sys::Clock& clock, sys::Clock::time_point started, sys::Millis timeout) {
  timeout = std::min(timeout, kLongestTimeout);
  const sys::Millis budget = std::max(sys::Millis{0}, timeout - safety_margin(timeout));
  return Deadline(clock, started + budget);
}

sys::Millis Deadline::remaining() const {
  const auto left = std::chrono::duration_cast<sys::Millis>(at_ - clock_->now());
  return std::max(sys::Millis{0}, left);
}

Deadline Deadline::keep_back(sys::Millis reserve) const {
  return Deadline(*clock_, std::max(clock_->now(), at_ - reserve));
}

Deadline Deadline::within(sys::Millis limit) const {
  return Deadline(*clock_, std::min(at_, clock_->now() + limit));
}

void Deadline::sleep(sys::Millis step) const {
  clock_->sleep_until(std::min(at_, clock_->now() + step));
}

}  // namespace vmha::ocf
