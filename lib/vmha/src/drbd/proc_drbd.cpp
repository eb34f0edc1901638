// `/proc/drbd` (DRBD 8.4): a version banner, then per minor
// " N: cs:<cstate> ro:<local>/<peer> ds:<local>/<peer> <proto> <flags>", an indented counter
// line, and while syncing an indented progress block ("sync'ed: 25.0%", "finish: h:mm:ss").
#include <cctype>
#include <cstdint>
#include <optional>
#include <utility>

#include <fmt/core.h>

#include "vmha/drbd/parse.hpp"
#include "vmha/text.hpp"

namespace vmha::drbd {
namespace {

using detail::invalid;

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// The minor of " 0: cs:…", or nullopt when the line does not start with "<digits>:".
std::optional<int> minor_of(std::string_view trimmed) {
  const auto colon = trimmed.find(':');
  if (colon == 0 || colon == std::string_view::npos) return std::nullopt;
  for (std::size_t i = 0; i < colon; ++i) {
    if (std::isdigit(static_cast<unsigned char>(trimmed[i])) == 0) return std::nullopt;
  }
  return detail::parse_index(trimmed.substr(0, colon));
}

// "Primary/Secondary" → the two halves.
std::optional<std::pair<std::string_view, std::string_view>> pair_of(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos || text.find('/', slash + 1) != std::string_view::npos) return std::nullopt;
  return std::pair{text.substr(0, slash), text.substr(slash + 1)};
}

// "0:01:12" → 72.
std::optional<std::int64_t> duration_of(std::string_view text) {
  std::int64_t total = 0;
  int parts = 0;
  while (true) {
    const auto colon = text.find(':');
    const auto value = detail::parse_index(text.substr(0, colon));
    if (!value || ++parts > 3) return std::nullopt;
    total = total * 60 + *value;
    if (colon == std::string_view::npos) break;
    text.remove_prefix(colon + 1);
  }
  return total;
}

class Reader {
 public:
  explicit Reader(const MinorNames& names) : names_(names) {}

  Result<> line(std::size_t number, std::string_view text) {
    number_ = number;
    const std::string_view trimmed = trim(text);
    if (trimmed.empty()) return {};
    if (!banner_) {
      if (!trimmed.starts_with("version:")) return error("expected the 'version:' banner");
      banner_ = true;
      return {};
    }
    if (const auto minor = minor_of(trimmed)) return minor_line(*minor, trimmed.substr(trimmed.find(':') + 1));
    const bool indented = text.front() == ' ' || text.front() == '\t';
    if (indented && current_) return detail_line(trimmed);
    return {};  // the build tag, "Transports (api:…)", counters of an unconfigured minor, …
  }

  Result<std::vector<Resource>> finish() {
    if (!banner_) return fail(invalid("/proc/drbd: empty input"));
    return std::move(resources_);
  }

 private:
  tl::unexpected<Error> error(const std::string& what) const {
    return fail(invalid(fmt::format("/proc/drbd: line {}: {}", number_, what)));
  }

  Result<> minor_line(int minor, std::string_view rest) {
    current_ = false;
    const auto words = text::tokens(rest);
    if (words.empty() || !words[0].starts_with("cs:")) return error(fmt::format("minor {} has no cs:", minor));
    const std::string_view cstate = words[0].substr(3);
    if (cstate == "Unconfigured") return {};
    Resource resource;
    const auto name = names_.find(minor);
    resource.name = name != names_.end() ? name->second : fmt::format("minor-{}", minor);
    Volume& volume = resource.volumes.emplace_back();
    volume.minor = minor;
    Peer& peer = resource.peers.emplace_back();
    PeerVolume& peer_volume = peer.volumes.emplace_back();
    if (const auto state = connection_state_from_string(cstate)) {
      peer.connection = *state;
      peer_volume.replication =
          *state == ConnectionState::connected ? ReplicationState::established : ReplicationState::off;
    } else if (const auto replication = replication_state_from_string(cstate)) {
      peer.connection = ConnectionState::connected;
      peer_volume.replication = *replication;
    } else {
      return error(fmt::format("minor {}: unknown connection state cs:{}", minor, cstate));
    }
    bool roles = false;
    bool disks = false;
    for (std::size_t i = 1; i < words.size(); ++i) {
      const std::string_view word = words[i];
      if (word.starts_with("ro:") || word.starts_with("st:")) {  // st: before DRBD 8.3
        const auto both = pair_of(word.substr(3));
        const auto local = both ? role_from_string(both->first) : std::nullopt;
        const auto remote = both ? role_from_string(both->second) : std::nullopt;
        if (!local || !remote) return error(fmt::format("minor {}: unknown roles {}", minor, word));
        resource.role = *local;
        peer.role = *remote;
        roles = true;
      } else if (word.starts_with("ds:")) {
        const auto both = pair_of(word.substr(3));
        const auto local = both ? disk_state_from_string(both->first) : std::nullopt;
        const auto remote = both ? disk_state_from_string(both->second) : std::nullopt;
        if (!local || !remote) return error(fmt::format("minor {}: unknown disk states {}", minor, word));
        volume.disk = *local;
        peer_volume.disk = *remote;
        disks = true;
      } else if (disks && word.size() >= 4 && (word[0] == 'r' || word[0] == 's')) {
        resource.suspended = word[0] == 's';  // the I/O flag: s = suspended, r = running
      }
    }
    if (!roles) return error(fmt::format("minor {} has no ro:", minor));
    if (!disks) return error(fmt::format("minor {} has no ds:", minor));
    resources_.push_back(std::move(resource));
    current_ = true;
    return {};
  }

  // "[===>....] sync'ed: 25.0% (1536/2048)M", "finish: 0:01:12 speed: …"; others ignored.
  Result<> detail_line(std::string_view trimmed) {
    PeerVolume& volume = resources_.back().peers.back().volumes.back();
    for (const std::string_view key : {"sync'ed:", "verified:"}) {
      const auto at = trimmed.find(key);
      if (at == std::string_view::npos) continue;
      const std::string_view rest = trim(trimmed.substr(at + key.size()));
      const auto percent = detail::parse_decimal(rest.substr(0, rest.find('%')));
      if (!percent || *percent < 0 || *percent > 100 || rest.find('%') == std::string_view::npos) {
        return error(fmt::format("{} is not followed by a percentage", key));
      }
      volume.resync_percent = *percent;
      return {};
    }
    if (trimmed.starts_with("finish:")) {
      const auto words = text::tokens(trimmed);
      const auto seconds = words.size() >= 2 ? duration_of(words[1]) : std::nullopt;
      if (!seconds) return error("finish: is not followed by h:mm:ss");
      volume.eta_seconds = *seconds;
    }
    return {};
  }

  const MinorNames& names_;
  std::vector<Resource> resources_;
  std::size_t number_ = 0;
  bool banner_ = false;
  bool current_ = false;  ///< detail lines belong to the last resource
};

}  // namespace

Result<std::vector<Resource>> parse_proc_drbd(std::string_view text, const MinorNames& names) {
  VMHA_TRY(detail::check_size(text, "/proc/drbd"));
  Reader reader(names);
  std::size_t number = 0;
  for (const std::string_view line : text::lines(text)) {
    ++number;
    VMHA_TRY(reader.line(number, line));
  }
  return reader.finish();
}

}  // namespace vmha::drbd
