// Parsing of parameter values in the spellings the cluster tools use.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

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

}  // namespace vmha::ocf
