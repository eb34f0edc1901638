// The OCF calling convention: argv[1] is the action, everything else is ignored.
//
// Order (as ocf-rarun): --help/--version; no action → 3; meta-data → XML, 0, before any other
// check (no root, no daemon, no parameters needed); usage → 0; an action the meta-data does
// not advertise → 3; malformed CRM_meta_* or parameters → 6; then the agent.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "vmha/ocf/agent.hpp"

namespace vmha::ocf {

/// Runs one action with the given services; returns the process exit code.
[[nodiscard]] int dispatch(const std::vector<std::string>& args, const AgentDefinition& agent, const Services& services,
                           std::FILE* out, std::FILE* err);

/// The real process: real services, exceptions turned into an exit reason and status 1.
[[nodiscard]] int run_main(int argc, char** argv, const AgentDefinition& agent);

/// "usage: VirtualDomain {start|stop|…|meta-data|usage}" from the advertised actions.
[[nodiscard]] std::string usage_line(std::string_view agent, const Metadata& metadata);

}  // namespace vmha::ocf
