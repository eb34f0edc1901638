#include "VirtualDomain/settings.hpp"

#include <algorithm>
#include <array>
#include <filesystem>
#include <vector>

#include <fmt/format.h>

#include "VirtualDomain/parameters.hpp"

#include "vmha/ocf/values.hpp"
#include "vmha/virt/hypervisor.hpp"

namespace vmha::agents {

namespace param = VirtualDomain_param;

tl::unexpected<Error> misconfigured(std::string reason) {
  return fail(ErrorKind::misconfigured, std::move(reason));
}

namespace {

bool is_absolute(const std::string& path) {
  return !path.empty() && path.front() == '/';
}

struct Mode {
  std::string_view name;
  unsigned bit;
};
constexpr std::array<Mode, 5> kModes{{{"acpi", virt::shutdown_acpi},
                                      {"agent", virt::shutdown_agent},
                                      {"initctl", virt::shutdown_initctl},
                                      {"signal", virt::shutdown_signal},
                                      {"paravirt", virt::shutdown_paravirt}}};

Result<unsigned> shutdown_methods(const std::string& modes) {
  unsigned bits = 0;
  for (const std::string& mode : ocf::split_fields(modes, ',')) {
    if (mode.empty()) continue;
    const auto* found = std::find_if(kModes.begin(), kModes.end(), [&](const Mode& m) { return m.name == mode; });
    if (found == kModes.end()) {
      return misconfigured(
          fmt::format("parameter 'shutdown_mode': '{}' is not one of acpi, agent, initctl, signal, paravirt", mode));
    }
    bits |= found->bit;
  }
  return bits;
}

}  // namespace

std::string describe_shutdown_methods(unsigned bits) {
  std::vector<std::string_view> names;
  for (const Mode& mode : kModes) {
    if ((bits & mode.bit) != 0) names.push_back(mode.name);
  }
  return names.empty() ? std::string("libvirt's default method") : fmt::format("{}", fmt::join(names, ","));
}

std::string saved_state_path(const Settings& settings, const std::string& domain_name) {
  return fmt::format("{}/{}.state", settings.snapshot, domain_name);
}

std::string overlay_path(const std::string& config) {
  return std::filesystem::path(config).replace_extension(".qcow2").string();
}

Result<Settings> read_settings(const ocf::Params& params, SettingsScope scope) {
  Settings s;
  s.config = params.text(param::config);
  if (!is_absolute(s.config)) {
    return misconfigured(fmt::format("parameter 'config': '{}' is not an absolute path", s.config));
  }
  for (const auto name : {param::snapshot, param::backingfile}) {
    const auto& value = params.text(name);
    if (!value.empty() && !is_absolute(value)) {
      return misconfigured(fmt::format("parameter '{}': '{}' is not an absolute path", name, value));
    }
  }
  s.hypervisor = params.text(param::hypervisor);
  s.force_stop = params.flag(param::force_stop);
  s.snapshot = params.text(param::snapshot);
  if (s.force_stop && !s.snapshot.empty()) {
    return misconfigured("force_stop and snapshot cannot be used together: a forced stop cannot save the state");
  }
  s.backingfile = params.text(param::backingfile);
  s.stateless = params.flag(param::stateless);
  if (s.stateless && s.backingfile.empty()) return misconfigured("stateless needs backingfile");
  auto methods = shutdown_methods(params.text(param::shutdown_mode));
  VMHA_TRY(methods);
  s.shutdown_methods = *methods;
  s.sync_config = params.flag(param::sync_config_on_stop);
  s.save_config = params.flag(param::save_config_on_stop) || s.sync_config;
  s.monitor_scripts = ocf::split_words(params.text(param::monitor_scripts));
  s.autoset_cpu = params.flag(param::autoset_utilization_cpu);
  s.autoset_host_memory = params.flag(param::autoset_utilization_host_memory);
  s.autoset_hv_memory = params.flag(param::autoset_utilization_hv_memory);
  s.unset_cpu = params.flag(param::unset_utilization_cpu);
  s.unset_host_memory = params.flag(param::unset_utilization_host_memory);
  s.unset_hv_memory = params.flag(param::unset_utilization_hv_memory);
  s.copyindirs = ocf::split_words(params.text(param::copyindirs));
  for (const auto& dir : s.copyindirs) {
    // Absolute paths only: an entry starting with '-' would become a virt-copy-in option.
    if (!is_absolute(dir)) {
      return misconfigured(fmt::format("parameter 'copyindirs': '{}' is not an absolute path", dir));
    }
  }
  s.start_resources = params.flag(param::start_resources);
  const auto reserve = params.integer(param::destroy_reserve).value_or(20);
  if (reserve < 0 || reserve > 3600) {
    return misconfigured(fmt::format("parameter 'destroy_reserve': {} is not between 0 and 3600 seconds", reserve));
  }
  s.destroy_reserve = std::chrono::seconds(reserve);
  s.pmsuspended_is_running = params.flag(param::pmsuspended_is_running);
  const auto agent_timeout = params.integer(param::guest_agent_timeout).value_or(5);
  const auto misses = params.integer(param::guest_agent_misses).value_or(3);
  if (agent_timeout < 1 || agent_timeout > 300) {
    s.liveness_problem =
        fmt::format("parameter 'guest_agent_timeout': {} is not between 1 and 300 seconds", agent_timeout);
  } else if (misses < 1 || misses > 100) {
    s.liveness_problem = fmt::format("parameter 'guest_agent_misses': {} is not between 1 and 100", misses);
  } else {
    s.guest_agent_timeout = std::chrono::seconds(agent_timeout);
    s.guest_agent_misses = static_cast<int>(misses);
  }
  if (scope == SettingsScope::monitor) return s;
  if (!s.liveness_problem.empty()) return misconfigured(s.liveness_problem);
  auto migration = read_migration_settings(params);
  VMHA_TRY(migration);
  s.migration = std::move(*migration);
  s.drbd_resources = ocf::split_words(params.text(param::drbd_resources));
  if (s.drbd_resources == std::vector<std::string>{"none"}) {
    s.drbd_off = true;
    s.drbd_resources.clear();
  }
  s.drbd_allow_two_primaries = params.flag(param::drbd_allow_two_primaries);
  return s;
}

}  // namespace vmha::agents
