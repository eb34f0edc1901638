// Fakes for the side-effect interfaces: they record what happened and replay scripted answers.
#pragma once

#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "support/memory_files.hpp"
#include "vmha/ocf/agent.hpp"
#include "vmha/sys/clock.hpp"
#include "vmha/sys/environment.hpp"
#include "vmha/sys/logger.hpp"
#include "vmha/sys/spawn.hpp"

namespace vmha::test {

/// Records every line; tracing is recorded but writes nowhere.
class CapturingLogger final : public sys::Logger {
 public:
  struct Line {
    sys::LogLevel level;
    std::string text;
  };
  void write(sys::LogLevel level, std::string_view message) override { lines.push_back({level, std::string(message)}); }
  [[nodiscard]] bool debug_enabled() const override { return debug || tracing; }
  void start_trace(sys::OwnedFile trace) override {
    tracing = true;
    trace_file = std::move(trace);
  }
  [[nodiscard]] bool contains(sys::LogLevel level, std::string_view needle) const {
    for (const auto& line : lines) {
      if (line.level == level && line.text.find(needle) != std::string::npos) return true;
    }
    return false;
  }

  std::vector<Line> lines;
  bool debug = true;
  bool tracing = false;
  sys::OwnedFile trace_file;
};

/// Answers commands from a script, in order, and records what was run.
class FakeCommandRunner final : public sys::CommandRunner {
 public:
  [[nodiscard]] Result<sys::Completion> run(const sys::Command& command, sys::Clock::time_point deadline) override {
    ran.push_back(command.argv);
    deadlines.push_back(deadline);
    if (answers.empty()) return fail(ErrorKind::not_installed, command.argv.at(0) + ": not scripted");
    auto answer = std::move(answers.front());
    answers.pop_front();
    return answer;
  }
  std::deque<Result<sys::Completion>> answers;
  std::vector<std::vector<std::string>> ran;
  std::vector<sys::Clock::time_point> deadlines;
};

/// A complete set of fake services for driving an agent or the dispatcher.
struct FakeServices {
  sys::MapEnvironment env;
  sys::ManualClock clock;
  FakeCommandRunner runner;
  CapturingLogger log;

  MemoryFileSystem files{clock};

  /// The memory file system serves both the parameters' paths and the agent's records.
  [[nodiscard]] ocf::Services services() { return ocf::Services{env, clock, runner, files, files, log, false}; }
};

/// Runs a function with a temporary FILE* and returns what it wrote.
template <typename F>
std::string capture_stream(F&& body) {
  std::FILE* file = std::tmpfile();
  body(file);
  std::fflush(file);
  std::rewind(file);
  std::string out;
  for (int c = std::fgetc(file); c != EOF; c = std::fgetc(file)) out.push_back(static_cast<char>(c));
  std::fclose(file);
  return out;
}

}  // namespace vmha::test
