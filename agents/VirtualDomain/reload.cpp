// reload-agent: Pacemaker changed only reloadable parameters. Every action reads its
// parameters afresh, so nothing is restarted: the new values are checked, the domain must run
// here, and what the monitor applies (scripts, utilization) is applied with them now.
#include <vector>

#include <fmt/format.h>

#include "VirtualDomain/job.hpp"

namespace vmha::agents {
namespace {

using ocf::Status;

/// "name=value" of every reloadable parameter Pacemaker set (the others are at their defaults).
std::string reloadable_values(const Job& job) {
  std::vector<std::string> set;
  for (const auto& spec : job.request.metadata.params) {
    if (!spec.reloadable) continue;
    if (const auto value = job.services.env.non_empty("OCF_RESKEY_" + spec.name)) {
      set.push_back(fmt::format("{}={}", spec.name, *value));
    }
  }
  return set.empty() ? std::string("none set, all at their defaults") : fmt::format("{}", fmt::join(set, ", "));
}

}  // namespace

Result<Status> reload_agent(Job& job) {
  // The settings were read (and checked) before this: a bad value already failed with 6.
  auto status = monitor(job);
  VMHA_TRY(status);
  if (*status == Status::not_running) {
    return fail(ErrorKind::other,
                fmt::format("domain {} is not running here: nothing to reload",
                            job.target.ref ? job.target.ref->label() : std::string("of this resource")));
  }
  if (*status == Status::degraded) {
    job.log().warning("reload-agent: libvirtd does not answer; the new values apply from the next action");
  }
  // What the next start or migration would meet, told now rather than at the next failover.
  if (auto findings = drbd_findings(job); !findings) {
    job.log().warning("reload-agent: {}", findings.error().reason);
  } else if (!findings->empty()) {
    job.log().warning("{}", drbd_refusal("reload-agent: a start on this node would be", *findings));
  }
  job.log().info("reload-agent: parameters in effect from now on: {}", reloadable_values(job));
  return Status::success;
}

}  // namespace vmha::agents
