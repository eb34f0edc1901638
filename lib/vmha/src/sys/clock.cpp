#include "vmha/sys/clock.hpp"

#include <thread>

namespace vmha::sys {

void SteadyClock::sleep_until(time_point when) {
  std::this_thread::sleep_until(when);
}

}  // namespace vmha::sys
