// monitor / status: one connection, one state query; evidence from /proc when libvirtd is away.
#include <fmt/core.h>

#include "VirtualDomain/job.hpp"

namespace vmha::agents {
namespace {

using ocf::Status;
using virt::DomainState;

/// What a state means for monitor: a status, or an error with the reason.
Result<Status> judge(const Job& job, virt::StateInfo info) {
  const std::string name = job.target.ref->label();
  switch (info.state) {
    case DomainState::running:
    case DomainState::blocked:
    case DomainState::shutting_down: return Status::success;
    case DomainState::paused:
      switch (info.reason) {
        case virt::paused_ioerror:
        case virt::paused_crashed:
        case virt::paused_watchdog:
        case virt::paused_postcopy_failed:
          return fail(Status::err_generic, fmt::format("domain {} is {}", name, virt::describe(info)));
        default: return Status::success;  // paused by an admin, a migration, a save or a snapshot
      }
    case DomainState::pm_suspended:
      if (job.settings.pmsuspended_is_running) return Status::success;
      return fail(Status::err_generic, fmt::format("domain {} was suspended by its guest", name));
    case DomainState::crashed: return fail(Status::err_generic, fmt::format("domain {} has crashed", name));
    case DomainState::shut_off: return Status::not_running;
    case DomainState::no_state: break;
  }
  return fail(Status::err_generic, fmt::format("domain {} is in no known state", name));
}

/// libvirtd did not answer: decide from this node's QEMU pid file and /proc.
Result<Status> without_libvirt(Job& job, const Error& why) {
  const std::string name = job.target.ref->label();
  if (job.processes == nullptr) {
    return fail(Status::err_generic, fmt::format("{}; no local evidence for this URI", why.reason), why.kind);
  }
  const auto found = job.processes->check(*job.target.ref);
  switch (found.evidence) {
    case virt::Evidence::running:
      // The VM is healthy; the node's libvirt is not. Degraded: shown, but no recovery.
      job.log().warning("{}; {}: reporting degraded", why.reason, found.detail);
      return Status::degraded;
    case virt::Evidence::gone:
      job.log().warning("{}; {}: domain {} is not running", why.reason, found.detail, name);
      return Status::not_running;
    case virt::Evidence::unknown: break;
  }
  return fail(Status::err_generic, fmt::format("{}; {}", why.reason, found.detail), why.kind);
}

}  // namespace

Result<std::optional<virt::StateInfo>> read_state(Job& job, const ocf::Deadline& deadline) {
  // "no state" is transient (a domain starting or stopping): ask again, briefly.
  for (;;) {
    auto state = job.hypervisor.state(*job.target.ref, deadline);
    if (!state || !*state || (*state)->state != DomainState::no_state || deadline.expired()) return state;
    auto& clock = job.services.clock;
    clock.sleep_until(std::min(deadline.at(), clock.now() + kPollInterval));
  }
}

Result<Status> monitor(Job& job) {
  const bool probe = job.request.call.is_probe();
  if (!job.target.ref) {
    // Neither the config nor a record of a start here since boot: this node never ran it.
    job.log().info("{}; no record of a start on this node since boot: not running", job.target.config_problem->reason);
    return Status::not_running;
  }
  const auto state = read_state(job, job.query_deadline());
  if (!state) {
    if (state.error().kind == ErrorKind::denied) return fail(Status::err_perm, state.error().reason, ErrorKind::denied);
    if (state.error().kind == ErrorKind::unreachable || state.error().kind == ErrorKind::timed_out) {
      return without_libvirt(job, state.error());
    }
    return fail(Status::err_generic, state.error().reason, state.error().kind);
  }
  if (!*state) return Status::not_running;
  auto status = judge(job, **state);
  if (!status || *status != Status::success) return status;
  if (auto scripts = run_monitor_scripts(job); !scripts) return tl::unexpected(scripts.error());
  if (!probe) update_utilization(job);  // probes never write to the CIB
  return Status::success;
}

Result<void> run_monitor_scripts(Job& job) {
  for (const auto& script : job.settings.monitor_scripts) {
    auto done = job.services.runner.run(sys::Command({script}), job.deadline().at());
    if (!done) return fail(ocf::Status::err_generic, fmt::format("monitor script {}: {}", script, done.error().reason));
    if (!done->succeeded()) {
      std::string said = done->err.empty() ? done->out : done->err;
      said = said.substr(0, said.find('\n'));
      return fail(ocf::Status::err_generic, fmt::format("monitor script {} failed ({}){}{}", script, done->describe(),
                                                        said.empty() ? "" : ": ", said));
    }
  }
  return {};
}

}  // namespace vmha::agents
