// The VirtualDomain parameters, read once into typed fields.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vmha/ocf/params.hpp"
#include "vmha/result.hpp"

namespace vmha::agents {

/// migrate_options, read as `virsh migrate` would.
struct MigrateOptions {
  std::uint32_t flags = 0;  ///< virt::MigrateFlag bits
  std::string migrate_uri;  ///< --migrateuri, "%n" not yet replaced
  std::uint64_t bandwidth_mib = 0;
  std::vector<std::string> compression;  ///< --comp-methods
  int parallel_connections = 0;
  std::string listen_address;
};

/// Everything migrate_to needs to know besides the target node.
struct MigrationSettings {
  std::string transport;       ///< migration_transport: "ssh" gives qemu+ssh://
  std::string user;            ///< migration_user
  std::string network_suffix;  ///< migration_network_suffix
  std::string migrateuri;      ///< "%n" not yet replaced
  std::string remoteuri;       ///< "%n" not yet replaced
  std::optional<int> port;     ///< migrateport
  std::uint64_t downtime_ms = 0;
  std::uint64_t speed_mib = 0;
  MigrateOptions options;
  bool auto_converge = false;
  std::vector<std::string> compression;  ///< migration_compression
  std::chrono::seconds postcopy_after{0};
};

struct Settings {
  std::string config;      ///< absolute path of the domain XML
  std::string hypervisor;  ///< libvirt URI; empty = libvirt's default
  bool force_stop = false;
  unsigned shutdown_methods = 0;  ///< virt::ShutdownMethod bits from shutdown_mode
  std::string snapshot;           ///< directory for saved state, or empty
  bool save_config = false;       ///< save_config_on_stop (or implied by sync_config_on_stop)
  bool sync_config = false;
  std::vector<std::string> monitor_scripts;
  bool autoset_cpu = true, autoset_host_memory = true, autoset_hv_memory = true;
  bool unset_cpu = false, unset_host_memory = false, unset_hv_memory = false;
  std::string backingfile;
  bool stateless = false;
  std::vector<std::string> copyindirs;
  bool start_resources = false;
  std::chrono::seconds destroy_reserve{20};
  bool pmsuspended_is_running = true;
  std::chrono::seconds guest_agent_timeout{5};  ///< a depth-10 monitor's wait for the guest agent
  int guest_agent_misses = 3;                   ///< unanswered pings in a row that fail it
  /// Monitor and stop scope: why guest_agent_* were malformed and the defaults are used (a
  /// malformed value must not fail a depth-0 monitor or a stop); the other actions refuse it.
  std::string liveness_problem;
  MigrationSettings migration;
  /// drbd_resources: names to check; empty = detect from the disks.
  std::vector<std::string> drbd_resources;
  bool drbd_off = false;  ///< drbd_resources=none
  bool drbd_allow_two_primaries = false;
};

/// The error of a parameter wrong on every node: status 6 (err_configured), kind invalid.
[[nodiscard]] tl::unexpected<Error> misconfigured(std::string reason);

/// Reads migrate_options ("--p2p --tunnelled", "--migrateuri=tcp://%n-mig"); options vmha
/// cannot honour are errors with status 6.
[[nodiscard]] Result<MigrateOptions> read_migrate_options(std::string_view text);
/// The migration parameters; errors have status 6.
[[nodiscard]] Result<MigrationSettings> read_migration_settings(const ocf::Params& params);

/// Which parameters an action reads: monitor and stop skip the migration and DRBD ones (left at
/// their defaults), which only start, migrate_*, reload-agent and validate-all use. So a
/// malformed migrate_options never fails a stop, which would fence the node.
enum class SettingsScope { monitor, every_action };

/// Reads the parameters (already type-checked against the meta-data) and checks what is
/// wrong on every node: errors have status 6 and name the parameter.
[[nodiscard]] Result<Settings> read_settings(const ocf::Params& params,
                                             SettingsScope scope = SettingsScope::every_action);

/// shutdown_mode as read: "acpi,agent", or "libvirt's default method".
[[nodiscard]] std::string describe_shutdown_methods(unsigned bits);

/// The qcow2 overlay used with backingfile: the config path with its extension replaced,
/// e.g. /etc/libvirt/qemu/vm1.xml → /etc/libvirt/qemu/vm1.qcow2.
[[nodiscard]] std::string overlay_path(const std::string& config);

/// snapshot: where stop saves the domain's RAM and start restores it from, <snapshot>/<name>.state.
[[nodiscard]] std::string saved_state_path(const Settings& settings, const std::string& domain_name);

}  // namespace vmha::agents
