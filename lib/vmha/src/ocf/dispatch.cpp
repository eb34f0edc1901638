#include "vmha/ocf/dispatch.hpp"

#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <exception>

#include <fmt/format.h>

#include "vmha/ocf/exit_reason.hpp"
#include "vmha/ocf/hand_over.hpp"
#include "vmha/ocf/trace.hpp"
#include "vmha/sys/ocf_logger.hpp"

namespace vmha::ocf {
namespace {

constexpr std::string_view kMetaData = "meta-data";
/// How long the end of an action waits for leftover descendants it killed: SIGKILL ends a
/// process at once unless it is stuck in the kernel, and then no wait would help.
constexpr sys::Millis kLeftoverReapTime{20};
constexpr std::string_view kUsage = "usage";

/// The action, as Pacemaker passes it (nothing to parse), else what the agent's flag reader
/// makes of a person's command line.
CommandLine read_command_line(const std::vector<std::string>& args, const AgentDefinition& agent, std::FILE* out,
                              std::FILE* err) {
  if (args.size() >= 2 && !args[1].empty() && args[1].front() != '-') return CommandLine{args[1], std::nullopt};
  if (agent.read_flags != nullptr) return agent.read_flags(args, agent.name, *agent.metadata, out, err);
  return CommandLine{args.size() >= 2 ? args[1] : std::string(), std::nullopt};
}

/// Logs and prints the reason of a failed `action`; its exit code is the agent's to decide.
int finish(std::string_view action, const Error& error, const AgentDefinition& agent, const Services& services,
           std::FILE* err) {
  services.log.write(sys::LogLevel::error, error.reason);
  write_exit_reason(err, error.reason,
                    services.env.non_empty("OCF_EXIT_REASON_PREFIX").value_or(std::string(kExitReasonPrefix)));
  // A failure is never success or "not running", whatever a table says; no table is 1.
  const Status status = agent.exit_status != nullptr ? agent.exit_status(action, error) : Status::err_generic;
  if (status == Status::success || status == Status::not_running) return exit_code(Status::err_generic);
  return exit_code(status);
}

}  // namespace

std::string usage_line(std::string_view agent, const Metadata& metadata) {
  std::vector<std::string_view> names;
  for (const auto& action : metadata.actions) {
    if (std::find(names.begin(), names.end(), action.name) == names.end()) names.push_back(action.name);
  }
  if (!metadata.advertises(kUsage)) names.push_back(kUsage);
  return fmt::format("usage: {} {{{}}}", agent, fmt::join(names, "|"));
}

int dispatch(const std::vector<std::string>& args, const AgentDefinition& agent, const Services& services,
             std::FILE* out, std::FILE* err) {
  const auto started = action_started(services.clock, services.env);
  const Metadata* metadata = agent.metadata;
  const CommandLine cli = read_command_line(args, agent, out, err);
  if (cli.exit_now) return *cli.exit_now;

  if (cli.action == kMetaData) {  // first, and never fails: no root, daemon or parameters needed
    const std::string_view text = metadata_for_caller(agent.metadata_xml, services.env);
    std::fwrite(text.data(), 1, text.size(), out);
    std::fflush(out);
    return exit_code(Status::success);
  }
  if (cli.action.empty()) {
    std::fprintf(err, "%s\n", usage_line(agent.name, *metadata).c_str());
    return finish(cli.action, Error{ErrorKind::unsupported, "no action given"}, agent, services, err);
  }
  if (cli.action == kUsage) {
    std::fprintf(out, "%s\n", usage_line(agent.name, *metadata).c_str());
    return exit_code(Status::success);
  }
  if (!metadata->advertises(cli.action)) {
    return finish(cli.action,
                  Error{ErrorKind::unsupported, fmt::format("{}: action not supported", one_line(cli.action, 64))},
                  agent, services, err);
  }

  auto call = read_invocation(cli.action, services.env);
  if (!call) return finish(cli.action, call.error(), agent, services, err);
  auto params = read_params(*metadata, services.env);
  if (!params) return finish(cli.action, params.error(), agent, services, err);

  if (const auto target = trace_target(services.env, *params, *call, services.terminal, std::time(nullptr))) {
    if (auto trace = open_trace(*target)) {
      services.log.start_trace(std::move(*trace));
      for (const auto& [name, value] : services.env.all()) services.log.debug("env: {}={}", name, value);
    } else {
      services.log.warning("tracing is off: {}", trace.error().reason);
    }
  }

  const auto* advertised = metadata->action(call->action);
  const sys::Millis timeout = call->timeout.value_or(advertised != nullptr ? advertised->timeout : kFallbackTimeout);
  const auto deadline = Deadline::for_timeout(services.clock, started, timeout);
  services.log.debug("{} begins: timeout {} ms, {} ms budgeted{}", call->action, timeout.count(),
                     deadline.remaining().count(), call->is_probe() ? ", probe" : "");

  auto implementation = agent.make(services);
  const auto result = implementation->perform(Request{*call, *params, *metadata, deadline, started});
  if (!result) return finish(call->action, result.error(), agent, services, err);
  services.log.debug("{} returns {} ({})", call->action, exit_code(*result), name(*result));
  return exit_code(*result);
}

int run_main(int argc, char** argv, const AgentDefinition& agent) {
  try {
    const sys::ProcessEnvironment env;
    sys::SteadyClock clock;
    sys::PosixCommandRunner runner;
    sys::BoundedFileSystem files;
    sys::LocalFileSystem state_files;
    const bool terminal = isatty(STDIN_FILENO) == 1;
    sys::OcfLogger log(sys::log_config_from(env, agent.name, terminal, static_cast<long>(getpid())));
    const Services services{env, clock, runner, files, state_files, log, terminal};
    const std::vector<std::string> args(argv, argv + argc);
    // Whatever a child leaves behind, even outside its process group, comes back here.
    sys::become_subreaper();
    const int rc = dispatch(args, agent, services, stdout, stderr);
    if (runner.started_any()) {
      if (const auto left = sys::kill_leftover_children(kLeftoverReapTime); left > 0) {
        log.warning("{} process(es) started by this action were still running at its end: killed", left);
      }
    }
    return rc;
  } catch (const std::exception& error) {
    write_exit_reason(stderr, fmt::format("internal error: {}", error.what()));
  } catch (...) {
    write_exit_reason(stderr, "internal error");
  }
  return exit_code(Status::err_generic);
}

}  // namespace vmha::ocf
