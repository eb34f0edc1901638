// The hypervisor seam: every libvirt operation the agents need, behind one interface whose
// read-only core (DomainReader) is all the monitor needs.
//
// Each call is bounded by its deadline, whatever the daemon does: an implementation returns
// an Error of kind timed_out rather than block past it. Errors carry an ErrorKind:
//   not_found    the domain (network, pool) does not exist
//   unreachable  the daemon cannot be reached, or the connection broke
//   denied       authentication or access control refused the call
//   invalid      the operation is not valid in the domain's state (or not supported)
//   timed_out    no answer before the deadline
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "vmha/ocf/deadline.hpp"
#include "vmha/result.hpp"
#include "vmha/virt/domain.hpp"
#include "vmha/virt/migration.hpp"

namespace vmha::virt {

/// virDomainShutdownFlagValues: which graceful shutdown methods to try (0 = hypervisor's choice).
enum ShutdownMethod : unsigned {
  shutdown_default = 0,
  shutdown_acpi = 1,
  shutdown_agent = 2,
  shutdown_initctl = 4,
  shutdown_signal = 8,
  shutdown_paravirt = 16,
};

/// What a guest agent ping found (the answer is about the guest; Result's error about libvirt).
enum class GuestAgentReply {
  answered,       ///< the guest agent answered guest-ping
  silent,         ///< it did not answer within the timeout, or libvirt marks it broken
  not_connected,  ///< the domain has an agent channel, but no agent in the guest opened it
  no_channel,     ///< the domain has no org.qemu.guest_agent.0 channel
  not_executing,  ///< the guest does not execute now (paused, shutting down): it cannot answer
};

struct GuestAgentPing {
  GuestAgentReply reply = GuestAgentReply::silent;
  /// libvirt's ID of the running domain: a new one at each start (and on each node), so a
  /// liveness count kept under one ID never carries over to the next run.
  int domain_id = -1;
  std::string detail;  ///< libvirt's message when the agent did not answer
};

/// What a recurring monitor asks: the narrow part both the libvirt client and the monitor's
/// wire client (wire.hpp) implement in full.
class DomainReader {
 public:
  virtual ~DomainReader() = default;

  /// The domain's state, or nullopt when no such domain exists.
  [[nodiscard]] virtual Result<std::optional<StateInfo>> state(const DomainRef& domain,
                                                               const ocf::Deadline& deadline) = 0;
  [[nodiscard]] virtual Result<DomainFacts> facts(const DomainRef& domain, const ocf::Deadline& deadline) = 0;
};

/// Every other operation: the full agent's, with the real libvirt (libvirt.hpp).
class Hypervisor : public DomainReader {
 public:
  /// Starts a transient domain from XML (virDomainCreateXML).
  [[nodiscard]] virtual Result<void> create(const std::string& xml, const ocf::Deadline& deadline) = 0;
  /// Defines (or redefines) a persistent domain from XML.
  [[nodiscard]] virtual Result<void> define(const std::string& xml, const ocf::Deadline& deadline) = 0;
  /// Starts a defined, inactive domain.
  [[nodiscard]] virtual Result<void> start(const DomainRef& domain, const ocf::Deadline& deadline) = 0;
  [[nodiscard]] virtual Result<void> shutdown(const DomainRef& domain, unsigned methods,
                                              const ocf::Deadline& deadline) = 0;
  [[nodiscard]] virtual Result<void> destroy(const DomainRef& domain, const ocf::Deadline& deadline) = 0;
  /// Saves the running domain's state to `path` and stops it (virDomainSave).
  [[nodiscard]] virtual Result<void> save(const DomainRef& domain, const std::string& path,
                                          const ocf::Deadline& deadline) = 0;
  /// Restores a domain saved to `path` (virDomainRestore).
  [[nodiscard]] virtual Result<void> restore(const std::string& path, const ocf::Deadline& deadline) = 0;
  /// The persistent definition with secure details (virDomainGetXMLDesc INACTIVE|SECURE).
  [[nodiscard]] virtual Result<std::string> definition(const DomainRef& domain, const ocf::Deadline& deadline) = 0;
  /// Makes sure a virtual network is active.
  [[nodiscard]] virtual Result<void> ensure_network(const std::string& name, const ocf::Deadline& deadline) = 0;
  /// Makes sure a storage pool is active (started, or refreshed when it already is).
  [[nodiscard]] virtual Result<void> ensure_pool(const std::string& name, const ocf::Deadline& deadline) = 0;
  /// Migrates the running domain live to request.destination. Returns when the migration
  /// has ended (success, failure, or an abort by the watcher), or at `deadline` at the
  /// latest, with an Error of kind timed_out. The watcher is called every interval meanwhile.
  [[nodiscard]] virtual Result<MigrationReport> migrate(const DomainRef& domain, const MigrationRequest& request,
                                                        const ocf::Deadline& deadline, MigrationWatcher& watcher) = 0;
  /// Pings the domain's guest agent (qemu-guest-agent's guest-ping through libvirt), waiting
  /// at most `timeout` for its answer (whole seconds, libvirt's unit).
  [[nodiscard]] virtual Result<GuestAgentPing> ping_guest_agent(const DomainRef& domain, std::chrono::seconds timeout,
                                                                const ocf::Deadline& deadline) = 0;
  /// The URI of the connection (the resolved default when none was given).
  [[nodiscard]] virtual Result<std::string> uri(const ocf::Deadline& deadline) = 0;
  /// Labels the running domain as the resource's (live metadata, which a migration carries
  /// along), so that a node can find it when nothing else there names it.
  [[nodiscard]] virtual Result<void> label(const DomainRef& domain, const std::string& resource,
                                           const ocf::Deadline& deadline) = 0;
  /// The active domains labelled as the resource's.
  [[nodiscard]] virtual Result<std::vector<DomainRef>> labelled(const std::string& resource,
                                                                const ocf::Deadline& deadline) = 0;
};

}  // namespace vmha::virt
