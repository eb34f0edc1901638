#include "vmha-cli/cli.hpp"

#include <net/if.h>
#include <sys/utsname.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include "VirtualDomain/records.hpp"
#include "vmha-cli/check.hpp"
#include "vmha-cli/status.hpp"
#include "vmha/drbd/source.hpp"
#include "vmha/sys/clock.hpp"
#include "vmha/sys/environment.hpp"
#include "vmha/sys/files.hpp"
#include "vmha/sys/spawn.hpp"
#include "vmha/virt/libvirt.hpp"

namespace vmha::admin {
namespace {

constexpr std::size_t kMaxOutput = std::size_t{64} << 20U;

struct RealWorld {
  sys::SteadyClock clock;
  sys::PosixCommandRunner runner;
  sys::BoundedFileSystem files;
  sys::ProcessEnvironment env;
};

/// A cluster tool's stdout; its stderr's first line in the error.
Result<std::string> query(RealWorld& world, std::vector<std::string> argv, const ocf::Deadline& deadline) {
  sys::Command command(std::move(argv));
  command.max_output = kMaxOutput;
  const std::string name = command.argv.front();
  auto done = world.runner.run(command, deadline.at());
  if (!done) return fail(done.error().kind, fmt::format("{}: {}", name, done.error().reason));
  if (done->exit_code != 0) {
    const std::string why = done->err.substr(0, done->err.find('\n'));
    return fail(ErrorKind::other,
                fmt::format("{} exited with status {}{}", name, done->exit_code, why.empty() ? "" : ": " + why));
  }
  return std::move(done->out);
}

Result<ClusterView> read_view(RealWorld& world, const ocf::Deadline& deadline) {
  auto cib = query(world, {"cibadmin", "--query"}, deadline);
  VMHA_TRY(cib);
  auto mon = query(world, {"crm_mon", "--output-as=xml", "--inactive"}, deadline);
  VMHA_TRY(mon);
  return read_cluster(*cib, *mon);
}

std::string this_node(RealWorld& world, const std::string& given, const ocf::Deadline& deadline) {
  if (!given.empty()) return given;
  if (!world.env.non_empty("CIB_file")) {
    if (auto name = query(world, {"crm_node", "--name"}, deadline.within(std::chrono::seconds(5)))) {
      std::string line = name->substr(0, name->find('\n'));
      if (!line.empty()) return line;
    }
  }
  utsname host{};
  return uname(&host) == 0 ? std::string(host.nodename) : std::string();
}

/// The libvirt connections, one per URI, made when first asked.
template <typename T, typename Make>
class PerUri {
 public:
  explicit PerUri(Make make) : make_(std::move(make)) {}
  T& operator()(const std::string& uri) {
    auto& slot = made_[uri];
    if (!slot) slot = make_(uri);
    return *slot;
  }

 private:
  Make make_;
  std::map<std::string, std::unique_ptr<T>> made_;
};

std::string guest_agent_line(RealWorld& world, const std::string& resource, const ocf::Deadline& deadline) {
  const agents::Records records = agents::Records::from_environment(world.files, world.env, resource, deadline.at());
  const auto record = records.liveness();
  if (!record) return "no depth-10 monitor has run here";
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(world.clock.now().time_since_epoch()).count();
  const auto ago = [now](std::int64_t ms) { return fmt::format("{} s ago", (now - ms + 500) / 1000); };
  if (!record->answered_ms)
    return fmt::format("not answered since the domain started (last ping {})", ago(record->checked_ms));
  if (record->misses == 0) return fmt::format("answered {}", ago(*record->answered_ms));
  return fmt::format("SILENT: last answer {}, {} missed ping(s) since: {}", ago(*record->answered_ms), record->misses,
                     record->last);
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"vmha: checks and shows the ocf:vmha:VirtualDomain resources of this cluster (man 8 vmha)"};
  app.require_subcommand(1);
  bool json = false;
  std::string node;
  int timeout_s = 30;
  CheckOptions options;
  auto* check = app.add_subcommand("check",
                                   "Can this node run every VM resource now, and hold them all if the other node is "
                                   "lost? Exit 0 ready, 1 not ready, 2 could not check");
  check->add_flag("--json", json, "JSON for monitoring systems");
  check->add_option("--node", node, "this node's name in the cluster (default: crm_node --name)");
  check->add_option("--memory-reserve", options.memory_reserve_mib, "MiB the host keeps for itself")
      ->capture_default_str()
      ->check(CLI::Range(0, 1 << 24));
  check->add_option("--vcpu-ratio", options.vcpu_ratio, "vCPUs allowed per host CPU")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 64.0));
  check->add_option("--timeout", timeout_s, "seconds for the whole check")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  auto* status = app.add_subcommand(
      "status",
      "Each VM resource: where it runs, libvirt's state, DRBD, the guest agent, the last migration and start");
  status->add_flag("--json", json, "JSON for monitoring systems");
  status->add_option("--node", node, "this node's name in the cluster (default: crm_node --name)");
  status->add_option("--timeout", timeout_s, "seconds for the whole report")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  RealWorld world;
  const auto started = world.clock.now();
  const ocf::Deadline deadline(world.clock, started + std::chrono::seconds(timeout_s));
  const char* what = check->parsed() ? "check" : "status";
  auto view = read_view(world, deadline);
  if (!view) {
    std::fprintf(stderr, "vmha %s: cannot read the cluster: %s\n", what, view.error().reason.c_str());
    return 2;
  }
  options.node = this_node(world, node, deadline);
  auto drbd = drbd::make_drbdsetup_source(world.runner, world.env.get("PATH").value_or(""));

  if (check->parsed()) {
    PerUri<virt::HostInspector, std::function<std::unique_ptr<virt::HostInspector>(const std::string&)>> hosts(
        [](const std::string& uri) { return virt::make_libvirt_host(uri); });
    CheckWorld check_world{world.files, *drbd,
                           [&hosts](const std::string& uri) -> virt::HostInspector& { return hosts(uri); },
                           [](const std::string& name) { return if_nametoindex(name.c_str()) != 0; }};
    auto report = run_check(*view, options, check_world, deadline);
    report.took_ms = std::chrono::duration_cast<std::chrono::milliseconds>(world.clock.now() - started).count();
    const std::string out = json ? render_json(report) : render_text(report);
    std::fwrite(out.data(), 1, out.size(), stdout);
    return report.exit_code();
  }
  PerUri<virt::Hypervisor, std::function<std::unique_ptr<virt::Hypervisor>(const std::string&)>> libvirt(
      [](const std::string& uri) { return virt::make_libvirt_hypervisor(uri); });
  StatusWorld status_world{
      world.files, *drbd, [&libvirt](const std::string& uri) -> virt::DomainReader& { return libvirt(uri); },
      [&world, &deadline](const std::string& resource) { return guest_agent_line(world, resource, deadline); }};
  const auto report = read_status(*view, options.node, status_world, deadline);
  const std::string out = json ? render_json(report) : render_text(report);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace vmha::admin
