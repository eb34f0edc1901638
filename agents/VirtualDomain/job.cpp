// Building a Job, the same way for the full agent and the monitor's fast path.
#include "VirtualDomain/job.hpp"

namespace vmha::agents {

Records records_for(const ocf::Request& request, const ocf::Services& services) {
  return Records::from_environment(services.state_files, services.env, request.call.resource, request.deadline.at());
}

std::optional<Target> recorded_target(const Settings& settings, const Records& records, const ocf::Services& services,
                                      const ocf::Deadline& deadline, std::chrono::milliseconds look_time) {
  const auto identity = records.config_identity(settings.config);
  if (!identity) return std::nullopt;
  // The config's version, bounded: on a hung file system the full agent decides from the records.
  const auto now = services.files.info(settings.config, deadline.within(look_time).at());
  if (!now || now->version() != identity->version) return std::nullopt;
  Target target;
  target.config_state = ConfigState::usable;
  target.ref = identity->domain;
  add_recorded_names(target, records, settings.config);
  return target;
}

Job make_job(const ocf::Request& request, const ocf::Services& services, const Settings& settings,
             const Connections& connections, Records records, Target target) {
  return Job{request,
             services,
             settings,
             connections.domains,
             connections.hypervisor,
             connections.processes,
             std::move(records),
             std::move(target),
             connections.drbd};
}

}  // namespace vmha::agents
