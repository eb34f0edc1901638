// save_config_on_stop and sync_config_on_stop: the domain's current definition replaces the
// config file (atomically, keeping its mode and owner), and csync2 spreads it.
#include <fmt/core.h>

#include "VirtualDomain/job.hpp"
#include "vmha/virt/domain_xml.hpp"

namespace vmha::agents {

/// save_config_on_stop: the current definition replaces the config file, atomically.
void save_definition(Job& job) {
  const auto xml = job.hypervisor->definition(*job.target.ref, job.query_deadline());
  if (!xml || !virt::parse_domain_xml(*xml)) {
    job.log().warning("config not saved: {}", xml ? "libvirt returned an unreadable definition" : xml.error().reason);
    return;
  }
  if (auto saved = job.services.files.replace(job.settings.config, *xml, job.query_deadline().at()); !saved) {
    job.log().warning("config not saved: {}", saved.error().reason);
    return;
  }
  job.log().info("definition of {} saved to {}", job.target.ref->label(), job.settings.config);
  if (!job.settings.sync_config) return;
  auto done = job.services.runner.run(sys::Command({"csync2", "-x", job.settings.config}), job.query_deadline().at());
  if (!done || !done->succeeded()) {
    job.log().warning("csync2 -x {} failed: {}", job.settings.config, done ? done->describe() : done.error().reason);
  }
}

}  // namespace vmha::agents
