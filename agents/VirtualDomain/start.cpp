// start: idempotent; returns only when the domain runs (and its monitor scripts pass).
#include <filesystem>

#include <fmt/core.h>

#include "VirtualDomain/job.hpp"

namespace vmha::agents {
namespace {

using ocf::Status;
using virt::DomainState;

constexpr std::chrono::milliseconds kScriptRetry{500};

Error failed(const Error& error, std::string_view doing) {
  const Status status = error.kind == ErrorKind::denied ? Status::err_perm : Status::err_generic;
  return Error{status, fmt::format("{}: {}", doing, error.reason), error.kind};
}

void sleep_a_little(Job& job, std::chrono::milliseconds step) {
  auto& clock = job.services.clock;
  clock.sleep_until(std::min(job.deadline().at(), clock.now() + step));
}

/// Waits until the domain runs.
Result<void> wait_running(Job& job) {
  for (;;) {
    const auto state = read_state(job, job.query_deadline());
    if (!state) return tl::unexpected(failed(state.error(), "waiting for the domain to run"));
    if (*state) {
      const auto s = (*state)->state;
      if (s == DomainState::running || s == DomainState::blocked) return {};
      if (s == DomainState::shut_off || s == DomainState::crashed) {
        return fail(Status::err_generic, fmt::format("domain {} is {} right after its start", job.target.ref->label(),
                                                     virt::describe(**state)));
      }
    } else {
      return fail(Status::err_generic,
                  fmt::format("domain {} vanished right after its start", job.target.ref->label()));
    }
    if (job.deadline().expired()) {
      return fail(
          Status::err_generic,
          fmt::format("domain {} is still {} at the deadline", job.target.ref->label(), virt::describe(**state)),
          ErrorKind::timed_out);
    }
    sleep_a_little(job, kPollInterval);
  }
}

Result<void> run_tool(Job& job, std::vector<std::string> argv) {
  const std::string shown = argv.front();
  auto done = job.services.runner.run(sys::Command(std::move(argv)), job.deadline().at());
  if (!done) return tl::unexpected(done.error());
  if (!done->succeeded()) {
    return fail(Status::err_generic,
                fmt::format("{} failed ({}): {}", shown, done->describe(), done->err.substr(0, done->err.find('\n'))));
  }
  return {};
}

/// The image format of the backing file, as qemu-img sees it ("qcow2", "raw").
Result<std::string> image_format(Job& job, const std::string& image) {
  auto done = job.services.runner.run(sys::Command({"qemu-img", "info", "--output=json", image}), job.deadline().at());
  if (!done) return tl::unexpected(done.error());
  const std::string key = "\"format\": \"";
  const auto at = done->out.find(key);
  if (!done->succeeded() || at == std::string::npos) {
    return fail(Status::err_generic, fmt::format("qemu-img info {} failed ({})", image, done->describe()));
  }
  const auto begin = at + key.size();
  return done->out.substr(begin, done->out.find('"', begin) - begin);
}

/// backingfile: the qcow2 overlay the domain runs on, made anew when stateless or missing.
Result<void> prepare_overlay(Job& job) {
  const std::string overlay = overlay_path(job.settings.config);
  std::error_code ec;
  if (!job.settings.stateless && std::filesystem::exists(overlay, ec)) return {};
  std::filesystem::remove(overlay, ec);
  auto format = image_format(job, job.settings.backingfile);
  if (!format) return tl::unexpected(format.error());
  job.log().info("creating overlay {} on {}", overlay, job.settings.backingfile);
  return run_tool(job,
                  {"qemu-img", "create", "-q", "-f", "qcow2", "-F", *format, "-b", job.settings.backingfile, overlay});
}

Result<void> start_resources(Job& job) {
  for (const auto& network : job.target.config->networks) {
    if (auto ok = job.hypervisor.ensure_network(network, job.deadline()); !ok) return ok;
  }
  for (const auto& pool : job.target.config->pools) {
    if (auto ok = job.hypervisor.ensure_pool(pool, job.deadline()); !ok) return ok;
  }
  return {};
}

/// Creates the domain: transient from the XML, or, when a persistent definition exists or a
/// backing file is used, defined from the XML and started. Never undefines anything.
Result<void> launch(Job& job, bool defined) {
  const auto& ref = *job.target.ref;
  if (!job.settings.backingfile.empty()) {
    if (auto ok = prepare_overlay(job); !ok) return ok;
  }
  if (!defined && job.settings.backingfile.empty())
    return job.hypervisor.create(job.target.config_text, job.deadline());
  if (auto ok = job.hypervisor.define(job.target.config_text, job.deadline()); !ok) return ok;
  if (job.settings.stateless && !job.settings.copyindirs.empty()) {
    std::vector<std::string> argv{"virt-copy-in", "-d", ref.name};
    argv.insert(argv.end(), job.settings.copyindirs.begin(), job.settings.copyindirs.end());
    argv.emplace_back("/");
    if (auto ok = run_tool(job, argv); !ok) return ok;
  }
  return job.hypervisor.start(ref, job.deadline());
}

}  // namespace

/// Monitor scripts must pass before start counts as done; they are retried until the deadline.
Result<void> wait_scripts(Job& job) {
  for (;;) {
    auto passed = run_monitor_scripts(job);
    if (passed || job.deadline().expired()) return passed;
    sleep_a_little(job, kScriptRetry);
  }
}

Result<Status> start(Job& job) {
  if (job.target.config_problem) return tl::unexpected(*job.target.config_problem);
  const auto& ref = *job.target.ref;
  auto state = read_state(job, job.query_deadline());
  if (!state) return tl::unexpected(failed(state.error(), "cannot start"));
  bool defined = state->has_value();
  if (defined) {
    switch ((*state)->state) {
      case DomainState::running:
      case DomainState::blocked:
      case DomainState::paused:
        job.log().info("domain {} is already {}", ref.label(), virt::describe(**state));
        job.records.remember_domain(ref);
        return Status::success;
      case DomainState::crashed:
      case DomainState::pm_suspended:
      case DomainState::shutting_down:
      case DomainState::no_state:
        job.log().warning("domain {} is {}: destroying it before the start", ref.label(), virt::describe(**state));
        if (auto ok = job.hypervisor.destroy(ref, job.deadline()); !ok && ok.error().kind != ErrorKind::invalid) {
          return tl::unexpected(failed(ok.error(), "cannot start"));
        }
        break;
      case DomainState::shut_off: break;
    }
    // A transient domain that stopped is gone; only a persistent one is still defined.
    auto facts = job.hypervisor.facts(ref, job.query_deadline());
    defined = facts && facts->persistent;
  }
  // The worst failure of this cluster: a VM started on stale or contested DRBD data.
  auto findings = drbd_findings(job);
  if (!findings) return tl::unexpected(findings.error());
  if (!findings->empty()) return fail(Status::err_generic, drbd_refusal("start", *findings));
  if (job.settings.start_resources) {
    if (auto ok = start_resources(job); !ok) return tl::unexpected(failed(ok.error(), "cannot start"));
  }
  const std::string saved =
      job.settings.snapshot.empty() ? "" : fmt::format("{}/{}.state", job.settings.snapshot, ref.name);
  std::error_code ec;
  if (!saved.empty() && std::filesystem::exists(saved, ec)) {
    job.log().info("restoring domain {} from {}", ref.label(), saved);
    if (auto ok = job.hypervisor.restore(saved, job.deadline()); !ok) {
      return tl::unexpected(failed(ok.error(), fmt::format("cannot restore from {}", saved)));
    }
    // A state file restored twice would roll the guest back over what it wrote since.
    if (!std::filesystem::remove(saved, ec) || ec) {
      job.log().warning("cannot remove {} after restoring from it ({}): remove it before the next start", saved,
                        ec ? ec.message() : std::string("not removed"));
    }
  } else if (auto ok = launch(job, defined); !ok) {
    return tl::unexpected(failed(ok.error(), "cannot start"));
  }
  if (auto ok = wait_running(job); !ok) return tl::unexpected(ok.error());
  if (auto ok = wait_scripts(job); !ok) return tl::unexpected(ok.error());
  virt::DomainRef started = ref;
  if (auto facts = job.hypervisor.facts(ref, job.query_deadline()); facts && started.uuid.empty())
    started.uuid = facts->uuid;
  if (!job.records.remember_domain(started)) job.log().warning("cannot write {}", job.records.path("domain"));
  job.log().info("domain {} is running", ref.label());
  return Status::success;
}

}  // namespace vmha::agents
