// `drbdsetup status --json` (DRBD 9): an array of resources with "devices" and "connections",
// each connection with "peer_devices" (underscore; every other key uses hyphens).
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "fuzz/drbd_status_json.hpp"

namespace vmha::drbd {
namespace {

using json = nlohmann::json;
using detail::invalid;

constexpr int kMaxDepth = 32;

// The deepest nesting of arrays and objects, outside strings; stops counting past the limit.
bool too_deep(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxDepth) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

tl::unexpected<Error> error(const std::string& where, const std::string& what) {
  return fail(invalid(fmt::format("status JSON: {}: {}", where, what)));
}

// Each reader leaves `out` alone when the key is missing (older or newer drbdsetup) and fails
// when it is there with the wrong type.
Result<> read_string(const json& object, const char* key, const std::string& where, std::string& out) {
  const auto it = object.find(key);
  if (it == object.end()) return {};
  if (!it->is_string()) return error(where, fmt::format("\"{}\" is not a string", key));
  out = it->get<std::string>();
  return {};
}

Result<> read_bool(const json& object, const char* key, const std::string& where, bool& out) {
  const auto it = object.find(key);
  if (it == object.end()) return {};
  if (!it->is_boolean()) return error(where, fmt::format("\"{}\" is not true or false", key));
  out = it->get<bool>();
  return {};
}

Result<> read_optional_bool(const json& object, const char* key, const std::string& where, std::optional<bool>& out) {
  if (object.find(key) == object.end()) return {};
  bool value = false;
  if (auto ok = read_bool(object, key, where, value); !ok) return ok;
  out = value;
  return {};
}

Result<std::optional<std::int64_t>> read_integer(const json& object, const char* key, const std::string& where) {
  const auto it = object.find(key);
  if (it == object.end()) return std::optional<std::int64_t>{};
  if (it->is_number_unsigned()) {
    const auto value = it->get<std::uint64_t>();
    if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return error(where, fmt::format("\"{}\" is out of range", key));
    }
    return std::optional<std::int64_t>{static_cast<std::int64_t>(value)};
  }
  if (it->is_number_integer()) return std::optional<std::int64_t>{it->get<std::int64_t>()};
  return error(where, fmt::format("\"{}\" is not an integer", key));
}

Result<std::optional<int>> read_index(const json& object, const char* key, const std::string& where) {
  auto value = read_integer(object, key, where);
  VMHA_TRY(value);
  if (!*value) return std::optional<int>{};
  if (**value < 0 || **value > std::numeric_limits<int>::max()) {
    return error(where, fmt::format("\"{}\" is out of range", key));
  }
  return std::optional<int>{static_cast<int>(**value)};
}

Result<std::optional<double>> read_number(const json& object, const char* key, const std::string& where) {
  const auto it = object.find(key);
  if (it == object.end()) return std::optional<double>{};
  if (!it->is_number()) return error(where, fmt::format("\"{}\" is not a number", key));
  const auto value = it->get<double>();
  if (!std::isfinite(value)) return error(where, fmt::format("\"{}\" is not a number", key));
  return std::optional<double>{value};
}

template <typename T>
Result<> read_state(const json& object, const char* key, const std::string& where,
                    std::optional<T> (*from)(std::string_view), T& out) {
  std::string text;
  if (object.find(key) == object.end()) return {};
  if (auto ok = read_string(object, key, where, text); !ok) return ok;
  const auto value = from(text);
  if (!value) return error(where, fmt::format("\"{}\" has an unknown value '{}'", key, text));
  out = *value;
  return {};
}

// An array under `key` (missing means empty); its elements must be objects.
Result<const json*> read_array(const json& object, const char* key, const std::string& where) {
  static const json kEmpty = json::array();
  const auto it = object.find(key);
  if (it == object.end()) return &kEmpty;
  if (!it->is_array()) return error(where, fmt::format("\"{}\" is not an array", key));
  for (const auto& element : *it) {
    if (!element.is_object()) return error(where, fmt::format("an element of \"{}\" is not an object", key));
  }
  return &*it;
}

Result<Volume> read_device(const json& device, const std::string& where) {
  Volume out;
  const auto number = read_index(device, "volume", where);
  VMHA_TRY(number);
  if (!*number) return error(where, "a device has no \"volume\"");
  out.number = **number;
  const std::string here = fmt::format("{} volume {}", where, out.number);
  const auto minor = read_index(device, "minor", here);
  VMHA_TRY(minor);
  out.minor = *minor;
  if (auto ok = read_state(device, "disk-state", here, disk_state_from_string, out.disk); !ok) {
    return fail(ok.error());
  }
  VMHA_TRY(read_bool(device, "client", here, out.client));
  VMHA_TRY(read_optional_bool(device, "quorum", here, out.quorum));
  return out;
}

Result<PeerVolume> read_peer_device(const json& device, const std::string& where) {
  PeerVolume out;
  const auto number = read_index(device, "volume", where);
  VMHA_TRY(number);
  if (!*number) return error(where, "a peer device has no \"volume\"");
  out.volume = **number;
  const std::string here = fmt::format("{} volume {}", where, out.volume);
  if (auto ok = read_state(device, "replication-state", here, replication_state_from_string, out.replication); !ok) {
    return fail(ok.error());
  }
  if (auto ok = read_state(device, "peer-disk-state", here, disk_state_from_string, out.disk); !ok) {
    return fail(ok.error());
  }
  VMHA_TRY(read_bool(device, "peer-client", here, out.client));
  const auto percent = read_number(device, "percent-resync-done", here);
  VMHA_TRY(percent);
  if (*percent && (**percent < 0 || **percent > 100)) return error(here, "\"percent-resync-done\" is not a percentage");
  out.resync_percent = *percent;
  const auto eta = read_number(device, "estimated-seconds-to-finish", here);
  VMHA_TRY(eta);
  if (*eta && **eta >= 0 && **eta < 1e12) out.eta_seconds = static_cast<std::int64_t>(**eta);
  return out;
}

Result<Peer> read_connection(const json& connection, const std::string& where) {
  Peer out;
  const auto node_id = read_index(connection, "peer-node-id", where);
  VMHA_TRY(node_id);
  out.node_id = *node_id;
  VMHA_TRY(read_string(connection, "name", where, out.name));
  const std::string here = fmt::format("{} connection {}", where, out.name.empty() ? "?" : out.name);
  if (auto ok = read_state(connection, "connection-state", here, connection_state_from_string, out.connection); !ok) {
    return fail(ok.error());
  }
  if (auto ok = read_state(connection, "peer-role", here, role_from_string, out.role); !ok) {
    return fail(ok.error());
  }
  const char* key = connection.contains("peer_devices") ? "peer_devices" : "peer-devices";
  const auto devices = read_array(connection, key, here);
  VMHA_TRY(devices);
  for (const auto& device : **devices) {
    auto volume = read_peer_device(device, here);
    VMHA_TRY(volume);
    out.volumes.push_back(*volume);
  }
  return out;
}

Result<Resource> read_resource(const json& resource, std::size_t index) {
  const std::string at = fmt::format("resource #{}", index);
  if (!resource.is_object()) return error(at, "not an object");
  Resource out;
  VMHA_TRY(read_string(resource, "name", at, out.name));
  if (out.name.empty()) return error(at, "no \"name\"");
  const std::string where = fmt::format("resource {}", out.name);
  if (auto ok = read_state(resource, "role", where, role_from_string, out.role); !ok) {
    return fail(ok.error());
  }
  VMHA_TRY(read_bool(resource, "suspended", where, out.suspended));
  if (auto ok = read_optional_bool(resource, "may_promote", where, out.may_promote); !ok) {
    return fail(ok.error());
  }
  const auto devices = read_array(resource, "devices", where);
  VMHA_TRY(devices);
  for (const auto& device : **devices) {
    auto volume = read_device(device, where);
    VMHA_TRY(volume);
    out.volumes.push_back(*volume);
  }
  const auto connections = read_array(resource, "connections", where);
  VMHA_TRY(connections);
  for (const auto& connection : **connections) {
    auto peer = read_connection(connection, where);
    VMHA_TRY(peer);
    out.peers.push_back(std::move(*peer));
  }
  out.quorum = combined_quorum(out.volumes);
  return out;
}

}  // namespace

Result<std::vector<Resource>> parse_status_json(std::string_view text) {
  VMHA_TRY(detail::check_size(text, "status JSON"));
  if (too_deep(text)) return fail(invalid(fmt::format("status JSON: nested deeper than {}", kMaxDepth)));
  const json document = json::parse(text.begin(), text.end(), nullptr, false);
  if (document.is_discarded()) return fail(invalid("status JSON: not valid JSON"));
  std::vector<Resource> out;
  if (document.is_object()) {
    auto resource = read_resource(document, 0);
    VMHA_TRY(resource);
    out.push_back(std::move(*resource));
    return out;
  }
  if (!document.is_array()) return fail(invalid("status JSON: not an array of resources"));
  for (std::size_t i = 0; i < document.size(); ++i) {
    auto resource = read_resource(document[i], i);
    VMHA_TRY(resource);
    out.push_back(std::move(*resource));
  }
  return out;
}

}  // namespace vmha::drbd
