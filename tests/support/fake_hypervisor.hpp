// An in-memory libvirt and QEMU process table for the agent's unit tests.
//
// FakeLibvirt is the world: domains, scripted failures and hangs, a call log. Time is a
// ManualClock that call latencies and the agent's sleeps move. The agent gets FakeHypervisor
// and FakeQemuProcesses objects that act on that world.
#pragma once

#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "VirtualDomain/job.hpp"
#include "support/memory_files.hpp"
#include "vmha/drbd/source.hpp"
#include "vmha/sys/clock.hpp"
#include "vmha/virt/hypervisor.hpp"
#include "vmha/virt/qemu_processes.hpp"

namespace vmha::test {

struct FakeDomain {
  std::string name;
  std::string uuid;
  virt::StateInfo state{virt::DomainState::running, 1};
  bool persistent = false;
  unsigned vcpus = 1;
  std::uint64_t max_memory_kib = 131072;
  bool obeys_shutdown = true;       ///< a guest that reacts to ACPI
  sys::Millis shutdown_takes{300};  ///< from the request to "shut off"
  std::optional<sys::Clock::time_point> off_at;
  std::string label;  ///< the resource whose label the live domain carries
  /// The guest agent: what a ping gets (answered, silent, not connected, no channel).
  virt::GuestAgentReply agent = virt::GuestAgentReply::answered;
  int id = 1;  ///< libvirt's domain ID: a new one at each start
};

/// How a fake migration behaves.
struct FakeMigration {
  static constexpr int kAlways = std::numeric_limits<int>::max();
  sys::Millis takes{600};           ///< until it completes, when it converges
  bool converges = true;            ///< false: runs until aborted (a busy guest, a capped bandwidth)
  int abort_refusals = 0;           ///< the first N aborts are refused (the job has not begun yet); kAlways: every one
  bool postcopy_times_out = false;  ///< the switch to post-copy answers too late, but happens
  bool postcopy_completes = true;   ///< after start_postcopy, the next tick completes it
};

/// A call libvirtd carries out after the agent gave up on it.
struct LateCall {
  std::string op;  ///< create, start or restore
  std::string xml;
  virt::DomainRef domain;
  std::string path;
  sys::Clock::time_point at;
};

struct FakeLibvirt {
  explicit FakeLibvirt(sys::ManualClock& c) : clock(c) {}

  FakeDomain& add(const std::string& name, const std::string& uuid,
                  virt::StateInfo state = {virt::DomainState::running, 1}, bool persistent = false);
  /// Ground truth for the tests: does a QEMU run this domain (any state but shut off, or a
  /// QEMU libvirt let go of that still lives)? Calls whose late time has come land first.
  [[nodiscard]] bool runs(const std::string& name);
  [[nodiscard]] bool has(const std::string& name) const { return domains.count(name) != 0; }
  /// Carries out what is due: late calls, guests that finished shutting down.
  void settle();
  /// libvirtd restarts: calls it was still carrying out die with it.
  void restart_daemon();
  /// The node loses power: every QEMU and every pending call is gone.
  void power_off();

  sys::ManualClock& clock;
  std::map<std::string, FakeDomain> domains;          ///< by name
  std::map<std::string, std::deque<Error>> failures;  ///< next errors, by operation name
  std::map<std::string, sys::Millis> latency;         ///< simulated duration, by operation name
  std::set<std::string> hung;                         ///< operations that never answer
  /// Operations that time out for the caller but are carried out this long after the call.
  std::map<std::string, sys::Millis> lands_late;
  std::vector<LateCall> pending;   ///< late calls not carried out yet
  int daemon_generation = 1;       ///< a new libvirtd after each restart
  int last_id = 1;                 ///< the last domain ID given (libvirt counts up)
  bool daemon_known = true;        ///< /proc and the socket tell which daemon serves the node
  bool unreachable = false;        ///< every call fails: cannot connect
  std::vector<std::string> calls;  ///< "state vm1", "create vm1", …
  unsigned last_shutdown_methods = 0;
  std::map<std::string, std::pair<std::string, std::string>> saved;  ///< save file path → name, UUID
  /// Where state files are written and read, when set (else only `saved` holds them).
  MemoryFileSystem* files = nullptr;
  /// The domain a state file holds.
  [[nodiscard]] std::optional<virt::DomainRef> saved_state(const std::string& path) const;

  // Migration: the destinations this daemon (and the agent) can reach, by URI.
  std::map<std::string, FakeLibvirt*> peers;
  FakeMigration migration;
  std::vector<virt::MigrationRequest> migrations;  ///< every request received
  int aborts = 0;
  int postcopy_switches = 0;

