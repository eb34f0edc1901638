// The agent's meta-data, read from the embedded ocf-metadata/<agent>.xml: the single source
// of parameter names, types, defaults and advertised action timeouts.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vmha/result.hpp"
#include "vmha/sys/clock.hpp"

namespace vmha::ocf {

enum class ParamType { string, integer, boolean, duration };

[[nodiscard]] std::string_view name(ParamType type) noexcept;

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::string;
  bool required = false;
  bool unique = false;
  std::optional<std::string> default_value;  ///< absent when the XML gives no default
};

struct ActionSpec {
  std::string name;
  sys::Millis timeout{0};
  std::optional<sys::Millis> interval;
  std::optional<int> depth;
  std::string role;
};

struct Metadata {
  std::string agent;        ///< resource-agent/@name
  std::string version;      ///< resource-agent/@version (the agent's own version)
  std::string ocf_version;  ///< <version>
  std::vector<ParamSpec> params;
  std::vector<ActionSpec> actions;

  [[nodiscard]] const ParamSpec* param(std::string_view name) const;
  /// The first advertised entry for an action name (monitor may appear several times).
  [[nodiscard]] const ActionSpec* action(std::string_view name) const;
  [[nodiscard]] bool advertises(std::string_view action_name) const { return action(action_name) != nullptr; }
};

}  // namespace vmha::ocf
