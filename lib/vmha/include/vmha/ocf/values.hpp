// Parsing of parameter values in the spellings the cluster tools use: durations and
// milliseconds here, numbers, booleans and lists in vmha/text.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vmha/sys/clock.hpp"
#include "vmha/text.hpp"

namespace vmha::ocf {

// The spellings shared with every layer (vmha/text.hpp).
using text::parse_boolean;
using text::parse_integer;
using text::split_fields;
using text::split_words;

/// A duration as Pacemaker writes it: "90", "90s", "500ms", "2min", "1h", "1500us".
/// A bare number means seconds. Rounded down to milliseconds.
[[nodiscard]] std::optional<sys::Millis> parse_duration(std::string_view text);

/// Milliseconds as Pacemaker passes OCF_RESKEY_CRM_meta_timeout / _interval: a bare integer.
[[nodiscard]] std::optional<sys::Millis> parse_milliseconds(std::string_view text);

}  // namespace vmha::ocf
