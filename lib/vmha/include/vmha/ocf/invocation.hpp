// What Pacemaker tells an agent about this call, beyond its parameters.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vmha/result.hpp"
#include "vmha/sys/clock.hpp"
#include "vmha/sys/environment.hpp"

namespace vmha::ocf {

/// One notification set: resources and the nodes they are on, index-aligned.
struct NotifySet {
  std::vector<std::string> resources;
  std::vector<std::string> unames;
};

struct Notification {
  std::string type;       ///< "pre" or "post"
  std::string operation;  ///< "start", "stop", "promote", "demote"
  /// Keyed by the current names: start, stop, active, inactive, promote, demote, promoted,
  /// unpromoted, all, available. promoted/unpromoted fall back to master/slave.
  std::map<std::string, NotifySet, std::less<>> sets;

  [[nodiscard]] const NotifySet& set(std::string_view name) const;
};

struct Invocation {
  std::string action;
  std::string instance;                  ///< OCF_RESOURCE_INSTANCE as given, e.g. "p_vm:1"
  std::string resource;                  ///< the instance without a clone suffix ":N"
  std::optional<int> clone;              ///< N from the suffix, else CRM_meta_clone
  std::string type;                      ///< OCF_RESOURCE_TYPE
  std::optional<sys::Millis> timeout;    ///< CRM_meta_timeout (ms)
  sys::Millis interval{0};               ///< CRM_meta_interval (ms); 0 when absent
  int check_level = 0;                   ///< OCF_CHECK_LEVEL (or OCF_RESKEY_OCF_CHECK_LEVEL)
  std::string migrate_source;            ///< CRM_meta_migrate_source (node name)
  std::string migrate_target;            ///< CRM_meta_migrate_target (node name)
  std::string on_node;                   ///< CRM_meta_on_node
  std::optional<int> promoted_max;       ///< CRM_meta_promoted_max, else master_max
  std::optional<int> promoted_node_max;  ///< CRM_meta_promoted_node_max, else master_node_max
  Notification notify;

  /// A monitor (or status) with no interval: a probe.
  [[nodiscard]] bool is_probe() const;
};

/// Reads the invocation. Malformed numbers (a timeout of "abc") are errors with status 6.
[[nodiscard]] Result<Invocation> read_invocation(std::string action, const sys::Environment& env);

/// "p_vm:3" → {"p_vm", 3}; "p_vm" → {"p_vm", nullopt}.
[[nodiscard]] std::pair<std::string, std::optional<int>> split_clone_suffix(std::string_view instance);

}  // namespace vmha::ocf
