#include "vmha-cli/status.hpp"

#include <algorithm>
#include <ctime>

#include <fmt/core.h>
#include <fmt/format.h>

#include "vmha-cli/check.hpp"
#include "vmha-cli/json.hpp"
#include "vmha/drbd/guard.hpp"
#include "vmha/text.hpp"
#include "vmha/virt/domain_xml.hpp"

namespace vmha::admin {
namespace {

constexpr std::size_t kMaxConfig = 1U << 20U;
constexpr sys::Millis kStepTime{3'000};
/// A migrate_to and a migrate_from this close together (seconds) are one migration.
constexpr long long kPairWindow = 600;

std::string local_time(long long epoch) {
  if (epoch <= 0) return "?";
  const std::time_t t = static_cast<std::time_t>(epoch);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buffer[32] = {};
  std::strftime(buffer, sizeof buffer, "%F %T", &tm);
  return buffer;
}

std::string seconds(long long ms) {
  return fmt::format("{:.2f} s", static_cast<double>(ms) / 1000.0);
}

/// The newest operation of `resource` named `operation` with status `rc` (any when rc < 0).
const OperationRecord* newest(const ClusterView& view, const std::string& resource, std::string_view operation,
                              int rc = 0) {
  const OperationRecord* best = nullptr;
  for (const auto& op : view.history) {
    if (op.resource != resource || op.operation != operation || (rc >= 0 && op.rc != rc)) continue;
    if (best == nullptr || op.changed > best->changed) best = &op;
  }
  return best;
}

/// "node1 Primary/UpToDate, node2 Secondary/UpToDate" from this node's view of a DRBD resource.
std::string drbd_line(const drbd::Resource& resource, const std::string& node) {
  std::string line = fmt::format("{}: {} {}", resource.name, node, drbd::to_string(resource.role));
  for (const auto& volume : resource.volumes) line += fmt::format("/{}", drbd::to_string(volume.disk));
  for (const auto& peer : resource.peers) {
    line += fmt::format(", {} {}", peer.name.empty() ? "peer" : peer.name, drbd::to_string(peer.role));
    for (const auto& volume : peer.volumes) line += fmt::format("/{}", drbd::to_string(volume.disk));
    if (peer.connection != drbd::ConnectionState::connected) {
      line += fmt::format(" ({})", drbd::to_string(peer.connection));
    }
  }
  return line;
}

}  // namespace

StatusReport read_status(const ClusterView& view, const std::string& node, StatusWorld& world,
                         const ocf::Deadline& deadline) {
  StatusReport report;
  report.node = node;
  std::optional<Result<std::vector<drbd::Resource>>> drbd_state;
  for (const auto& vm : view.resources) {
    VmStatus status;
    status.id = vm.id;
    status.role = vm.role.empty() ? "?" : vm.role;
    status.failed = vm.failed;
    status.nodes = vm.active_on;
    const bool here = std::find(vm.active_on.begin(), vm.active_on.end(), node) != vm.active_on.end();

    std::optional<virt::DomainXml> domain;
    auto read = world.files.read(vm.param("config"), kMaxConfig, deadline.within(kStepTime).at());
    if (read) {
      if (auto parsed = virt::parse_domain_xml(read->text)) domain = std::move(*parsed);
    }
    if (domain) status.domain = domain->name;
    if (!domain) {
      status.libvirt =
          read ? "config not valid here" : fmt::format("config not readable here: {}", read.error().reason);
    } else {
      auto state = world.libvirt(vm.param("hypervisor")).state(domain->ref(), deadline.within(kStepTime));
      if (!state) {
        status.libvirt = fmt::format("unknown: {}", state.error().reason);
      } else if (!*state) {
        status.libvirt = here ? "not defined here (but Pacemaker has it here)" : "not here";
      } else {
        status.libvirt = virt::describe(**state);
      }
    }

    // The DRBD resources: drbd_resources, else those behind the disks (as the agent finds them).
    // (drbd_resources needs no XML: those are shown even when the config cannot be read here.)
    const auto found_devices = vm_drbd_devices(vm, domain ? *domain : virt::DomainXml{}, world.files, deadline);
    const std::vector<drbd::DeviceRef> devices = found_devices ? *found_devices : std::vector<drbd::DeviceRef>{};
    if (!found_devices) status.drbd.push_back(fmt::format("unknown: {}", found_devices.error().reason));
    if (!devices.empty()) {
      if (!drbd_state.has_value()) drbd_state.emplace(world.drbd.resources(deadline.within(kStepTime)));
      if (!*drbd_state) {
        status.drbd.push_back(fmt::format("unknown: {}", drbd_state->error().reason));
      } else {
        const auto selection = drbd::select(**drbd_state, devices);
        for (const auto* resource : selection.resources) status.drbd.push_back(drbd_line(*resource, node));
        for (const auto& finding : selection.findings) status.drbd.push_back(finding.problem);
      }
    }

    // The liveness record is kept on the node that runs the VM.
    status.guest_agent = here || vm.active_on.empty()
                             ? world.guest_agent(vm.id)
                             : fmt::format("recorded on {} (run vmha status there)", vm.active_on.front());
    // Pacemaker keeps each node's last operation: the target's migrate_from stays until its next
    // stop, the source's migrate_to is usually replaced by the stop that follows it.
    const auto* in = newest(view, vm.id, "migrate_from");
    const auto* out = newest(view, vm.id, "migrate_to");
    if (in != nullptr) {
      const bool paired = out != nullptr && out->node != in->node && out->changed <= in->changed &&
                          in->changed - out->changed <= kPairWindow;
      status.last_move =
          paired ? fmt::format("migrated {} -> {} at {} (migrate_to {}, migrate_from {})", out->node, in->node,
                               local_time(in->changed), seconds(out->exec_ms), seconds(in->exec_ms))
                 : fmt::format("migrated to {} at {} (migrate_from {})", in->node, local_time(in->changed),
                               seconds(in->exec_ms));
    }
    if (const auto* start = newest(view, vm.id, "start")) {
      status.last_start =
          fmt::format("started on {} at {} in {}", start->node, local_time(start->changed), seconds(start->exec_ms));
    }
    const OperationRecord* failure = nullptr;
    for (const auto& op : view.history) {
      if (op.resource != vm.id || op.rc == 0 || (op.operation == "monitor" && op.rc == 7)) continue;
      if (failure == nullptr || op.changed > failure->changed) failure = &op;
    }
    if (failure != nullptr) {
      status.last_failure =
          fmt::format("{} on {} at {}: rc {}{}", failure->operation, failure->node, local_time(failure->changed),
                      failure->rc, failure->exit_reason.empty() ? "" : ", " + failure->exit_reason);
    }
    report.vms.push_back(std::move(status));
  }
  return report;
}

std::string render_text(const StatusReport& report) {
  std::string out = fmt::format("vmha status on {}: {} VM resources\n", report.node, report.vms.size());
  for (const auto& vm : report.vms) {
    out += fmt::format("\n{} ({}{}) on {}\n", vm.id, vm.role, vm.failed ? ", FAILED" : "",
                       vm.nodes.empty() ? std::string("no node") : fmt::format("{}", fmt::join(vm.nodes, ", ")));
    out += fmt::format("  libvirt here:  {}{}\n", vm.domain.empty() ? "" : vm.domain + ": ", vm.libvirt);
    for (const auto& line : vm.drbd) out += fmt::format("  drbd:          {}\n", line);
    out += fmt::format("  guest agent:   {}\n", vm.guest_agent);
    if (!vm.last_move.empty()) out += fmt::format("  last move:     {}\n", vm.last_move);
    if (!vm.last_start.empty()) out += fmt::format("  last start:    {}\n", vm.last_start);
    if (!vm.last_failure.empty()) out += fmt::format("  last failure:  {}\n", vm.last_failure);
  }
  return out;
}

std::string render_json(const StatusReport& report) {
  JsonWriter json;
  json.begin_object();
  json.field("node", report.node);
  json.key("vms");
  json.begin_array();
  for (const auto& vm : report.vms) {
    json.begin_object();
    json.field("id", vm.id);
    json.field("role", vm.role);
    json.field("failed", vm.failed);
    json.key("nodes");
    json.begin_array();
    for (const auto& node : vm.nodes) json.value(node);
    json.end_array();
    json.field("domain", vm.domain);
    json.field("libvirt", vm.libvirt);
    json.key("drbd");
    json.begin_array();
    for (const auto& line : vm.drbd) json.value(line);
    json.end_array();
    json.field("guest_agent", vm.guest_agent);
    json.field("last_move", vm.last_move);
    json.field("last_start", vm.last_start);
    json.field("last_failure", vm.last_failure);
    json.end_object();
  }
  json.end_array();
  json.end_object();
  return json.text() + "\n";
}

}  // namespace vmha::admin
