// What every VirtualDomain action works with (internal to the agent).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "VirtualDomain/records.hpp"
#include "VirtualDomain/settings.hpp"
#include "VirtualDomain/target.hpp"
#include "vmha/drbd/guard.hpp"
#include "vmha/drbd/source.hpp"
#include "vmha/ocf/agent.hpp"
#include "vmha/virt/domain.hpp"
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

/// The domain as libvirt shows it under one of the target's names.
struct Sighting {
  virt::DomainRef ref;
  virt::StateInfo state;
};

struct Job {
  const ocf::Request& request;
  const ocf::Services& services;
  const Settings& settings;
  /// State and facts: all the monitor asks of libvirt (the wire client on the fast path).
  virt::DomainReader& domains;
  /// Every other libvirt call; nullptr on the monitor's fast path, which makes none.
  virt::Hypervisor* hypervisor;
  virt::QemuProcesses* processes;
  Records records;
  Target target;
  drbd::StatusSource* drbd = nullptr;  ///< nullptr: no DRBD source (the monitor's fast path)

  [[nodiscard]] sys::Logger& log() const { return services.log; }
  [[nodiscard]] const ocf::Deadline& deadline() const { return request.deadline; }
  /// A deadline for one query: kQueryTime at most.
  [[nodiscard]] ocf::Deadline query_deadline() const { return request.deadline.within(kQueryTime); }
};

/// Reads the config file (at most 1 MiB, within the deadline) and parses it, tolerantly when it
/// is broken; adds the records' names. Reads nothing else, writes nothing.
[[nodiscard]] Target locate(const Settings& settings, const Records& records, sys::FileSystem& files,
                            const ocf::Deadline& deadline);

// Building a Job: the same steps in both programs (job.cpp; read_target in locate.cpp, which only
// the full agent links: it parses XML).

/// This resource's records under HA_RSCTMP.
[[nodiscard]] Records records_for(const ocf::Request& request, const ocf::Services& services);
/// The full agent's target: locate(), then the identity of a good read recorded, which is what
/// lets the monitor's fast path skip reading the file while its version stays the same.
[[nodiscard]] Target read_target(const Settings& settings, const Records& records, const ocf::Services& services,
                                 const ocf::Deadline& deadline);
/// The fast path's target: the recorded identity and names, when the config file (looked at for
/// at most `look_time`) still has the version of that good read; nullopt otherwise.
[[nodiscard]] std::optional<Target> recorded_target(const Settings& settings, const Records& records,
                                                    const ocf::Services& services, const ocf::Deadline& deadline,
                                                    std::chrono::milliseconds look_time);

/// What a Job talks to, which differs between the two programs.
struct Connections {
  virt::DomainReader& domains;
  virt::Hypervisor* hypervisor = nullptr;  ///< nullptr: reading only (the monitor's fast path)
  virt::QemuProcesses* processes = nullptr;
  drbd::StatusSource* drbd = nullptr;
};

[[nodiscard]] Job make_job(const ocf::Request& request, const ocf::Services& services, const Settings& settings,
                           const Connections& connections, Records records, Target target);

// The actions.
[[nodiscard]] Result<ocf::Status> monitor(Job& job);
[[nodiscard]] Result<ocf::Status> start(Job& job);
[[nodiscard]] Result<ocf::Status> stop(Job& job);
[[nodiscard]] Result<ocf::Status> validate(Job& job);
[[nodiscard]] Result<ocf::Status> migrate_to(Job& job);
[[nodiscard]] Result<ocf::Status> migrate_from(Job& job);
[[nodiscard]] Result<ocf::Status> reload_agent(Job& job);
/// The monitor's verdict on the domain alone, without monitor_scripts and utilization; `seen`,
/// when given, gets the name and state libvirt shows a domain it found under.
[[nodiscard]] Result<ocf::Status> domain_status(Job& job, Sighting* seen = nullptr);

/// The monitor depth (OCF_CHECK_LEVEL) from which the guest agent must answer too.
inline constexpr int kGuestAgentDepth = 10;
/// Depth 10 on a domain `seen` running: pings its guest agent; fails once guest_agent_misses
/// pings in a row went unanswered (counted in the liveness record, only after a first answer in
/// the domain's run, or from its arrival by migration); degraded when it has no agent channel.
[[nodiscard]] Result<ocf::Status> check_guest_agent(Job& job, const Sighting& seen);

