#include "VirtualDomain/front.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/core.h>

#include "VirtualDomain/exit_status.hpp"
#include "vmha/ocf/exit_reason.hpp"
#include "vmha/ocf/hand_over.hpp"
#include "vmha/virt/qemu_processes.hpp"
#include "vmha/virt/wire.hpp"

namespace vmha::agents {
namespace {

/// The longest the front waits for the config's stat before leaving the monitor to the full agent.
constexpr std::chrono::milliseconds kConfigLookTime{2'000};

/// A person's command line (--help, --version, flags): the full agent answers it.
ocf::CommandLine flags_to_full_agent(const std::vector<std::string>& args, std::string_view /*agent*/,
                                     const ocf::Metadata& /*metadata*/, std::FILE* /*out*/, std::FILE* err) {
  const Error failed = ocf::hand_over_command_line(full_agent_path(), args);
  ocf::write_exit_reason(err, failed.reason);
  return ocf::CommandLine{{}, ocf::exit_code(exit_status("", failed))};
}

class FrontAgent final : public ocf::Agent {
 public:
  explicit FrontAgent(const ocf::Services& services) : services_(services) {}
  Result<ocf::Status> perform(const ocf::Request& request) override {
    const std::string& action = request.call.action;
    if (action == "monitor" || action == "status") {
      if (auto answered = fast_monitor(request, services_)) return *answered;
    }
    return fail(ocf::hand_over_action(full_agent_path(), request.call.action, request.started, services_.env));
  }

 private:
  const ocf::Services& services_;
};

}  // namespace

std::string effective_uri(const Settings& settings, const sys::Environment& env) {
  if (!settings.hypervisor.empty()) return settings.hypervisor;
  return env.non_empty("LIBVIRT_DEFAULT_URI").value_or("");
}

std::string full_agent_path() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const auto sibling = self.parent_path() / "VirtualDomain-full";
    if (::access(sibling.c_str(), X_OK) == 0) return sibling.string();
  }
  return VMHA_LIBEXEC_DIR "/VirtualDomain-full";
}

std::optional<Result<ocf::Status>> fast_monitor(const ocf::Request& request, const ocf::Services& services) {
  // Depth 10 pings the guest agent, which takes libvirt's client library: the full agent's job.
  if (request.call.check_level >= kGuestAgentDepth) return std::nullopt;
  const auto settings = read_settings(request.params, SettingsScope::monitor);
  if (!settings) return Result<ocf::Status>(fail(settings.error()));
  const std::string uri = effective_uri(*settings, services.env);
  auto daemon = virt::local_daemon(uri);
  if (!daemon) return std::nullopt;
  auto records = records_for(request, services);
  auto target = recorded_target(*settings, records, services, request.deadline, kConfigLookTime);
  if (!target) return std::nullopt;
  // The identity names the domain, so the monitor never needs to ask libvirt for a label, which
  // only the full agent can (Job::hypervisor is null here).
  auto reader = virt::make_wire_reader(daemon->socket);
  virt::ProcQemuProcesses processes(std::move(*daemon));
  Job job = make_job(request, services, *settings, Connections{*reader, nullptr, &processes, nullptr},
                     std::move(records), std::move(*target));
  auto status = monitor(job);
  if (reader->unsure()) {
    services.log.debug("monitor fast path unsure ({}): handing over", status ? "no error" : status.error().reason);
    return std::nullopt;
  }
  return status;
}

ocf::AgentDefinition virtual_domain_front() {
  return ocf::AgentDefinition{"VirtualDomain",
                              VirtualDomain_metadata,
                              &VirtualDomain_metadata_table(),
                              [](const ocf::Services& services) { return std::make_unique<FrontAgent>(services); },
                              &exit_status,
                              &flags_to_full_agent};
}

}  // namespace vmha::agents
