// Parsers for DRBD's state outputs into the vmha::drbd model. All are bounded (at most
// kMaxStateText bytes), tolerate unknown keys and lines and missing statistics, and fail with
// status err_generic, kind invalid and a reason naming the line or field on garbage.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vmha/drbd/state.hpp"
#include "vmha/result.hpp"

namespace vmha::drbd {

/// Larger input is refused before parsing.
inline constexpr std::size_t kMaxStateText = std::size_t{4} << 20U;

/// `drbdsetup events2 --now [--statistics] [--timestamps]` (DRBD 9; 8.4.7+ userland). Applies
/// exists/create/change/destroy events in order, so a stream with events after `exists -`
/// yields the latest state. Unknown objects (path, helper, …) and keys are ignored.
[[nodiscard]] Result<std::vector<Resource>> parse_events2(std::string_view text);

/// Whether an `events2 --now` dump ended: its `exists -` line came. A dump without it was cut
/// short, and resources or peers may be missing from it — which would make a guard less strict.
[[nodiscard]] bool events2_dump_complete(std::string_view text);

/// Resource names of DRBD 8.4 minors, when known (e.g. from drbdadm sh-dev/sh-minor).
using MinorNames = std::map<int, std::string>;

/// `/proc/drbd` (DRBD 8.4): one resource per configured minor, one volume (0) and one peer
/// each, named "minor-N" unless `names` knows the minor. Unconfigured minors are left out; a
/// DRBD 9 /proc/drbd (banner only) yields no resources.
[[nodiscard]] Result<std::vector<Resource>> parse_proc_drbd(std::string_view text, const MinorNames& names = {});

namespace detail {
/// The error every parser returns: err_generic, kind invalid.
[[nodiscard]] Error invalid(std::string reason);
/// An error if `text` is larger than kMaxStateText.
[[nodiscard]] Result<> check_size(std::string_view text, std::string_view what);
/// A decimal non-negative int with no trailing text.
[[nodiscard]] std::optional<int> parse_index(std::string_view text);
/// A decimal number such as "42.17".
[[nodiscard]] std::optional<double> parse_decimal(std::string_view text);
}  // namespace detail

}  // namespace vmha::drbd
