#include "vmha/drbd/state.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <utility>

#include <fmt/core.h>

#include "vmha/drbd/parse.hpp"

namespace vmha::drbd {
namespace {

// Lower case without '-', '_' and spaces: "Up-To-Date", "UpToDate" and "uptodate" all match.
std::string normalised(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '-' || c == '_' || c == ' ') continue;
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return out;
}

template <typename Enum, std::size_t N>
std::optional<Enum> lookup(const std::array<std::pair<std::string_view, Enum>, N>& names, std::string_view text) {
  const std::string key = normalised(text);
  for (const auto& [name, value] : names) {
    if (name == key) return value;
  }
  return std::nullopt;
}

constexpr std::array kRoles{
    std::pair<std::string_view, Role>{"primary", Role::primary},
    std::pair<std::string_view, Role>{"secondary", Role::secondary},
    std::pair<std::string_view, Role>{"unknown", Role::unknown},
};

constexpr std::array kDiskStates{
    std::pair<std::string_view, DiskState>{"diskless", DiskState::diskless},
    std::pair<std::string_view, DiskState>{"attaching", DiskState::attaching},
    std::pair<std::string_view, DiskState>{"detaching", DiskState::detaching},
    std::pair<std::string_view, DiskState>{"failed", DiskState::failed},
    std::pair<std::string_view, DiskState>{"negotiating", DiskState::negotiating},
    std::pair<std::string_view, DiskState>{"inconsistent", DiskState::inconsistent},
    std::pair<std::string_view, DiskState>{"outdated", DiskState::outdated},
    std::pair<std::string_view, DiskState>{"dunknown", DiskState::dunknown},
    std::pair<std::string_view, DiskState>{"unknown", DiskState::dunknown},
    std::pair<std::string_view, DiskState>{"consistent", DiskState::consistent},
    std::pair<std::string_view, DiskState>{"uptodate", DiskState::uptodate},
};

constexpr std::array kConnectionStates{
    std::pair<std::string_view, ConnectionState>{"standalone", ConnectionState::standalone},
    std::pair<std::string_view, ConnectionState>{"disconnecting", ConnectionState::disconnecting},
    std::pair<std::string_view, ConnectionState>{"unconnected", ConnectionState::unconnected},
    std::pair<std::string_view, ConnectionState>{"timeout", ConnectionState::timeout},
    std::pair<std::string_view, ConnectionState>{"brokenpipe", ConnectionState::broken_pipe},
    std::pair<std::string_view, ConnectionState>{"networkfailure", ConnectionState::network_failure},
    std::pair<std::string_view, ConnectionState>{"protocolerror", ConnectionState::protocol_error},
    std::pair<std::string_view, ConnectionState>{"teardown", ConnectionState::teardown},
    std::pair<std::string_view, ConnectionState>{"connecting", ConnectionState::connecting},
    std::pair<std::string_view, ConnectionState>{"wfconnection", ConnectionState::connecting},
    std::pair<std::string_view, ConnectionState>{"wfreportparams", ConnectionState::connecting},
    std::pair<std::string_view, ConnectionState>{"connected", ConnectionState::connected},
};

constexpr std::array kReplicationStates{
    std::pair<std::string_view, ReplicationState>{"off", ReplicationState::off},
    std::pair<std::string_view, ReplicationState>{"established", ReplicationState::established},
    std::pair<std::string_view, ReplicationState>{"connected", ReplicationState::established},
    std::pair<std::string_view, ReplicationState>{"startingsyncs", ReplicationState::startingsyncsource},
    std::pair<std::string_view, ReplicationState>{"startingsyncsource", ReplicationState::startingsyncsource},
    std::pair<std::string_view, ReplicationState>{"startingsynct", ReplicationState::startingsynctarget},
    std::pair<std::string_view, ReplicationState>{"startingsynctarget", ReplicationState::startingsynctarget},
    std::pair<std::string_view, ReplicationState>{"wfbitmaps", ReplicationState::wfbitmaps},
    std::pair<std::string_view, ReplicationState>{"wfbitmapt", ReplicationState::wfbitmapt},
    std::pair<std::string_view, ReplicationState>{"wfsyncuuid", ReplicationState::wfsyncuuid},
    std::pair<std::string_view, ReplicationState>{"syncsource", ReplicationState::syncsource},
    std::pair<std::string_view, ReplicationState>{"synctarget", ReplicationState::synctarget},
    std::pair<std::string_view, ReplicationState>{"pausedsyncs", ReplicationState::pausedsyncs},
    std::pair<std::string_view, ReplicationState>{"pausedsynct", ReplicationState::pausedsynct},
    std::pair<std::string_view, ReplicationState>{"verifys", ReplicationState::verifys},
    std::pair<std::string_view, ReplicationState>{"verifyt", ReplicationState::verifyt},
    std::pair<std::string_view, ReplicationState>{"ahead", ReplicationState::ahead},
    std::pair<std::string_view, ReplicationState>{"behind", ReplicationState::behind},
};

}  // namespace

