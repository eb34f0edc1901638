// Times repeated runs of one action of one or more agents:
//   agent_bench <runs> <action> [--env=VAR=value...] <agent> [[--env=VAR=value...] <agent>...]
// With several agents the runs alternate (a, b, a, b, ...), so every agent meets the same
// machine load and a ratio between them is fair. The environment is passed through, with the
// --env settings given before an agent for that agent only (say, its own HA_RSCTMP). Prints one
// line per agent:
//   <agent> <action> runs=<n> median_ms=<m> min_ms=<a> max_ms=<b> rc=<code>[,<code>...]
// Each run is a posix_spawn + wait, as Pacemaker's executor forks and waits for an agent.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

namespace {

struct Series {
  char* agent;
  std::vector<std::string> env;  ///< the environment, with this agent's own settings
  std::vector<double> times;
  std::set<int> codes;
};

/// The process environment with `settings` ("VAR=value") put in place of or next to it.
std::vector<std::string> environment_with(const std::vector<std::string>& settings) {
  std::vector<std::string> out;
  for (char** at = environ; *at != nullptr; ++at) {
    const std::string entry = *at;
    const auto name = entry.substr(0, entry.find('=') + 1);
    const bool replaced = std::any_of(settings.begin(), settings.end(),
                                      [&name](const std::string& setting) { return setting.rfind(name, 0) == 0; });
    if (!replaced) out.push_back(entry);
  }
  out.insert(out.end(), settings.begin(), settings.end());
  return out;
}

double median(std::vector<double> times) {
  std::sort(times.begin(), times.end());
  const auto n = times.size();
  return n % 2 == 1 ? times[n / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s <runs> <action> [--env=VAR=value...] <agent> [...]\n", argv[0]);
    return 2;
  }
  const int runs = std::atoi(argv[1]);
  char* action = argv[2];
  std::vector<Series> all;
  std::vector<std::string> settings;
  for (int i = 3; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--env=", 0) == 0) {
      settings.push_back(arg.substr(6));
      continue;
    }
    all.push_back(Series{argv[i], environment_with(settings), {}, {}});
    settings.clear();
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", 01, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", 01, 0);
  for (int i = 0; i < runs; ++i) {
    for (auto& series : all) {
      char* child_argv[] = {series.agent, action, nullptr};
      std::vector<char*> envp;
      for (auto& entry : series.env) envp.push_back(entry.data());
      envp.push_back(nullptr);
      const auto started = std::chrono::steady_clock::now();
      pid_t pid = 0;
      if (posix_spawn(&pid, series.agent, &actions, nullptr, child_argv, envp.data()) != 0) {
        std::perror("posix_spawn");
        return 1;
      }
      int status = 0;
      waitpid(pid, &status, 0);
      series.times.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count());
      series.codes.insert(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
  }
  posix_spawn_file_actions_destroy(&actions);
  for (const auto& series : all) {
    std::string rcs;
    for (const int code : series.codes) rcs += (rcs.empty() ? "" : ",") + std::to_string(code);
    std::printf("%s %s runs=%d median_ms=%.2f min_ms=%.2f max_ms=%.2f rc=%s\n", series.agent, action, runs,
                median(series.times), *std::min_element(series.times.begin(), series.times.end()),
                *std::max_element(series.times.begin(), series.times.end()), rcs.c_str());
  }
  return 0;
}
