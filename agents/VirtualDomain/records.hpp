// Small files the agent keeps under HA_RSCTMP (/run/resource-agents, emptied at boot).
//
// The domain record names the domain this resource started on this node since boot, so
// stop and probe can still find it when the config file is missing; its absence proves the
// agent did not start the domain here since boot. The utilization record holds the values
// last written to the CIB, so a monitor only spawns crm_resource when one changed.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "vmha/sys/environment.hpp"
#include "vmha/virt/domain.hpp"

namespace vmha::agents {

class Records {
 public:
  /// `key` names the resource (the instance without clone suffix); empty disables records.
  Records(std::string dir, std::string key) : dir_(std::move(dir)), key_(std::move(key)) {}
  static Records from_environment(const sys::Environment& env, const std::string& resource);

  [[nodiscard]] bool enabled() const { return !key_.empty(); }
  [[nodiscard]] std::optional<virt::DomainRef> domain() const;
  /// Writes only when the content changes. Failures are returned as false (the caller logs).
  bool remember_domain(const virt::DomainRef& domain) const;
  bool forget_domain() const;

  /// The domain named by `config`, as last read from it, while the file is unchanged
  /// (same device, inode, size and times): the monitor's fast path needs no XML parser.
  [[nodiscard]] std::optional<virt::DomainRef> config_identity(const std::string& config) const;
  bool remember_config_identity(const std::string& config, const virt::DomainRef& domain) const;

  [[nodiscard]] std::map<std::string, std::string> utilization() const;
  bool remember_utilization(const std::map<std::string, std::string>& values) const;

  [[nodiscard]] std::string path(std::string_view kind) const;

 private:
  std::string dir_;
  std::string key_;
};

}  // namespace vmha::agents
