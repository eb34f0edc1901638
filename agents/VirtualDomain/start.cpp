// start: idempotent; returns only when the domain runs (and its monitor scripts pass).
#include <fmt/core.h>

#include "VirtualDomain/job.hpp"
#include "vmha/virt/domain_xml.hpp"

namespace vmha::agents {
namespace {

using ocf::Status;
using virt::DomainState;

/// A step of start that failed. A tool the start runs (qemu-img, virt-copy-in) that is not
/// installed stays a plain failure (1), as it always was: validate-all is what reports 5 for it.
Error failed(const Error& error, std::string_view doing) {
  Error out = with_reason(error, fmt::format("{}: {}", doing, error.reason));
  if (out.kind == ErrorKind::not_installed) out.kind = ErrorKind::other;
  return out;
}

/// Waits until the domain runs.
Result<void> wait_running(Job& job) {
  for (;;) {
    const auto state = read_state(job, job.query_deadline());
    if (!state) return fail(failed(state.error(), "waiting for the domain to run"));
    if (*state) {
      const auto s = (*state)->state;
      if (virt::is_executing(s)) return {};
      if (s == DomainState::shut_off || s == DomainState::crashed) {
        return fail(ErrorKind::other, fmt::format("domain {} is {} right after its start", job.target.ref->label(),
                                                  virt::describe(**state)));
      }
    } else {
      return fail(ErrorKind::other, fmt::format("domain {} vanished right after its start", job.target.ref->label()));
    }
    if (job.deadline().expired()) {
      return fail(ErrorKind::timed_out, fmt::format("domain {} is still {} at the deadline", job.target.ref->label(),
                                                    virt::describe(**state)));
    }
    job.deadline().sleep(kPollInterval);
  }
}

Result<void> run_tool(Job& job, std::vector<std::string> argv) {
  const std::string shown = argv.front();
  auto done = job.services.runner.run(sys::Command(std::move(argv)), job.deadline().at());
  VMHA_TRY(done);
  if (!done->succeeded()) {
    return fail(ErrorKind::other,
                fmt::format("{} failed ({}): {}", shown, done->describe(), done->err.substr(0, done->err.find('\n'))));
  }
  return {};
}

/// The image format of the backing file, as qemu-img sees it ("qcow2", "raw").
Result<std::string> image_format(Job& job, const std::string& image) {
  auto done = job.services.runner.run(sys::Command({"qemu-img", "info", "--output=json", image}), job.deadline().at());
  VMHA_TRY(done);
  const std::string key = "\"format\": \"";
  const auto at = done->out.find(key);
  if (!done->succeeded() || at == std::string::npos) {
    return fail(ErrorKind::other, fmt::format("qemu-img info {} failed ({})", image, done->describe()));
  }
  const auto begin = at + key.size();
  return done->out.substr(begin, done->out.find('"', begin) - begin);
}

/// backingfile: the qcow2 overlay the domain runs on, made anew when stateless or missing.
Result<void> prepare_overlay(Job& job) {
  const std::string overlay = overlay_path(job.settings.config);
  auto& files = job.services.files;
  const auto found = files.info(overlay, job.query_deadline().at());
  if (!found && found.error().kind != ErrorKind::not_found) return fail(found.error());
  if (found && !job.settings.stateless) return {};
  if (found) {
    if (auto removed = files.remove(overlay, job.query_deadline().at()); !removed) {
      return fail(removed.error());
    }
  }
  auto format = image_format(job, job.settings.backingfile);
  VMHA_TRY(format);
  job.log().info("creating overlay {} on {}", overlay, job.settings.backingfile);
  return run_tool(job,
                  {"qemu-img", "create", "-q", "-f", "qcow2", "-F", *format, "-b", job.settings.backingfile, overlay});
}

/// Records, before a call that can create the domain, that one is under way: a stop after a
/// start that gave up on such a call must not call the domain stopped while it may still come.
Result<void> record_launch(Job& job) {
  // A new run of the domain: the guest agent's count starts again (it waits for a first answer).
  if (auto forgotten = job.records.forget_liveness(); !forgotten) {
    job.log().warning("cannot remove the guest agent record: {}", forgotten.error().reason);
  }
  const std::string daemon =
      job.processes != nullptr ? job.processes->daemon_instance().value_or(std::string()) : std::string();
  if (auto written = job.records.remember_start(next_start_record(job, *job.target.ref, true, daemon)); !written) {
    return fail(ErrorKind::other,
                fmt::format("cannot record the start of {} ({}): without it a later stop could not find the "
                            "domain, so it is not started",
                            job.target.ref->label(), written.error().reason));
  }
  return {};
}

/// The call that may create the domain has answered: it can no longer land later.
Result<void> launched(Job& job, Result<void> outcome) {
  // No answer, or the connection broke with the call sent: libvirtd may still carry it out.
  if (!outcome && outcome.error().unanswered) return outcome;
  if (auto written = job.records.remember_start(next_start_record(job, *job.target.ref, false)); !written) {
    job.log().warning("cannot update the start record: {}", written.error().reason);
  }
  return outcome;
}

Result<void> start_resources(Job& job) {
  for (const auto& network : job.target.config->networks) {
    if (auto ok = job.hypervisor->ensure_network(network, job.deadline()); !ok) return ok;
  }
  for (const auto& pool : job.target.config->pools) {
    if (auto ok = job.hypervisor->ensure_pool(pool, job.deadline()); !ok) return ok;
  }
  return {};
}

/// The config as libvirt gets it: with vmha's label for this resource, so the domain carries
/// it from its birth (a start that times out leaves a labelled domain, should it land).
std::string labelled_config(Job& job) {
  const std::string& resource = job.request.call.resource;
  if (resource.empty()) return job.target.config_text;
  auto labelled = virt::with_label(job.target.config_text, resource);
  if (!labelled) {
    job.log().warning("domain XML not labelled: {}", labelled.error().reason);
    return job.target.config_text;
  }
  return std::move(*labelled);
}

/// Creates the domain: transient from the XML, or, when a persistent definition exists or a
/// backing file is used, defined from the XML and started. Never undefines anything.
Result<void> launch(Job& job, bool defined) {
  const auto& ref = *job.target.ref;
  const std::string xml = labelled_config(job);
  if (!job.settings.backingfile.empty()) {
    if (auto ok = prepare_overlay(job); !ok) return ok;
  }
  if (!defined && job.settings.backingfile.empty()) {
    if (auto ok = record_launch(job); !ok) return ok;
    return launched(job, job.hypervisor->create(xml, job.deadline()));
  }
  if (auto ok = job.hypervisor->define(xml, job.deadline()); !ok) return ok;
  if (job.settings.stateless && !job.settings.copyindirs.empty()) {
    std::vector<std::string> argv{"virt-copy-in", "-d", ref.name};
    argv.insert(argv.end(), job.settings.copyindirs.begin(), job.settings.copyindirs.end());
    argv.emplace_back("/");
    if (auto ok = run_tool(job, argv); !ok) return ok;
  }
  if (auto ok = record_launch(job); !ok) return ok;
  return launched(job, job.hypervisor->start(ref, job.deadline()));
}

/// snapshot: restores the saved state, if there is one. The file is retired (renamed) before
/// the restore, so a start killed half-way, or a file that cannot be removed afterwards, never
/// restores stale RAM over disks that have moved on. True when it restored.
Result<bool> restore_saved(Job& job) {
  if (job.settings.snapshot.empty()) return false;
  const auto& ref = *job.target.ref;
  auto& files = job.services.files;
  const std::string saved = saved_state_path(job.settings, ref.name);
  const std::string retired = saved + ".restoring";
  if (files.info(retired, job.query_deadline().at())) {
    job.log().warning(
        "{} is left from a restore that did not finish: it is never used again (its RAM may be "
        "older than the disks); remove it",
        retired);
  }
  const auto found = files.info(saved, job.query_deadline().at());
  if (!found) {
    if (found.error().kind == ErrorKind::not_found) return false;
    return fail(ErrorKind::other, fmt::format("cannot look for a saved state: {}", found.error().reason));
  }
  // The record first: a start that cannot write it must not have spent the saved state.
  VMHA_TRY(record_launch(job));
  if (auto moved = files.rename(saved, retired, job.query_deadline().at()); !moved) {
    (void)launched(job, {});  // nothing was asked of libvirt
    return fail(ErrorKind::other,
                fmt::format("cannot retire {} before restoring from it ({}): not restored, not started", saved,
                            moved.error().reason));
  }
  job.log().info("restoring domain {} from {}", ref.label(), retired);
  if (auto ok = launched(job, job.hypervisor->restore(retired, job.deadline())); !ok) {
    return fail(failed(ok.error(), fmt::format("cannot restore from {}", retired)));
  }
  if (auto removed = files.remove(retired, job.query_deadline().at()); !removed) {
    job.log().warning("cannot remove {} after restoring from it ({}); it will not be restored again", retired,
                      removed.error().reason);
  }
  return true;
}

}  // namespace

Result<Status> start(Job& job) {
  if (job.target.config_problem) return fail(*job.target.config_problem);
  // A QEMU that outlived an earlier stop may still hold the disks: no second one beside it.
  if (auto survivor = recorded_survivor(job)) {
    return fail(ErrorKind::other, fmt::format("{}: not started beside it", survivor->detail));
  }
  const auto& ref = *job.target.ref;
  auto state = read_state(job, job.query_deadline());
  if (!state) return fail(failed(state.error(), "cannot start"));
  bool defined = state->has_value();
  if (defined) {
    switch ((*state)->state) {
      case DomainState::running:
      case DomainState::blocked:
      case DomainState::paused:
        job.log().info("domain {} is already {}", ref.label(), virt::describe(**state));
        if (auto written = job.records.remember_start(next_start_record(job, as_libvirt_knows(job, ref), false));
            !written) {
          return fail(ErrorKind::other,
                      fmt::format("domain {} runs, but its start record cannot be written ({}): a later stop "
                                  "without the config could not find it",
                                  ref.label(), written.error().reason));
        }
        label_domain(job, ref);
        order_host_shutdown(job);
        return Status::success;
      case DomainState::crashed:
      case DomainState::pm_suspended:
      case DomainState::shutting_down:
      case DomainState::no_state:
        job.log().warning("domain {} is {}: destroying it before the start", ref.label(), virt::describe(**state));
        if (auto ok = job.hypervisor->destroy(ref, job.deadline()); !ok && ok.error().kind != ErrorKind::invalid) {
          return fail(failed(ok.error(), "cannot start"));
        }
        break;
      case DomainState::shut_off: break;
    }
    // A transient domain that stopped is gone; only a persistent one is still defined.
    auto facts = job.domains.facts(ref, job.query_deadline());
    defined = facts && facts->persistent;
  }
  // The worst failure of this cluster: a VM started on stale or contested DRBD data.
  auto findings = drbd_findings(job);
  VMHA_TRY(findings);
  if (!findings->empty()) return fail(ErrorKind::other, drbd_refusal("start", *findings));
  if (job.settings.start_resources) {
    if (auto ok = start_resources(job); !ok) return fail(failed(ok.error(), "cannot start"));
  }
  auto restored = restore_saved(job);
  VMHA_TRY(restored);
  if (!*restored) {
    if (auto ok = launch(job, defined); !ok) return fail(failed(ok.error(), "cannot start"));
  }
  VMHA_TRY(wait_running(job));
  label_domain(job, ref);
  order_host_shutdown(job);  // once the VM runs: its start matters more than a later reboot's order
  VMHA_TRY(wait_scripts(job));
  virt::DomainRef started = ref;
  if (auto facts = job.domains.facts(ref, job.query_deadline()); facts && started.uuid.empty())
    started.uuid = facts->uuid;
  if (started != ref) {
    if (auto written = job.records.remember_start(next_start_record(job, started, false)); !written) {
      job.log().warning("cannot add the UUID to the start record: {}", written.error().reason);
    }
  }
  job.log().info("domain {} is running", ref.label());
  return Status::success;
}

}  // namespace vmha::agents
