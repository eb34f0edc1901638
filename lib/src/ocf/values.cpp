#include "vmha/ocf/values.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <string>

namespace vmha::ocf {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

}  // namespace

std::optional<bool> parse_boolean(std::string_view text) {
  static constexpr std::array<std::string_view, 6> kTrue{"yes", "true", "1", "ja", "on", "y"};
  static constexpr std::array<std::string_view, 6> kFalse{"no", "false", "0", "nein", "off", "n"};
  const std::string word = lower(trim(text));
  if (std::find(kTrue.begin(), kTrue.end(), word) != kTrue.end()) return true;
  if (std::find(kFalse.begin(), kFalse.end(), word) != kFalse.end()) return false;
  return std::nullopt;
}

std::optional<std::int64_t> parse_integer(std::string_view text) {
  text = trim(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return std::nullopt;
  std::int64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

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

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  constexpr std::string_view kBlanks = " \t\n\r\v\f";
  for (std::size_t at = text.find_first_not_of(kBlanks); at != std::string_view::npos;
       at = text.find_first_not_of(kBlanks, at)) {
    const std::size_t end = std::min(text.find_first_of(kBlanks, at), text.size());
    words.emplace_back(text.substr(at, end - at));
    at = end;
  }
  return words;
}

std::vector<std::string> split_fields(std::string_view text, char separator) {
  std::vector<std::string> fields;
  if (text.empty()) return fields;
  for (std::size_t at = 0;;) {
    const std::size_t end = text.find(separator, at);
    fields.emplace_back(text.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at));
    if (end == std::string_view::npos) return fields;
    at = end + 1;
  }
}

}  // namespace vmha::ocf
