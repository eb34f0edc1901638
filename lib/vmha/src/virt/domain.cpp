#include "vmha/virt/domain.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include <fmt/core.h>

namespace vmha::virt {
namespace {

std::string_view state_name(DomainState state) {
  switch (state) {
    case DomainState::no_state: return "no state";
    case DomainState::running: return "running";
    case DomainState::blocked: return "blocked";
    case DomainState::paused: return "paused";
    case DomainState::shutting_down: return "being shut down";
    case DomainState::shut_off: return "shut off";
    case DomainState::crashed: return "crashed";
    case DomainState::pm_suspended: return "suspended by the guest";
  }
  return "unknown";
}

// Reason names for the states whose reasons decide something (libvirt-domain.h).
std::string_view reason_name(DomainState state, int reason) {
  static constexpr std::array<std::string_view, 14> kPaused{
      "unknown",       "user",     "migration", "save",          "dump",     "I/O error", "watchdog",
      "from snapshot", "shutdown", "snapshot",  "guest crashed", "starting", "post-copy", "post-copy failed"};
  static constexpr std::array<std::string_view, 10> kRunning{
      "unknown",        "booted", "migrated", "restored", "from snapshot", "unpaused", "migration cancelled",
      "save cancelled", "wakeup", "crashed"};
  static constexpr std::array<std::string_view, 9> kShutOff{
      "unknown", "shutdown", "destroyed", "crashed", "migrated", "saved", "failed", "from snapshot", "daemon"};
  const auto pick = [reason](const auto& names) -> std::string_view {
    return reason >= 0 && static_cast<std::size_t>(reason) < names.size() ? names[static_cast<std::size_t>(reason)]
                                                                          : "unknown";
  };
  switch (state) {
    case DomainState::paused: return pick(kPaused);
    case DomainState::running: return pick(kRunning);
    case DomainState::shut_off: return pick(kShutOff);
    default: return {};
  }
}

}  // namespace

std::string canonical_uuid(std::string_view text) {
  std::string hex;
  for (const char c : text) {
    if (c == '-') continue;
    if (std::isxdigit(static_cast<unsigned char>(c)) == 0) return {};
    hex.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (hex.size() != 32) return {};
  return fmt::format("{}-{}-{}-{}-{}", hex.substr(0, 8), hex.substr(8, 4), hex.substr(12, 4), hex.substr(16, 4),
                     hex.substr(20));
}

bool valid_domain_name(std::string_view name) {
  if (name.empty() || name.size() > 255 || name == "." || name == "..") return false;
  return std::none_of(name.begin(), name.end(),
                      [](char c) { return c == '/' || std::iscntrl(static_cast<unsigned char>(c)) != 0; });
}

std::string describe(StateInfo info) {
  const auto reason = reason_name(info.state, info.reason);
  if (reason.empty() || reason == "unknown") return std::string(state_name(info.state));
  return fmt::format("{} ({})", state_name(info.state), reason);
}

}  // namespace vmha::virt
