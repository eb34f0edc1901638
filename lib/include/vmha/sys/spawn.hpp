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

  [[nodiscard]] bool succeeded() const { return exit_code == 0 && !timed_out; }
  /// "exit status 3", "killed by signal 9", "timed out after 2000 ms".
  [[nodiscard]] std::string describe() const;
};

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  /// Runs `command`. Ends it (SIGTERM, then SIGKILL after term_grace) when `deadline` passes.
  /// An error means it could not be started at all (not found: err_installed).
  [[nodiscard]] virtual Result<Completion> run(const Command& command, Clock::time_point deadline) = 0;
};

/// posix_spawn-based runner. The child stays in the agent's process group, so Pacemaker's
/// SIGKILL of the group at the operation timeout also reaches it.
class PosixCommandRunner final : public CommandRunner {
 public:
  [[nodiscard]] Result<Completion> run(const Command& command, Clock::time_point deadline) override;
};

/// Looks `name` up in PATH (or checks it when it holds a '/'); the executable's path or nullopt.
[[nodiscard]] std::optional<std::string> find_program(const std::string& name, const std::string& path_variable);

}  // namespace vmha::sys
