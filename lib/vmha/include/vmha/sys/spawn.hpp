// Running external programs: argv only (never a shell), output captured, bounded by a deadline.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "vmha/result.hpp"
#include "vmha/sys/clock.hpp"

namespace vmha::sys {

struct Command {
  Command() = default;
  explicit Command(std::vector<std::string> args) : argv(std::move(args)) {}

  std::vector<std::string> argv;  ///< argv[0] is a path, or a name looked up in PATH
  /// Variables added to (or replacing) the inherited environment. LC_ALL=C is always set,
  /// so output parsers see untranslated text.
  std::map<std::string, std::string> env;
  /// Time between SIGTERM and SIGKILL when the deadline is reached.
  Millis term_grace{500};
  /// Each of stdout and stderr is truncated beyond this many bytes.
  std::size_t max_output = 1U << 20U;
};

struct Completion {
  int exit_code = -1;      ///< the exit status, or -1 when ended by a signal
  int signal = 0;          ///< the terminating signal, or 0
  bool timed_out = false;  ///< the deadline was reached and the child was killed
  std::string out;
  std::string err;
  Millis elapsed{0};
  bool truncated = false;  ///< stdout or stderr went beyond max_output and was cut
  bool abandoned = false;  ///< it did not die of SIGKILL in time (stuck in the kernel): left behind

  [[nodiscard]] bool succeeded() const { return exit_code == 0 && !timed_out && !abandoned; }
  /// "exit status 3", "killed by signal 9", "timed out after 2000 ms".
  [[nodiscard]] std::string describe() const;
};

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  /// Runs `command` and returns by `deadline`, whatever it does: its process group gets
  /// SIGTERM, then SIGKILL term_grace later, early enough to be reaped before the deadline.
  /// Anything left in its group when it ends is killed too. An error means it could not be
  /// started at all (a program not found is ErrorKind::not_installed).
  [[nodiscard]] virtual Result<Completion> run(const Command& command, Clock::time_point deadline) = 0;
};

/// fork/exec runner (not vfork: an exec reading its program from a hung mount must not suspend
/// the agent). Each child leads its own process group, which is SIGKILLed when it ends
/// or at the deadline, so grandchildren (a monitor script's curl, csync2's ssh) never outlive
/// it; PR_SET_PDEATHSIG kills the child if the agent dies first. A child stuck in the kernel
/// after SIGKILL is abandoned at the deadline, not waited for.
class PosixCommandRunner final : public CommandRunner {
 public:
  [[nodiscard]] Result<Completion> run(const Command& command, Clock::time_point deadline) override;
  /// Whether any child was started: only then can descendants be left to sweep up.
  [[nodiscard]] bool started_any() const { return started_any_; }

 private:
  bool started_any_ = false;
};

/// Makes this process the reaper of its orphaned descendants (PR_SET_CHILD_SUBREAPER): a
/// grandchild that escaped its process group (setsid, a daemon) is reparented here, not to init.
void become_subreaper();

/// SIGKILLs every child this process still has — orphaned descendants included, once a
/// subreaper — and reaps them until `bound` has passed. Returns how many were left.
std::size_t kill_leftover_children(Millis bound);

/// Looks `name` up in PATH (or checks it when it holds a '/'); the executable's path or nullopt.
/// With a bound, the whole lookup takes at most that long (a program on a hung mount is "not
/// found" then).
[[nodiscard]] std::optional<std::string> find_program(const std::string& name, const std::string& path_variable,
                                                      std::optional<Millis> bound = std::nullopt);

}  // namespace vmha::sys