const PeerVolume* Peer::volume(int number) const {
  const auto it = std::find_if(volumes.begin(), volumes.end(), [&](const PeerVolume& v) { return v.volume == number; });
  return it == volumes.end() ? nullptr : &*it;
}

const Volume* Resource::volume(int number) const {
  const auto it = std::find_if(volumes.begin(), volumes.end(), [&](const Volume& v) { return v.number == number; });
  return it == volumes.end() ? nullptr : &*it;
}

const Peer* Resource::peer(std::string_view peer_name) const {
  const auto it = std::find_if(peers.begin(), peers.end(), [&](const Peer& p) { return p.name == peer_name; });
  return it == peers.end() ? nullptr : &*it;
}

std::string_view to_string(Role role) noexcept {
  switch (role) {
    case Role::primary: return "Primary";
    case Role::secondary: return "Secondary";
    case Role::unknown: return "Unknown";
  }
  return "Unknown";
}

std::string_view to_string(DiskState state) noexcept {
  switch (state) {
    case DiskState::diskless: return "Diskless";
    case DiskState::attaching: return "Attaching";
    case DiskState::detaching: return "Detaching";
    case DiskState::failed: return "Failed";
    case DiskState::negotiating: return "Negotiating";
    case DiskState::inconsistent: return "Inconsistent";
    case DiskState::outdated: return "Outdated";
    case DiskState::dunknown: return "DUnknown";
    case DiskState::consistent: return "Consistent";
    case DiskState::uptodate: return "UpToDate";
  }
  return "DUnknown";
}

std::string_view to_string(ConnectionState state) noexcept {
  switch (state) {
    case ConnectionState::standalone: return "StandAlone";
    case ConnectionState::disconnecting: return "Disconnecting";
    case ConnectionState::unconnected: return "Unconnected";
    case ConnectionState::timeout: return "Timeout";
    case ConnectionState::broken_pipe: return "BrokenPipe";
    case ConnectionState::network_failure: return "NetworkFailure";
    case ConnectionState::protocol_error: return "ProtocolError";
    case ConnectionState::teardown: return "TearDown";
    case ConnectionState::connecting: return "Connecting";
    case ConnectionState::connected: return "Connected";
  }
  return "StandAlone";
}

std::string_view to_string(ReplicationState state) noexcept {
  switch (state) {
    case ReplicationState::off: return "Off";
    case ReplicationState::established: return "Established";
    case ReplicationState::startingsyncsource: return "StartingSyncS";
    case ReplicationState::startingsynctarget: return "StartingSyncT";
    case ReplicationState::wfbitmaps: return "WFBitMapS";
    case ReplicationState::wfbitmapt: return "WFBitMapT";
    case ReplicationState::wfsyncuuid: return "WFSyncUUID";
    case ReplicationState::syncsource: return "SyncSource";
    case ReplicationState::synctarget: return "SyncTarget";
    case ReplicationState::pausedsyncs: return "PausedSyncS";
    case ReplicationState::pausedsynct: return "PausedSyncT";
    case ReplicationState::verifys: return "VerifyS";
    case ReplicationState::verifyt: return "VerifyT";
    case ReplicationState::ahead: return "Ahead";
    case ReplicationState::behind: return "Behind";
  }
  return "Off";
}

std::optional<Role> role_from_string(std::string_view text) {
  return lookup(kRoles, text);
}

std::optional<DiskState> disk_state_from_string(std::string_view text) {
  return lookup(kDiskStates, text);
}

std::optional<ConnectionState> connection_state_from_string(std::string_view text) {
  return lookup(kConnectionStates, text);
}

std::optional<ReplicationState> replication_state_from_string(std::string_view text) {
  return lookup(kReplicationStates, text);
}

std::optional<bool> combined_quorum(const std::vector<Volume>& volumes) {
  std::optional<bool> out;
  for (const auto& volume : volumes) {
    if (!volume.quorum) continue;
    if (!*volume.quorum) return false;
    out = true;
  }
  return out;
}

namespace detail {

Error invalid(std::string reason) {
  return Error{ErrorKind::invalid, std::move(reason)};
}

Result<> check_size(std::string_view text, std::string_view what) {
  if (text.size() > kMaxStateText) {
    return fail(invalid(fmt::format("{}: {} bytes is more than the limit of {}", what, text.size(), kMaxStateText)));
  }
  return {};
}

std::optional<int> parse_index(std::string_view text) {
  int value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end || value < 0) return std::nullopt;
  return value;
}

std::optional<double> parse_decimal(std::string_view text) {
  double value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value, std::chars_format::fixed);
  if (text.empty() || ec != std::errc{} || ptr != end || !std::isfinite(value)) return std::nullopt;
  return value;
}

}  // namespace detail

}  // namespace vmha::drbd
