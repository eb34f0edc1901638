#include "vmha/ocf/values.hpp"

#include <array>
#include <string>

namespace vmha::ocf {

using text::lower;
using text::trim;

std::optional<sys::Millis> parse_duration(std::string_view text) {
  text = trim(text);
  const auto unit_at = text.find_first_not_of("0123456789");
  const auto number = parse_integer(text.substr(0, unit_at));
  if (!number || *number < 0 || text.substr(0, unit_at).empty()) return std::nullopt;
  const std::string unit = lower(trim(unit_at == std::string_view::npos ? "" : text.substr(unit_at)));
  struct Unit {
    std::string_view name;
    std::int64_t micros;
  };
  static constexpr std::array<Unit, 12> kUnits{{{"", 1'000'000},
                                                {"s", 1'000'000},
                                                {"sec", 1'000'000},
                                                {"ms", 1'000},
                                                {"msec", 1'000},
                                                {"us", 1},
                                                {"usec", 1},
                                                {"m", 60'000'000},
                                                {"min", 60'000'000},
                                                {"h", 3'600'000'000},
                                                {"hr", 3'600'000'000},
                                                {"d", 86'400'000'000}}};
  for (const auto& candidate : kUnits) {
    if (candidate.name != unit) continue;
    constexpr std::int64_t kMaxMicros = std::int64_t{1} << 60;
    if (*number > kMaxMicros / candidate.micros) return std::nullopt;
    return sys::Millis(*number * candidate.micros / 1'000);
  }
  return std::nullopt;
}

std::optional<sys::Millis> parse_milliseconds(std::string_view text) {
  const auto value = parse_integer(text);
  if (!value || *value < 0) return std::nullopt;
  return sys::Millis(*value);
}

}  // namespace vmha::ocf
