// Logging with the semantics of resource-agents' ocf_log.
#pragma once

#include <string>
#include <string_view>

#include <fmt/core.h>

#include "vmha/sys/owned_file.hpp"

namespace vmha::sys {

enum class LogLevel { debug, info, warning, error };

/// "ERROR: ", "WARNING: ", "INFO: " or "DEBUG: " — the prefixes crmsh parses.
[[nodiscard]] std::string_view log_prefix(LogLevel level) noexcept;

class Logger {
 public:
  virtual ~Logger() = default;
  virtual void write(LogLevel level, std::string_view message) = 0;
  [[nodiscard]] virtual bool debug_enabled() const = 0;
  /// From now on every line, debug included, also goes to `trace`.
  virtual void start_trace(OwnedFile trace) = 0;

  template <typename... Args>
  void debug(fmt::format_string<Args...> format, Args&&... args) {
    if (debug_enabled()) write(LogLevel::debug, fmt::format(format, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void info(fmt::format_string<Args...> format, Args&&... args) {
    write(LogLevel::info, fmt::format(format, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void warning(fmt::format_string<Args...> format, Args&&... args) {
    write(LogLevel::warning, fmt::format(format, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void error(fmt::format_string<Args...> format, Args&&... args) {
    write(LogLevel::error, fmt::format(format, std::forward<Args>(args)...));
  }
};

}  // namespace vmha::sys
