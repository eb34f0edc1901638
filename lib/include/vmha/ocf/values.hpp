// Parsing of parameter values in the spellings the cluster tools use.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vmha/sys/clock.hpp"

namespace vmha::ocf {

/// ocf_is_true's spellings (yes, true, 1, ja, on, any case) → true; their opposites
/// (no, false, 0, nein, off) → false; anything else → nullopt, so typos are caught.
[[nodiscard]] std::optional<bool> parse_boolean(std::string_view text);

/// A decimal integer with an optional sign and no trailing text.
[[nodiscard]] std::optional<std::int64_t> parse_integer(std::string_view text);

/// A duration as Pacemaker writes it: "90", "90s", "500ms", "2min", "1h", "1500us".
/// A bare number means seconds. Rounded down to milliseconds.
[[nodiscard]] std::optional<sys::Millis> parse_duration(std::string_view text);

/// Milliseconds as Pacemaker passes OCF_RESKEY_CRM_meta_timeout / _interval: a bare integer.
[[nodiscard]] std::optional<sys::Millis> parse_milliseconds(std::string_view text);

/// The words of a blank-separated list ("node1 node2", monitor_scripts); blanks are spaces,
/// tabs and newlines.
[[nodiscard]] std::vector<std::string> split_words(std::string_view text);

/// The fields of a `separator`-separated list, empty fields kept ("acpi,agent", PATH).
[[nodiscard]] std::vector<std::string> split_fields(std::string_view text, char separator);

}  // namespace vmha::ocf
