// stop: a ladder inside the deadline — (save,) graceful shutdown, destroy, verify.
// Returns 0 only when the domain is verifiably not running here; never 7.
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/core.h>

#include "VirtualDomain/job.hpp"
#include "vmha/sys/files.hpp"

namespace vmha::agents {
namespace {

using ocf::Status;
using virt::DomainState;

/// Time kept back from a libvirt call so the /proc fallback can still act.
constexpr std::chrono::milliseconds kFallbackReserve{1'000};

bool is_gone(const Result<std::optional<virt::StateInfo>>& state) {
  return state && (!state->has_value() || (*state)->state == DomainState::shut_off);
}

bool libvirt_away(const Error& error) {
  return error.kind == ErrorKind::unreachable || error.kind == ErrorKind::timed_out;
}

Status stopped(Job& job, std::string_view how) {
  job.log().info("domain {} is stopped ({})", job.target.ref->label(), how);
  job.records.forget_domain();
  return Status::success;
}

/// libvirtd cannot answer: settle it with this node's QEMU process, killing it if needed.
Result<Status> without_libvirt(Job& job, const Error& why) {
  const auto& ref = *job.target.ref;
  if (job.processes == nullptr) {
    return fail(Status::err_generic, fmt::format("{}; no local evidence for this URI", why.reason), why.kind);
  }
  const auto found = job.processes->check(ref);
  if (found.evidence == virt::Evidence::gone) return stopped(job, found.detail);
  if (found.evidence == virt::Evidence::unknown) {
    return fail(Status::err_generic, fmt::format("{}; {}", why.reason, found.detail), why.kind);
  }
  job.log().warning("{}; {}: killing it", why.reason, found.detail);
  if (auto killed = job.processes->kill(ref, job.deadline()); !killed) {
    return fail(Status::err_generic, fmt::format("{}; {}", why.reason, killed.error().reason), killed.error().kind);
  }
  return stopped(job, fmt::format("QEMU pid {} killed without libvirt", found.pid));
}

/// The final word: asks libvirt (or /proc) whether the domain still runs.
Result<Status> verify(Job& job, std::string_view how) {
  const auto state = read_state(job, job.query_deadline());
  if (is_gone(state)) return stopped(job, how);
  if (!state) {
    if (libvirt_away(state.error())) return without_libvirt(job, state.error());
    return fail(Status::err_generic, fmt::format("cannot verify the stop: {}", state.error().reason));
  }
  const Error still{
      Status::err_generic,
      fmt::format("domain {} is still {} after {}", job.target.ref->label(), virt::describe(**state), how),
      ErrorKind::other};
  if (job.processes == nullptr) return tl::unexpected(still);
  return without_libvirt(job, still);  // the last resort: power it off ourselves
}

/// snapshot: saves the RAM state instead of shutting down. False when it did not work.
bool save_state(Job& job) {
  const std::string path = fmt::format("{}/{}.state", job.settings.snapshot, job.target.ref->name);
  auto saved = job.hypervisor.save(*job.target.ref, path, job.deadline().keep_back(job.settings.destroy_reserve));
  if (saved) {
    job.log().info("state of {} saved to {}", job.target.ref->label(), path);
    return true;
  }
  job.log().warning("state not saved, shutting down instead: {}", saved.error().reason);
  return false;
}

/// Asks the guest to shut down and waits until `until`. True when it is gone.
Result<bool> graceful(Job& job, const ocf::Deadline& until) {
  const auto& ref = *job.target.ref;
  auto asked = job.hypervisor.shutdown(ref, job.settings.shutdown_methods, until);
  if (!asked) {
    if (asked.error().kind == ErrorKind::not_found) return true;
    if (asked.error().kind == ErrorKind::unreachable) return tl::unexpected(asked.error());
    job.log().warning("graceful shutdown of {} refused: {}", ref.label(), asked.error().reason);
    return false;
  }
  auto& clock = job.services.clock;
  for (;;) {
    // `until` only ends the wait; each query has its own time, within the whole budget.
    const auto state = read_state(job, job.query_deadline());
    if (is_gone(state)) return true;
    if (!state && libvirt_away(state.error())) return tl::unexpected(state.error());
    if (until.expired()) return false;
    clock.sleep_until(std::min(until.at(), clock.now() + kPollInterval));
  }
}

}  // namespace

/// save_config_on_stop: the current definition replaces the config file, atomically.
void save_definition(Job& job) {
  const auto xml = job.hypervisor.definition(*job.target.ref, job.query_deadline());
  if (!xml || !virt::parse_domain_xml(*xml)) {
    job.log().warning("config not saved: {}", xml ? "libvirt returned an unreadable definition" : xml.error().reason);
    return;
  }
  if (!sys::replace_file(job.settings.config, *xml)) {
    job.log().warning("config not saved: cannot replace {}: {}", job.settings.config, std::strerror(errno));
    return;
  }
  job.log().info("definition of {} saved to {}", job.target.ref->label(), job.settings.config);
  if (!job.settings.sync_config) return;
  auto done = job.services.runner.run(sys::Command({"csync2", "-x", job.settings.config}), job.query_deadline().at());
  if (!done || !done->succeeded()) {
    job.log().warning("csync2 -x {} failed: {}", job.settings.config, done ? done->describe() : done.error().reason);
  }
}

Result<Status> stop(Job& job) {
  if (!job.target.ref) {
    // No config and no record of a start here since boot (HA_RSCTMP is emptied at boot).
    job.log().info("{}; no record of a start on this node since boot: nothing to stop",
                   job.target.config_problem->reason);
    return Status::success;
  }
  const auto& ref = *job.target.ref;
  const auto state = read_state(job, job.query_deadline());
  if (is_gone(state)) return stopped(job, state && state->has_value() ? "already shut off" : "not defined here");
  if (!state) {
    if (libvirt_away(state.error())) return without_libvirt(job, state.error());
    return fail(state.error().kind == ErrorKind::denied ? Status::err_perm : Status::err_generic,
                fmt::format("cannot stop: {}", state.error().reason), state.error().kind);
  }
  const auto current = (*state)->state;
  if (job.settings.save_config) save_definition(job);
  if (!job.settings.snapshot.empty() && (current == DomainState::running || current == DomainState::paused) &&
      save_state(job)) {
    return verify(job, "saving its state");
  }

  // Graceful first, unless forced or the guest cannot react (paused, crashed, suspended).
  const bool can_shut_down =
      current == DomainState::running || current == DomainState::blocked || current == DomainState::shutting_down;
  if (!job.settings.force_stop && can_shut_down) {
    const auto budget = job.deadline().remaining();
    const auto reserve = std::min<std::chrono::milliseconds>(job.settings.destroy_reserve, budget / 2);
    const auto done = graceful(job, job.deadline().keep_back(reserve));
    if (!done) return without_libvirt(job, done.error());
    if (*done) return verify(job, "a graceful shutdown");
    job.log().warning("domain {} did not shut down gracefully in {} ms: destroying it", ref.label(),
                      (budget - reserve).count());
  }

  const auto destroy_by = job.processes != nullptr ? job.deadline().keep_back(kFallbackReserve) : job.deadline();
  auto destroyed = job.hypervisor.destroy(ref, destroy_by);
  if (!destroyed) {
    if (libvirt_away(destroyed.error())) return without_libvirt(job, destroyed.error());
    if (destroyed.error().kind != ErrorKind::not_found && destroyed.error().kind != ErrorKind::invalid) {
      job.log().warning("destroy of {} failed: {}", ref.label(), destroyed.error().reason);
    }
  }
  return verify(job, "destroy");
}

}  // namespace vmha::agents
