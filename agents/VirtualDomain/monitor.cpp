// monitor / status: one connection, one state query when the domain runs; "not running" only
// on proof — libvirt's, or with libvirtd away, this node's /proc.
#include <fmt/core.h>

#include "VirtualDomain/job.hpp"

namespace vmha::agents {
namespace {

using ocf::Status;
using virt::DomainState;

/// What a state means for monitor: a status, or an error with the reason.
Result<Status> judge(const Job& job, const Sighting& seen) {
  const std::string name = seen.ref.label();
  switch (seen.state.state) {
    case DomainState::running:
    case DomainState::blocked:
    case DomainState::shutting_down: return Status::success;
    case DomainState::paused:
      switch (seen.state.reason) {
        case virt::paused_ioerror:
        case virt::paused_crashed:
        case virt::paused_watchdog:
        case virt::paused_postcopy_failed:
          return fail(ErrorKind::other, fmt::format("domain {} is {}", name, virt::describe(seen.state)));
        default: return Status::success;  // paused by an admin, a migration, a save or a snapshot
      }
    case DomainState::pm_suspended:
      if (job.settings.pmsuspended_is_running) return Status::success;
      return fail(ErrorKind::other, fmt::format("domain {} was suspended by its guest", name));
    case DomainState::crashed: return fail(ErrorKind::other, fmt::format("domain {} has crashed", name));
    case DomainState::shut_off: return Status::not_running;
    case DomainState::no_state: break;
  }
  return fail(ErrorKind::other, fmt::format("domain {} is in no known state", name));
}

/// libvirtd did not answer: decide from this node's QEMU pid files and /proc. "Not running"
/// needs every name positively gone.
Result<Status> judge_by_processes(Job& job, const Error& why) {
  if (job.processes == nullptr) {
    return fail(why.kind, fmt::format("{}; no local evidence for this URI", why.reason));
  }
  std::string unsure;
  for (const auto& name : job.target.names()) {
    const auto found = job.processes->check(name, job.query_deadline());
    if (found.evidence == virt::Evidence::running) {
      // The VM is healthy; the node's libvirt is not. Degraded: shown, but no recovery.
      job.log().warning("{}; {}: reporting degraded", why.reason, found.detail);
      return Status::degraded;
    }
    if (found.evidence == virt::Evidence::unknown && unsure.empty()) unsure = found.detail;
  }
  if (!unsure.empty()) return fail(why.kind, fmt::format("{}; {}", why.reason, unsure));
  if (auto survivor = recorded_survivor(job)) return fail(ErrorKind::other, survivor->detail);
  if (auto pending = launch_may_land(job)) return fail(ErrorKind::other, *pending);
  if (!job.target.records_unreadable.empty()) return fail(ErrorKind::other, records_unreadable(job));
  job.log().warning("{}; no QEMU process of {} on this node: not running", why.reason, job.target.ref->label());
  return Status::not_running;
}

}  // namespace

Result<Status> domain_status(Job& job, Sighting* seen) {
  auto never_ran = never_ran_here(job, "not running");
  VMHA_TRY(never_ran);
  if (*never_ran) return Status::not_running;
  const auto found = find_running(job, job.query_deadline());
  if (!found) {
    const auto& error = found.error();
    if (error.kind == ErrorKind::denied) return fail(ErrorKind::denied, error.reason);
    if (error.kind == ErrorKind::unreachable || error.kind == ErrorKind::timed_out) {
      return judge_by_processes(job, error);
    }
    return fail(error.kind, error.reason);
  }
  if (!*found) {
    // libvirt knows no such domain running; what it forgot (a QEMU that outlived a destroy) or
    // may still do (an abandoned create) is not proof of its absence.
    if (auto survivor = recorded_survivor(job)) return fail(ErrorKind::other, survivor->detail);
    if (auto pending = launch_may_land(job)) return fail(ErrorKind::other, *pending);
    if (!job.target.records_unreadable.empty()) return fail(ErrorKind::other, records_unreadable(job));
    return Status::not_running;
  }
  if (seen != nullptr) *seen = **found;
  return judge(job, **found);
}

Result<Status> monitor(Job& job) {
  const bool probe = job.request.call.is_probe();
  Sighting seen;
  auto status = domain_status(job, &seen);
  // A probe runs when a node joins (and after a refresh): the node's digest goes out then, after
  // the verdict, so that it never costs the verdict time.
  if (probe) publish_config_digest(job);
  if (!status || *status != Status::success) return status;
  // The scripts first: a slow guest-agent ping must not leave them too little time.
  VMHA_TRY(run_monitor_scripts(job));
  if (job.request.call.check_level >= kGuestAgentDepth) {
    status = check_guest_agent(job, seen);
    if (!status) return status;
  }
  if (!probe) update_utilization(job);  // probes never write to the CIB
  return status;
}

}  // namespace vmha::agents
