// What every VirtualDomain action works with (internal to the agent).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "VirtualDomain/records.hpp"
#include "VirtualDomain/settings.hpp"
#include "vmha/drbd/guard.hpp"
#include "vmha/drbd/source.hpp"
#include "vmha/ocf/agent.hpp"
#include "vmha/virt/domain_xml.hpp"
#include "vmha/virt/hypervisor.hpp"
#include "vmha/virt/qemu_processes.hpp"

namespace vmha::agents {

/// Makes the side-effect implementations once the parameters are known.
struct Backends {
  std::function<std::unique_ptr<virt::Hypervisor>(const std::string& uri)> hypervisor;
  /// May return nullptr: no local process evidence for this URI (remote, session…).
  std::function<std::unique_ptr<virt::QemuProcesses>(const std::string& uri)> processes;
  /// DRBD's state on this node (drbdsetup through the services' command runner).
  std::function<std::unique_ptr<drbd::StatusSource>(const ocf::Services& services)> drbd;
};

/// libvirt, and /proc with the pid directory derived from the URI.
[[nodiscard]] Backends real_backends();

/// The longest a single state query may take before the agent falls back to other evidence.
inline constexpr std::chrono::milliseconds kQueryTime{5'000};
/// How often a wait (for running, for shut off) asks for the state again.
inline constexpr std::chrono::milliseconds kPollInterval{100};

/// The domain this resource manages: from the config file, else from the record of the last
/// start on this node.
struct Target {
  std::optional<virt::DomainXml> config;
  std::string config_text;
  std::optional<Error> config_problem;  ///< why the config file is unusable (5 missing, 2 malformed)
  std::optional<virt::DomainRef> ref;
};

struct Job {
  const ocf::Request& request;
  const ocf::Services& services;
  const Settings& settings;
  virt::Hypervisor& hypervisor;
  virt::QemuProcesses* processes;
  Records records;
  Target target;
  drbd::StatusSource* drbd = nullptr;  ///< nullptr: no DRBD source (the monitor's fast path)

  [[nodiscard]] sys::Logger& log() const { return services.log; }
  [[nodiscard]] const ocf::Deadline& deadline() const { return request.deadline; }
  /// A deadline for one query: kQueryTime at most.
  [[nodiscard]] ocf::Deadline query_deadline() const { return request.deadline.within(kQueryTime); }
};

/// Reads and parses the config file (at most 1 MiB), falling back to the record.
[[nodiscard]] Target locate(const Settings& settings, const Records& records);

// The actions.
[[nodiscard]] Result<ocf::Status> monitor(Job& job);
[[nodiscard]] Result<ocf::Status> start(Job& job);
[[nodiscard]] Result<ocf::Status> stop(Job& job);
[[nodiscard]] Result<ocf::Status> validate(Job& job);
[[nodiscard]] Result<ocf::Status> migrate_to(Job& job);
[[nodiscard]] Result<ocf::Status> migrate_from(Job& job);

/// The DRBD devices behind the domain: drbd_resources, else its disks; none when DRBD is off.
[[nodiscard]] std::vector<drbd::DeviceRef> drbd_devices(const Job& job);
/// What DRBD forbids: before a start (`target` empty) or a migration to `target`. Reads the
/// state at most once; no DRBD device, no read. Errors: DRBD unreadable (5 when not installed).
[[nodiscard]] Result<std::vector<drbd::Finding>> drbd_findings(Job& job, const std::string& target = {});
/// The findings as one exit reason.
[[nodiscard]] std::string drbd_refusal(std::string_view action, const std::vector<drbd::Finding>& findings);

/// save_config_on_stop: the current definition replaces the config file (never fails the caller).
void save_definition(Job& job);
/// Monitor scripts must pass: retried until the deadline.
[[nodiscard]] Result<void> wait_scripts(Job& job);

/// Runs monitor_scripts; the first failure is the error.
[[nodiscard]] Result<void> run_monitor_scripts(Job& job);
/// Writes cpu/host_memory/hv_memory utilization when it changed (never fails the caller).
void update_utilization(Job& job);
/// A monitor-style reading: the domain's state, with libvirt's errors as they came.
[[nodiscard]] Result<std::optional<virt::StateInfo>> read_state(Job& job, const ocf::Deadline& deadline);

}  // namespace vmha::agents
