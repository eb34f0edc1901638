// What `vmha check` and `vmha status` know of the cluster: the ocf:vmha:VirtualDomain
// resources and their parameters (the CIB), where each is active (crm_mon) and the transient
// node attributes the agents publish (the CIB's status section).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "vmha/result.hpp"

namespace vmha::admin {

struct VmResource {
  std::string id;
  std::map<std::string, std::string> params;  ///< the primitive's instance attributes
  bool wanted = true;                         ///< target-role is not Stopped
  std::vector<std::string> active_on;         ///< the nodes crm_mon shows it active on
  bool failed = false;                        ///< crm_mon marks it failed
  std::string role;                           ///< crm_mon's role: Started, Stopped…

  [[nodiscard]] std::string param(const std::string& name, const std::string& fallback = {}) const;
};

struct ClusterNode {
  std::string name;
  bool online = false;
  bool standby = false;
};

/// One operation from a node's resource history (CIB status: lrm_rsc_op).
struct OperationRecord {
  std::string resource;
  std::string node;
  std::string operation;  ///< start, stop, migrate_to, migrate_from, monitor…
  int rc = 0;
  long long changed = 0;  ///< last-rc-change, seconds since the epoch
  long long exec_ms = 0;  ///< exec-time
  std::string exit_reason;
};

struct ClusterView {
  std::vector<ClusterNode> nodes;
  std::vector<VmResource> resources;  ///< ocf:vmha:VirtualDomain primitives only
  /// Transient node attributes: node → name → value.
  std::map<std::string, std::map<std::string, std::string>> attributes;
  std::vector<OperationRecord> history;  ///< of the VM resources, every node

  [[nodiscard]] std::string attribute(const std::string& node, const std::string& name) const;
};

/// Reads `cibadmin --query` and `crm_mon --output-as=xml` output. Errors: kind malformed.
[[nodiscard]] Result<ClusterView> read_cluster(const std::string& cib_xml, const std::string& crm_mon_xml);

}  // namespace vmha::admin
