// The VM agent's view of DRBD: which resources hold its disks, and whether DRBD lets it
// start here or migrate now.
#include <fmt/core.h>

#include "VirtualDomain/job.hpp"

namespace vmha::agents {

Result<std::vector<drbd::DeviceRef>> drbd_devices(const Job& job) {
  std::vector<drbd::DeviceRef> devices;
  if (job.settings.drbd_off) return devices;
  if (!job.settings.drbd_resources.empty()) {
    for (const auto& name : job.settings.drbd_resources) devices.push_back({name, std::nullopt, std::nullopt, name});
    return devices;
  }
  if (!job.target.config) return devices;
  // Disk paths may sit on a hung file system too: each resolution is bounded, and one that
  // cannot be followed fails the check closed (drbd::disk_devices).
  std::vector<std::string> paths;
  for (const auto& disk : job.target.config->disks) paths.push_back(disk.path);
  return drbd::disk_devices(
      paths, [&job](const std::string& path) { return job.services.files.resolve(path, job.query_deadline().at()); });
}

Result<std::vector<drbd::Finding>> drbd_findings(Job& job, const std::string& destination) {
  const auto devices = drbd_devices(job);
  VMHA_TRY(devices);
  if (devices->empty()) return std::vector<drbd::Finding>{};
  if (job.drbd == nullptr) return fail(ErrorKind::other, "no DRBD state source");
  auto all = job.drbd->resources(job.query_deadline());
  if (!all) {
    Error error = with_reason(all.error(), fmt::format("cannot read DRBD's state: {}", all.error().reason));
    if (error.kind == ErrorKind::not_found) error.kind = ErrorKind::not_installed;  // no drbdsetup, no /proc/drbd
    return fail(std::move(error));
  }
  auto selection = drbd::select(*all, *devices);
  for (const auto* resource : selection.resources) {
    auto found = destination.empty()
                     ? drbd::check_start(*resource, job.settings.drbd_allow_two_primaries)
                     : drbd::check_migration(*resource, destination, job.settings.drbd_allow_two_primaries);
    selection.findings.insert(selection.findings.end(), found.begin(), found.end());
    job.log().debug("DRBD {}", drbd::describe(*resource));
  }
  return selection.findings;
}

std::string drbd_refusal(std::string_view action, const std::vector<drbd::Finding>& findings) {
  std::string text = fmt::format("{} refused by DRBD:", action);
  for (std::size_t i = 0; i < findings.size(); ++i)
    text += fmt::format("{} {}", i == 0 ? "" : ";", findings[i].problem);
  return text;
}

}  // namespace vmha::agents
