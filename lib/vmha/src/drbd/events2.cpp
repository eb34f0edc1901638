// `drbdsetup events2 --now [--statistics] [--timestamps]`: one event a line,
// `[<timestamp> ]<action> <object> key:value…`, the initial dump ending at `exists -`.
#include <algorithm>
#include <array>
#include <cctype>
#include <iterator>
#include <utility>

#include <fmt/core.h>

#include "vmha/drbd/parse.hpp"
#include "vmha/text.hpp"

namespace vmha::drbd {
namespace {

using detail::invalid;

using Keys = std::vector<std::pair<std::string_view, std::string_view>>;

constexpr std::array<std::string_view, 7> kActions{"exists", "create",   "change", "destroy",
                                                   "call",   "response", "rename"};

// 2017-03-27T08:28:17.072611-07:00
bool is_timestamp(std::string_view token) {
  return token.size() >= 19 && token[4] == '-' && token[7] == '-' && token[10] == 'T' && token[13] == ':' &&
         std::isdigit(static_cast<unsigned char>(token[0])) != 0;
}

std::optional<std::string_view> find(const Keys& keys, std::string_view key) {
  for (const auto& [k, v] : keys) {
    if (k == key) return v;
  }
  return std::nullopt;
}

bool is_syncing(ReplicationState state) {
  switch (state) {
    case ReplicationState::syncsource:
    case ReplicationState::synctarget:
    case ReplicationState::pausedsyncs:
    case ReplicationState::pausedsynct:
    case ReplicationState::verifys:
    case ReplicationState::verifyt: return true;
    default: return false;
  }
}

class Model {
 public:
  Result<> apply(std::size_t number, std::string_view action, std::string_view object, const Keys& keys) {
    line_ = number;
    const auto name = find(keys, "name");
    if (!name || name->empty()) return error(fmt::format("{} event without name:", object));
    if (object == "resource") return apply_resource(action, *name, keys);
    Resource& resource = resource_named(*name);
    if (object == "connection") return apply_connection(action, resource, keys);
    if (object == "device") return apply_device(action, resource, keys);
    return apply_peer_device(action, resource, keys);
  }

  std::vector<Resource> take() {
    for (auto& resource : resources_) resource.quorum = combined_quorum(resource.volumes);
    return std::move(resources_);
  }

 private:
  tl::unexpected<Error> error(const std::string& what) const {
    return fail(invalid(fmt::format("events2: line {}: {}", line_, what)));
  }

  template <typename T>
  Result<> set_state(const Keys& keys, std::string_view key, std::optional<T> (*from)(std::string_view), T& out,
                     std::string_view what) const {
    const auto text = find(keys, key);
    if (!text) return {};
    const auto value = from(*text);
    if (!value) return error(fmt::format("unknown {} '{}' in {}:", what, *text, key));
    out = *value;
    return {};
  }

  Result<> set_flag(const Keys& keys, std::string_view key, bool& out) const {
    const auto text = find(keys, key);
    if (!text) return {};
    if (*text != "yes" && *text != "no") return error(fmt::format("{}:{} is neither yes nor no", key, *text));
    out = *text == "yes";
    return {};
  }

  Result<int> index(const Keys& keys, std::string_view key) const {
    const auto text = find(keys, key);
    if (!text) return error(fmt::format("no {}:", key));
    const auto value = detail::parse_index(*text);
    if (!value) return error(fmt::format("{}:{} is not a number", key, *text));
    return *value;
  }

  Resource& resource_named(std::string_view name) {
    auto it = std::find_if(resources_.begin(), resources_.end(), [&](const Resource& r) { return r.name == name; });
    if (it != resources_.end()) return *it;
    resources_.emplace_back().name = std::string(name);
    return resources_.back();
  }

  Result<> apply_resource(std::string_view action, std::string_view name, const Keys& keys) {
    if (action == "destroy") {
      std::erase_if(resources_, [&](const Resource& r) { return r.name == name; });
      return {};
    }
    Resource& resource = resource_named(name);
    if (action == "rename") {
      if (const auto renamed = find(keys, "new_name"); renamed && !renamed->empty()) resource.name = *renamed;
      return {};
    }
    if (auto ok = set_state(keys, "role", role_from_string, resource.role, "role"); !ok) return ok;
    if (const auto suspended = find(keys, "suspended")) resource.suspended = *suspended != "no";
    if (const auto may = find(keys, "may_promote")) resource.may_promote = *may == "yes";
    return {};
  }

  // DRBD 9 names a peer by peer-node-id; 8.4 userland and old tools only by conn-name.
  Result<Peer*> peer_of(Resource& resource, const Keys& keys, bool create) const {
    std::optional<int> node_id;
    if (find(keys, "peer-node-id")) {
      auto id = index(keys, "peer-node-id");
      VMHA_TRY(id);
      node_id = *id;
    }
    const auto conn_name = find(keys, "conn-name");
    auto it = std::find_if(resource.peers.begin(), resource.peers.end(), [&](const Peer& p) {
      if (node_id && p.node_id) return *node_id == *p.node_id;
      return conn_name && p.name == *conn_name;
    });
    if (it == resource.peers.end()) {
      if (!create) return nullptr;
      if (!node_id && !conn_name) return error("no peer-node-id: or conn-name:");
      resource.peers.push_back(Peer{});
      it = std::prev(resource.peers.end());
    }
    if (node_id) it->node_id = node_id;
    if (conn_name) it->name = *conn_name;
    return &*it;
  }

