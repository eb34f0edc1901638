#include "vmha/virt/qemu_processes.hpp"

#include <signal.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/core.h>

#include "vmha/ocf/values.hpp"
#include "vmha/sys/files.hpp"

namespace vmha::virt {
namespace {

/// The state letter of /proc/<pid>/stat (after the parenthesised command name).
char process_state(const std::string& stat) {
  const auto close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return '?';
  return stat[close + 2];
}

/// Whether a NUL-separated command line carries the domain's identity: "-uuid <uuid>" when
/// the UUID is known, else "guest=<name>" in "-name".
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
    if (!domain.uuid.empty() && args[i] == "-uuid") return args[i + 1] == domain.uuid;
    if (domain.uuid.empty() && args[i] == "-name") {
      const std::string& value = args[i + 1];
      return value == domain.name || value.rfind("guest=" + domain.name + ",", 0) == 0 ||
             value == "guest=" + domain.name;
    }
  }
  return false;
}

}  // namespace

ProcessCheck ProcQemuProcesses::check(const DomainRef& domain) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(pid_dir_, ec)) {
    return {Evidence::unknown, 0, fmt::format("no QEMU run directory {}", pid_dir_)};
  }
  const std::string pid_file = fmt::format("{}/{}.pid", pid_dir_, domain.name);
  const auto text = sys::read_file(pid_file);
  if (!text) {
    if (fs::exists(fmt::format("{}/{}.xml", pid_dir_, domain.name), ec)) {
      return {Evidence::unknown, 0, fmt::format("{} has a status file but no pid file", domain.name)};
    }
    return {Evidence::gone, 0, fmt::format("no pid file {}", pid_file)};
  }
  const auto digits_end = text->find_last_not_of(" \t\r\n");
  const auto pid = ocf::parse_integer(text->substr(0, digits_end == std::string::npos ? 0 : digits_end + 1));
  if (!pid || *pid <= 1 || *pid > INT32_MAX) return {Evidence::unknown, 0, fmt::format("{} is malformed", pid_file)};
  const int number = static_cast<int>(*pid);
  const auto stat = sys::read_file(fmt::format("{}/{}/stat", proc_root_, number));
  if (!stat) return {Evidence::gone, 0, fmt::format("QEMU pid {} of {} is gone", number, pid_file)};
  if (process_state(*stat) == 'Z') return {Evidence::gone, 0, fmt::format("QEMU pid {} has exited", number)};
  const auto cmdline = sys::read_file(fmt::format("{}/{}/cmdline", proc_root_, number));
  if (!cmdline) return {Evidence::unknown, number, fmt::format("cannot read the command line of pid {}", number)};
  if (!runs_domain(*cmdline, domain)) {
    return {Evidence::gone, 0, fmt::format("pid {} is no longer {}'s QEMU", number, domain.label())};
  }
  return {Evidence::running, number, fmt::format("QEMU pid {} runs {}", number, domain.label())};
}

Result<void> ProcQemuProcesses::kill(const DomainRef& domain, const ocf::Deadline& deadline) {
  auto found = check(domain);
  if (found.evidence == Evidence::gone) return {};
  if (found.evidence == Evidence::unknown) return fail(ocf::Status::err_generic, found.detail);
  if (::kill(found.pid, SIGKILL) != 0 && errno != ESRCH) {
    return fail(ocf::Status::err_generic, fmt::format("cannot kill QEMU pid {}: {}", found.pid, std::strerror(errno)));
  }
  auto& clock = deadline.clock();
  for (;;) {
    found = check(domain);
    if (found.evidence == Evidence::gone) return {};
    if (deadline.expired()) break;
    clock.sleep_until(std::min(deadline.at(), clock.now() + std::chrono::milliseconds(20)));
  }
  return fail(ocf::Status::err_generic, fmt::format("QEMU pid {} survived SIGKILL", found.pid), ErrorKind::timed_out);
}

std::optional<std::string> qemu_pid_dir(std::string_view uri) {
  if (uri.empty()) return std::string("/run/libvirt/qemu");
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
      return std::filesystem::path(socket).parent_path().string() + "/qemu";
    }
    at = end + 1;
  }
  return std::string("/run/libvirt/qemu");
}

}  // namespace vmha::virt
