// Live migration through the hypervisor seam: what to ask for, and how the caller steers a
// migration while it runs (progress, abort, post-copy).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vmha/ocf/deadline.hpp"
#include "vmha/result.hpp"
#include "vmha/sys/clock.hpp"

namespace vmha::virt {

/// virDomainMigrateFlags the agents use; the values are libvirt's (checked where libvirt is
/// linked), so the core needs no libvirt header.
enum MigrateFlag : std::uint32_t {
  migrate_live = 1U << 0U,
  migrate_peer2peer = 1U << 1U,
  migrate_tunnelled = 1U << 2U,
  migrate_persist_dest = 1U << 3U,
  migrate_undefine_source = 1U << 4U,
  migrate_paused = 1U << 5U,
  migrate_non_shared_disk = 1U << 6U,
  migrate_non_shared_inc = 1U << 7U,
  migrate_change_protection = 1U << 8U,
  migrate_unsafe = 1U << 9U,
  migrate_compressed = 1U << 11U,
  migrate_abort_on_error = 1U << 12U,
  migrate_auto_converge = 1U << 13U,
  migrate_postcopy = 1U << 15U,
  migrate_tls = 1U << 16U,
  migrate_parallel = 1U << 17U,
};

struct MigrationRequest {
  /// The destination's libvirt URI: the agent connects to it (client-managed), or the source
  /// daemon does (peer-to-peer, migrate_peer2peer in flags).
  std::string destination;
  std::string migrate_uri;  ///< where QEMU sends the data; empty: the destination's choice
  std::uint32_t flags = migrate_live;
  std::uint64_t bandwidth_mib = 0;       ///< MiB/s, 0: the hypervisor's default
  std::uint64_t max_downtime_ms = 0;     ///< set before the migration starts, 0: the default
  std::vector<std::string> compression;  ///< methods, e.g. "xbzrle", "mt"
  int parallel_connections = 0;          ///< with migrate_parallel; 0: the default
  std::string listen_address;            ///< the destination's incoming address, or empty

  [[nodiscard]] bool peer_to_peer() const { return (flags & migrate_peer2peer) != 0; }
};

/// A reading of the job statistics (virDomainGetJobStats).
struct MigrationProgress {
  sys::Millis elapsed{0};
  std::uint64_t data_total = 0;
  std::uint64_t data_processed = 0;
  std::uint64_t data_remaining = 0;
  std::uint64_t memory_bps = 0;  ///< bytes per second of memory transfer
  std::uint64_t iteration = 0;   ///< memory passes so far
  bool postcopy = false;         ///< switched to post-copy: the guest already runs on the destination
  bool active = false;           ///< a migration job is running
};

/// What libvirt reports about a finished migration.
struct MigrationReport {
  std::optional<sys::Millis> job_time;  ///< libvirt's own duration of the migration job
};

/// What the watcher may do to a running migration; each call is bounded by its deadline.
class MigrationControl {
 public:
  virtual ~MigrationControl() = default;
  [[nodiscard]] virtual Result<MigrationProgress> progress(const ocf::Deadline& deadline) = 0;
  [[nodiscard]] virtual Result<void> abort(const ocf::Deadline& deadline) = 0;
  [[nodiscard]] virtual Result<void> start_postcopy(const ocf::Deadline& deadline) = 0;
};

/// The caller's policy while a migration runs: called every interval() until it ends.
class MigrationWatcher {
 public:
  virtual ~MigrationWatcher() = default;
  [[nodiscard]] virtual sys::Millis interval() const = 0;
  virtual void tick(MigrationControl& control) = 0;
};

}  // namespace vmha::virt
