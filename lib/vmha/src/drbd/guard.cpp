#include "vmha/drbd/guard.hpp"

#include <algorithm>

#include <fmt/core.h>

#include "vmha/drbd/parse.hpp"

namespace vmha::drbd {
namespace {

constexpr std::string_view kMinorPrefix = "/dev/drbd";
constexpr std::string_view kByRes = "/dev/drbd/by-res/";

std::optional<int> minor_of(std::string_view path) {
  if (path.substr(0, kMinorPrefix.size()) != kMinorPrefix) return std::nullopt;
  return detail::parse_index(path.substr(kMinorPrefix.size()));
}

bool syncing(ReplicationState state) {
  return state != ReplicationState::off && state != ReplicationState::established;
}

std::string peer_text(const Peer& peer) {
  std::string disks;
  for (const auto& v : peer.volumes) disks += fmt::format("{}{}", disks.empty() ? "" : ",", to_string(v.disk));
  return fmt::format("peer {} {}/{}", peer.name.empty() ? "?" : peer.name, to_string(peer.role),
                     disks.empty() ? "DUnknown" : disks);
}

}  // namespace

std::optional<DeviceRef> drbd_device(const std::string& path, const PathResolver& resolve) {
  if (const auto minor = minor_of(path)) return DeviceRef{{}, std::nullopt, minor, path};
  if (path.substr(0, kByRes.size()) == kByRes) {
    const std::string_view rest = std::string_view(path).substr(kByRes.size());
    const auto slash = rest.find('/');
    DeviceRef ref{std::string(rest.substr(0, slash)), std::nullopt, std::nullopt, path};
    if (slash != std::string_view::npos) ref.volume = detail::parse_index(rest.substr(slash + 1));
    if (!ref.resource.empty()) return ref;
  }
  if (path.empty() || path.front() != '/') return std::nullopt;
  const std::string real = resolve(path);
  if (real != path) {
    if (const auto minor = minor_of(real)) return DeviceRef{{}, std::nullopt, minor, path};
  }
  return std::nullopt;
}

Result<std::vector<DeviceRef>> disk_devices(const std::vector<std::string>& disk_paths,
                                            const CheckedResolver& resolve) {
  std::vector<DeviceRef> devices;
  std::optional<Error> unresolved;
  const auto resolved = [&resolve, &unresolved](const std::string& path) {
    auto real = resolve(path);
    if (!real && real.error().kind != ErrorKind::not_found && !unresolved) unresolved = real.error();
    return real ? *real : path;
  };
  for (const auto& path : disk_paths) {
    if (path.empty()) continue;
    if (auto device = drbd_device(path, resolved)) devices.push_back(std::move(*device));
    if (unresolved) {
      return fail(unresolved->kind,
                  fmt::format("cannot tell whether disk {} is on DRBD: {}", path, unresolved->reason));
    }
  }
  return devices;
}

Selection select(const std::vector<Resource>& all, const std::vector<DeviceRef>& devices) {
  Selection out;
  for (const auto& device : devices) {
    const Resource* found = nullptr;
    for (const auto& resource : all) {
      const bool by_name = !device.resource.empty() && resource.name == device.resource;
      const bool by_minor = device.minor && std::any_of(resource.volumes.begin(), resource.volumes.end(),
                                                        [&](const Volume& v) { return v.minor == device.minor; });
      if (by_name || by_minor) found = &resource;
    }
    const std::string label = device.resource.empty() ? device.path : device.resource;
    if (found == nullptr) {
      out.findings.push_back({label, fmt::format("DRBD resource {} is not configured or not up on this node", label)});
    } else if (std::find(out.resources.begin(), out.resources.end(), found) == out.resources.end()) {
      out.resources.push_back(found);
    }
  }
  return out;
}

std::string describe(const Resource& r) {
  std::string disks;
  for (const auto& v : r.volumes) disks += fmt::format("{}{}", disks.empty() ? "" : ",", to_string(v.disk));
  std::string text = fmt::format("{} ({}, disk {}", r.name, to_string(r.role), disks.empty() ? "none" : disks);
  for (const auto& peer : r.peers) text += ", " + peer_text(peer);
  return text + ")";
}

std::vector<Finding> check_start(const Resource& r, bool dual_primary) {
  std::vector<Finding> out;
  const auto add = [&](std::string why) { out.push_back({r.name, fmt::format("{}: {}", describe(r), why)}); };
  if (r.volumes.empty()) add("no local volume");
  for (const auto& v : r.volumes) {
    if (v.disk != DiskState::uptodate) add(fmt::format("volume {} is {}, not UpToDate", v.number, to_string(v.disk)));
  }
  if (r.suspended) add("I/O is suspended");
  if (r.quorum == false) add("quorum is lost");
  const bool here = r.role == Role::primary;
  for (const auto& peer : r.peers) {
    if (peer.role == Role::primary && !(dual_primary && here)) {
      add(fmt::format("{} is Primary{}", peer.name.empty() ? "a peer" : peer.name,
                      dual_primary ? " and this node is not" : ": its data may be in use there"));
    }
  }
  if (here || !out.empty()) return out;
  if (!r.may_promote) {
    add("Secondary here, and DRBD 8.4 cannot auto-promote: promote it first (a promotable ocf:linbit:drbd clone)");
  } else if (!*r.may_promote) {
    add("Secondary here, and DRBD says it may not be promoted now (may_promote:no)");
  }
  return out;
}

std::vector<Finding> check_migration(const Resource& r, std::string_view destination, bool allow_two_primaries) {
  std::vector<Finding> out;
  const auto add = [&](std::string why) { out.push_back({r.name, fmt::format("{}: {}", describe(r), why)}); };
  for (const auto& v : r.volumes) {
    if (v.disk != DiskState::uptodate) add(fmt::format("volume {} is {} here", v.number, to_string(v.disk)));
  }
  const Peer* peer = r.peer(destination);
  if (peer == nullptr) {
    add(fmt::format("no DRBD connection to {} (its DRBD host name must be the node name)", destination));
    return out;
  }
  if (peer->connection != ConnectionState::connected) {
    add(fmt::format("the connection to {} is {}", destination, to_string(peer->connection)));
    return out;
  }
  for (const auto& v : peer->volumes) {
    if (syncing(v.replication)) {
      add(fmt::format("volume {} is resyncing ({}{})", v.volume, to_string(v.replication),
                      v.resync_percent ? fmt::format(", {:.1f}% done", *v.resync_percent) : ""));
    } else if (v.disk != DiskState::uptodate) {
      add(fmt::format("{}'s volume {} is {}, not UpToDate", destination, v.volume, to_string(v.disk)));
    }
  }
  if (peer->volumes.empty()) add(fmt::format("{} reports no volumes", destination));
  if (peer->role != Role::primary && !allow_two_primaries) {
    add(
        fmt::format("{} is {} and dual-primary is not allowed: run a promotable clone with promoted-max=2, or set "
                    "drbd_allow_two_primaries=true for a resource with allow-two-primaries and auto-promote",
                    destination, to_string(peer->role)));
  }
  return out;
}

}  // namespace vmha::drbd
