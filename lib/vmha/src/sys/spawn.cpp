#include "vmha/sys/spawn.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstring>
#include <set>
#include <thread>

#include <fmt/core.h>

#include "vmha/sys/environment.hpp"
#include "vmha/sys/files.hpp"
#include "vmha/sys/unique_fd.hpp"
#include "vmha/text.hpp"

namespace vmha::sys {
namespace {

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

Result<Pipe> make_pipe() {
  std::array<int, 2> fds{};
  if (pipe2(fds.data(), O_CLOEXEC) != 0) {
    return fail(ErrorKind::other, fmt::format("pipe: {}", std::strerror(errno)));
  }
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

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

/// Where a program is, or why that cannot be said: a PATH entry that does not answer (a hung
/// mount) is no proof the program is not installed.
struct Lookup {
  std::optional<std::string> path;
  std::optional<Error> problem;
};

/// Whether `path` is an executable file; an error when that cannot be told.
Result<bool> is_executable_file(const std::string& path, std::optional<Clock::time_point> deadline) {
  if (!deadline) {
    struct stat info {};
    return stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) && access(path.c_str(), X_OK) == 0;
  }
  const auto info = BoundedFileSystem().info(path, *deadline);
  if (!info) {
    if (info.error().kind == ErrorKind::not_found) return false;
    return fail(info.error());
  }
  return info->type == FileType::regular && (info->mode & 0111U) != 0;
}

/// find_program with a deadline on the steady clock, telling "absent" from "cannot tell".
Lookup look_up(const std::string& name, const std::string& path_variable, std::optional<Clock::time_point> deadline) {
  Lookup found;
  if (name.empty()) return found;
  std::vector<std::string> candidates;
  if (name.find('/') != std::string::npos) {
    candidates.push_back(name);
  } else {
    for (const std::string& dir : text::split_fields(
             path_variable.empty() ? std::string_view("/usr/sbin:/usr/bin:/sbin:/bin") : path_variable, ':')) {
      candidates.push_back((dir.empty() ? std::string(".") : dir) + "/" + name);
    }
  }
  for (const auto& candidate : candidates) {
    const auto executable = is_executable_file(candidate, deadline);
    if (executable && *executable) {
      found.path = candidate;
      return found;
    }
    if (!executable && !found.problem) found.problem = executable.error();
  }
  return found;
}

Millis until(Clock::time_point when) {
  return std::max(Millis{0}, std::chrono::duration_cast<Millis>(when - std::chrono::steady_clock::now()));
}

void drain(int fd, std::string& into, std::size_t limit, bool& open, bool& truncated) {
  std::array<char, 8192> buffer{};
  const ssize_t got = read(fd, buffer.data(), buffer.size());
  if (got > 0) {
    const auto room = limit > into.size() ? limit - into.size() : 0;
    if (static_cast<std::size_t>(got) > room) truncated = true;
    into.append(buffer.data(), std::min(room, static_cast<std::size_t>(got)));
  } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
    open = false;
  }
}

/// Time between SIGKILL and the deadline, for the kernel to end the group and us to reap it.
constexpr Millis kKillWait{200};

/// What the child does between fork and exec: only async-signal-safe calls (the agent may have
/// threads). Ends the child when exec fails, with errno on `failure`.
[[noreturn]] void become_command(pid_t parent, int out, int err, int failure, const char* program, char* const* argv,
                                 char* const* envp) {
  setpgid(0, 0);  // its own group: killed whole at the end
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);  // the agent died before the line above
  struct sigaction defaults {};
  defaults.sa_handler = SIG_DFL;
  for (int signal = 1; signal < NSIG; ++signal) {
    if (signal != SIGKILL && signal != SIGSTOP) sigaction(signal, &defaults, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  const int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 || dup2(err, STDERR_FILENO) < 0) {
    const int error = errno;
    // Nothing left to do if this fails: the parent then reads EOF and reports an unknown error.
    [[maybe_unused]] const ssize_t written = write(failure, &error, sizeof error);
    _exit(127);
  }
  execve(program, argv, envp);
  const int error = errno;
  [[maybe_unused]] const ssize_t written = write(failure, &error, sizeof error);
  _exit(127);
}

/// Reaps what is left of a killed group that was reparented here (a subreaper's orphans).
void reap_group(pid_t group) {
  siginfo_t info{};
  while (waitid(P_PGID, static_cast<id_t>(group), &info, WEXITED | WNOHANG) == 0 && info.si_pid != 0) {
    info = siginfo_t{};
  }
}

}  // namespace