  Result<> apply_connection(std::string_view action, Resource& resource, const Keys& keys) {
    auto peer = peer_of(resource, keys, action != "destroy");
    VMHA_TRY(peer);
    if (*peer == nullptr) return {};
    if (action == "destroy") {
      std::erase_if(resource.peers, [&](const Peer& p) { return &p == *peer; });
      return {};
    }
    if (auto ok = set_state(keys, "connection", connection_state_from_string, (*peer)->connection, "connection state");
        !ok) {
      return ok;
    }
    return set_state(keys, "role", role_from_string, (*peer)->role, "role");
  }

  Result<> apply_device(std::string_view action, Resource& resource, const Keys& keys) {
    const auto number = index(keys, "volume");
    VMHA_TRY(number);
    if (action == "destroy") {
      std::erase_if(resource.volumes, [&](const Volume& v) { return v.number == *number; });
      return {};
    }
    auto it = std::find_if(resource.volumes.begin(), resource.volumes.end(),
                           [&](const Volume& v) { return v.number == *number; });
    if (it == resource.volumes.end()) {
      resource.volumes.emplace_back().number = *number;
      it = std::prev(resource.volumes.end());
    }
    if (find(keys, "minor")) {
      const auto minor = index(keys, "minor");
      VMHA_TRY(minor);
      it->minor = *minor;
    }
    if (auto ok = set_state(keys, "disk", disk_state_from_string, it->disk, "disk state"); !ok) return ok;
    if (auto ok = set_flag(keys, "client", it->client); !ok) return ok;
    if (find(keys, "quorum")) {
      bool quorum = false;
      if (auto ok = set_flag(keys, "quorum", quorum); !ok) return ok;
      it->quorum = quorum;
    }
    return {};
  }

  Result<> apply_peer_device(std::string_view action, Resource& resource, const Keys& keys) {
    const auto number = index(keys, "volume");
    VMHA_TRY(number);
    auto peer = peer_of(resource, keys, action != "destroy");
    VMHA_TRY(peer);
    if (*peer == nullptr) return {};
    auto& volumes = (*peer)->volumes;
    if (action == "destroy") {
      std::erase_if(volumes, [&](const PeerVolume& v) { return v.volume == *number; });
      return {};
    }
    auto it = std::find_if(volumes.begin(), volumes.end(), [&](const PeerVolume& v) { return v.volume == *number; });
    if (it == volumes.end()) {
      volumes.emplace_back().volume = *number;
      it = std::prev(volumes.end());
    }
    if (auto ok = set_state(keys, "replication", replication_state_from_string, it->replication, "replication state");
        !ok) {
      return ok;
    }
    if (auto ok = set_state(keys, "peer-disk", disk_state_from_string, it->disk, "disk state"); !ok) return ok;
    if (auto ok = set_flag(keys, "peer-client", it->client); !ok) return ok;
    if (const auto done = find(keys, "done")) {
      const auto percent = detail::parse_decimal(*done);
      if (!percent || *percent < 0 || *percent > 100) return error(fmt::format("done:{} is not a percentage", *done));
      it->resync_percent = *percent;
    } else if (!is_syncing(it->replication)) {
      it->resync_percent.reset();
      it->eta_seconds.reset();
    }
    return {};
  }

  std::vector<Resource> resources_;
  std::size_t line_ = 0;
};

}  // namespace

Result<std::vector<Resource>> parse_events2(std::string_view text) {
  VMHA_TRY(detail::check_size(text, "events2"));
  Model model;
  bool recognised = false;
  std::size_t number = 0;
  for (const std::string_view line : text::lines(text)) {
    ++number;
    auto words = text::tokens(line);
    if (words.empty()) continue;
    std::size_t first = 0;
    if (is_timestamp(words[0])) first = 1;
    if (words.size() <= first) return fail(invalid(fmt::format("events2: line {}: a timestamp alone", number)));
    const std::string_view action = words[first];
    if (action == "-") continue;  // "- skipped N": events were lost; what follows is still state
    if (std::find(kActions.begin(), kActions.end(), action) == kActions.end()) {
      return fail(invalid(fmt::format("events2: line {}: '{}' is not an events2 action", number, action)));
    }
    if (words.size() < first + 2) return fail(invalid(fmt::format("events2: line {}: no object", number)));
    const std::string_view object = words[first + 1];
    recognised = true;
    if (object == "-") continue;  // end of the initial dump
    if (action == "call" || action == "response") continue;
    if (object != "resource" && object != "connection" && object != "device" && object != "peer-device") continue;
    Keys keys;
    for (std::size_t i = first + 2; i < words.size(); ++i) {
      const auto colon = words[i].find(':');
      if (colon == std::string_view::npos || colon == 0) {
        return fail(invalid(fmt::format("events2: line {}: '{}' is not key:value", number, words[i])));
      }
      keys.emplace_back(words[i].substr(0, colon), words[i].substr(colon + 1));
    }
    VMHA_TRY(model.apply(number, action, object, keys));
  }
  if (!recognised) return fail(invalid("events2: no events in the input"));
  return model.take();
}

bool events2_dump_complete(std::string_view text) {
  for (const std::string_view line : text::lines(text)) {
    const auto words = text::tokens(line);
    const std::size_t first = !words.empty() && is_timestamp(words[0]) ? 1 : 0;
    if (words.size() == first + 2 && words[first] == "exists" && words[first + 1] == "-") return true;
  }
  return false;
}

}  // namespace vmha::drbd
