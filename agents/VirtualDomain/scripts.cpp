// monitor_scripts: run on every monitor, and retried by start until they pass.
#include <fmt/core.h>

#include "VirtualDomain/job.hpp"

namespace vmha::agents {
namespace {

/// How long start waits between two runs of failing monitor scripts.
constexpr std::chrono::milliseconds kScriptRetry{500};

}  // namespace

Result<void> run_monitor_scripts(Job& job) {
  for (const auto& script : job.settings.monitor_scripts) {
    auto done = job.services.runner.run(sys::Command({script}), job.deadline().at());
    if (!done) return fail(ErrorKind::other, fmt::format("monitor script {}: {}", script, done.error().reason));
    if (!done->succeeded()) {
      std::string said = done->err.empty() ? done->out : done->err;
      said = said.substr(0, said.find('\n'));
      return fail(ErrorKind::other, fmt::format("monitor script {} failed ({}){}{}", script, done->describe(),
                                                said.empty() ? "" : ": ", said));
    }
  }
  return {};
}

/// Monitor scripts must pass before start counts as done; they are retried until the deadline.
Result<void> wait_scripts(Job& job) {
  for (;;) {
    auto passed = run_monitor_scripts(job);
    if (passed || job.deadline().expired()) return passed;
    job.deadline().sleep(kScriptRetry);
  }
}

}  // namespace vmha::agents