  // DRBD as drbdsetup would report it on this node.
  std::vector<drbd::Resource> drbd;
  std::optional<Error> drbd_error;  ///< the read fails with this
  int drbd_reads = 0;

  // QEMU processes, as /proc would show them when libvirtd is away: the truth unless set.
  std::optional<virt::Evidence> evidence;
  bool kill_works = true;
  int kills = 0;
  /// destroy reports success but the QEMU keeps a thread stuck in the kernel (libvirt 9.0
  /// then calls the domain shut off); such processes, by domain name, survive SIGKILL.
  bool destroy_leaves_qemu = false;
  std::set<std::string> lingering;
  /// A QEMU's command line cannot be read (it waits for a memory-map lock a stuck QEMU holds):
  /// /proc knows its pid and that it lives, not whose it is.
  bool cmdline_blocked = false;
};

class FakeHypervisor final : public virt::Hypervisor {
 public:
  explicit FakeHypervisor(FakeLibvirt& world) : world_(world) {}

  Result<std::optional<virt::StateInfo>> state(const virt::DomainRef& domain, const ocf::Deadline& deadline) override;
  Result<virt::DomainFacts> facts(const virt::DomainRef& domain, const ocf::Deadline& deadline) override;
  Result<void> create(const std::string& xml, const ocf::Deadline& deadline) override;
  Result<void> define(const std::string& xml, const ocf::Deadline& deadline) override;
  Result<void> start(const virt::DomainRef& domain, const ocf::Deadline& deadline) override;
  Result<void> shutdown(const virt::DomainRef& domain, unsigned methods, const ocf::Deadline& deadline) override;
  Result<void> destroy(const virt::DomainRef& domain, const ocf::Deadline& deadline) override;
  Result<void> save(const virt::DomainRef& domain, const std::string& path, const ocf::Deadline& deadline) override;
  Result<void> restore(const std::string& path, const ocf::Deadline& deadline) override;
  Result<std::string> definition(const virt::DomainRef& domain, const ocf::Deadline& deadline) override;
  Result<void> ensure_network(const std::string& name, const ocf::Deadline& deadline) override;
  Result<void> ensure_pool(const std::string& name, const ocf::Deadline& deadline) override;
  Result<virt::MigrationReport> migrate(const virt::DomainRef& domain, const virt::MigrationRequest& request,
                                        const ocf::Deadline& deadline, virt::MigrationWatcher& watcher) override;
  Result<virt::GuestAgentPing> ping_guest_agent(const virt::DomainRef& domain, std::chrono::seconds timeout,
                                                const ocf::Deadline& deadline) override;
  Result<std::string> uri(const ocf::Deadline& deadline) override;
  Result<void> label(const virt::DomainRef& domain, const std::string& resource,
                     const ocf::Deadline& deadline) override;
  Result<std::vector<virt::DomainRef>> labelled(const std::string& resource, const ocf::Deadline& deadline) override;

 private:
  /// Records the call, moves time, applies scripts. An error means the call fails with it.
  std::optional<Error> enter(const std::string& op, const std::string& subject, const ocf::Deadline& deadline);
  Result<FakeDomain*> lookup(const virt::DomainRef& ref);
  /// For an operation scripted to land late: records it and times the caller out.
  std::optional<Error> abandon_if_late(LateCall call, const ocf::Deadline& deadline);

  FakeLibvirt& world_;
};

class FakeQemuProcesses final : public virt::QemuProcesses {
 public:
  explicit FakeQemuProcesses(FakeLibvirt& world) : world_(world) {}
  virt::ProcessCheck check(const virt::DomainRef& domain, const ocf::Deadline& deadline) override;
  virt::ProcessCheck check_pid(const virt::DomainRef& domain, int pid, const ocf::Deadline& deadline) override;
  virt::Evidence process_state(int pid, const ocf::Deadline& deadline) override;
  Result<void> kill(const virt::DomainRef& domain, const ocf::Deadline& deadline) override;
  Result<void> kill_pid(const virt::DomainRef& domain, int pid, const ocf::Deadline& deadline) override;
  std::optional<std::string> daemon_instance() override;

 private:
  FakeLibvirt& world_;
};

/// The pid the fake /proc gives a domain's QEMU: the same for the same name.
[[nodiscard]] inline int fake_pid(const std::string& name) {
  return 4000 + static_cast<int>(std::hash<std::string>{}(name) % 50'000U);
}

/// Backends for the agent that act on `world`; `with_processes` false: no /proc evidence.
[[nodiscard]] agents::Backends fake_backends(FakeLibvirt& world, bool with_processes = true);

}  // namespace vmha::test
