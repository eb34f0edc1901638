// Evidence about a domain's QEMU process for when libvirtd cannot answer.
//
// libvirt's QEMU driver writes <run dir>/qemu/<name>.pid while a domain runs and removes it
// when the domain stops. That file lives in this node's libvirt run directory, so unlike a
// `ps | grep` it never sees another node's VM; the process is then checked in /proc: alive
// (not a zombie) and carrying the domain's UUID on its command line.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "vmha/ocf/deadline.hpp"
#include "vmha/result.hpp"
#include "vmha/virt/domain.hpp"

namespace vmha::virt {

enum class Evidence {
  running,  ///< a live QEMU process runs this domain
  gone,     ///< provably not running here
  unknown,  ///< cannot tell
};

struct ProcessCheck {
  Evidence evidence = Evidence::unknown;
  int pid = 0;         ///< the QEMU pid when running
  std::string detail;  ///< for logs and exit reasons
};

class QemuProcesses {
 public:
  virtual ~QemuProcesses() = default;
  [[nodiscard]] virtual ProcessCheck check(const DomainRef& domain) = 0;
  /// SIGKILLs the domain's QEMU (after checking again that it is that domain's) and waits,
  /// until `deadline`, for it to be gone: a power-off without libvirt.
  [[nodiscard]] virtual Result<void> kill(const DomainRef& domain, const ocf::Deadline& deadline) = 0;
};

/// Reads <pid_dir>/<name>.pid and <proc_root>/<pid>/{stat,cmdline}.
class ProcQemuProcesses final : public QemuProcesses {
 public:
  explicit ProcQemuProcesses(std::string pid_dir, std::string proc_root = "/proc")
      : pid_dir_(std::move(pid_dir)), proc_root_(std::move(proc_root)) {}
  [[nodiscard]] ProcessCheck check(const DomainRef& domain) override;
  [[nodiscard]] Result<void> kill(const DomainRef& domain, const ocf::Deadline& deadline) override;

 private:
  std::string pid_dir_;
  std::string proc_root_;
};

/// Where the QEMU driver behind `uri` keeps its pid files, when that is a local directory:
/// qemu:///system (and an empty URI) → /run/libvirt/qemu; a unix socket given as
/// ?socket=<dir>/libvirt-sock → <dir>/qemu. nullopt for remote, session and other drivers.
[[nodiscard]] std::optional<std::string> qemu_pid_dir(std::string_view uri);

}  // namespace vmha::virt
