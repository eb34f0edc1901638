#include "vmha/virt/qemu_processes.hpp"

#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <vector>

#include <fmt/core.h>

#include "vmha/sys/files.hpp"
#include "vmha/sys/unique_fd.hpp"
#include "vmha/text.hpp"

namespace vmha::virt {
namespace {

constexpr std::size_t kMaxProcFile = 1U << 20U;
/// The longest one read of the evidence may take: reading a process's command line takes its
/// memory-map lock, which a QEMU stuck in a page fault on hung storage can hold.
constexpr sys::Millis kProcReadTime{2'000};

/// A file of /proc or of libvirt's run directory, read within kProcReadTime and the deadline.
Result<std::string> read_evidence(const std::string& path, const ocf::Deadline& deadline) {
  const auto bound = std::min(kProcReadTime, deadline.remaining());
  auto content = sys::BoundedFileSystem().read(path, kMaxProcFile, std::chrono::steady_clock::now() + bound);
  VMHA_TRY(content);
  return std::move(content->text);
}

/// The state letter of a /proc stat line (after the parenthesised command name).
char state_letter(const std::string& stat) {
  const auto close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return '?';
  return stat[close + 2];
}

bool exited(char state) {
  return state == 'Z' || state == 'X' || state == 'x';
}

/// Whether a NUL-separated command line is this domain's QEMU: its "-uuid" is the domain's, or
/// its "-name" (guest=<name>,…) is. Either is enough: libvirt's pid file for <name> names this
/// process, and a UUID edited in the config while the domain ran leaves the name.
bool runs_domain(const std::string& cmdline, const DomainRef& domain) {
  std::vector<std::string> args;
  std::string current;
  for (const char c : cmdline) {
    if (c == '\0') {
      args.push_back(current);
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  if (!current.empty()) args.push_back(current);
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "-uuid" && !domain.uuid.empty() && args[i + 1] == domain.uuid) return true;
    if (args[i] == "-name") {
      const std::string& value = args[i + 1];
      if (value == domain.name || value.rfind("guest=" + domain.name + ",", 0) == 0 ||
          value == "guest=" + domain.name) {
        return true;
      }
    }
  }
  return false;
}

/// The other tasks (threads) of a process, from <proc>/<pid>/task.
Result<std::vector<int>> tasks_of(const std::string& proc_root, int pid) {
  const std::string dir = fmt::format("{}/{}/task", proc_root, pid);
  DIR* listing = opendir(dir.c_str());
  if (listing == nullptr) {
    return fail(errno == ENOENT ? ErrorKind::not_found : ErrorKind::other,
                fmt::format("cannot list {}: {}", dir, std::strerror(errno)));
  }
  std::vector<int> tids;
  while (const dirent* entry = readdir(listing)) {
    const auto tid = text::parse_integer(entry->d_name);
    if (tid && *tid > 0 && *tid != pid && *tid <= INT_MAX) tids.push_back(static_cast<int>(*tid));
  }
  closedir(listing);
  return tids;
}

/// Whether process `pid` (any thread of its group) is alive, and which task's view of its
/// command line to read: the leader's, or a live thread's when the leader has exited.
struct Liveness {
  Evidence evidence = Evidence::unknown;
  std::string cmdline_path;
  std::string detail;
};

Liveness liveness(const std::string& proc_root, int pid, const ocf::Deadline& deadline) {
  const auto stat = read_evidence(fmt::format("{}/{}/stat", proc_root, pid), deadline);
  if (!stat) {
    if (stat.error().kind == ErrorKind::not_found) return {Evidence::gone, {}, fmt::format("no process {}", pid)};
    return {Evidence::unknown, {}, fmt::format("cannot read /proc of pid {}: {}", pid, stat.error().reason)};
  }
  if (!exited(state_letter(*stat))) return {Evidence::running, fmt::format("{}/{}/cmdline", proc_root, pid), {}};
  // The leader has exited; the process lives while any of its threads does.
  const auto tids = tasks_of(proc_root, pid);
  if (!tids) {
    if (tids.error().kind == ErrorKind::not_found) return {Evidence::gone, {}, fmt::format("pid {} has exited", pid)};
    return {Evidence::unknown, {}, tids.error().reason};
  }
  for (const int tid : *tids) {
    const auto task = read_evidence(fmt::format("{}/{}/task/{}/stat", proc_root, pid, tid), deadline);
    if (!task) {
      if (task.error().kind == ErrorKind::not_found) continue;  // that thread is gone
      return {Evidence::unknown, {}, fmt::format("cannot read thread {} of pid {}: {}", tid, pid, task.error().reason)};
    }
    if (!exited(state_letter(*task))) {
      return {Evidence::running, fmt::format("{}/{}/task/{}/cmdline", proc_root, pid, tid),
              fmt::format("the main thread of pid {} has exited but thread {} still runs (state {})", pid, tid,
                          state_letter(*task))};
    }
  }
  return {Evidence::gone, {}, fmt::format("QEMU pid {} has exited", pid)};
}

int pidfd_open(int pid) {
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
}

/// A pidfd owned by one object.
class PidFd {
 public:
  explicit PidFd(int pid) : fd_(pidfd_open(pid)), error_(fd_.valid() ? 0 : errno) {}
  [[nodiscard]] int get() const { return fd_.get(); }
  [[nodiscard]] int error() const { return error_; }
  /// Whether the whole thread group has exited (waits up to `wait`).
  [[nodiscard]] bool exited(sys::Millis wait) const {
    pollfd one{fd_.get(), POLLIN, 0};
    return poll(&one, 1, static_cast<int>(std::min<long long>(wait.count(), INT_MAX))) > 0;
  }

 private:
  sys::UniqueFd fd_;
  int error_;
};

}  // namespace

ProcessCheck ProcQemuProcesses::check_pid(const DomainRef& domain, int pid, const ocf::Deadline& deadline) {
  const auto alive = liveness(proc_root_, pid, deadline);
  if (alive.evidence == Evidence::gone) return {Evidence::gone, 0, alive.detail};
  if (alive.evidence == Evidence::unknown) return {Evidence::unknown, pid, alive.detail};
  const auto cmdline = read_evidence(alive.cmdline_path, deadline);
  if (!cmdline) {
    if (cmdline.error().kind == ErrorKind::not_found) return {Evidence::gone, 0, fmt::format("pid {} has exited", pid)};
    return {Evidence::unknown, pid, fmt::format("cannot read the command line of pid {}", pid)};
  }
  if (cmdline->empty()) {
    return {Evidence::unknown, pid, fmt::format("pid {} shows no command line: cannot tell whose it is", pid)};
  }
  if (!runs_domain(*cmdline, domain)) {
    return {Evidence::gone, 0, fmt::format("pid {} is no longer {}'s QEMU", pid, domain.label())};
  }
  const std::string detail = alive.detail.empty()
                                 ? fmt::format("QEMU pid {} runs {}", pid, domain.label())
                                 : fmt::format("QEMU pid {} of {}: {}", pid, domain.label(), alive.detail);
  return {Evidence::running, pid, detail};
}

Evidence ProcQemuProcesses::process_state(int pid, const ocf::Deadline& deadline) {
  // A pidfd answers for the whole thread group, without reading anything of the process.
  const PidFd process(pid);
  if (process.get() >= 0) return process.exited(sys::Millis{0}) ? Evidence::gone : Evidence::running;
  if (process.error() == ESRCH) return Evidence::gone;
  return liveness(proc_root_, pid, deadline).evidence;  // no pidfd here (an old kernel, a test's /proc)
}

ProcessCheck ProcQemuProcesses::check(const DomainRef& domain, const ocf::Deadline& deadline) {
  if (!valid_domain_name(domain.name)) {
    return {Evidence::unknown, 0, fmt::format("'{}' is not a domain name", domain.name)};
  }
  const auto dir = sys::LocalFileSystem().info(daemon_.pid_dir, sys::Clock::time_point::max());
  if (!dir || dir->type != sys::FileType::directory) {
    return {Evidence::unknown, 0, fmt::format("no QEMU run directory {}", daemon_.pid_dir)};
  }
  const std::string pid_file = fmt::format("{}/{}.pid", daemon_.pid_dir, domain.name);
  const auto text = sys::read_file(pid_file, 4096);
  if (!text) {
    if (text.error().kind != ErrorKind::not_found) {
      return {Evidence::unknown, 0, fmt::format("cannot read {}: {}", pid_file, text.error().reason)};
    }
    const std::string status = fmt::format("{}/{}.xml", daemon_.pid_dir, domain.name);
    const auto status_file = sys::LocalFileSystem().info(status, sys::Clock::time_point::max());
    if (status_file) return {Evidence::unknown, 0, fmt::format("{} has a status file but no pid file", domain.name)};
    if (status_file.error().kind != ErrorKind::not_found) {
      return {Evidence::unknown, 0, fmt::format("cannot look at {}: {}", status, status_file.error().reason)};
    }
    return {Evidence::gone, 0, fmt::format("no pid file {}", pid_file)};
  }
  const auto digits_end = text->find_last_not_of(" \t\r\n");
  const auto pid = text::parse_integer(text->substr(0, digits_end == std::string::npos ? 0 : digits_end + 1));
  if (!pid || *pid <= 1 || *pid > INT32_MAX) return {Evidence::unknown, 0, fmt::format("{} is malformed", pid_file)};
  return check_pid(domain, static_cast<int>(*pid), deadline);
}

Result<void> ProcQemuProcesses::kill(const DomainRef& domain, const ocf::Deadline& deadline) {
  const auto found = check(domain, deadline);
  if (found.evidence == Evidence::gone) return {};
  if (found.evidence == Evidence::unknown) return fail(ErrorKind::other, found.detail);
  return kill_pid(domain, found.pid, deadline);
}

Result<void> ProcQemuProcesses::kill_pid(const DomainRef& domain, int pid, const ocf::Deadline& deadline) {
  auto found = ProcessCheck{Evidence::running, pid, {}};
  // The pidfd pins the process: after it is open, a recycled pid can no longer be signalled.
  const PidFd process(found.pid);
  if (process.get() < 0) {
    if (process.error() == ESRCH) return {};
    return fail(ErrorKind::other,
                fmt::format("cannot watch QEMU pid {}: {}", found.pid, std::strerror(process.error())));
  }
  found = check_pid(domain, found.pid, deadline);
  if (found.evidence == Evidence::gone) return {};
  if (found.evidence == Evidence::unknown) return fail(ErrorKind::other, found.detail);
  if (syscall(SYS_pidfd_send_signal, process.get(), SIGKILL, nullptr, 0) != 0 && errno != ESRCH) {
    return fail(ErrorKind::other, fmt::format("cannot kill QEMU pid {}: {}", found.pid, std::strerror(errno)));
  }
  for (;;) {
    // Poll in short steps on the deadline's clock, so a manual clock in tests moves too.
    if (process.exited(sys::Millis{0})) return {};
    if (deadline.expired()) break;
    deadline.sleep(sys::Millis(20));
  }
  return fail(ErrorKind::timed_out,
              fmt::format("QEMU pid {} survived SIGKILL (a thread stuck in the kernel?)", found.pid));
}

std::optional<std::string> ProcQemuProcesses::daemon_instance() {
  const sys::UniqueFd connection(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  const int fd = connection.get();
  if (fd < 0) return std::nullopt;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::optional<std::string> instance;
  if (daemon_.socket.size() < sizeof(address.sun_path)) {
    std::memcpy(address.sun_path, daemon_.socket.c_str(), daemon_.socket.size() + 1);
    ucred peer{};
    socklen_t length = sizeof(peer);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
        getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &length) == 0 && peer.pid > 1) {
      // (pid 1 would be systemd holding the socket for an activated daemon: no identity of it)
      // Field 22 of stat: the start time, which tells a restarted daemon from a recycled pid.
      const auto stat = sys::read_file(fmt::format("{}/{}/stat", proc_root_, peer.pid), kMaxProcFile);
      if (stat) {
        const auto close = stat->rfind(')');
        const auto fields = text::split_fields(close == std::string::npos ? "" : stat->substr(close + 2), ' ');
        if (fields.size() > 19) instance = fmt::format("{} {}", peer.pid, fields[19]);
      }
    }
  }
  return instance;
}

std::optional<LocalDaemon> local_daemon(std::string_view uri, std::string_view run_dir) {
  const std::string run(run_dir);
  const auto system = [&run]() {
    // As libvirt's client in its "auto" mode: the modular daemon's socket when it exists.
    const std::string modular = run + "/virtqemud-sock";
    const bool has_modular = ::access(modular.c_str(), F_OK) == 0;
    return LocalDaemon{has_modular ? modular : run + "/libvirt-sock", run + "/qemu"};
  };
  if (uri.empty()) return system();
  const auto scheme_end = uri.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  const std::string_view scheme = uri.substr(0, scheme_end);
  if (scheme != "qemu" && scheme != "qemu+unix") return std::nullopt;
  std::string_view rest = uri.substr(scheme_end + 3);
  const auto query_at = rest.find('?');
  const std::string_view query = query_at == std::string_view::npos ? std::string_view{} : rest.substr(query_at + 1);
  const std::string_view before_query = rest.substr(0, query_at);
  const auto path_at = before_query.find('/');
  const std::string_view host = before_query.substr(0, path_at);
  const std::string_view path = path_at == std::string_view::npos ? std::string_view{} : before_query.substr(path_at);
  if (!host.empty() || path != "/system") return std::nullopt;
  std::size_t at = 0;
  while (at <= query.size()) {
    const auto end = std::min(query.find('&', at), query.size());
    const std::string_view pair = query.substr(at, end - at);
    if (pair.rfind("socket=", 0) == 0) {
      const std::string socket(pair.substr(7));
      if (socket.empty() || socket.front() != '/') return std::nullopt;
      const auto slash = socket.rfind('/');
      return LocalDaemon{socket, (slash == 0 ? std::string() : socket.substr(0, slash)) + "/qemu"};
    }
    at = end + 1;
  }
  return system();
}

}  // namespace vmha::virt
