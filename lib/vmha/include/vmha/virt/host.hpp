// What `vmha check` asks a node's libvirt about the host itself: its networks, what its
// emulators offer, whether a guest CPU runs here, and its size. Read-only; every call bounded.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "vmha/ocf/deadline.hpp"
#include "vmha/result.hpp"

namespace vmha::virt {

struct HostSize {
  std::uint64_t memory_kib = 0;
  unsigned cpus = 0;
};

/// How a domain asks for its machine: what virConnectGetDomainCapabilities takes.
struct MachineRequest {
  std::string emulator;   ///< empty: libvirt's default for the arch
  std::string arch;       ///< empty: the host's
  std::string machine;    ///< empty: the emulator's default
  std::string virt_type;  ///< the domain type: kvm, qemu
};

class HostInspector {
 public:
  virtual ~HostInspector() = default;
  /// Whether the libvirt network is active; an Error of kind not_found when it does not exist.
  [[nodiscard]] virtual Result<bool> network_active(const std::string& name, const ocf::Deadline& deadline) = 0;
  /// The emulator offers this arch, machine type and domain type here; an Error of kind
  /// invalid, with libvirt's words, when it does not.
  [[nodiscard]] virtual Result<void> offers(const MachineRequest& machine, const ocf::Deadline& deadline) = 0;
  /// The guest CPU (<cpu> element) can run here with that machine; an Error of kind invalid,
  /// with libvirt's words, when it cannot.
  [[nodiscard]] virtual Result<void> runs_cpu(const MachineRequest& machine, const std::string& cpu_xml,
                                              const ocf::Deadline& deadline) = 0;
  [[nodiscard]] virtual Result<HostSize> size(const ocf::Deadline& deadline) = 0;
};

}  // namespace vmha::virt
