// Evidence about a domain's QEMU process for when libvirtd cannot answer, or cannot be believed.
//
// libvirt's QEMU driver writes <run dir>/qemu/<name>.pid while a domain runs. That file lives
// in this node's libvirt run directory, so unlike a `ps | grep` it never sees another node's
// VM. Only positive evidence counts as "gone": no pid file (ENOENT), no such process, or a
// pidfd saying the whole thread group has exited. A leader thread in state Z whose other
// threads still run (a QEMU with an I/O thread stuck on hung storage) is alive.
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

/// Each call is bounded by its deadline: a read of /proc that does not answer (a process's command
/// line waits for its memory-map lock, which a QEMU stuck on hung storage can hold) is "unknown".
class QemuProcesses {
 public:
  virtual ~QemuProcesses() = default;
  /// The domain's QEMU as the pid file names it. An unknown result keeps the pid when there is one.
  [[nodiscard]] virtual ProcessCheck check(const DomainRef& domain, const ocf::Deadline& deadline) = 0;
  /// Whether the process `pid`, seen running the domain earlier, still does.
  [[nodiscard]] virtual ProcessCheck check_pid(const DomainRef& domain, int pid, const ocf::Deadline& deadline) = 0;
  /// Whether the process `pid` — its whole thread group — still exists, whatever it runs (no
  /// command line needed): libvirt may call a domain destroyed while its QEMU lives on.
  [[nodiscard]] virtual Evidence process_state(int pid, const ocf::Deadline& deadline) = 0;
  /// SIGKILLs the domain's QEMU (through a pidfd, after checking again that it is that
  /// domain's) and waits, until `deadline`, for its whole thread group to be gone.
  [[nodiscard]] virtual Result<void> kill(const DomainRef& domain, const ocf::Deadline& deadline) = 0;
  /// The same for the process `pid`, seen running the domain earlier.
  [[nodiscard]] virtual Result<void> kill_pid(const DomainRef& domain, int pid, const ocf::Deadline& deadline) = 0;
  /// Which daemon process serves this node's libvirt socket ("pid start-time"), nullopt when
  /// unknown. A call left with one daemon cannot be carried out by the next.
  [[nodiscard]] virtual std::optional<std::string> daemon_instance() = 0;
};

/// Where this node's libvirt daemon for a URI lives, when the URI names a local one.
struct LocalDaemon {
  std::string socket;   ///< the daemon's unix socket
  std::string pid_dir;  ///< the QEMU driver's pid files
};

/// qemu:///system (and an empty URI): /run/libvirt/virtqemud-sock when it exists (libvirt's
/// modular daemons), else /run/libvirt/libvirt-sock (libvirtd), as libvirt's client chooses;
/// pid files in /run/libvirt/qemu. A socket given as ?socket=<dir>/<name> → <dir>/qemu.
/// nullopt for remote, session and other drivers.
[[nodiscard]] std::optional<LocalDaemon> local_daemon(std::string_view uri, std::string_view run_dir = "/run/libvirt");

/// Reads <pid_dir>/<name>.pid and <proc_root>/<pid>/…, and pidfds.
class ProcQemuProcesses final : public QemuProcesses {
 public:
  explicit ProcQemuProcesses(LocalDaemon daemon, std::string proc_root = "/proc")
      : daemon_(std::move(daemon)), proc_root_(std::move(proc_root)) {}
  [[nodiscard]] ProcessCheck check(const DomainRef& domain, const ocf::Deadline& deadline) override;
  [[nodiscard]] ProcessCheck check_pid(const DomainRef& domain, int pid, const ocf::Deadline& deadline) override;
  [[nodiscard]] Evidence process_state(int pid, const ocf::Deadline& deadline) override;
  [[nodiscard]] Result<void> kill(const DomainRef& domain, const ocf::Deadline& deadline) override;
  [[nodiscard]] Result<void> kill_pid(const DomainRef& domain, int pid, const ocf::Deadline& deadline) override;
  [[nodiscard]] std::optional<std::string> daemon_instance() override;

 private:
  LocalDaemon daemon_;
  std::string proc_root_;
};

}  // namespace vmha::virt
