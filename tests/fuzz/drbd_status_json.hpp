// `drbdsetup status --json` (DRBD 9) read into the same model as events2. The agents read
// events2; this parser lives with the tests, which hold both formats of one state side by side.
#pragma once

#include <string_view>
#include <vector>

#include "vmha/drbd/parse.hpp"

namespace vmha::drbd {

/// An array of resources (a single object is accepted).
[[nodiscard]] Result<std::vector<Resource>> parse_status_json(std::string_view text);

}  // namespace vmha::drbd
