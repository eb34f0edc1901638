// `vmha check`: can this node run each ocf:vmha:VirtualDomain resource right now, and hold all
// of them at once if the other node is lost? Each finding names the resource and what is wrong.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "vmha-cli/cluster.hpp"
#include "vmha/drbd/guard.hpp"
#include "vmha/drbd/source.hpp"
#include "vmha/ocf/deadline.hpp"
#include "vmha/sys/files.hpp"
#include "vmha/virt/domain.hpp"
#include "vmha/virt/host.hpp"

namespace vmha::admin {

struct CheckOptions {
  std::string node;                         ///< this node's name in the cluster
  std::uint64_t memory_reserve_mib = 1024;  ///< kept for the host itself
  double vcpu_ratio = 1.0;                  ///< vCPUs allowed per host CPU
};

struct Finding {
  std::string subject;   ///< the resource, or "capacity"
  std::string check;     ///< config, drift, disk, drbd, network, bridge, machine, cpu, memory, vcpus, cluster
  std::string problem;   ///< one line
  bool unknown = false;  ///< could not be checked (rather than: checked and wrong)
};

struct Capacity {
  bool known = false;
  int vms = 0;  ///< the VMs counted: every resource not stopped on purpose
  std::uint64_t need_kib = 0;
  std::uint64_t reserve_kib = 0;
  std::uint64_t have_kib = 0;
  unsigned vcpus = 0;
  unsigned cpus = 0;
  double vcpu_ratio = 1.0;
};

struct CheckReport {
  std::string node;
  std::vector<std::string> resources;  ///< checked, in CIB order
  std::vector<Finding> findings;
  Capacity capacity;
  long long took_ms = 0;

  /// 0 ready, 1 not ready (a problem), 2 could not check (no problem found, something unknown).
  [[nodiscard]] int exit_code() const;
};

/// What the check reads besides the cluster view; a real and a fake implementation each.
struct CheckWorld {
  sys::FileSystem& files;
  drbd::StatusSource& drbd;
  /// The host behind a libvirt URI ("" = libvirt's default), made once per URI.
  std::function<virt::HostInspector&(const std::string& uri)> host;
  /// A network interface (a bridge) of this name exists in this node's network namespace.
  std::function<bool(const std::string& name)> interface_exists;
};

/// The DRBD devices a VM uses: those drbd_resources names ("none": none), else its disks'. An
/// error when a disk's link cannot be followed (anything but "no such file").
[[nodiscard]] Result<std::vector<drbd::DeviceRef>> vm_drbd_devices(const VmResource& vm, const virt::DomainXml& domain,
                                                                   sys::FileSystem& files,
                                                                   const ocf::Deadline& deadline);

[[nodiscard]] CheckReport run_check(const ClusterView& view, const CheckOptions& options, CheckWorld& world,
                                    const ocf::Deadline& deadline);

[[nodiscard]] std::string render_text(const CheckReport& report);
[[nodiscard]] std::string render_json(const CheckReport& report);

}  // namespace vmha::admin
