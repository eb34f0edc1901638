// One agent, two processes: a small front answers what it can without loading libvirt and
// replaces itself with the full agent for the rest; the action's deadline still counts from
// the front's start, which travels along in the environment.
#pragma once

#include <string>
#include <vector>

#include "vmha/result.hpp"
#include "vmha/sys/clock.hpp"
#include "vmha/sys/environment.hpp"

namespace vmha::ocf {

/// CLOCK_MONOTONIC nanoseconds of the front's start, set for the program it hands over to.
inline constexpr std::string_view kStartedVariable = "VMHA_AGENT_STARTED_NS";

/// Where an action's deadline counts from: now, or the start of the front process that handed
/// it over (kStartedVariable), when that is a plausible moment of the last hour.
[[nodiscard]] sys::Clock::time_point action_started(sys::Clock& clock, const sys::Environment& env);

/// Replaces this process with `program action`, with this environment and the start time;
/// returns only when that cannot be done (the program is not installed here).
[[nodiscard]] Error hand_over_action(const std::string& program, const std::string& action,
                                     sys::Clock::time_point started, const sys::Environment& env);

/// Replaces this process with `program` and the rest of a person's command line (flags,
/// --help); returns only when that cannot be done.
[[nodiscard]] Error hand_over_command_line(const std::string& program, std::vector<std::string> args);

}  // namespace vmha::ocf
