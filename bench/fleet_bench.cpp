// Drives one agent over a fleet of VMs as Pacemaker's executor would, and measures what it costs:
//   fleet_bench monitor <seconds> <interval_s> <config-dir> <agent> <vm>...
//     every VM monitored every interval_s (the next one interval_s after the last one ended, as
//     the executor re-arms a recurring operation), the first ones spread over one interval;
//   fleet_bench storm <config-dir> <agent> <vm>...
//     every VM probed at once, as when a node joins the cluster.
// VM <vm>'s configuration is <config-dir>/<vm>.xml; the rest of the environment passes through.
// As the executor does, an agent still running at OCF_RESKEY_CRM_meta_timeout (default 20 s) is
// killed with its process group; it counts with exit code 137 (128 + SIGKILL).
// CPU time is user + system of each agent process and the children it waited for (wait4), the
// way the kernel charges a process tree. One line, key=value, for bench/run-fleet-bench:
//   monitor: runs= cpu_s= cpu_percent= median_ms= max_ms= rc=<code>:<count>,...
//   storm:   vms= correct= median_ms= slowest_ms= rc=<code>:<count>,...  (correct: answered 0)
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Vm {
  std::string name;
  std::vector<std::string> env;
  pid_t running = 0;
  Clock::time_point started{};
  Clock::time_point due{};
};

/// OCF_RESKEY_CRM_meta_timeout, as the executor applies it.
Clock::duration action_timeout() {
  const char* text = std::getenv("OCF_RESKEY_CRM_meta_timeout");
  const long ms = text != nullptr ? std::atol(text) : 0;
  return std::chrono::milliseconds(ms > 0 ? ms : 20000);
}

struct Totals {
  std::vector<double> wall_ms;
  std::map<int, int> codes;
  double cpu_s = 0;
};

std::vector<std::string> environment_for(const std::string& config_dir, const std::string& vm, long interval_ms) {
  std::vector<std::string> out;
  for (char** at = environ; *at != nullptr; ++at) {
    const std::string entry = *at;
    if (entry.rfind("OCF_RESOURCE_INSTANCE=", 0) == 0 || entry.rfind("OCF_RESKEY_config=", 0) == 0 ||
        entry.rfind("OCF_RESKEY_CRM_meta_interval=", 0) == 0) {
      continue;
    }
    out.push_back(entry);
  }
  out.push_back("OCF_RESOURCE_INSTANCE=" + vm);
  out.push_back("OCF_RESKEY_config=" + config_dir + "/" + vm + ".xml");
  out.push_back("OCF_RESKEY_CRM_meta_interval=" + std::to_string(interval_ms));
  return out;
}

/// Starts `agent` for `vm`; when it cannot, kills the agents already running (their process
/// groups: they are not the bench's) and ends the bench.
void spawn(char* agent, Vm& vm, const std::vector<Vm>& fleet) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  // The executor's children start with no signal blocked or ignored, in a process group of
  // their own (killed whole at the timeout).
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigset_t all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  char monitor[] = "monitor";
  char* argv[] = {agent, monitor, nullptr};
  std::vector<char*> envp;
  for (auto& entry : vm.env) envp.push_back(entry.data());
  envp.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, agent, &actions, &attr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    std::fprintf(stderr, "fleet_bench: cannot start %s: %s\n", agent, std::strerror(rc));
    for (const auto& other : fleet) {
      if (other.running != 0) kill(-other.running, SIGKILL);
    }
    while (wait(nullptr) > 0) {
    }
    std::exit(1);
  }
  vm.running = pid;
  vm.started = Clock::now();
}

/// Reaps every finished agent; returns how many.
int reap(std::vector<Vm>& vms, Totals& totals, std::chrono::seconds interval) {
  int reaped = 0;
  for (;;) {
    int status = 0;
    rusage usage{};
    const pid_t pid = wait4(-1, &status, WNOHANG, &usage);
    if (pid <= 0) return reaped;
    const auto now = Clock::now();
    for (auto& vm : vms) {
      if (vm.running != pid) continue;
      vm.running = 0;
      totals.wall_ms.push_back(std::chrono::duration<double, std::milli>(now - vm.started).count());
      totals.codes[WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)]++;
      totals.cpu_s += static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                      static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
      vm.due = now + interval;
      ++reaped;
    }
  }
}

/// Kills, with its process group, every agent that has run past the timeout; returns the earliest
/// moment another one would.
Clock::time_point kill_late(std::vector<Vm>& vms, Clock::duration timeout, Clock::time_point next) {
  const auto now = Clock::now();
  for (auto& vm : vms) {
    if (vm.running == 0) continue;
    if (now >= vm.started + timeout) {
      kill(-vm.running, SIGKILL);
    } else {
      next = std::min(next, vm.started + timeout);
    }
  }
  return next;
}

