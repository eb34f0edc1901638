// stop: a ladder inside the deadline — (save,) graceful shutdown, destroy, verify — for every
// name the domain may run under. Returns 0 only when each is verifiably not running here and no
// abandoned call can still start it; never 7.
#include <fmt/core.h>

#include "VirtualDomain/job.hpp"

namespace vmha::agents {
namespace {

using ocf::Status;
using virt::DomainState;

/// Time kept back from a libvirt call so the /proc fallback can still act.
constexpr std::chrono::milliseconds kFallbackReserve{1'000};
/// How long a QEMU may outlive libvirt's "shut off" before stop calls it stuck.
constexpr std::chrono::milliseconds kExitGrace{2'000};
/// How often a stop waiting for an abandoned call to land looks again.
constexpr std::chrono::milliseconds kLandingPoll{500};

bool is_gone(const Result<std::optional<virt::StateInfo>>& state) {
  return state && virt::is_gone(*state);
}

bool libvirt_away(const Error& error) {
  return error.kind == ErrorKind::unreachable || error.kind == ErrorKind::timed_out;
}

/// libvirtd cannot answer: settle it with this node's QEMU process, killing it if needed.
Result<void> stop_by_processes(Job& job, const virt::DomainRef& ref, const Error& why) {
  if (job.processes == nullptr) {
    return fail(why.kind, fmt::format("{}; no local evidence for this URI", why.reason));
  }
  const auto found = job.processes->check(ref, job.query_deadline());
  if (found.evidence == virt::Evidence::gone) {
    job.log().info("{}; {}: domain {} is not running here", why.reason, found.detail, ref.label());
    return {};
  }
  if (found.evidence == virt::Evidence::unknown) {
    return fail(why.kind, fmt::format("{}; {}", why.reason, found.detail));
  }
  job.log().warning("{}; {}: killing it", why.reason, found.detail);
  if (auto killed = job.processes->kill(ref, job.deadline()); !killed) {
    remember_survivor(job, ref, found.pid);
    return fail(killed.error().kind, fmt::format("{}; {}", why.reason, killed.error().reason));
  }
  job.log().info("QEMU pid {} of {} killed without libvirt", found.pid, ref.label());
  return {};
}

/// libvirt says the domain is gone: the QEMU seen before must be gone too. libvirt 9.0 calls a
/// domain destroyed even when its QEMU has a thread stuck in the kernel, still holding disks.
/// Its pid is watched (a pidfd: nothing of the process is read, which a stuck one could block).
Result<void> confirm_exit(Job& job, const virt::DomainRef& ref, const virt::ProcessCheck& before) {
  if (job.processes == nullptr || before.pid == 0) return {};
  const auto until = job.deadline().within(kExitGrace);
  for (;;) {
    const auto now = job.processes->process_state(before.pid, job.query_deadline());
    if (now == virt::Evidence::gone) return {};
    if (until.expired()) {
      // libvirt has let go of it: from now on only the start record remembers this process.
      remember_survivor(job, ref, before.pid);
      return fail(ErrorKind::other,
                  fmt::format("libvirt reports domain {} stopped, but its QEMU (pid {}) {}", ref.label(), before.pid,
                              now == virt::Evidence::running ? "lives on" : "cannot be seen to have ended"));
    }
    until.sleep(kPollInterval);
  }
}

/// The final word for one name: asks libvirt (or /proc) whether the domain still runs.
Result<void> verify(Job& job, const virt::DomainRef& ref, std::string_view how, const virt::ProcessCheck& before) {
  const auto state = read_state(job, ref, job.query_deadline());
  if (is_gone(state)) {
    if (auto exited = confirm_exit(job, ref, before); !exited) return exited;
    job.log().info("domain {} is stopped ({})", ref.label(), how);
    return {};
  }
  if (!state) {
    if (libvirt_away(state.error())) return stop_by_processes(job, ref, state.error());
    return fail(ErrorKind::other, fmt::format("cannot verify the stop: {}", state.error().reason));
  }
  // libvirt answered that it still runs: nothing else overrules that.
  return fail(ErrorKind::other,
              fmt::format("domain {} is still {} after {}", ref.label(), virt::describe(**state), how));
}

/// snapshot: saves the RAM state instead of shutting down. False when it did not work.
bool save_state(Job& job, const virt::DomainRef& ref) {
  const std::string path = saved_state_path(job.settings, ref.name);
  auto saved = job.hypervisor->save(ref, path, job.deadline().keep_back(job.settings.destroy_reserve));
  if (saved) {
    job.log().info("state of {} saved to {}", ref.label(), path);
    return true;
  }
  job.log().warning("state not saved, shutting down instead: {}", saved.error().reason);
  return false;
}

/// Asks the guest to shut down and waits until `until`. True when it is gone.
Result<bool> graceful(Job& job, const virt::DomainRef& ref, const ocf::Deadline& until) {
  job.log().info("asking domain {} to shut down (shutdown_mode {})", ref.label(),
                 describe_shutdown_methods(job.settings.shutdown_methods));
  auto asked = job.hypervisor->shutdown(ref, job.settings.shutdown_methods, until);
  if (!asked) {
    if (asked.error().kind == ErrorKind::not_found) return true;
    if (asked.error().kind == ErrorKind::unreachable) return fail(asked.error());
    job.log().warning("graceful shutdown of {} refused: {}", ref.label(), asked.error().reason);
    return false;
  }
  for (;;) {
    // `until` only ends the wait; each query has its own time, within the whole budget.
    const auto state = read_state(job, ref, job.query_deadline());
    if (is_gone(state)) return true;
    if (!state && libvirt_away(state.error())) return fail(state.error());
    if (until.expired()) return false;
    until.sleep(kPollInterval);
  }
}

/// The ladder for one of the domain's names. Success: not running under that name.
Result<void> stop_name(Job& job, const virt::DomainRef& ref) {
  const auto state = read_state(job, ref, job.query_deadline());
  if (is_gone(state)) {
    job.log().debug("domain {} is {}", ref.label(), state->has_value() ? "already shut off" : "not defined here");
    return {};
  }
  if (!state) {
    if (libvirt_away(state.error())) return stop_by_processes(job, ref, state.error());
    return fail(with_reason(state.error(), fmt::format("cannot stop: {}", state.error().reason)));
  }
  const auto current = (*state)->state;
  const auto before = job.processes != nullptr ? job.processes->check(ref, job.query_deadline()) : virt::ProcessCheck{};
  if (job.settings.save_config) save_definition(job);
  if (!job.settings.snapshot.empty() && (current == DomainState::running || current == DomainState::paused) &&
      save_state(job, ref)) {
    return verify(job, ref, "saving its state", before);
  }

  // Graceful first, unless forced or the guest cannot react (paused, crashed, suspended).
  const bool can_shut_down =
      current == DomainState::running || current == DomainState::blocked || current == DomainState::shutting_down;
  if (!job.settings.force_stop && can_shut_down) {
    const auto budget = job.deadline().remaining();
    const auto reserve = std::min<std::chrono::milliseconds>(job.settings.destroy_reserve, budget / 2);
    const auto done = graceful(job, ref, job.deadline().keep_back(reserve));
    if (!done) return stop_by_processes(job, ref, done.error());
    if (*done) return verify(job, ref, "a graceful shutdown", before);
    job.log().warning("domain {} did not shut down gracefully in {} ms: destroying it", ref.label(),
                      (budget - reserve).count());
  }

  const auto destroy_by = job.processes != nullptr ? job.deadline().keep_back(kFallbackReserve) : job.deadline();
  auto destroyed = job.hypervisor->destroy(ref, destroy_by);
  if (!destroyed) {
    if (libvirt_away(destroyed.error())) return stop_by_processes(job, ref, destroyed.error());
    if (destroyed.error().kind != ErrorKind::not_found && destroyed.error().kind != ErrorKind::invalid) {
      job.log().warning("destroy of {} failed: {}", ref.label(), destroyed.error().reason);
    }
  }
  return verify(job, ref, "destroy", before);
}

/// A start gave up on a call that may still create the domain: wait for it inside the budget,
/// and stop the domain if it appears. Success: it appeared and was stopped, or cannot appear.
Result<void> wait_for_landing(Job& job, const std::string& why) {
  const auto reserve =
      std::min<std::chrono::milliseconds>(job.settings.destroy_reserve, job.deadline().remaining() / 2);
  const auto until = job.deadline().keep_back(reserve);
  job.log().warning("{}: waiting up to {} ms for it", why, until.remaining().count());
  for (;;) {
    const auto found = find_running(job, job.query_deadline());
    if (found && *found) {
      job.log().warning("domain {} appeared: the abandoned call was carried out; stopping it", (*found)->ref.label());
      return stop_name(job, (*found)->ref);
    }
    if (!launch_may_land(job)) return {};
    if (until.expired()) return fail(ErrorKind::other, why);
    until.sleep(kLandingPoll);
  }
}

}  // namespace

Result<Status> stop(Job& job) {
  auto never_ran = never_ran_here(job, "nothing to stop");
  VMHA_TRY(never_ran);
  if (*never_ran) return Status::success;
  for (const auto& name : job.target.names()) {
    VMHA_TRY(stop_name(job, name));
  }
  if (auto survivor = recorded_survivor(job)) {
    if (survivor->evidence != virt::Evidence::running) return fail(ErrorKind::other, survivor->detail);
    job.log().warning("{}: killing it", survivor->detail);
    if (auto killed = job.processes->kill_pid(job.target.start->domain, survivor->pid, job.deadline()); !killed) {
      return fail(ErrorKind::other, fmt::format("{}; {}", survivor->detail, killed.error().reason));
    }
  }
  if (auto pending = launch_may_land(job)) {
    VMHA_TRY(wait_for_landing(job, *pending));
  }
  if (!job.target.records_unreadable.empty()) return fail(ErrorKind::other, records_unreadable(job));
  if (auto forgotten = job.records.forget_start(); !forgotten) {
    job.log().warning("cannot remove the start record: {}", forgotten.error().reason);
  }
  if (auto forgotten = job.records.forget_liveness(); !forgotten) {
    job.log().warning("cannot remove the guest agent record: {}", forgotten.error().reason);
  }
  job.log().info("domain {} is stopped", job.target.ref->label());
  return Status::success;
}

}  // namespace vmha::agents
