// The real logger: routes lines the way resource-agents' ocf_log does.
//
//   stdin is a terminal        -> stderr only ("<tag>: <PREFIX>message")
//   HA_LOGFACILITY set (!none) -> syslog(3), ident = tag, at the line's level
//   HA_LOGFILE set             -> appended as "<Mon dd HH:MM:SS> <tag>:    <PREFIX>message"
//   neither                    -> stderr
//   debug lines                -> only with HA_debug set and not 0; also to HA_DEBUGLOG
// A trace target (OCF_TRACE_RA / trace_ra) additionally receives every line, debug included.
#pragma once

#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "vmha/sys/environment.hpp"
#include "vmha/sys/logger.hpp"
#include "vmha/sys/owned_file.hpp"

namespace vmha::sys {

struct LogConfig {
  std::string tag;                     ///< "<agent>(<instance>)[<pid>]"
  std::optional<int> syslog_facility;  ///< LOG_DAEMON etc.; nullopt = no syslog
  std::string logfile;                 ///< HA_LOGFILE; empty = none
  std::string debuglog;                ///< HA_DEBUGLOG; empty = none
  bool debug = false;                  ///< HA_debug
  bool terminal = false;               ///< stdin is a terminal
};

/// Reads every spelling Pacemaker and resource-agents use: HA_LOGFACILITY, HA_logfacility,
/// PCMK_logfacility; HA_LOGFILE, HA_logfile, PCMK_logfile; HA_DEBUGLOG, PCMK_debugfile;
/// HA_debug, PCMK_debug.
[[nodiscard]] LogConfig log_config_from(const Environment& env, std::string_view agent, bool terminal, long pid);

/// syslog facility by name ("daemon", "local0"…); nullopt for "none" or an unknown name.
[[nodiscard]] std::optional<int> syslog_facility_from_name(std::string_view name);

class OcfLogger final : public Logger {
 public:
  explicit OcfLogger(LogConfig config, std::FILE* err = stderr);
  OcfLogger(const OcfLogger&) = delete;
  OcfLogger& operator=(const OcfLogger&) = delete;
  ~OcfLogger() override;

  void write(LogLevel level, std::string_view message) override;
  [[nodiscard]] bool debug_enabled() const override { return config_.debug || trace_; }

  /// From now on every line also goes to `trace` (debug lines included).
  void start_trace(OwnedFile trace) override;
  [[nodiscard]] std::FILE* trace_stream() const { return trace_.get(); }
  [[nodiscard]] const LogConfig& config() const { return config_; }

 private:
  LogConfig config_;
  std::FILE* err_;
  OwnedFile trace_;
  bool syslog_open_ = false;
};

}  // namespace vmha::sys
