#include "VirtualDomain/virtual_domain.hpp"

#include <fmt/core.h>

#include "VirtualDomain/exit_status.hpp"
#include "vmha/ocf/command_line.hpp"
#include "vmha/virt/libvirt.hpp"
#include "vmha/virt/qemu_processes.hpp"

namespace vmha::agents {

Backends real_backends() {
  return Backends{[](const std::string& uri) { return virt::make_libvirt_hypervisor(uri); },
                  [](const std::string& uri) -> std::unique_ptr<virt::QemuProcesses> {
                    auto daemon = virt::local_daemon(uri);
                    if (!daemon) return nullptr;
                    return std::make_unique<virt::ProcQemuProcesses>(std::move(*daemon));
                  },
                  [](const ocf::Services& services) {
                    return drbd::make_drbdsetup_source(services.runner, services.env.get("PATH").value_or(""));
                  }};
}

ocf::AgentDefinition virtual_domain_definition() {
  return virtual_domain_definition(real_backends());
}

ocf::AgentDefinition virtual_domain_definition(Backends backends) {
  return ocf::AgentDefinition{"VirtualDomain",
                              VirtualDomain_metadata,
                              &VirtualDomain_metadata_table(),
                              [backends = std::move(backends)](const ocf::Services& services) {
                                return std::make_unique<VirtualDomainAgent>(services, backends);
                              },
                              &exit_status,
                              &ocf::read_flags_with_cli11};
}

Result<ocf::Status> VirtualDomainAgent::perform(const ocf::Request& request) {
  const std::string& action = request.call.action;
  const bool monitoring = action == "monitor" || action == "status";
  const auto settings = read_settings(
      request.params, monitoring || action == "stop" ? SettingsScope::monitor : SettingsScope::every_action);
  VMHA_TRY(settings);
  // Without a URI libvirt picks its default; the /proc evidence follows the same choice.
  const std::string uri = effective_uri(*settings, services_.env);
  auto hypervisor = backends_.hypervisor(uri);
  auto processes = backends_.processes(uri);
  auto drbd = backends_.drbd ? backends_.drbd(services_) : nullptr;
  auto records = records_for(request, services_);
  const auto known = records.config_identity(settings->config);
  auto target = read_target(*settings, records, services_, request.deadline);
  // A new version of the config file: its digest goes out (a recurring monitor of an unchanged
  // file stays on the fast path and publishes nothing).
  const bool new_version = target.identity && (!known || known->version != target.identity->version);
  Job job =
      make_job(request, services_, *settings, Connections{*hypervisor, hypervisor.get(), processes.get(), drbd.get()},
               std::move(records), std::move(target));
  if (monitoring) {
    auto status = monitor(job);
    if (new_version && !request.call.is_probe()) publish_config_digest(job);  // monitor() did for a probe
    return status;
  }
  if (action == "start" || action == "migrate_from") {
    auto status = action == "start" ? start(job) : migrate_from(job);
    if (status && *status == ocf::Status::success) publish_config_digest(job);
    return status;
  }
  if (action == "stop") return stop(job);
  if (action == "validate-all") return validate(job);
  if (action == "migrate_to") return migrate_to(job);
  if (action == "reload-agent") return reload_agent(job);
  return fail(ErrorKind::unsupported, fmt::format("{}: not implemented in this release of vmha", action));
}

}  // namespace vmha::agents
