// lab_subreaper: runs one command (libvirtd in the lab) as the child of a child subreaper.
//
//   lab_subreaper [-s SELF_PIDFILE] PIDFILE COMMAND [ARG...]
//
// Why: libvirt double-forks QEMU, so a QEMU becomes an orphan. Where PID 1 reaps orphans only
// every 1-2 s (as on the lab machine), a dead QEMU stays a zombie that long and libvirt's kill
// loop waits for it: `virsh destroy` takes 1.4 s instead of 0.2 s, a migration 2 s instead of
// 0.5 s. As a child subreaper (prctl PR_SET_CHILD_SUBREAPER) this process inherits those orphans
// and reaps them at once. tests/lab/README.md has the details.
//
// - The child writes "PID STARTTIME" (STARTTIME = field 22 of /proc/PID/stat) to PIDFILE, via a
//   temporary file and rename, then execs COMMAND. exec keeps both, so the record names COMMAND.
// - With -s, this process writes its own "PID STARTTIME" to SELF_PIDFILE the same way.
// - SIGTERM, SIGINT and SIGHUP are forwarded to the child.
// - It reaps every descendant that is re-parented to it, and exits once nothing is left to reap
//   (ECHILD), with the child's exit status (128 + signal number if it was killed).
// - File descriptors other than 0-2 are closed first, so that the long-lived daemon never holds
//   a lock or a pipe of whoever started it.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "pid_file.hpp"

namespace {

volatile sig_atomic_t g_child = 0;

void forward_signal(int sig) {
  const pid_t child = g_child;
  if (child > 0) kill(child, sig);
}

// Field 22 of /proc/self/stat. The command name (field 2) may contain spaces and parentheses,
// so the fields are counted from the last ')'.
std::string own_start_time() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  std::getline(in, line);
  const auto close_paren = line.rfind(')');
  if (close_paren == std::string::npos) return {};
  std::istringstream fields(line.substr(close_paren + 1));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i == 22) return field;
  }
  return {};
}

// Writes "PID STARTTIME\n" for this process to path, atomically (temporary file, rename).
bool write_pid_file(const std::string& path) {
  const std::string start = own_start_time();
  if (start.empty()) return false;
  return vmha::lab::write_pid_file(path, std::to_string(getpid()) + " " + start + "\n");
}

void close_inherited_fds() {
  if (close_range(3, ~0U, 0) == 0) return;
  const long max_fd = sysconf(_SC_OPEN_MAX);
  for (long fd = 3; fd < max_fd && fd < 65536; ++fd) close(static_cast<int>(fd));
}

int usage() {
  std::fprintf(stderr, "usage: lab_subreaper [-s SELF_PIDFILE] PIDFILE COMMAND [ARG...]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  int arg = 1;
  std::string self_pid_file;
  if (arg + 1 < argc && std::strcmp(argv[arg], "-s") == 0) {
    self_pid_file = argv[arg + 1];
    arg += 2;
  }
  if (argc - arg < 2) return usage();
  const std::string pid_file = argv[arg];
  char** const command = argv + arg + 1;

  close_inherited_fds();
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
    std::fprintf(stderr, "lab_subreaper: prctl(PR_SET_CHILD_SUBREAPER): %s\n", std::strerror(errno));
  }
  if (!self_pid_file.empty() && !write_pid_file(self_pid_file)) {
    std::fprintf(stderr, "lab_subreaper: cannot write %s: %s\n", self_pid_file.c_str(), std::strerror(errno));
    return 1;
  }

  // Block the forwarded signals until the child's PID is known, so none is lost in between.
  const int forwarded[] = {SIGTERM, SIGINT, SIGHUP};
  sigset_t block, saved;
  sigemptyset(&block);
  for (int sig : forwarded) sigaddset(&block, sig);
  sigprocmask(SIG_BLOCK, &block, &saved);
  struct sigaction action {};
  action.sa_handler = forward_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: waitpid returns EINTR, and the loop simply goes on
  for (int sig : forwarded) sigaction(sig, &action, nullptr);

  const pid_t child = fork();
  if (child < 0) {
    std::fprintf(stderr, "lab_subreaper: fork: %s\n", std::strerror(errno));
    return 1;
  }
  if (child == 0) {
    struct sigaction defaults {};
    defaults.sa_handler = SIG_DFL;
    sigemptyset(&defaults.sa_mask);
    for (int sig : forwarded) sigaction(sig, &defaults, nullptr);
    sigprocmask(SIG_SETMASK, &saved, nullptr);
    if (!write_pid_file(pid_file)) {
      std::fprintf(stderr, "lab_subreaper: cannot write %s: %s\n", pid_file.c_str(), std::strerror(errno));
      _exit(126);
    }
    execvp(command[0], command);
    std::fprintf(stderr, "lab_subreaper: cannot run %s: %s\n", command[0], std::strerror(errno));
    _exit(127);
  }
  g_child = child;
  sigprocmask(SIG_SETMASK, &saved, nullptr);

  int child_status = 0;
  for (;;) {
    int status = 0;
    const pid_t reaped = waitpid(-1, &status, 0);
    if (reaped < 0) {
      if (errno == EINTR) continue;
      if (errno == ECHILD) break;
      std::fprintf(stderr, "lab_subreaper: waitpid: %s\n", std::strerror(errno));
      return 1;
    }
    if (reaped == child) {
      child_status = status;
      g_child = 0;  // its PID may be reused: forward nothing from now on
    }
  }
  if (WIFEXITED(child_status)) return WEXITSTATUS(child_status);
  if (WIFSIGNALED(child_status)) return 128 + WTERMSIG(child_status);
  return 1;
}
