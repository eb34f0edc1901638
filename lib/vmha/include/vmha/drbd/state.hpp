// The DRBD state model shared by the 8.4 and 9.x parsers: resources, their local volumes, and
// their peers with per-volume replication. Keyed on (resource, volume, peer), never on "the
// peer": DRBD 9 has any number of them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vmha::drbd {

enum class Role { primary, secondary, unknown };

enum class DiskState {
  diskless,
  attaching,
  detaching,
  failed,
  negotiating,
  inconsistent,
  outdated,
  dunknown,
  consistent,
  uptodate,
};

/// DRBD 9 connection states; DRBD 8.4's WFConnection/WFReportParams read as connecting, and
/// its replication states in `cs:` (SyncSource, …) as connected.
enum class ConnectionState {
  standalone,
  disconnecting,
  unconnected,
  timeout,
  broken_pipe,
  network_failure,
  protocol_error,
  teardown,
  connecting,
  connected,
};

/// DRBD 9 replication states (peer-device `replication:`); `off` when not connected.
enum class ReplicationState {
  off,
  established,
  startingsyncsource,
  startingsynctarget,
  wfbitmaps,
  wfbitmapt,
  wfsyncuuid,
  syncsource,
  synctarget,
  pausedsyncs,
  pausedsynct,
  verifys,
  verifyt,
  ahead,
  behind,
};

/// One volume as a peer sees it.
struct PeerVolume {
  int volume = 0;
  DiskState disk = DiskState::dunknown;  ///< the peer's disk
  ReplicationState replication = ReplicationState::off;
  bool client = false;                   ///< an intentionally diskless peer (peer-client:yes)
  std::optional<double> resync_percent;  ///< done:, percent-resync-done, sync'ed:
  std::optional<std::int64_t> eta_seconds;
};

struct Peer {
  std::optional<int> node_id;  ///< DRBD 9 peer-node-id; none in DRBD 8.4
  std::string name;            ///< conn-name / connection name; empty when unknown
  ConnectionState connection = ConnectionState::standalone;
  Role role = Role::unknown;
  std::vector<PeerVolume> volumes;

  [[nodiscard]] const PeerVolume* volume(int number) const;
};

/// One local volume (a DRBD device).
struct Volume {
  int number = 0;
  std::optional<int> minor;
  DiskState disk = DiskState::dunknown;
  bool client = false;  ///< intentionally diskless (client:yes): not a failed disk
  std::optional<bool> quorum;
};

struct Resource {
  std::string name;  ///< DRBD 8.4 /proc/drbd: "minor-N" unless the name is known
  Role role = Role::unknown;
  bool suspended = false;
  std::optional<bool> quorum;  ///< false if any volume lost quorum; none if nobody says
  /// DRBD 9's own verdict (may_promote): auto-promote would succeed now. None in 8.4.
  std::optional<bool> may_promote;
  std::vector<Volume> volumes;
  std::vector<Peer> peers;

  [[nodiscard]] const Volume* volume(int number) const;
  [[nodiscard]] const Peer* peer(std::string_view name) const;
};

/// DRBD's own spellings, e.g. "Primary", "UpToDate", "DUnknown", "StandAlone", "SyncSource".
[[nodiscard]] std::string_view to_string(Role role) noexcept;
[[nodiscard]] std::string_view to_string(DiskState state) noexcept;
[[nodiscard]] std::string_view to_string(ConnectionState state) noexcept;
[[nodiscard]] std::string_view to_string(ReplicationState state) noexcept;

/// Names as DRBD 8.4 or 9 print them, in any case, with or without '-'/'_' (so "UpToDate",
/// "uptodate", "Up-To-Date"). nullopt for anything else.
[[nodiscard]] std::optional<Role> role_from_string(std::string_view text);
[[nodiscard]] std::optional<DiskState> disk_state_from_string(std::string_view text);
/// Also 8.4's "WFConnection"/"WFReportParams" (connecting) and "Connected".
[[nodiscard]] std::optional<ConnectionState> connection_state_from_string(std::string_view text);
/// Also 8.4's short forms ("StartingSyncS", "WFBitMapT", "PausedSyncS", "VerifyT") and
/// "Connected" (the old name of established).
[[nodiscard]] std::optional<ReplicationState> replication_state_from_string(std::string_view text);

/// The resource-wide quorum from its volumes: false if any says no, true if some say yes and
/// none no, nullopt if none says.
[[nodiscard]] std::optional<bool> combined_quorum(const std::vector<Volume>& volumes);

}  // namespace vmha::drbd
