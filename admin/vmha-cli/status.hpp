// `vmha status`: one screen for the people on call, from what Pacemaker, libvirt, DRBD and the
// agents' records already hold — nothing here makes a monitor do more work.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "vmha-cli/cluster.hpp"
#include "vmha/drbd/source.hpp"
#include "vmha/ocf/deadline.hpp"
#include "vmha/sys/clock.hpp"
#include "vmha/sys/files.hpp"
#include "vmha/virt/hypervisor.hpp"

namespace vmha::admin {

struct VmStatus {
  std::string id;
  std::string role;  ///< Pacemaker's: Started, Stopped…
  bool failed = false;
  std::vector<std::string> nodes;  ///< where Pacemaker has it active
  std::string domain;              ///< the domain the config names here
  std::string libvirt;             ///< "running (booted)", or why it is not known here
  std::vector<std::string> drbd;   ///< one line per DRBD resource: roles and disks on each node
  std::string guest_agent;         ///< the last depth-10 answer recorded on this node
  std::string last_move;           ///< the last migration: nodes, time, duration
  std::string last_start;          ///< the last start (a failover or recovery): node, time, duration
  std::string last_failure;        ///< the last failed operation's exit reason
};

struct StatusReport {
  std::string node;
  std::vector<VmStatus> vms;
};

/// What the status reads besides the cluster view.
struct StatusWorld {
  sys::FileSystem& files;
  drbd::StatusSource& drbd;
  std::function<virt::DomainReader&(const std::string& uri)> libvirt;
  /// The agent's liveness record of a resource on this node, rendered ("answered 12 s ago").
  std::function<std::string(const std::string& resource)> guest_agent;
};

[[nodiscard]] StatusReport read_status(const ClusterView& view, const std::string& node, StatusWorld& world,
                                       const ocf::Deadline& deadline);

[[nodiscard]] std::string render_text(const StatusReport& report);
[[nodiscard]] std::string render_json(const StatusReport& report);

}  // namespace vmha::admin