/// Waits for SIGCHLD (blocked) until `until` at the latest.
void wait_child(Clock::time_point until) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  const auto left = std::max(until - Clock::now(), Clock::duration::zero());
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
  timespec timeout{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
  sigtimedwait(&set, nullptr, &timeout);
}

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

std::string codes_of(const Totals& totals) {
  std::string out;
  for (const auto& [code, count] : totals.codes) {
    out += (out.empty() ? "" : ",") + std::to_string(code) + ":" + std::to_string(count);
  }
  return out.empty() ? "none" : out;
}

int run_monitor(long seconds, long interval_s, const std::string& config_dir, char* agent, std::vector<Vm>& vms) {
  Totals totals;
  const auto interval = std::chrono::seconds(interval_s);
  const auto timeout = action_timeout();
  const auto begin = Clock::now();
  const auto end = begin + std::chrono::seconds(seconds);
  for (std::size_t i = 0; i < vms.size(); ++i) {
    vms[i].env = environment_for(config_dir, vms[i].name, interval_s * 1000);
    vms[i].due = begin + std::chrono::duration_cast<Clock::duration>(interval) * static_cast<long>(i) /
                             static_cast<long>(vms.size());
  }
  for (;;) {
    const auto now = Clock::now();
    bool busy = false;
    auto next = end;
    for (auto& vm : vms) {
      if (vm.running != 0) {
        busy = true;
        continue;
      }
      if (now >= end) continue;
      if (vm.due <= now) {
        spawn(agent, vm, vms);
        busy = true;
      } else {
        next = std::min(next, vm.due);
      }
    }
    if (now >= end && !busy) break;
    wait_child(kill_late(vms, timeout, now >= end ? now + std::chrono::milliseconds(100) : next));
    reap(vms, totals, interval);
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - begin).count();
  std::printf(
      "%s monitor vms=%zu interval_s=%ld seconds=%.1f runs=%zu cpu_s=%.3f cpu_percent=%.3f median_ms=%.2f "
      "max_ms=%.2f rc=%s\n",
      agent, vms.size(), interval_s, elapsed, totals.wall_ms.size(), totals.cpu_s, 100.0 * totals.cpu_s / elapsed,
      median(totals.wall_ms),
      totals.wall_ms.empty() ? 0.0 : *std::max_element(totals.wall_ms.begin(), totals.wall_ms.end()),
      codes_of(totals).c_str());
  return 0;
}

int run_storm(const std::string& config_dir, char* agent, std::vector<Vm>& vms) {
  Totals totals;
  for (auto& vm : vms) vm.env = environment_for(config_dir, vm.name, 0);
  for (auto& vm : vms) spawn(agent, vm, vms);
  const auto timeout = action_timeout();
  std::size_t done = 0;
  while (done < vms.size()) {
    wait_child(kill_late(vms, timeout, Clock::now() + std::chrono::milliseconds(100)));
    done += static_cast<std::size_t>(reap(vms, totals, std::chrono::seconds(0)));
  }
  const auto correct = totals.codes.count(0) != 0 ? totals.codes.at(0) : 0;
  std::printf("%s storm vms=%zu correct=%d cpu_s=%.3f median_ms=%.2f slowest_ms=%.2f rc=%s\n", agent, vms.size(),
              correct, totals.cpu_s, median(totals.wall_ms),
              *std::max_element(totals.wall_ms.begin(), totals.wall_ms.end()), codes_of(totals).c_str());
  return 0;
}

[[noreturn]] void usage(const char* self) {
  std::fprintf(stderr,
               "usage: %s monitor <seconds> <interval_s> <config-dir> <agent> <vm>...\n"
               "       %s storm <config-dir> <agent> <vm>...\n",
               self, self);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) usage(argv[0]);
  // SIGCHLD stays blocked so that sigtimedwait can wait for it, at its default disposition (an
  // inherited SIG_IGN would have the kernel reap the agents itself); the agents get an empty mask.
  signal(SIGCHLD, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  const std::string mode = argv[1];
  const int first_vm = mode == "monitor" ? 6 : 4;
  if ((mode != "monitor" && mode != "storm") || argc <= first_vm) usage(argv[0]);
  std::vector<Vm> vms;
  for (int i = first_vm; i < argc; ++i) vms.push_back(Vm{argv[i], {}, 0, {}, {}});
  if (mode == "monitor") {
    const long seconds = std::atol(argv[2]);
    const long interval_s = std::atol(argv[3]);
    if (seconds <= 0 || interval_s <= 0) usage(argv[0]);
    return run_monitor(seconds, interval_s, argv[4], argv[5], vms);
  }
  return run_storm(argv[2], argv[3], vms);
}
