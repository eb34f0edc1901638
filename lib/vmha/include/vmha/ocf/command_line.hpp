// --help, --version and flags for the people who run an agent by hand, with CLI11. Kept out
// of dispatch so that a fast front, which hands such command lines over, does not carry
// CLI11's start-up cost.
#pragma once

#include "vmha/ocf/agent.hpp"
#include "vmha/ocf/metadata.hpp"

namespace vmha::ocf {

/// A FlagReader: the action as a positional argument, --help and --version answered.
/// --help lists the actions with their timeouts and the parameters with their types and
/// defaults, from the meta-data, and names the manual page.
[[nodiscard]] CommandLine read_flags_with_cli11(const std::vector<std::string>& args, std::string_view agent,
                                                const Metadata& metadata, std::FILE* out, std::FILE* err);

}  // namespace vmha::ocf
