// What vmha demands of the DRBD resources behind a VM: usable here before a start, ready for
// dual-primary before a live migration. Pure functions over the state model: every decision
// is a table in the unit tests.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vmha/drbd/state.hpp"
#include "vmha/result.hpp"

namespace vmha::drbd {

/// A DRBD device a VM uses: by resource name (and volume), or by minor.
struct DeviceRef {
  std::string resource;
  std::optional<int> volume;
  std::optional<int> minor;
  std::string path;  ///< where it was found, for reasons
};

/// Resolves a path's symlinks (realpath); returns it unchanged when it cannot.
using PathResolver = std::function<std::string(const std::string&)>;

/// The DRBD device behind a disk path, if it is one: /dev/drbdN, /dev/drbd/by-res/R[/V], or
/// any path whose symlinks resolve to /dev/drbdN (/dev/drbd/by-disk/…, udev names).
[[nodiscard]] std::optional<DeviceRef> drbd_device(const std::string& path, const PathResolver& resolve);

/// Resolves a path's symlinks; an error when it cannot (not_found: no such file).
using CheckedResolver = std::function<Result<std::string>(const std::string&)>;

/// The DRBD devices behind `disk_paths` (empty paths skipped). Fails closed: a path that cannot be
/// followed for any reason but "no such file" (a udev link to /dev/drbdN on a hung file system)
/// is an error, never "not on DRBD".
[[nodiscard]] Result<std::vector<DeviceRef>> disk_devices(const std::vector<std::string>& disk_paths,
                                                          const CheckedResolver& resolve);

/// Why a resource is not fit for what was asked; the text names the resource and its state.
struct Finding {
  std::string resource;
  std::string problem;
};

/// The resources that hold the devices (by name or minor); a device DRBD does not know is a
/// finding.
struct Selection {
  std::vector<const Resource*> resources;
  std::vector<Finding> findings;
};
[[nodiscard]] Selection select(const std::vector<Resource>& all, const std::vector<DeviceRef>& devices);

/// Start guard: every local disk UpToDate, no I/O suspension, no lost quorum, and either
/// Primary here or promotable now (DRBD 9 may_promote) — and no peer Primary, unless the
/// deployment is dual-primary by design (`dual_primary`: a promotable clone with
/// promoted-max=2, or allow-two-primaries), where this node must then be Primary itself and
/// Pacemaker alone keeps the VM on one node.
[[nodiscard]] std::vector<Finding> check_start(const Resource& resource, bool dual_primary = false);

/// Migration pre-flight towards `destination`: connected to it, its disks UpToDate, no resync,
/// and dual-primary possible — the destination already Primary, or `allow_two_primaries`.
[[nodiscard]] std::vector<Finding> check_migration(const Resource& resource, std::string_view destination,
                                                   bool allow_two_primaries);

/// "r0 (Secondary, disk UpToDate, peer node2 Primary/UpToDate)"
[[nodiscard]] std::string describe(const Resource& resource);

}  // namespace vmha::drbd
