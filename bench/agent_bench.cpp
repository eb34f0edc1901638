// Times repeated runs of one agent action: agent_bench <runs> <agent> <action>.
// The environment is passed through unchanged. Prints one line:
//   <action> runs=<n> median_ms=<m> min_ms=<a> max_ms=<b> rc=<code>[,<code>...]
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

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s <runs> <agent> <action>\n", argv[0]);
    return 2;
  }
  const int runs = std::atoi(argv[1]);
  std::vector<double> times;
  std::set<int> codes;
  char* child_argv[] = {argv[2], argv[3], nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", 01, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", 01, 0);
  for (int i = 0; i < runs; ++i) {
    const auto started = std::chrono::steady_clock::now();
    pid_t pid = 0;
    if (posix_spawn(&pid, argv[2], &actions, nullptr, child_argv, environ) != 0) {
      std::perror("posix_spawn");
      return 1;
    }
    int status = 0;
    waitpid(pid, &status, 0);
    times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count());
    codes.insert(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
  posix_spawn_file_actions_destroy(&actions);
  std::sort(times.begin(), times.end());
  const double median =
      times.size() % 2 == 1 ? times[times.size() / 2] : (times[times.size() / 2 - 1] + times[times.size() / 2]) / 2;
  std::string rcs;
  for (const int code : codes) rcs += (rcs.empty() ? "" : ",") + std::to_string(code);
  std::printf("%s runs=%d median_ms=%.2f min_ms=%.2f max_ms=%.2f rc=%s\n", argv[3], runs, median, times.front(),
              times.back(), rcs.c_str());
  return 0;
}