/// The DRBD devices behind the domain: drbd_resources, else its disks; none when DRBD is off.
[[nodiscard]] Result<std::vector<drbd::DeviceRef>> drbd_devices(const Job& job);
/// What DRBD forbids: before a start (`destination` empty) or a migration to the node `destination`. Reads the
/// state at most once; no DRBD device, no read. Errors: DRBD unreadable (5 when not installed).
[[nodiscard]] Result<std::vector<drbd::Finding>> drbd_findings(Job& job, const std::string& destination = {});
/// The findings as one exit reason.
[[nodiscard]] std::string drbd_refusal(std::string_view action, const std::vector<drbd::Finding>& findings);

/// On a host run by systemd: a drop-in (written when missing or changed) makes the host's
/// shutdown stop Pacemaker, and so its VMs, before libvirt's daemons (never fails the caller).
void order_host_shutdown(Job& job);
/// save_config_on_stop: the current definition replaces the config file (never fails the caller).
void save_definition(Job& job);
/// Monitor scripts must pass: retried until the deadline.
[[nodiscard]] Result<void> wait_scripts(Job& job);

/// Publishes the config file's digest as this node's transient attribute vmha-config-<resource>
/// (attrd_updater), for `vmha check`; only under Pacemaker, never fails the caller.
void publish_config_digest(Job& job);

/// Runs monitor_scripts; the first failure is the error.
[[nodiscard]] Result<void> run_monitor_scripts(Job& job);
/// Writes cpu/host_memory/hv_memory utilization when it changed (never fails the caller).
void update_utilization(Job& job);
/// A monitor-style reading: the state of the domain `ref` names, with libvirt's errors as they
/// came; a transient "no state" is asked again until the deadline.
[[nodiscard]] Result<std::optional<virt::StateInfo>> read_state(Job& job, const virt::DomainRef& ref,
                                                                const ocf::Deadline& deadline);
/// read_state of the target's best name.
[[nodiscard]] Result<std::optional<virt::StateInfo>> read_state(Job& job, const ocf::Deadline& deadline);
/// The first of the target's names under which a domain exists and is not shut off; nullopt
/// when libvirt proves every name absent or shut off. The first error ends the search.
[[nodiscard]] Result<std::optional<Sighting>> find_running(Job& job, const ocf::Deadline& deadline);
/// When nothing else names the domain: adds the active domains libvirt shows labelled as this
/// resource's (a migration brings its label along). False when libvirt could not be asked.
bool name_by_label(Job& job);
/// The config-missing rule, for monitor and stop: true when nothing names a domain (not the
/// config, its records, nor a label libvirt was asked for) and the config is missing, so this
/// node never ran it (logged with `meaning`); false when a domain is named; an error when the
/// config is there but unusable and libvirt or the records cannot be asked.
[[nodiscard]] Result<bool> never_ran_here(Job& job, std::string_view meaning);
/// The reason monitor and stop give when a config is there but unusable, nothing else names the
/// domain, and libvirt cannot be asked for a labelled one: no proof either way.
[[nodiscard]] std::string unnamed_and_unasked(const Job& job);
/// The reason for 1 where a record that cannot be read might have told of an abandoned call or a
/// surviving QEMU.
[[nodiscard]] std::string records_unreadable(const Job& job);
/// A QEMU the start record says outlived a stop, when it still runs or cannot be looked at;
/// nullopt when none was recorded or it is gone.
[[nodiscard]] std::optional<virt::ProcessCheck> recorded_survivor(Job& job);
/// Records that the QEMU `pid` of `ref` outlived a stop: libvirt has forgotten it.
void remember_survivor(Job& job, const virt::DomainRef& ref, int pid);
/// The start record to write next for `domain`: a surviving QEMU it knew of stays in it.
[[nodiscard]] StartRecord next_start_record(const Job& job, const virt::DomainRef& domain, bool launching,
                                            std::string daemon = {});
/// The domain `ref` finds, named as libvirt knows it (its UUID may differ from the config's);
/// `ref` itself when libvirt cannot say.
[[nodiscard]] virt::DomainRef as_libvirt_knows(Job& job, const virt::DomainRef& ref);
/// Labels the running domain as this resource's; a failure only warns.
void label_domain(Job& job, const virt::DomainRef& ref);
/// Why an absent domain may still appear: a start gave up on a libvirt call that can still
/// create it, and the daemon that took the call may still carry it out. nullopt: nothing pending.
[[nodiscard]] std::optional<std::string> launch_may_land(Job& job);

}  // namespace vmha::agents
