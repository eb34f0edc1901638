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
using virt::DomainState;

constexpr sys::Millis kTick{250};             ///< how often the migration is looked at
constexpr sys::Millis kProgressEvery{5'000};  ///< how often its progress is logged
constexpr sys::Millis kMinAbortReserve{2'000};
constexpr sys::Millis kMaxAbortReserve{10'000};

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
/// to, abort before the deadline.
class Steering final : public virt::MigrationWatcher {
 public:
  Steering(Job& job, const ocf::Deadline& abort_at) : job_(job), abort_at_(abort_at) {
    const auto& clock = job.services.clock;
    began_ = clock.now();
    next_log_ = began_ + kProgressEvery;
    if (job.settings.migration.postcopy_after.count() > 0) {
      postcopy_at_ = began_ + job.settings.migration.postcopy_after;
      if (*postcopy_at_ >= abort_at.at()) {
        job.log().warning("migration_postcopy_after ({} s) is beyond this migration's budget: no switch to post-copy",
                          job.settings.migration.postcopy_after.count());
      }
    }
  }
  [[nodiscard]] sys::Millis interval() const override { return kTick; }

  void tick(virt::MigrationControl& control) override {
    if (aborted_) return;
    const auto now = job_.services.clock.now();
    const auto query = job_.request.deadline.within(std::chrono::seconds(2));
    if (now >= abort_at_.at() && !postcopy_) {
      if (auto p = control.progress(query)) last_ = *p;
      auto done = control.abort(query);
      aborted_ = true;
      job_.log().warning("migration of {} has not finished after {} ms{}: aborting it{}", job_.target.ref->label(),
                         elapsed().count(), last_ ? fmt::format(" ({})", describe(*last_)) : "",
                         done ? "" : fmt::format(" failed: {}", done.error().reason));
      return;
    }
    if (postcopy_at_ && !postcopy_ && now >= *postcopy_at_ && now < abort_at_.at()) {
      if (auto done = control.start_postcopy(query)) {
        postcopy_ = true;
        job_.log().info("migration of {} switched to post-copy after {} ms", job_.target.ref->label(),
                        elapsed().count());
      } else {
        job_.log().warning("cannot switch to post-copy: {}", done.error().reason);
        postcopy_at_.reset();
      }
    }
    if (now >= next_log_) {
      next_log_ = now + kProgressEvery;
      if (auto p = control.progress(query); p && p->active) {
        last_ = *p;
        job_.log().info("migrating {}: {}", job_.target.ref->label(), describe(*p));
      }
    }
  }

  [[nodiscard]] bool aborted() const { return aborted_; }
  [[nodiscard]] bool postcopy() const { return postcopy_; }
  [[nodiscard]] const std::optional<virt::MigrationProgress>& last() const { return last_; }
  [[nodiscard]] sys::Millis elapsed() const {
    return std::chrono::duration_cast<sys::Millis>(job_.services.clock.now() - began_);
  }

 private:
  Job& job_;
  ocf::Deadline abort_at_;
  sys::Clock::time_point began_;
  sys::Clock::time_point next_log_;
  std::optional<sys::Clock::time_point> postcopy_at_;
  std::optional<virt::MigrationProgress> last_;
  bool aborted_ = false;
  bool postcopy_ = false;
};

bool is_running(const std::optional<virt::StateInfo>& state) {
  return state && (state->state == DomainState::running || state->state == DomainState::blocked);
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
  return Error{Status::err_generic, fmt::format("migration of {} failed: {}; {}", ref.label(), why, where),
               ErrorKind::other};
}

}  // namespace

Result<Status> migrate_to(Job& job) {
  if (!job.target.ref) return tl::unexpected(*job.target.config_problem);
  const auto& ref = *job.target.ref;
  const std::string& target = job.request.call.migrate_target;
  // DRBD first: nothing is asked of libvirt when the storage cannot follow.
  if (!target.empty()) {
    auto findings = drbd_findings(job, target);
    if (!findings) return tl::unexpected(findings.error());
    if (!findings->empty()) return fail(Status::err_generic, drbd_refusal("migrate_to", *findings));
  }
  const auto state = read_state(job, job.query_deadline());
  if (!state) return fail(Status::err_generic, fmt::format("migrate_to: {}", state.error().reason), state.error().kind);
  if (!is_running(*state)) {
    return fail(Status::err_generic, fmt::format("migrate_to: domain {} is {} here, not running", ref.label(),
                                                 *state ? virt::describe(**state) : std::string("not defined")));
  }
  std::string local_uri = job.settings.hypervisor;
  if (local_uri.empty()) {
    auto resolved = job.hypervisor.uri(job.query_deadline());
    if (!resolved) return fail(Status::err_generic, fmt::format("migrate_to: {}", resolved.error().reason));
    local_uri = *resolved;
  }
  auto request = plan_migration(job.settings.migration, local_uri, target);
  if (!request) return tl::unexpected(request.error());
  if (job.settings.save_config) save_definition(job);
  const ocf::Deadline abort_at = job.deadline().keep_back(abort_reserve(job.deadline()));
  job.log().info("migrating {} to {} ({}{}{})", ref.label(), target, request->destination,
                 request->migrate_uri.empty() ? "" : ", data over ", request->migrate_uri);
  Steering steering(job, abort_at);
  auto migrated = job.hypervisor.migrate(ref, *request, job.deadline(), steering);
  const auto call_time = steering.elapsed();
  if (!migrated) {
    if (steering.aborted()) {
      return tl::unexpected(
          after_failure(job, fmt::format("it did not finish within {} s{}, so vmha aborted it",
                                         std::chrono::duration_cast<std::chrono::seconds>(steering.elapsed()).count(),
                                         steering.last() ? fmt::format(" ({})", describe(*steering.last())) : "")));
    }
    return tl::unexpected(after_failure(job, migrated.error().reason));
  }
  // libvirt says done: the domain must be gone from here.
  const auto after = read_state(job, job.query_deadline());
  if (after && is_running(*after)) {
    return fail(
        Status::err_generic,
        fmt::format("migration of {} to {} reported success but the domain still runs here", ref.label(), target));
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
  if (!job.target.ref) return tl::unexpected(*job.target.config_problem);
  const auto& ref = *job.target.ref;
  const bool migrating = !job.request.call.migrate_source.empty() || !job.request.call.migrate_target.empty();
  auto& clock = job.services.clock;
  for (;;) {
    const auto state = read_state(job, job.query_deadline());
    if (state && is_running(*state)) break;
    const std::string seen = !state   ? state.error().reason
                             : *state ? fmt::format("domain {} is {}", ref.label(), virt::describe(**state))
                                      : fmt::format("domain {} is not defined", ref.label());
    if (!migrating) {
      return fail(
          Status::err_generic,
          fmt::format("migrate_from: {} here, and no migration is under way (no CRM_meta_migrate_source)", seen));
    }
    if (job.deadline().expired()) {
      return fail(Status::err_generic,
                  fmt::format("migrate_from: {} here at the deadline: the migration from {} did not arrive", seen,
                              job.request.call.migrate_source),
                  ErrorKind::timed_out);
    }
    clock.sleep_until(std::min(job.deadline().at(), clock.now() + kPollInterval));
  }
  if (auto ok = wait_scripts(job); !ok) return tl::unexpected(ok.error());
  if (job.settings.save_config) save_definition(job);
  if (!job.records.remember_domain(ref)) job.log().warning("cannot write {}", job.records.path("domain"));
  job.log().info("domain {} runs here after its migration from {}", ref.label(),
                 job.request.call.migrate_source.empty() ? "another node" : job.request.call.migrate_source);
  return Status::success;
}

}  // namespace vmha::agents
