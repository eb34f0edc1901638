// The VirtualDomain parameters, read once into typed fields.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "vmha/ocf/params.hpp"
#include "vmha/result.hpp"

namespace vmha::agents {

struct Settings {
  std::string config;      ///< absolute path of the domain XML
  std::string hypervisor;  ///< libvirt URI; empty = libvirt's default
  bool force_stop = false;
  unsigned shutdown_methods = 0;  ///< virt::ShutdownMethod bits from shutdown_mode
  std::string snapshot;           ///< directory for saved state, or empty
  bool save_config = false;       ///< save_config_on_stop (or implied by sync_config_on_stop)
  bool sync_config = false;
  std::vector<std::string> monitor_scripts;
  bool autoset_cpu = true, autoset_host_memory = true, autoset_hv_memory = true;
  bool unset_cpu = false, unset_host_memory = false, unset_hv_memory = false;
  std::string backingfile;
  bool stateless = false;
  std::vector<std::string> copyindirs;
  bool start_resources = false;
  std::chrono::seconds destroy_reserve{20};
  bool pmsuspended_is_running = true;
};

/// Reads the parameters (already type-checked against the meta-data) and checks what is
/// wrong on every node: errors have status 6 and name the parameter.
[[nodiscard]] Result<Settings> read_settings(const ocf::Params& params);

/// The qcow2 overlay used with backingfile: the config path with its extension replaced,
/// e.g. /etc/libvirt/qemu/vm1.xml → /etc/libvirt/qemu/vm1.qcow2.
[[nodiscard]] std::string overlay_path(const std::string& config);

}  // namespace vmha::agents
