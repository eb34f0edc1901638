#include "vmha/ocf/hand_over.hpp"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include <fmt/core.h>

#include "vmha/text.hpp"

namespace vmha::ocf {
namespace {

Error cannot_run(const std::string& program, int error) {
  return Error{ErrorKind::not_installed, fmt::format("cannot run {}: {}", program, std::strerror(error))};
}

}  // namespace

sys::Clock::time_point action_started(sys::Clock& clock, const sys::Environment& env) {
  const auto now = clock.now();
  const auto handed = env.non_empty(kStartedVariable);
  if (!handed) return now;
  const auto nanos = text::parse_integer(*handed);
  if (!nanos) return now;
  const sys::Clock::time_point then{std::chrono::nanoseconds(*nanos)};
  if (then > now || now - then > std::chrono::hours(1)) return now;
  return then;
}

Error hand_over_action(const std::string& program, const std::string& action, sys::Clock::time_point started,
                       const sys::Environment& env) {
  const auto started_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(started.time_since_epoch());
  std::vector<std::string> env_strings;
  for (const auto& [name, value] : env.all()) {
    if (name != kStartedVariable) env_strings.push_back(fmt::format("{}={}", name, value));
  }
  env_strings.push_back(fmt::format("{}={}", kStartedVariable, started_ns.count()));
  std::vector<char*> envp;
  envp.reserve(env_strings.size() + 1);
  for (auto& entry : env_strings) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::string argv0 = program;
  std::string action_copy = action;
  char* argv[] = {argv0.data(), action_copy.data(), nullptr};
  std::fflush(stdout);
  std::fflush(stderr);
  ::execve(program.c_str(), argv, envp.data());
  return cannot_run(program, errno);
}

Error hand_over_command_line(const std::string& program, std::vector<std::string> args) {
  if (args.empty()) args.push_back(program);
  args.front() = program;
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::fflush(stdout);
  std::fflush(stderr);
  ::execv(program.c_str(), argv.data());
  return cannot_run(program, errno);
}

}  // namespace vmha::ocf
