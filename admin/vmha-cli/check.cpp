#include "vmha-cli/check.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>

#include <fmt/core.h>

#include "vmha-cli/json.hpp"
#include "vmha/config_digest.hpp"
#include "vmha/drbd/guard.hpp"
#include "vmha/text.hpp"
#include "vmha/virt/domain_xml.hpp"

namespace vmha::admin {
namespace {

constexpr std::size_t kMaxConfig = 1U << 20U;
/// Each look at a file, each libvirt question: a hung file system or daemon costs this much.
constexpr sys::Millis kStepTime{3'000};

/// One resource's check, adding to the report.
class ResourceCheck {
 public:
  using DrbdState = std::optional<Result<std::vector<drbd::Resource>>>;
  ResourceCheck(const ClusterView& view, const VmResource& vm, const CheckOptions& options, CheckWorld& world,
                const ocf::Deadline& deadline, CheckReport& report, DrbdState& drbd_state)
      : view_(view),
        vm_(vm),
        options_(options),
        world_(world),
        deadline_(deadline),
        report_(report),
        drbd_state_(drbd_state) {}

  /// The parsed config, when it could be read here (for the capacity sum).
  std::optional<virt::DomainXml> run() {
    const std::string config = vm_.param("config");
    if (config.empty()) {
      problem("config", "has no config parameter");
      return std::nullopt;
    }
    auto read = world_.files.read(config, kMaxConfig, step().at());
    if (!read) {
      if (read.error().kind == ErrorKind::not_found) {
        problem("config", fmt::format("config {} is missing on this node", config));
      } else {
        unknown("config", fmt::format("cannot read config {}: {}", config, read.error().reason));
      }
      return std::nullopt;
    }
    check_drift(config, read->text);
    auto parsed = virt::parse_domain_xml(read->text);
    if (!parsed) {
      problem("config", fmt::format("config {} is not a valid domain XML here: {}", config, parsed.error().reason));
      return std::nullopt;
    }
    check_disks(*parsed);
    check_drbd(*parsed);
    check_networks(*parsed);
    check_machine(*parsed);
    return std::move(*parsed);
  }

 private:
  void problem(std::string check, std::string text) {
    report_.findings.push_back(Finding{vm_.id, std::move(check), std::move(text), false});
  }
  void unknown(std::string check, std::string text) {
    report_.findings.push_back(Finding{vm_.id, std::move(check), std::move(text), true});
  }
  [[nodiscard]] ocf::Deadline step() const { return deadline_.within(kStepTime); }
  [[nodiscard]] bool active_here() const {
    return std::find(vm_.active_on.begin(), vm_.active_on.end(), options_.node) != vm_.active_on.end();
  }

  /// This node's copy against the copy on the node where the VM runs, whose agent published its
  /// digest (at start, migration, probe and whenever the file changed: a node that only stands
  /// by does not re-read its copy, so only the running node's digest is current).
  void check_drift(const std::string& config, const std::string& text) {
    const std::string mine = config_digest(text);
    const std::string attribute = config_digest_attribute(vm_.id);
    for (const auto& node : vm_.active_on) {
      if (node == options_.node) continue;
      const std::string theirs = view_.attribute(node, attribute);
      if (theirs.empty()) {
        unknown("drift", fmt::format("cannot compare the config with {}'s, where it runs: {} has published no "
                                     "digest ({}; vmha publishes it at start, migration and probe)",
                                     node, node, attribute));
      } else if (theirs != mine) {
        problem("drift", fmt::format("config {} differs from the copy on {}, where it runs", config, node));
      }
    }
  }

  void check_disks(const virt::DomainXml& domain) {
    for (const auto& disk : domain.disks) {
      if (disk.path.empty()) {
        if (disk.type == "volume") {
          unknown("disk",
                  fmt::format("disk {} is volume {} of pool {}: not checked", disk.target_dev, disk.volume, disk.pool));
        }
        continue;  // network disks, empty CD-ROM drives
      }
      auto found = world_.files.info(disk.path, step().at());
      if (!found) {
        if (found.error().kind == ErrorKind::not_found) {
          problem("disk", fmt::format("disk {} ({}) is missing on this node", disk.path, disk.target_dev));
        } else {
          unknown("disk", fmt::format("cannot look at disk {}: {}", disk.path, found.error().reason));
        }
      }
    }
  }

  void check_drbd(const virt::DomainXml& domain) {
    const auto found_devices = vm_drbd_devices(vm_, domain, world_.files, deadline_);
    if (!found_devices) {
      unknown("drbd", found_devices.error().reason);
      return;
    }
    const auto& devices = *found_devices;
    if (devices.empty()) return;
    if (!drbd_state_.has_value()) drbd_state_.emplace(world_.drbd.resources(step()));  // once for every resource
    const auto& all = *drbd_state_;
    if (!all) {
      if (all.error().kind == ErrorKind::not_found) {
        problem("drbd", fmt::format("DRBD is not installed on this node, and the disks are on DRBD"));
      } else {
        unknown("drbd", fmt::format("cannot read DRBD's state: {}", all.error().reason));
      }
      return;
    }
    auto selection = drbd::select(*all, devices);
    for (const auto& finding : selection.findings) {
      problem("drbd", fmt::format("DRBD {}: {}", finding.resource, finding.problem));
    }
    const bool two_primaries = text::parse_boolean(vm_.param("drbd_allow_two_primaries")).value_or(false);
    for (const auto* resource : selection.resources) {
      std::vector<drbd::Finding> found;
      if (active_here()) {
        found = drbd::check_start(*resource, two_primaries);
      } else {
        // After the loss of the node where it runs, Pacemaker promotes this side: what must hold
        // then is this node's own disk (no peer to compare with, no peer that is Primary).
        drbd::Resource alone = *resource;
        alone.peers.clear();
        alone.may_promote = true;
        alone.quorum.reset();
        for (auto& volume : alone.volumes) volume.quorum.reset();
        found = drbd::check_start(alone, false);
      }
      for (const auto& finding : found) {
        problem("drbd", fmt::format("DRBD {}: {}", finding.resource, finding.problem));
      }
    }
  }

  void check_networks(const virt::DomainXml& domain) {
    const std::string uri = vm_.param("hypervisor");
    const bool starts_them = text::parse_boolean(vm_.param("start_resources")).value_or(false);
    for (const auto& name : domain.networks) {
      auto active = world_.host(uri).network_active(name, step());
      if (!active) {
        if (active.error().kind == ErrorKind::not_found) {
          problem("network", fmt::format("libvirt network {} does not exist on this node", name));
        } else {
          unknown("network", fmt::format("cannot look up libvirt network {}: {}", name, active.error().reason));
        }
      } else if (!*active && !starts_them) {
        problem("network",
                fmt::format("libvirt network {} is not active on this node (and start_resources is off)", name));
      }
    }
    for (const auto& bridge : domain.bridges) {
      if (!world_.interface_exists(bridge)) {
        problem("bridge", fmt::format("bridge {} does not exist on this node", bridge));
      }
    }
  }

  void check_machine(const virt::DomainXml& domain) {
    auto& host = world_.host(vm_.param("hypervisor"));
    const virt::MachineRequest machine{domain.emulator, domain.arch, domain.machine, domain.type};
    auto offered = host.offers(machine, step());
    if (!offered) {
      if (offered.error().kind == ErrorKind::invalid) {
        problem("machine", fmt::format("this host's libvirt does not offer {} {} machine '{}' with {}: {}", domain.type,
                                       domain.arch, domain.machine,
                                       domain.emulator.empty() ? "the default emulator" : domain.emulator,
                                       offered.error().reason));
      } else {
        unknown("machine", fmt::format("cannot ask libvirt what it offers: {}", offered.error().reason));
      }
      return;  // the CPU comparison needs a machine libvirt knows
    }
    if (domain.cpu_mode != "custom" || domain.cpu_model.empty() || domain.cpu_xml.empty())
      return;  // host-model and passthrough: this host's
    auto runs = host.runs_cpu(machine, domain.cpu_xml, step());
    if (!runs) {
      if (runs.error().kind == ErrorKind::invalid) {
        problem("cpu", fmt::format("guest CPU model {} is not offered by this host: {}", domain.cpu_model,
                                   runs.error().reason));
      } else {
        unknown("cpu", fmt::format("cannot compare the guest CPU: {}", runs.error().reason));
      }
    }
  }

  const ClusterView& view_;
  const VmResource& vm_;
  const CheckOptions& options_;
  CheckWorld& world_;
  const ocf::Deadline& deadline_;
  CheckReport& report_;
  DrbdState& drbd_state_;
};

std::string mib(std::uint64_t kib) {
  return fmt::format("{} MiB", (kib + 512) / 1024);
}

}  // namespace

Result<std::vector<drbd::DeviceRef>> vm_drbd_devices(const VmResource& vm, const virt::DomainXml& domain,
                                                     sys::FileSystem& files, const ocf::Deadline& deadline) {
  std::vector<drbd::DeviceRef> devices;
  const auto names = text::split_words(vm.param("drbd_resources"));
  if (names == std::vector<std::string>{"none"}) return devices;
  for (const auto& name : names) devices.push_back({name, std::nullopt, std::nullopt, name});
  if (!names.empty()) return devices;
  // As the agent finds them: a link that cannot be followed leaves the answer open.
  std::vector<std::string> paths;
  for (const auto& disk : domain.disks) paths.push_back(disk.path);
  return drbd::disk_devices(paths, [&files, &deadline](const std::string& path) {
    return files.resolve(path, deadline.within(kStepTime).at());
  });
}

int CheckReport::exit_code() const {
  bool unsure = false;
  for (const auto& finding : findings) {
    if (!finding.unknown) return 1;
    unsure = true;
  }
  return unsure ? 2 : 0;
}

CheckReport run_check(const ClusterView& view, const CheckOptions& options, CheckWorld& world,
                      const ocf::Deadline& deadline) {
  CheckReport report;
  report.node = options.node;
  const bool member = std::any_of(view.nodes.begin(), view.nodes.end(),
                                  [&options](const ClusterNode& node) { return node.name == options.node; });
  if (!member) {
    report.findings.push_back(
        Finding{"cluster", "cluster", fmt::format("{} is not a node of this cluster", options.node), true});
  }
  std::uint64_t memory_kib = 0;
  unsigned vcpus = 0;
  int counted = 0;
  bool sum_complete = true;
  std::string uri;
  ResourceCheck::DrbdState drbd_state;
  for (const auto& vm : view.resources) {
    report.resources.push_back(vm.id);
    auto domain = ResourceCheck(view, vm, options, world, deadline, report, drbd_state).run();
    if (!vm.wanted) continue;
    if (counted == 0) uri = vm.param("hypervisor");
    ++counted;
    if (!domain) {
      sum_complete = false;
      continue;
    }
    memory_kib += domain->memory_kib;
    vcpus += domain->vcpus == 0 ? 1 : domain->vcpus;
  }

  Capacity& capacity = report.capacity;
  capacity.vms = counted;
  capacity.need_kib = memory_kib;
  capacity.reserve_kib = options.memory_reserve_mib * 1024;
  capacity.vcpus = vcpus;
  capacity.vcpu_ratio = options.vcpu_ratio;
  if (counted > 0) {
    auto size = world.host(uri).size(deadline.within(kStepTime));
    if (!size) {
      report.findings.push_back(
          Finding{"capacity", "memory", fmt::format("cannot read this host's size: {}", size.error().reason), true});
    } else {
      capacity.known = true;
      capacity.have_kib = size->memory_kib;
      capacity.cpus = size->cpus;
      const std::string partial = sum_complete ? "" : " (VMs whose config is unusable here not counted)";
      if (capacity.need_kib + capacity.reserve_kib > capacity.have_kib) {
        report.findings.push_back(
            Finding{"capacity", "memory",
                    fmt::format("memory short: {} VMs need {} and the host keeps {}, but this node has {}{}", counted,
                                mib(capacity.need_kib), mib(capacity.reserve_kib), mib(capacity.have_kib), partial),
                    false});
      }
      const double allowed = std::floor(static_cast<double>(capacity.cpus) * options.vcpu_ratio);
      if (static_cast<double>(capacity.vcpus) > allowed) {
        report.findings.push_back(Finding{
            "capacity", "vcpus",
            fmt::format("vCPUs short: {} VMs have {} vCPUs, but this node has {} CPUs (at {} vCPUs per CPU: {}){}",
                        counted, capacity.vcpus, capacity.cpus, options.vcpu_ratio, allowed, partial),
            false});
      }
    }
  }
  return report;
}

std::string render_text(const CheckReport& report) {
  int problems = 0;
  int unknowns = 0;
  for (const auto& finding : report.findings) (finding.unknown ? unknowns : problems) += 1;
  const int code = report.exit_code();
  std::string out = fmt::format("vmha check on {}: {} ({} resources", report.node,
                                code == 0   ? "READY"
                                : code == 1 ? "NOT READY"
                                            : "COULD NOT CHECK",
                                report.resources.size());
  if (problems > 0) out += fmt::format(", {} problem{}", problems, problems == 1 ? "" : "s");
  if (unknowns > 0) out += fmt::format(", {} not checked", unknowns);
  out += fmt::format(", {} ms)\n", report.took_ms);
  for (const auto& id : report.resources) {
    bool any = false;
    for (const auto& finding : report.findings) {
      if (finding.subject != id) continue;
      out += fmt::format("  {:<16} {:<8} {}{}\n", id, finding.check, finding.unknown ? "not checked: " : "",
                         finding.problem);
      any = true;
    }
    if (!any) out += fmt::format("  {:<16} ok\n", id);
  }
  for (const auto& finding : report.findings) {
    if (finding.subject == "capacity" || finding.subject == "cluster") {
      out += fmt::format("  {:<16} {:<8} {}{}\n", finding.subject, finding.check,
                         finding.unknown ? "not checked: " : "", finding.problem);
    }
  }
  const auto& c = report.capacity;
  if (c.known) {
    out += fmt::format("  capacity: {} VMs need {} + reserve {} of {}; {} vCPUs on {} CPUs (ratio {})\n", c.vms,
                       mib(c.need_kib), mib(c.reserve_kib), mib(c.have_kib), c.vcpus, c.cpus, c.vcpu_ratio);
  }
  return out;
}

std::string render_json(const CheckReport& report) {
  JsonWriter json;
  json.begin_object();
  json.field("node", report.node);
  const int code = report.exit_code();
  json.field("ready", code == 0);
  json.field("status", code == 0 ? "ready" : code == 1 ? "not-ready" : "could-not-check");
  json.field("exit_code", code);
  json.field("took_ms", report.took_ms);
  json.key("resources");
  json.begin_array();
  for (const auto& id : report.resources) {
    json.begin_object();
    json.field("id", id);
    bool ok = true;
    json.key("findings");
    json.begin_array();
    for (const auto& finding : report.findings) {
      if (finding.subject != id) continue;
      ok = false;
      json.begin_object();
      json.field("check", finding.check);
      json.field("problem", finding.problem);
      json.field("checked", !finding.unknown);
      json.end_object();
    }
    json.end_array();
    json.field("ok", ok);
    json.end_object();
  }
  json.end_array();
  json.key("node_findings");
  json.begin_array();
  for (const auto& finding : report.findings) {
    if (finding.subject != "capacity" && finding.subject != "cluster") continue;
    json.begin_object();
    json.field("check", finding.check);
    json.field("problem", finding.problem);
    json.field("checked", !finding.unknown);
    json.end_object();
  }
  json.end_array();
  const auto& c = report.capacity;
  json.key("capacity");
  json.begin_object();
  json.field("known", c.known);
  json.field("vms", c.vms);
  json.field("need_mib", static_cast<long long>(c.need_kib / 1024));
  json.field("reserve_mib", static_cast<long long>(c.reserve_kib / 1024));
  json.field("host_mib", static_cast<long long>(c.have_kib / 1024));
  json.field("vcpus", static_cast<long long>(c.vcpus));
  json.field("cpus", static_cast<long long>(c.cpus));
  json.field("vcpu_ratio", c.vcpu_ratio);
  json.end_object();
  json.end_object();
  return json.text() + "\n";
}

}  // namespace vmha::admin
