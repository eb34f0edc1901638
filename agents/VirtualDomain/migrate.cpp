// migrate_to (on the source) and migrate_from (on the target). A migration is bounded by the
// action's deadline: before it, the agent aborts the job itself and reports where the domain
// runs, so Pacemaker's SIGKILL never ends a migration.
#include <algorithm>

#include <fmt/core.h>

#include "VirtualDomain/job.hpp"
#include "VirtualDomain/migration_plan.hpp"

namespace vmha::agents {
namespace {

using ocf::Status;

constexpr sys::Millis kTick{250};             ///< how often the migration is looked at
constexpr sys::Millis kProgressEvery{5'000};  ///< how often its progress is logged
constexpr sys::Millis kMinAbortReserve{2'000};
constexpr sys::Millis kMaxAbortReserve{10'000};
constexpr sys::Millis kControlCallTime{2'000};  ///< one progress reading, abort or switch
/// Post-copy cannot be aborted, so it is only started with this much time left before the
/// abort point for the rest of the memory to follow the guest.
constexpr sys::Millis kPostcopyWindow{10'000};

std::string mib(std::uint64_t bytes) {
  return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1U << 20U));
}

std::string describe(const virt::MigrationProgress& p) {
  return fmt::format("{} of {} left at {}/s after {} ms, pass {}", mib(p.data_remaining), mib(p.data_total),
                     mib(p.memory_bps), p.elapsed.count(), p.iteration);
}

/// Time kept after an abort for the job to wind down and the source to be checked.
sys::Millis abort_reserve(const ocf::Deadline& deadline) {
  return std::clamp(deadline.remaining() / 5, kMinAbortReserve, kMaxAbortReserve);
}

/// The agent's policy while libvirt migrates: log progress, switch to post-copy when asked
/// to, abort before the deadline. Every control call has its own short time: a slow one must
/// not use up the abort's. A call that times out leaves its libvirt connection behind, and a
/// process gets only a few, so the progress log stops after one timeout: the abort matters more.
class Steering final : public virt::MigrationWatcher {
 public:
  Steering(Job& job, const ocf::Deadline& abort_at) : job_(job), abort_at_(abort_at) {
    const auto& clock = job.services.clock;
    began_ = clock.now();
    next_log_ = began_ + kProgressEvery;
    if (job.settings.migration.postcopy_after.count() > 0) {
      postcopy_at_ = began_ + job.settings.migration.postcopy_after;
      if (*postcopy_at_ + kPostcopyWindow > abort_at.at()) {
        job.log().warning(
            "migration_postcopy_after ({} s) leaves post-copy less than {} s of this migration's budget: no switch "
            "to post-copy",
            job.settings.migration.postcopy_after.count(),
            std::chrono::duration_cast<std::chrono::seconds>(kPostcopyWindow).count());
        postcopy_at_.reset();
      }
    }
  }
  [[nodiscard]] sys::Millis interval() const override { return kTick; }

  void tick(virt::MigrationControl& control) override {
    if (aborted_) return;
    const auto now = job_.services.clock.now();
    // Post-copy cannot be aborted: once switched (or possibly switched), it must finish.
    if (now >= abort_at_.at() && !postcopy_) {
      try_abort(control);
      return;
    }
    if (postcopy_at_ && !postcopy_ && now >= *postcopy_at_) {
      if (auto done = control.start_postcopy(call_deadline())) {
        postcopy_ = true;
        job_.log().info("migration of {} switched to post-copy after {} ms", job_.target.ref->label(),
                        elapsed().count());
      } else if (done.error().kind == ErrorKind::timed_out) {
        // libvirtd may still carry the switch out: from now on the migration is not aborted.
        postcopy_ = true;
        job_.log().warning("switching to post-copy did not answer in time ({}): treating it as switched",
                           done.error().reason);
      } else {
        job_.log().warning("cannot switch to post-copy: {}", done.error().reason);
      }
      postcopy_at_.reset();
    }
    if (now >= next_log_ && !progress_off_) {
      next_log_ = now + kProgressEvery;
      auto p = control.progress(call_deadline());
      if (p && p->active) {
        last_ = *p;
        job_.log().info("migrating {}: {}", job_.target.ref->label(), describe(*p));
      } else if (!p && p.error().kind == ErrorKind::timed_out) {
        progress_off_ = true;
        job_.log().warning("migration progress not logged any more: {}", p.error().reason);
      }
    }
  }

  [[nodiscard]] bool aborted() const { return aborted_; }
  /// Why the abort was not done, when it was tried and failed every time.
  [[nodiscard]] const std::string& abort_error() const { return abort_error_; }
  /// Switched to post-copy, or possibly (the switch answered too late).
  [[nodiscard]] bool postcopy() const { return postcopy_; }
  [[nodiscard]] const std::optional<virt::MigrationProgress>& last() const { return last_; }
  [[nodiscard]] sys::Millis elapsed() const {
    return std::chrono::duration_cast<sys::Millis>(job_.services.clock.now() - began_);
  }

 private:
  [[nodiscard]] ocf::Deadline call_deadline() const { return job_.request.deadline.within(kControlCallTime); }

  /// Asks libvirt to abort; tried again on every tick until it is done or time runs out (the
  /// job may not have begun yet, or a call may have been slow).
  void try_abort(virt::MigrationControl& control) {
    auto done = control.abort(call_deadline());
    if (done) {
      aborted_ = true;
      job_.log().warning("migration of {} has not finished after {} ms{}: aborted it", job_.target.ref->label(),
                         elapsed().count(), last_ ? fmt::format(" ({})", describe(*last_)) : "");
      return;
    }
    if (abort_error_.empty()) {
      job_.log().warning("migration of {} has not finished after {} ms: aborting it failed ({}); trying again",
                         job_.target.ref->label(), elapsed().count(), done.error().reason);
    }
    abort_error_ = done.error().reason;
  }

  Job& job_;
  ocf::Deadline abort_at_;
  sys::Clock::time_point began_;
  sys::Clock::time_point next_log_;
  std::optional<sys::Clock::time_point> postcopy_at_;
  std::optional<virt::MigrationProgress> last_;
  std::string abort_error_;
  bool aborted_ = false;
  bool postcopy_ = false;
  bool progress_off_ = false;
};

bool is_running(const std::optional<virt::StateInfo>& state) {
  return state && virt::is_executing(state->state);
}

/// After a failed migration: where is the domain? The reason says it either way.
Error after_failure(Job& job, const std::string& why) {
  const auto& ref = *job.target.ref;
  const auto state = read_state(job, job.request.deadline.within(kQueryTime));
  std::string where;
  if (!state) {
    where = fmt::format("its state here is unknown: {}", state.error().reason);
  } else if (is_running(*state)) {
    where = "it still runs here";
  } else if (!*state) {
    where = "it is no longer defined here";
  } else {
    where = fmt::format("it is {} here", virt::describe(**state));
  }
  return Error{ErrorKind::other, fmt::format("migration of {} failed: {}; {}", ref.label(), why, where)};
}

}  // namespace

Result<Status> migrate_to(Job& job) {
  if (!job.target.ref) return fail(*job.target.config_problem);
  const auto& ref = *job.target.ref;
  const std::string& target = job.request.call.migrate_target;
  // DRBD first: nothing is asked of libvirt when the storage cannot follow.
  if (!target.empty()) {
    auto findings = drbd_findings(job, target);
    VMHA_TRY(findings);
    if (!findings->empty()) return fail(ErrorKind::other, drbd_refusal("migrate_to", *findings));
  }
  const auto state = read_state(job, job.query_deadline());
  if (!state) return fail(state.error().kind, fmt::format("migrate_to: {}", state.error().reason));
  if (!is_running(*state)) {
    return fail(ErrorKind::other, fmt::format("migrate_to: domain {} is {} here, not running", ref.label(),
                                              *state ? virt::describe(**state) : std::string("not defined")));
  }
  std::string local_uri = job.settings.hypervisor;
  if (local_uri.empty()) {
    auto resolved = job.hypervisor->uri(job.query_deadline());
    if (!resolved) return fail(ErrorKind::other, fmt::format("migrate_to: {}", resolved.error().reason));
    local_uri = *resolved;
  }
  auto request = plan_migration(job.settings.migration, local_uri, target);
  VMHA_TRY(request);
  if (job.settings.save_config) save_definition(job);
  // The label travels with the domain: on the target it names the domain when nothing else
  // there does (a config unusable on that node).
  label_domain(job, ref);
  const ocf::Deadline abort_at = job.deadline().keep_back(abort_reserve(job.deadline()));
  job.log().info("migrating {} to {}: {}", ref.label(), target, describe(*request));
  Steering steering(job, abort_at);
  auto migrated = job.hypervisor->migrate(ref, *request, job.deadline(), steering);
  const auto call_time = steering.elapsed();
  if (!migrated) {
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(steering.elapsed()).count();
    const std::string progress = steering.last() ? fmt::format(" ({})", describe(*steering.last())) : "";
    const std::string late = fmt::format("it did not finish within {} s{}", seconds, progress);
    std::string why;
    if (steering.aborted()) {
      why = late + ", so vmha aborted it";
    } else if (!steering.abort_error().empty()) {
      why = fmt::format("{}, and vmha could not abort it ({}): {}", late, steering.abort_error(),
                        migrated.error().reason);
    } else {
      why = migrated.error().reason;
    }
    if (steering.postcopy()) {
      why += "; it was in post-copy, so the guest may already run on " + target +
             " with part of its memory still here: check both nodes before stopping it";
    }
    return fail(after_failure(job, why));
  }
  // libvirt says done: the domain must be gone from here.
  const auto after = read_state(job, job.query_deadline());
  if (after && is_running(*after)) {
    return fail(ErrorKind::other, fmt::format("migration of {} to {} reported success but the domain still runs here",
                                              ref.label(), target));
  }
  // The figures that show what the agent adds: its whole action against libvirt's call.
  const auto job_time = migrated->job_time;
  const auto whole = std::chrono::duration_cast<sys::Millis>(job.services.clock.now() - job.request.started);
  job.log().info("domain {} migrated to {}: libvirt's migration call took {} ms, migrate_to {} ms{}{}", ref.label(),
                 target, call_time.count(), whole.count(),
                 job_time ? fmt::format(" (libvirt's job statistics: {} ms)", job_time->count()) : std::string(),
                 steering.postcopy() ? ", switched to post-copy" : "");
  return Status::success;
}

Result<Status> migrate_from(Job& job) {
  // Nothing here names it (a config unusable on this node): the label it brought along does.
  if (!job.target.ref) name_by_label(job);
  if (!job.target.ref) return fail(*job.target.config_problem);
  const auto& ref = *job.target.ref;
  const bool migrating = !job.request.call.migrate_source.empty() || !job.request.call.migrate_target.empty();
  for (;;) {
    const auto state = read_state(job, job.query_deadline());
    if (state && is_running(*state)) break;
    const std::string seen = !state   ? state.error().reason
                             : *state ? fmt::format("domain {} is {}", ref.label(), virt::describe(**state))
                                      : fmt::format("domain {} is not defined", ref.label());
    if (!migrating) {
      return fail(
          ErrorKind::other,
          fmt::format("migrate_from: {} here, and no migration is under way (no CRM_meta_migrate_source)", seen));
    }
    if (job.deadline().expired()) {
      return fail(ErrorKind::timed_out,
                  fmt::format("migrate_from: {} here at the deadline: the migration from {} did not arrive", seen,
                              job.request.call.migrate_source));
    }
    job.deadline().sleep(kPollInterval);
  }
  if (auto written = job.records.remember_start(next_start_record(job, as_libvirt_knows(job, ref), false)); !written) {
    return fail(ErrorKind::other,
                fmt::format("domain {} arrived, but its start record cannot be written ({}): a later stop without "
                            "the config could not find it",
                            ref.label(), written.error().reason));
  }
  label_domain(job, ref);
  order_host_shutdown(job);
  VMHA_TRY(wait_scripts(job));
  if (job.settings.save_config) save_definition(job);
  job.log().info("domain {} runs here after its migration from {}", ref.label(),
                 job.request.call.migrate_source.empty() ? "another node" : job.request.call.migrate_source);
  return Status::success;
}

}  // namespace vmha::agents
