// validate-all: parameters (6, checked before), then what this node needs (5, 2).
#include <fmt/core.h>

#include "VirtualDomain/job.hpp"

namespace vmha::agents {
namespace {

using ocf::Status;

Result<void> need_program(const Job& job, const std::string& program, std::string_view why) {
  const auto path = job.services.env.get("PATH").value_or("");
  if (!sys::find_program(program, path, job.query_deadline().remaining())) {
    return fail(ErrorKind::not_installed, fmt::format("{} is not installed (needed for {})", program, why));
  }
  return {};
}

}  // namespace

Result<Status> validate(Job& job) {
  if (job.target.config_problem) return fail(*job.target.config_problem);
  const auto& s = job.settings;
  const auto& emulator = job.target.config->emulator;
  if (!emulator.empty() && !sys::find_program(emulator, "", job.query_deadline().remaining())) {
    return fail(ErrorKind::not_installed, fmt::format("emulator {} is not installed on this node", emulator));
  }
  if (job.request.call.check_level >= kGuestAgentDepth && !job.target.config->guest_agent_channel) {
    return misconfigured(
        fmt::format("OCF_CHECK_LEVEL={} pings the guest agent, but the domain XML {} has no virtio channel named "
                    "org.qemu.guest_agent.0",
                    job.request.call.check_level, s.config));
  }
  if (s.sync_config) {
    VMHA_TRY(need_program(job, "csync2", "sync_config_on_stop"));
  }
  auto& files = job.services.files;
  if (!s.backingfile.empty()) {
    if (auto found = files.info(s.backingfile, job.query_deadline().at()); !found) {
      if (found.error().kind == ErrorKind::not_found) {
        return fail(ErrorKind::not_installed, fmt::format("backingfile {} does not exist on this node", s.backingfile));
      }
      return fail(found.error().kind, fmt::format("cannot look at backingfile: {}", found.error().reason));
    }
    VMHA_TRY(need_program(job, "qemu-img", "backingfile"));
  }
  if (s.stateless && !s.copyindirs.empty()) {
    VMHA_TRY(need_program(job, "virt-copy-in", "copyindirs"));
  }
  if (!s.snapshot.empty()) {
    const auto found = files.info(s.snapshot, job.query_deadline().at());
    if (!found && found.error().kind != ErrorKind::not_found) {
      // A hung or refused look is no proof the directory is missing: not a reason to ban the node.
      return fail(found.error().kind, fmt::format("cannot look at the snapshot directory: {}", found.error().reason));
    }
    if (!found || found->type != sys::FileType::directory) {
      return fail(ErrorKind::not_installed,
                  fmt::format("snapshot directory {} does not exist on this node", s.snapshot));
    }
  }
  for (const auto& script : s.monitor_scripts) {
    VMHA_TRY(need_program(job, script, "monitor_scripts"));
  }
  // DRBD: what would stop a start here is reported, but is not a configuration error — the
  // standby node normally cannot start the VM. DRBD missing where the disks need it is.
  auto findings = drbd_findings(job);
  if (!findings) {
    if (findings.error().kind == ErrorKind::not_installed) return fail(findings.error());
    job.log().warning("{}", findings.error().reason);
  } else if (!findings->empty()) {
    job.log().warning("{}", drbd_refusal("a start on this node would be", *findings));
  }
  return Status::success;
}

}  // namespace vmha::agents