std::string Completion::describe() const {
  if (abandoned) {
    return fmt::format("timed out after {} ms and did not die of SIGKILL (stuck in the kernel?)", elapsed.count());
  }
  if (timed_out) return fmt::format("timed out after {} ms", elapsed.count());
  if (signal != 0) return fmt::format("killed by signal {}", signal);
  return fmt::format("exit status {}", exit_code);
}

std::optional<std::string> find_program(const std::string& name, const std::string& path_variable,
                                        std::optional<Millis> bound) {
  return look_up(name, path_variable,
                 bound ? std::optional<Clock::time_point>(std::chrono::steady_clock::now() + *bound) : std::nullopt)
      .path;
}

Result<Completion> PosixCommandRunner::run(const Command& command, Clock::time_point deadline) {
  const auto started = std::chrono::steady_clock::now();
  if (command.argv.empty()) return fail(ErrorKind::other, "spawn: empty command");
  if (started >= deadline) {  // no time to run it at all: it times out without starting
    Completion late;
    late.timed_out = true;
    return late;
  }
  const auto look = look_up(command.argv[0], ProcessEnvironment{}.get("PATH").value_or(""), deadline);
  if (!look.path && look.problem) {
    return fail(look.problem->kind, fmt::format("cannot look for {}: {}", command.argv[0], look.problem->reason));
  }
  if (!look.path) {
    return fail(ErrorKind::not_installed, fmt::format("{}: program not found", command.argv[0]));
  }
  const auto& program = look.path;
  auto out_pipe = make_pipe();
  VMHA_TRY(out_pipe);
  auto err_pipe = make_pipe();
  VMHA_TRY(err_pipe);
  auto failure_pipe = make_pipe();  // the child's errno when exec fails; closed by a good exec
  VMHA_TRY(failure_pipe);

  std::vector<std::string> argv_strings = command.argv;
  std::vector<std::string> env_strings = child_environment(command);
  auto argv = pointers(argv_strings);
  auto envp = pointers(env_strings);
  const pid_t parent = getpid();
  started_any_ = true;
  // No signal handler of ours may run in the child before it resets them.
  sigset_t all;
  sigset_t previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  const pid_t pid = fork();
  if (pid == 0) {
    become_command(parent, out_pipe->write.get(), err_pipe->write.get(), failure_pipe->write.get(), program->c_str(),
                   argv.data(), envp.data());
  }
  const int fork_errno = errno;
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  out_pipe->write.reset();
  err_pipe->write.reset();
  failure_pipe->write.reset();
  if (pid < 0) {
    return fail(ErrorKind::other, fmt::format("{}: cannot start: {}", *program, std::strerror(fork_errno)));
  }
  setpgid(pid, pid);  // also from here, so no signal below can miss the group
  // The exec's outcome comes on the failure pipe (errno, or EOF once exec closed it), watched
  // with everything else: an exec reading its program from a hung mount is bounded too.
  int exec_errno = 0;
  bool exec_pending = true;

  UniqueFd pidfd(pidfd_open(pid));
  Completion done;
  bool out_open = true;
  bool err_open = true;
  bool exited = false;
  int wait_status = 0;
  bool term_sent = false;
  bool kill_sent = false;
  const auto kill_at = deadline - kKillWait;
  const auto term_at = kill_at - command.term_grace;
  while (!exited) {
    const auto now = std::chrono::steady_clock::now();
    if (!term_sent && now >= term_at) {
      kill(-pid, SIGTERM);
      term_sent = true;
      done.timed_out = true;
    }
    if (!kill_sent && now >= kill_at) {
      kill(-pid, SIGKILL);
      kill_sent = true;
    }
    if (kill_sent && now >= deadline) {
      done.abandoned = true;  // not even SIGKILL ended it: stuck in the kernel
      break;
    }
    std::array<pollfd, 4> fds{{{out_open ? out_pipe->read.get() : -1, POLLIN, 0},
                               {err_open ? err_pipe->read.get() : -1, POLLIN, 0},
                               {pidfd.get(), POLLIN, 0},
                               {exec_pending ? failure_pipe->read.get() : -1, POLLIN, 0}}};
    const Millis wait = kill_sent ? until(deadline) : term_sent ? until(kill_at) : until(term_at);
    // Without a pidfd (old kernel) fall back to short polls for the child's exit.
    const long long bounded = std::min<long long>(wait.count(), pidfd.get() < 0 ? 10 : INT_MAX);
    const int ready = poll(fds.data(), fds.size(), static_cast<int>(bounded));
    if (ready < 0 && errno != EINTR) {
      const int poll_errno = errno;
      kill(-pid, SIGKILL);
      done.abandoned = waitpid(pid, &wait_status, WNOHANG) != pid;
      return fail(ErrorKind::other, fmt::format("{}: poll: {}", *program, std::strerror(poll_errno)));
    }
    if (fds[3].revents != 0) {
      exec_pending = false;
      if (read(failure_pipe->read.get(), &exec_errno, sizeof exec_errno) != static_cast<ssize_t>(sizeof exec_errno)) {
        exec_errno = 0;  // EOF: the exec went through
      }
    }
    if (fds[0].revents != 0) drain(out_pipe->read.get(), done.out, command.max_output, out_open, done.truncated);
    if (fds[1].revents != 0) drain(err_pipe->read.get(), done.err, command.max_output, err_open, done.truncated);
    if (fds[2].revents != 0 || pidfd.get() < 0) {
      // The leader has ended; its zombie still pins the group id, so the group is killed
      // before the leader is reaped and the id can be reused.
      siginfo_t info{};
      if (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid) {
        kill(-pid, SIGKILL);
        exited = waitpid(pid, &wait_status, WNOHANG) == pid;
      }
    }
  }
  if (!exited) kill(-pid, SIGKILL);
  reap_group(pid);
  if (exec_pending && exited) {  // the child ended before its failure pipe was looked at
    pollfd one{failure_pipe->read.get(), POLLIN, 0};
    if (poll(&one, 1, 0) > 0 &&
        read(failure_pipe->read.get(), &exec_errno, sizeof exec_errno) != static_cast<ssize_t>(sizeof exec_errno)) {
      exec_errno = 0;
    }
  }
  if (exec_errno != 0) {
    return fail(exec_errno == ENOENT ? ErrorKind::not_found : ErrorKind::other,
                fmt::format("{}: cannot start: {}", *program, std::strerror(exec_errno)));
  }
  // Collect what the child wrote before it exited; a grandchild holding the pipes open
  // must not keep us, so only what is already there is read.
  for (auto [fd, into, open] : {std::tuple{out_pipe->read.get(), &done.out, &out_open},
                                std::tuple{err_pipe->read.get(), &done.err, &err_open}}) {
    // A descendant that left the group may go on writing: read what is there, within bounds.
    for (int reads = 0; *open && reads < 256 && std::chrono::steady_clock::now() < deadline; ++reads) {
      pollfd one{fd, POLLIN, 0};
      if (poll(&one, 1, 0) <= 0) break;
      drain(fd, *into, command.max_output, *open, done.truncated);
    }
  }
  if (exited && WIFEXITED(wait_status)) done.exit_code = WEXITSTATUS(wait_status);
  if (exited && WIFSIGNALED(wait_status)) done.signal = WTERMSIG(wait_status);
  done.elapsed = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - started);
  return done;
}

void become_subreaper() {
  prctl(PR_SET_CHILD_SUBREAPER, 1);
}

std::size_t kill_leftover_children(Millis bound) {
  const auto until_time = std::chrono::steady_clock::now() + bound;
  std::set<pid_t> seen;
  for (;;) {
    // Every thread's children (/proc/self/task/<tid>/children): orphans join whichever thread.
    std::vector<pid_t> children;
    if (DIR* tasks = opendir("/proc/self/task")) {
      while (const dirent* task = readdir(tasks)) {
        if (task->d_name[0] == '.') continue;
        const auto text = read_file(fmt::format("/proc/self/task/{}/children", task->d_name), 1U << 20U);
        if (!text) continue;
        for (const auto& word : text::split_fields(*text, ' ')) {
          if (const auto child = text::parse_integer(word); child && *child > 0) {
            children.push_back(static_cast<pid_t>(*child));
          }
        }
      }
      closedir(tasks);
    }
    seen.insert(children.begin(), children.end());
    for (const pid_t child : children) {
      kill(child, SIGKILL);
      waitpid(child, nullptr, WNOHANG);
    }
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    if (children.empty() || std::chrono::steady_clock::now() >= until_time) return seen.size();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace vmha::sys
