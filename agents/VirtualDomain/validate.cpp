// validate-all: parameters (6, checked before), then what this node needs (5, 2).
#include <fmt/core.h>

#include "VirtualDomain/job.hpp"

namespace vmha::agents {
namespace {

using ocf::Status;

Result<void> need_program(const Job& job, const std::string& program, std::string_view why) {
  const auto path = job.services.env.get("PATH").value_or("");
  if (!sys::find_program(program, path, job.query_deadline().remaining())) {
    return fail(Status::err_installed, fmt::format("{} is not installed (needed for {})", program, why),
                ErrorKind::not_found);
  }
  return {};
}

}  // namespace

Result<Status> validate(Job& job) {
  if (job.target.config_problem) return tl::unexpected(*job.target.config_problem);
  const auto& s = job.settings;
  const auto& emulator = job.target.config->emulator;
  if (!emulator.empty() && !sys::find_program(emulator, "", job.query_deadline().remaining())) {
    return fail(Status::err_installed, fmt::format("emulator {} is not installed on this node", emulator),
                ErrorKind::not_found);
  }
  if (s.sync_config) {
    if (auto ok = need_program(job, "csync2", "sync_config_on_stop"); !ok) return tl::unexpected(ok.error());
  }
  auto& files = job.services.files;
  if (!s.backingfile.empty()) {
    if (auto found = files.info(s.backingfile, job.query_deadline().at()); !found) {
      if (found.error().kind == ErrorKind::not_found) {
        return fail(Status::err_installed, fmt::format("backingfile {} does not exist on this node", s.backingfile),
                    ErrorKind::not_found);
      }
      return fail(Status::err_generic, fmt::format("cannot look at backingfile: {}", found.error().reason),
                  found.error().kind);
    }
    if (auto ok = need_program(job, "qemu-img", "backingfile"); !ok) return tl::unexpected(ok.error());
  }
  if (s.stateless && !s.copyindirs.empty()) {
    if (auto ok = need_program(job, "virt-copy-in", "copyindirs"); !ok) return tl::unexpected(ok.error());
  }
  if (!s.snapshot.empty()) {
    const auto found = files.info(s.snapshot, job.query_deadline().at());
    if (!found && found.error().kind != ErrorKind::not_found) {
      // A hung or refused look is no proof the directory is missing: not a reason to ban the node.
      return fail(Status::err_generic, fmt::format("cannot look at the snapshot directory: {}", found.error().reason),
                  found.error().kind);
    }
    if (!found || found->type != sys::FileType::directory) {
      return fail(Status::err_installed, fmt::format("snapshot directory {} does not exist on this node", s.snapshot),
                  ErrorKind::not_found);
    }
  }
  for (const auto& script : s.monitor_scripts) {
    if (auto ok = need_program(job, script, "monitor_scripts"); !ok) return tl::unexpected(ok.error());
  }
  // DRBD: what would stop a start here is reported, but is not a configuration error — the
  // standby node normally cannot start the VM. DRBD missing where the disks need it is.
  auto findings = drbd_findings(job);
  if (!findings) {
    if (findings.error().status == Status::err_installed) return tl::unexpected(findings.error());
    job.log().warning("{}", findings.error().reason);
  } else if (!findings->empty()) {
    job.log().warning("{}", drbd_refusal("a start on this node would be", *findings));
  }
  return Status::success;
}

}  // namespace vmha::agents
