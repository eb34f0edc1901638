#include "vmha/ocf/trace.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/core.h>

#include "vmha/ocf/values.hpp"

namespace vmha::ocf {

std::optional<TraceTarget> trace_target(const sys::Environment& env, const Params& params, const Invocation& call,
                                        bool terminal, std::time_t now) {
  const auto from_env = env.non_empty("OCF_TRACE_RA");
  const bool enabled = from_env ? parse_boolean(*from_env).value_or(false) : params.flag("trace_ra");
  if (!enabled) return std::nullopt;

  std::string file = env.non_empty("OCF_TRACE_FILE").value_or(params.text("trace_file"));
  TraceTarget target;
  if (file.size() == 1 && file[0] >= '3' && file[0] <= '9') {
    target.fd = file[0] - '0';
    return target;
  }
  if (!file.empty() && file.front() == '/') {
    target.path = file;
    return target;
  }
  if (terminal) return target;  // by hand: trace to stderr, as ocf-shellfuncs does
  const std::string dir = env.non_empty("OCF_RESKEY_trace_dir")
                              .value_or(env.non_empty("HA_VARLIB").value_or("/var/lib/heartbeat") + "/trace_ra");
  std::tm local{};
  localtime_r(&now, &local);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%F.%T", &local);
  const std::string type = call.type.empty() ? std::string("unknown") : call.type;
  const std::string instance = call.instance.empty() ? std::string("unknown") : call.instance;
  target.path = fmt::format("{}/{}/{}.{}.{}", dir, type, instance, call.action, stamp);
  return target;
}

Result<sys::OwnedFile> open_trace(const TraceTarget& target) {
  if (target.fd) {
    const int fd = fcntl(*target.fd, F_DUPFD_CLOEXEC, 10);
    std::FILE* file = fd < 0 ? nullptr : fdopen(fd, "a");
    if (file == nullptr) {
      if (fd >= 0) close(fd);
      return fail(ErrorKind::other, fmt::format("trace descriptor {} is not open for writing", *target.fd));
    }
    return sys::OwnedFile(file, true);
  }
  if (target.path.empty()) return sys::OwnedFile(stderr, false);
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(target.path).parent_path(), ec);
  std::FILE* file = std::fopen(target.path.c_str(), "ae");
  if (file == nullptr) {
    return fail(ErrorKind::other, fmt::format("cannot write trace file {}: {}", target.path, std::strerror(errno)));
  }
  return sys::OwnedFile(file, true);
}

}  // namespace vmha::ocf
