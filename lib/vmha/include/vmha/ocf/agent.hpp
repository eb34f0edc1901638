// What an agent implements, and what the dispatcher hands it.
#pragma once

#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vmha/ocf/deadline.hpp"
#include "vmha/ocf/invocation.hpp"
#include "vmha/ocf/metadata.hpp"
#include "vmha/ocf/params.hpp"
#include "vmha/ocf/status.hpp"
#include "vmha/result.hpp"
#include "vmha/sys/clock.hpp"
#include "vmha/sys/environment.hpp"
#include "vmha/sys/files.hpp"
#include "vmha/sys/logger.hpp"
#include "vmha/sys/spawn.hpp"

namespace vmha::ocf {

/// Every side effect an agent may have, each behind an interface with a fake in tests/.
struct Services {
  const sys::Environment& env;
  sys::Clock& clock;
  sys::CommandRunner& runner;
  /// Paths from parameters (config, disks, snapshot, backing file): every call bounded by a
  /// deadline, since they may sit on a file system that stops answering.
  sys::FileSystem& files;
  /// The agent's own records under HA_RSCTMP, a local tmpfs.
  sys::FileSystem& state_files;
  sys::Logger& log;
  bool terminal = false;  ///< stdin is a terminal (an admin runs the agent by hand)
};

/// One action to perform, fully parsed.
struct Request {
  const Invocation& call;
  const Params& params;
  const Metadata& metadata;
  const Deadline& deadline;
  sys::Clock::time_point started;  ///< when the action began (the deadline counts from here)
};

class Agent {
 public:
  virtual ~Agent() = default;
  /// Performs any advertised action except meta-data and usage, which the dispatcher
  /// answers itself. A normal outcome is a status (0, 7, 8, 190, …); a failure is an Error
  /// whose reason becomes the exit reason.
  [[nodiscard]] virtual Result<Status> perform(const Request& request) = 0;
};

/// What a command line asks for: an action, or an answer already given (--help, --version,
/// a bad flag) with the process's exit code.
struct CommandLine {
  std::string action;
  std::optional<int> exit_now;
};

/// Reads a command line a person typed, with flags. Pacemaker never passes any.
using FlagReader = CommandLine (*)(const std::vector<std::string>& args, std::string_view agent,
                                   const Metadata& metadata, std::FILE* out, std::FILE* err);

/// The agent's one table from a failed action to its exit code (the dispatcher's own failures,
/// such as a malformed parameter or an unknown action, go through it too).
using ExitStatusTable = Status (*)(std::string_view action, const Error& error);

struct AgentDefinition {
  std::string_view name;      ///< the resource type, e.g. "VirtualDomain"
  MetadataText metadata_xml;  ///< ocf-metadata/<name>.xml in its two forms, embedded at build time
  const Metadata* metadata;   ///< the same, parsed at build time
  std::function<std::unique_ptr<Agent>(const Services&)> make;
  ExitStatusTable exit_status;
  /// Flags, --help, --version; nullptr takes the first argument as the action, whatever it is.
  FlagReader read_flags = nullptr;
};

}  // namespace vmha::ocf
