// validate-all at check level 0: the parameters' own consistency, nothing of this node.
#include <array>
#include <sstream>

#include <fmt/core.h>

#include "VirtualDomain/virtual_domain.hpp"

namespace vmha::agents {
namespace {

tl::unexpected<Error> misconfigured(std::string reason) {
  return fail(ocf::Status::err_configured, std::move(reason), ErrorKind::invalid);
}

bool is_absolute(const std::string& path) {
  return !path.empty() && path.front() == '/';
}

Result<void> check_absolute(const ocf::Params& params, std::string_view name) {
  const auto& value = params.text(name);
  if (!value.empty() && !is_absolute(value)) {
    return misconfigured(fmt::format("parameter '{}': '{}' is not an absolute path", name, value));
  }
  return {};
}

Result<void> check_shutdown_mode(const std::string& modes) {
  static constexpr std::array<std::string_view, 5> kModes{"acpi", "agent", "initctl", "signal", "paravirt"};
  std::istringstream list(modes);
  for (std::string mode; std::getline(list, mode, ',');) {
    if (std::find(kModes.begin(), kModes.end(), mode) == kModes.end()) {
      return misconfigured(
          fmt::format("parameter 'shutdown_mode': '{}' is not one of acpi, agent, initctl, "
                      "signal, paravirt",
                      mode));
    }
  }
  return {};
}

}  // namespace

Result<void> validate_parameters(const ocf::Params& params) {
  if (!is_absolute(params.text("config"))) {
    return misconfigured(fmt::format("parameter 'config': '{}' is not an absolute path", params.text("config")));
  }
  for (const auto* name : {"snapshot", "backingfile"}) {
    if (auto checked = check_absolute(params, name); !checked) return checked;
  }
  if (params.flag("force_stop") && !params.text("snapshot").empty()) {
    return misconfigured("force_stop and snapshot cannot be used together: a forced stop cannot save the state");
  }
  if (params.flag("stateless") && params.text("backingfile").empty()) {
    return misconfigured("stateless needs backingfile");
  }
  for (const auto* name : {"migration_downtime", "migration_speed"}) {
    if (const auto value = params.integer(name); value && *value < 0) {
      return misconfigured(fmt::format("parameter '{}': {} is negative", name, *value));
    }
  }
  if (const auto port = params.integer("migrateport"); port && (*port < 1 || *port > 65535)) {
    return misconfigured(fmt::format("parameter 'migrateport': {} is not a TCP port", *port));
  }
  return check_shutdown_mode(params.text("shutdown_mode"));
}

}  // namespace vmha::agents
