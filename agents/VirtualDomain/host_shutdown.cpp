// Host shutdown ordering. On a host run by systemd, a reboot stops units in reverse order of
// start; unless told, systemd may stop libvirt's daemons (and machined, which kills the VMs'
// scopes) while Pacemaker still migrates or stops the VMs. pacemaker.service is ordered
// After=resource-agents-deps.target, so a drop-in that orders that target after libvirt's
// daemons makes the shutdown stop Pacemaker first. The stock agent writes the same drop-ins and
// runs daemon-reload on every start; with many VMs that overloads dbus, so this writes the file
// only when it is missing or differs (once per boot: /run is emptied at boot).
#include <chrono>

#include <fmt/format.h>

#include "VirtualDomain/job.hpp"

namespace vmha::agents {
namespace {

/// Present exactly when systemd is the init system (what sd_booted(3) checks).
constexpr std::string_view kSystemdRuntime = "/run/systemd/system";
constexpr std::string_view kDropIn = "/run/systemd/system/resource-agents-deps.target.d/50-vmha-VirtualDomain.conf";
/// systemd reads drop-ins as any user may: world-readable, as the stock agent makes them.
constexpr unsigned kDropInMode = 0644;
constexpr std::string_view kDropInText =
    "# Written by ocf:vmha:VirtualDomain (start, migrate_from). Pacemaker starts after this target and\n"
    "# so stops before it: on shutdown it migrates or stops the VMs before libvirt's daemons stop.\n"
    "[Unit]\n"
    "After=libvirtd.service virtqemud.service virtlogd.service virtlockd.service libvirt-guests.service\n"
    "Wants=virt-guest-shutdown.target\n";

/// The longest one systemctl call may take: a daemon-reload on a busy host is slow.
constexpr std::chrono::milliseconds kSystemctlTime{20'000};

bool run_systemctl(Job& job, std::vector<std::string> argv) {
  argv.insert(argv.begin(), "systemctl");
  const auto done = job.services.runner.run(sys::Command(argv), job.deadline().within(kSystemctlTime).at());
  if (!done || !done->succeeded()) {
    job.log().warning("{} failed: {}", fmt::join(argv, " "), done ? done->describe() : done.error().reason);
    return false;
  }
  return true;
}

}  // namespace

void order_host_shutdown(Job& job) {
  auto& files = job.services.state_files;  // /run: a local tmpfs, like the records
  const auto deadline = job.query_deadline().at();
  const auto systemd = files.info(std::string(kSystemdRuntime), deadline);
  if (!systemd || systemd->type != sys::FileType::directory) {
    job.log().debug("no systemd here ({}): no shutdown ordering to write",
                    systemd ? "not a directory" : systemd.error().reason);
    return;
  }
  const auto current = files.read(std::string(kDropIn), kDropInText.size() + 1, deadline);
  if (current && current->text == kDropInText) return;  // written since boot: nothing to do
  if (auto written = files.replace(std::string(kDropIn), std::string(kDropInText), deadline,
                                   sys::ReplaceOptions{true, kDropInMode});
      !written) {
    job.log().warning("cannot order the host's shutdown after Pacemaker's: {}", written.error().reason);
    return;
  }
  job.log().info("{} written: the host's shutdown stops Pacemaker before libvirt's daemons", kDropIn);
  // Wants= takes effect when the target starts, which it did at Pacemaker's start: start what it
  // now wants (the stock agent does the same), without waiting for systemd's job.
  if (run_systemctl(job, {"daemon-reload"}) &&
      run_systemctl(job, {"start", "--no-block", "virt-guest-shutdown.target"})) {
    return;
  }
  // Not in effect: without the file the next start or migrate_from tries again.
  if (auto removed = files.remove(std::string(kDropIn), job.query_deadline().at()); !removed) {
    job.log().warning("cannot remove {} for a later retry: {}", kDropIn, removed.error().reason);
  }
}

}  // namespace vmha::agents
