#include "vmha/sys/spawn.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include <fmt/core.h>

#include "vmha/ocf/values.hpp"
#include "vmha/sys/environment.hpp"

namespace vmha::sys {
namespace {

/// A file descriptor owned by exactly one object.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  [[nodiscard]] int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

struct Pipe {
  Fd read;
  Fd write;
};

Result<Pipe> make_pipe() {
  std::array<int, 2> fds{};
  if (pipe2(fds.data(), O_CLOEXEC) != 0) {
    return fail(ocf::Status::err_generic, fmt::format("pipe: {}", std::strerror(errno)));
  }
  return Pipe{Fd(fds[0]), Fd(fds[1])};
}

/// Owns posix_spawn's attribute objects for one call.
class SpawnSetup {
 public:
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions_);
    posix_spawnattr_init(&attr_);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions_);
    posix_spawnattr_destroy(&attr_);
  }
  posix_spawn_file_actions_t* actions() { return &actions_; }
  posix_spawnattr_t* attr() { return &attr_; }

 private:
  posix_spawn_file_actions_t actions_{};
  posix_spawnattr_t attr_{};
};

std::vector<std::string> child_environment(const Command& command) {
  auto vars = ProcessEnvironment{}.all();
  vars["LC_ALL"] = "C";
  vars.erase("LANG");
  for (const auto& [name, value] : command.env) vars[name] = value;
  std::vector<std::string> out;
  out.reserve(vars.size());
  for (const auto& [name, value] : vars) out.push_back(fmt::format("{}={}", name, value));
  return out;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& text : strings) out.push_back(text.data());
  out.push_back(nullptr);
  return out;
}

int pidfd_open(pid_t pid) {
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
}

bool is_executable_file(const std::string& path) {
  struct stat info {};
  return stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) && access(path.c_str(), X_OK) == 0;
}

Millis until(Clock::time_point when) {
  return std::max(Millis{0}, std::chrono::duration_cast<Millis>(when - std::chrono::steady_clock::now()));
}

void drain(int fd, std::string& into, std::size_t limit, bool& open) {
  std::array<char, 8192> buffer{};
  const ssize_t got = read(fd, buffer.data(), buffer.size());
  if (got > 0) {
    const auto room = limit > into.size() ? limit - into.size() : 0;
    into.append(buffer.data(), std::min(room, static_cast<std::size_t>(got)));
  } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
    open = false;
  }
}

}  // namespace

std::string Completion::describe() const {
  if (timed_out) return fmt::format("timed out after {} ms", elapsed.count());
  if (signal != 0) return fmt::format("killed by signal {}", signal);
  return fmt::format("exit status {}", exit_code);
}

std::optional<std::string> find_program(const std::string& name, const std::string& path_variable) {
  if (name.empty()) return std::nullopt;
  if (name.find('/') != std::string::npos) {
    return is_executable_file(name) ? std::optional<std::string>(name) : std::nullopt;
  }
  for (const std::string& dir : ocf::split_fields(
           path_variable.empty() ? std::string_view("/usr/sbin:/usr/bin:/sbin:/bin") : path_variable, ':')) {
    const std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + name;
    if (is_executable_file(candidate)) return candidate;
  }
  return std::nullopt;
}

Result<Completion> PosixCommandRunner::run(const Command& command, Clock::time_point deadline) {
  const auto started = std::chrono::steady_clock::now();
  if (command.argv.empty()) return fail(ocf::Status::err_generic, "spawn: empty command");
  const auto program = find_program(command.argv[0], ProcessEnvironment{}.get("PATH").value_or(""));
  if (!program) {
    return fail(ocf::Status::err_installed, fmt::format("{}: program not found", command.argv[0]),
                ErrorKind::not_found);
  }
  auto out_pipe = make_pipe();
  if (!out_pipe) return tl::unexpected(out_pipe.error());
  auto err_pipe = make_pipe();
  if (!err_pipe) return tl::unexpected(err_pipe.error());

  SpawnSetup setup;
  posix_spawn_file_actions_addopen(setup.actions(), STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(setup.actions(), out_pipe->write.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(setup.actions(), err_pipe->write.get(), STDERR_FILENO);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGINT);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(setup.attr(), &defaults);
  posix_spawnattr_setsigmask(setup.attr(), &none);
  posix_spawnattr_setflags(setup.attr(), POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<std::string> argv_strings = command.argv;
  std::vector<std::string> env_strings = child_environment(command);
  auto argv = pointers(argv_strings);
  auto envp = pointers(env_strings);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, program->c_str(), setup.actions(), setup.attr(), argv.data(), envp.data());
  out_pipe->write.reset();
  err_pipe->write.reset();
  if (rc != 0) {
    return fail(ocf::Status::err_generic, fmt::format("{}: cannot start: {}", *program, std::strerror(rc)),
                rc == ENOENT ? ErrorKind::not_found : ErrorKind::other);
  }

  Fd pidfd(pidfd_open(pid));
  Completion done;
  bool out_open = true;
  bool err_open = true;
  bool exited = false;
  int wait_status = 0;
  bool term_sent = false;
  const auto term_at = deadline - command.term_grace;
  while (!exited) {
    if (!term_sent && std::chrono::steady_clock::now() >= term_at) {
      kill(pid, SIGTERM);
      term_sent = true;
      done.timed_out = true;
    }
    if (term_sent && std::chrono::steady_clock::now() >= deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &wait_status, 0);
      break;
    }
    std::array<pollfd, 3> fds{{{out_open ? out_pipe->read.get() : -1, POLLIN, 0},
                               {err_open ? err_pipe->read.get() : -1, POLLIN, 0},
                               {pidfd.get(), POLLIN, 0}}};
    const Millis wait = term_sent ? until(deadline) : until(term_at);
    // Without a pidfd (old kernel) fall back to short polls for the child's exit.
    const int timeout =
        pidfd.get() < 0 ? static_cast<int>(std::min<long>(wait.count(), 10)) : static_cast<int>(wait.count());
    const int ready = poll(fds.data(), fds.size(), timeout);
    if (ready < 0 && errno != EINTR) {
      const int poll_errno = errno;
      kill(pid, SIGKILL);
      waitpid(pid, &wait_status, 0);
      return fail(ocf::Status::err_generic, fmt::format("{}: poll: {}", *program, std::strerror(poll_errno)));
    }
    if (fds[0].revents != 0) drain(out_pipe->read.get(), done.out, command.max_output, out_open);
    if (fds[1].revents != 0) drain(err_pipe->read.get(), done.err, command.max_output, err_open);
    if (fds[2].revents != 0 || pidfd.get() < 0) {
      const pid_t reaped = waitpid(pid, &wait_status, WNOHANG);
      if (reaped == pid) exited = true;
    }
  }
  // Collect what the child wrote before it exited; a grandchild holding the pipes open
  // must not keep us, so only what is already there is read.
  for (auto [fd, into, open] : {std::tuple{out_pipe->read.get(), &done.out, &out_open},
                                std::tuple{err_pipe->read.get(), &done.err, &err_open}}) {
    while (*open) {
      pollfd one{fd, POLLIN, 0};
      if (poll(&one, 1, 0) <= 0) break;
      drain(fd, *into, command.max_output, *open);
    }
  }
  if (WIFEXITED(wait_status)) done.exit_code = WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) done.signal = WTERMSIG(wait_status);
  done.elapsed = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - started);
  return done;
}

}  // namespace vmha::sys
