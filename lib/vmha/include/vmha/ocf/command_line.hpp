// --help, --version and flags for the people who run an agent by hand, with CLI11. Kept out
// of dispatch so that a fast front, which hands such command lines over, does not carry
// CLI11's start-up cost.
#pragma once

#include "vmha/ocf/agent.hpp"

namespace vmha::ocf {

/// A FlagReader: the action as a positional argument, --help and --version answered.
[[nodiscard]] CommandLine read_flags_with_cli11(const std::vector<std::string>& args, std::string_view agent,
                                                std::string_view version, std::FILE* out, std::FILE* err);

}  // namespace vmha::ocf
