#include "vmha/sys/ocf_logger.hpp"

#include <syslog.h>

#include <array>
#include <ctime>

#include <fmt/core.h>

#include "vmha/text.hpp"

namespace vmha::sys {
namespace {

int syslog_priority(LogLevel level) {
  switch (level) {
    case LogLevel::debug: return LOG_DEBUG;
    case LogLevel::info: return LOG_INFO;
    case LogLevel::warning: return LOG_WARNING;
    case LogLevel::error: return LOG_ERR;
  }
  return LOG_NOTICE;
}

// HA_DATEFMT: "%b %d %T ", as ocf_log writes to HA_LOGFILE.
std::string timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  std::array<char, 32> text{};
  const auto length = std::strftime(text.data(), text.size(), "%b %d %T", &local);
  return std::string(text.data(), length);
}

void append_line(const std::string& path, const std::string& line) {
  std::FILE* file = std::fopen(path.c_str(), "ae");
  if (file == nullptr) return;  // a log that cannot be written must not fail the action
  std::fputs(line.c_str(), file);
  std::fclose(file);
}

}  // namespace

std::string_view log_prefix(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::debug: return "DEBUG: ";
    case LogLevel::info: return "INFO: ";
    case LogLevel::warning: return "WARNING: ";
    case LogLevel::error: return "ERROR: ";
  }
  return "";
}

std::optional<int> syslog_facility_from_name(std::string_view name) {
  struct Named {
    std::string_view name;
    int facility;
  };
  static constexpr std::array<Named, 18> kFacilities{{
      {"daemon", LOG_DAEMON},
      {"user", LOG_USER},
      {"local0", LOG_LOCAL0},
      {"local1", LOG_LOCAL1},
      {"local2", LOG_LOCAL2},
      {"local3", LOG_LOCAL3},
      {"local4", LOG_LOCAL4},
      {"local5", LOG_LOCAL5},
      {"local6", LOG_LOCAL6},
      {"local7", LOG_LOCAL7},
      {"auth", LOG_AUTH},
      {"authpriv", LOG_AUTHPRIV},
      {"cron", LOG_CRON},
      {"kern", LOG_KERN},
      {"lpr", LOG_LPR},
      {"mail", LOG_MAIL},
      {"news", LOG_NEWS},
      {"syslog", LOG_SYSLOG},
  }};
  for (const auto& entry : kFacilities) {
    if (entry.name == name) return entry.facility;
  }
  return std::nullopt;
}

LogConfig log_config_from(const Environment& env, std::string_view agent, bool terminal, long pid) {
  LogConfig config;
  const auto instance = env.non_empty("OCF_RESOURCE_INSTANCE");
  config.tag = instance ? fmt::format("{}({})[{}]", agent, *instance, pid) : fmt::format("{}[{}]", agent, pid);
  if (const auto facility = env.first_of({"HA_LOGFACILITY", "HA_logfacility", "PCMK_logfacility"})) {
    config.syslog_facility = syslog_facility_from_name(*facility);  // "none" → no syslog
  }
  config.logfile = env.first_of({"HA_LOGFILE", "HA_logfile", "PCMK_logfile"}).value_or("");
  config.debuglog = env.first_of({"HA_DEBUGLOG", "HA_debugfile", "PCMK_debugfile"}).value_or("");
  if (const auto debug = env.first_of({"HA_debug", "PCMK_debug"})) {
    config.debug = *debug != "0" && text::parse_boolean(*debug).value_or(true);
  }
  config.terminal = terminal;
  return config;
}

OcfLogger::OcfLogger(LogConfig config, std::FILE* err) : config_(std::move(config)), err_(err) {}

OcfLogger::~OcfLogger() {
  if (syslog_open_) closelog();
}

void OcfLogger::start_trace(OwnedFile trace) {
  trace_ = std::move(trace);
}

void OcfLogger::write(LogLevel level, std::string_view message) {
  // One record per line: a newline in a message (an error text, a parameter) could forge a
  // log line, or on stderr an `ocf-exit-reason:` line.
  std::string body = fmt::format("{}{}", log_prefix(level), message);
  for (char& c : body) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  if (trace_) {
    std::fputs(fmt::format("{} {}: {}\n", timestamp(), config_.tag, body).c_str(), trace_.get());
    std::fflush(trace_.get());
  }
  const bool is_debug = level == LogLevel::debug;
  if (is_debug && !config_.debug) return;
  if (config_.terminal) {
    std::fputs(fmt::format("{}: {}\n", config_.tag, body).c_str(), err_);
    return;
  }
  if (config_.syslog_facility) {
    if (!syslog_open_) {
      openlog(config_.tag.c_str(), LOG_NDELAY, *config_.syslog_facility);
      syslog_open_ = true;
    }
    syslog(syslog_priority(level), "%s", body.c_str());
  }
  if (!is_debug && !config_.logfile.empty()) {
    append_line(config_.logfile, fmt::format("{} {}:    {}\n", timestamp(), config_.tag, body));
  }
  if (is_debug && !config_.debuglog.empty() && config_.debuglog != config_.logfile) {
    append_line(config_.debuglog, fmt::format("{}:\t{} {}\n", config_.tag, timestamp(), body));
  }
  const bool routed =
      config_.syslog_facility.has_value() || (is_debug ? !config_.debuglog.empty() : !config_.logfile.empty());
  if (!routed) std::fputs(fmt::format("{} {}\n", timestamp(), body).c_str(), err_);
}

}  // namespace vmha::sys
