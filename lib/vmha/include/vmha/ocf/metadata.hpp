// The agent's meta-data, read from the embedded ocf-metadata/<agent>.xml: the single source
// of parameter names, types, defaults and advertised action timeouts.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vmha/result.hpp"
#include "vmha/sys/clock.hpp"
#include "vmha/sys/environment.hpp"

namespace vmha::ocf {

enum class ParamType { string, integer, boolean, duration };

[[nodiscard]] std::string_view name(ParamType type) noexcept;
/// The content type the meta-data writes for `type` ("time" for a duration), as people read it.
[[nodiscard]] std::string_view content_type(ParamType type) noexcept;
/// A duration as the meta-data, crm and pcs write it: "90s", "500ms".
[[nodiscard]] std::string duration_text(sys::Millis value);

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::string;
  bool required = false;
  bool unique = false;
  /// OCF 1.1: a change takes effect through reload-agent, without restarting the resource.
  bool reloadable = false;
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

/// The meta-data in the two forms its readers accept. Pacemaker announces the OCF version it
/// speaks (OCF_RA_VERSION_MAJOR/MINOR, 1.1 since 2.1) and gets reloadable parameters and
/// reload-agent; ocf-tester and a person announce none and get the OCF 1.0 subset that
/// resource-agents' ra-api-1.dtd and metadata.rng accept, which reject both.
struct MetadataText {
  std::string_view ocf_1_1;
  std::string_view ocf_1_0;
};

/// The form for the caller that `env` describes.
[[nodiscard]] std::string_view metadata_for_caller(const MetadataText& text, const sys::Environment& env);

}  // namespace vmha::ocf
