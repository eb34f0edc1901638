// reload-agent: Pacemaker changed only reloadable parameters. Every action reads its
// parameters afresh, so nothing is restarted: the new values were checked before this (6 when
// malformed), the domain must run here, and what the next actions will meet is warned of now.
// Pacemaker records a failed reload-agent as a failed start and recovers the resource, so only
// a domain proven not running fails it; the recurring monitor, rescheduled with the new values
// at once, runs the new monitor_scripts and writes the utilization.
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

/// A saved state in the snapshot directory of a running domain would be restored by its next
/// start: RAM from the past.
void warn_of_saved_state(Job& job) {
  if (job.settings.snapshot.empty() || !job.target.ref) return;
  const std::string saved = saved_state_path(job.settings, job.target.ref->name);
  if (job.services.files.info(saved, job.query_deadline().at())) {
    job.log().warning("reload-agent: {} exists while {} runs: the next start would restore it; remove it", saved,
                      job.target.ref->label());
  }
}

}  // namespace

Result<Status> reload_agent(Job& job) {
  auto status = domain_status(job);
  if (!status) {
    // Not proof that it stopped: the next monitor decides, not a failed "start".
    job.log().warning("reload-agent: the domain's state is unknown ({}); the new values apply from the next action",
                      status.error().reason);
  } else if (*status == Status::not_running) {
    return fail(ErrorKind::other,
                fmt::format("domain {} is not running here: nothing to reload",
                            job.target.ref ? job.target.ref->label() : std::string("of this resource")));
  } else if (*status == Status::degraded) {
    job.log().warning("reload-agent: libvirtd does not answer; the new values apply from the next action");
  }
  if (auto findings = drbd_findings(job); !findings) {
    job.log().warning("reload-agent: {}", findings.error().reason);
  } else if (!findings->empty()) {
    job.log().warning("{}", drbd_refusal("reload-agent: a start on this node would be", *findings));
  }
  warn_of_saved_state(job);
  job.log().info("reload-agent: parameters in effect from now on: {}", reloadable_values(job));
  return Status::success;
}

}  // namespace vmha::agents
