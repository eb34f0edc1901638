#include "sim/simulation.hpp"

#include <array>
#include <cstdio>
#include <memory>
#include <random>

#include <fmt/core.h>

#include "VirtualDomain/virtual_domain.hpp"
#include "support/fake_hypervisor.hpp"
#include "support/fakes.hpp"
#include "support/memory_files.hpp"
#include "vmha/ocf/dispatch.hpp"

namespace vmha::sim {
namespace {

using sys::Millis;

constexpr const char* kUuid = "6f1e3b52-0d8a-4c53-9a8e-1a2b3c4d5e6f";
constexpr const char* kConfig = "/etc/vmha/vm1.xml";
constexpr const char* kRunState = "/run/resource-agents";
constexpr std::array<const char*, 2> kNodes{"node1", "node2"};

// The operation timeouts of examples/crm/two-node.crm.
constexpr Millis kStartTimeout{90'000};
constexpr Millis kStopTimeout{90'000};
constexpr Millis kMonitorTimeout{30'000};
constexpr Millis kMigrateToTimeout{120'000};
constexpr Millis kMigrateFromTimeout{60'000};

std::string config_xml() {
  return fmt::format(
      "<domain type='qemu'><name>vm1</name><uuid>{}</uuid><memory unit='MiB'>128</memory><vcpu>1</vcpu>"
      "<devices><emulator>/bin/true</emulator><disk type='block' device='disk'>"
      "<source dev='/dev/drbd/by-res/r0/0'/><target dev='vda'/></disk></devices></domain>",
      kUuid);
}

std::string uri_of(std::size_t node) {
  return fmt::format("qemu+tcp://{}/system", kNodes[node]);
}

/// One cluster node: its libvirt, its disks, and what Pacemaker believes of it.
struct Node {
  Node(sys::ManualClock& clock, std::size_t index) : id(index), world(clock), files(clock) {
    files.write(kConfig, config_xml());
    files.make_directory(kRunState);
    world.files = &files;
  }
  std::size_t id;
  test::FakeLibvirt world;
  test::MemoryFileSystem files;
  test::FakeCommandRunner runner;
  test::CapturingLogger log;
  bool drbd_uptodate = true;
  // Pacemaker's view.
  bool up = true;
  bool active = false;
  bool needs_stop = false;
  bool needs_probe = true;
  bool failed = false;   ///< a failure here: not started here again until a cleanup
  bool avoided = false;  ///< an admin moved it away: started here only when nowhere else
};

class Cluster {
 public:
  Cluster(bool trace, Outcome& outcome) : trace_(trace), outcome_(outcome) {
    for (std::size_t i = 0; i < nodes_.size(); ++i) nodes_[i] = std::make_unique<Node>(clock_, i);
    for (std::size_t i = 0; i < nodes_.size(); ++i) nodes_[i]->world.peers[uri_of(1 - i)] = &nodes_[1 - i]->world;
  }

  void apply(const Step& step) {
    Node& n = *nodes_[step.node % 2];
    switch (step.kind) {
      case StepKind::pacemaker: pacemaker(step.param); break;
      case StepKind::time_passes: clock_.advance(std::chrono::seconds(step.param % 120)); break;
      case StepKind::libvirtd_down: n.world.unreachable = true; break;
      case StepKind::libvirtd_up: n.world.unreachable = false; break;
      case StepKind::libvirtd_hangs: n.world.hung.insert("*"); break;
      case StepKind::libvirtd_answers:
        n.world.hung.clear();
        n.world.latency.clear();
        break;
      case StepKind::libvirtd_slow:
        for (const auto* op : {"state", "create", "destroy", "shutdown", "migrate"}) {
          n.world.latency[op] = std::chrono::seconds(step.param % 20);
        }
        break;
      case StepKind::libvirtd_restarts: n.world.restart_daemon(); break;
      case StepKind::calls_land_late:
        for (const auto* op : {"create", "start", "restore"}) {
          n.world.lands_late[op] = std::chrono::seconds(step.param % 120 + 1);
        }
        break;
      case StepKind::calls_answer: n.world.lands_late.clear(); break;
      case StepKind::qemu_killed:
        n.world.settle();
        n.world.domains.erase("vm1");
        break;
      case StepKind::destroy_leaves_qemu: n.world.destroy_leaves_qemu = true; break;
      case StepKind::config_broken: break_config(n, step.param % 4); break;
      case StepKind::config_restored:
        n.files.heal_all();
        n.files.write(kConfig, config_xml());
        break;
      case StepKind::drbd_outdated: n.drbd_uptodate = false; break;
      case StepKind::drbd_uptodate: n.drbd_uptodate = true; break;
      case StepKind::node_crash:
        if (n.up) fence(n, "it crashed");
        break;
      case StepKind::node_boot:
        if (!n.up) {
          n.up = true;
          n.needs_probe = true;
          n.failed = false;
          n.world.destroy_leaves_qemu = false;
        }
        break;
      case StepKind::cleanup:
        blocked_ = false;
        for (auto& node : nodes_) {
          node->failed = false;
          node->needs_stop = false;
          if (node->up) node->needs_probe = true;
        }
        break;
      case StepKind::storage_returns:
        n.world.lingering.clear();
        n.world.destroy_leaves_qemu = false;
        break;
      case StepKind::stonith_disabled: stonith_ = false; break;
      case StepKind::stonith_enabled: stonith_ = true; break;
    }
  }

  /// The invariant: the domain runs on one node at most. An empty string when it holds.
  [[nodiscard]] std::string broken() {
    int running = 0;
    for (auto& node : nodes_) running += node->world.runs("vm1") ? 1 : 0;
    if (running > 1) return "the domain runs on both nodes";
    return late_;
  }

 private:
  void note(const std::string& line) {
    if (trace_) outcome_.log.push_back(line);
  }

  void break_config(Node& n, std::uint32_t how) {
    const std::string xml = config_xml();
    switch (how) {
      case 0: n.files.write(kConfig, ""); break;
      case 1: n.files.write(kConfig, xml.substr(0, xml.find("</uuid>") + 7)); break;
      case 2: n.files.fail(kConfig, {ErrorKind::denied, "Permission denied", false}); break;
      default: n.files.hang(kConfig); break;
    }
  }

  /// DRBD as drbdsetup would show it on `n`: permanent dual-primary, as the example runs it.
  void refresh_drbd(Node& n) {
    const Node& peer = *nodes_[1 - n.id];
    drbd::Resource r;
    r.name = "r0";
    r.role = drbd::Role::primary;
    r.may_promote = false;
    r.volumes.push_back(
        drbd::Volume{0, 0, n.drbd_uptodate ? drbd::DiskState::uptodate : drbd::DiskState::outdated, false, {}});
    drbd::Peer p;
    p.name = kNodes[peer.id];
    p.connection = peer.up ? drbd::ConnectionState::connected : drbd::ConnectionState::connecting;
    p.role = peer.up ? drbd::Role::primary : drbd::Role::unknown;
    p.volumes.push_back(
        drbd::PeerVolume{0,
                         peer.up ? (peer.drbd_uptodate ? drbd::DiskState::uptodate : drbd::DiskState::outdated)
                                 : drbd::DiskState::dunknown,
                         peer.up ? drbd::ReplicationState::established : drbd::ReplicationState::off,
                         false,
                         {},
                         {}});
    r.peers.push_back(p);
    n.world.drbd = {r};
  }

  /// Runs the agent on `n` as Pacemaker would; its exit code.
  int act(Node& n, const std::string& action, Millis timeout, bool probe = false, std::size_t peer = 0) {
    refresh_drbd(n);
    sys::MapEnvironment env;
    env.set("OCF_ROOT", "/usr/lib/ocf");
    env.set("OCF_RESOURCE_INSTANCE", "vm1");
    env.set("OCF_RESOURCE_TYPE", "VirtualDomain");
    env.set("OCF_RESKEY_config", kConfig);
    env.set("OCF_RESKEY_hypervisor", uri_of(n.id));
    env.set("OCF_RESKEY_drbd_allow_two_primaries", "true");
    env.set("OCF_RESKEY_autoset_utilization_cpu", "false");
    env.set("OCF_RESKEY_autoset_utilization_host_memory", "false");
    env.set("OCF_RESKEY_autoset_utilization_hv_memory", "false");
    env.set("HA_RSCTMP", kRunState);
    env.set("OCF_RESKEY_CRM_meta_timeout", std::to_string(timeout.count()));
    env.set("OCF_RESKEY_CRM_meta_interval", probe || action != "monitor" ? "0" : "10000");
    if (action == "migrate_to" || action == "migrate_from") {
      const auto source = action == "migrate_to" ? n.id : peer;
      const auto target = action == "migrate_to" ? peer : n.id;
      env.set("OCF_RESKEY_CRM_meta_migrate_source", kNodes[source]);
      env.set("OCF_RESKEY_CRM_meta_migrate_target", kNodes[target]);
    }
    const ocf::Services services{env, clock_, n.runner, n.files, n.files, n.log, false};
    const auto definition = agents::virtual_domain_definition(test::fake_backends(n.world));
    const std::vector<std::string> args{"VirtualDomain", action};
    char* err_text = nullptr;
    std::size_t err_size = 0;
    std::FILE* err = open_memstream(&err_text, &err_size);
    std::FILE* out = std::fopen("/dev/null", "w");
    const auto began = clock_.now();
    const int rc = ocf::dispatch(args, definition, services, out, err);
    const auto took = std::chrono::duration_cast<Millis>(clock_.now() - began);
    std::fclose(out);
    std::fclose(err);
    const std::string said(err_text, err_size);
    std::free(err_text);  // NOLINT(cppcoreguidelines-no-malloc): open_memstream's buffer
    n.log.lines.clear();
    ++outcome_.actions;
    const Millis budget = timeout - ocf::safety_margin(timeout);
    if (took > budget && late_.empty()) {
      late_ =
          fmt::format("{} on {} took {} ms, past its {} ms budget", action, kNodes[n.id], took.count(), budget.count());
    }
    const auto reason_at = said.rfind("ocf-exit-reason:");
    note(fmt::format("    {} {}{} -> {} in {} ms{}", kNodes[n.id], probe ? "probe" : action,
                     action.starts_with("migrate")
                         ? fmt::format(" ({} -> {})", kNodes[action == "migrate_to" ? n.id : peer],
                                       kNodes[action == "migrate_to" ? peer : n.id])
                         : "",
                     rc, took.count(),
                     reason_at == std::string::npos
                         ? ""
                         : ": " + said.substr(reason_at + 16, said.find('\n', reason_at) - reason_at - 16)));
    return rc;
  }

  void fence(Node& n, const std::string& why) {
    note(fmt::format("    {} fenced: {}", kNodes[n.id], why));
    n.world.power_off();
    n.files.erase_under(kRunState);  // /run is emptied at boot
    n.world.unreachable = false;
    n.world.hung.clear();
    n.world.latency.clear();
    n.up = false;
    n.active = false;
    n.needs_stop = false;
    n.needs_probe = true;
  }

  void stop(Node& n) {
    const int rc = act(n, "stop", kStopTimeout);
    if (rc == 0) {
      n.active = false;
      n.needs_stop = false;
    } else if (stonith_) {
      fence(n, "its stop failed");
    } else {
      note(fmt::format("    the resource is blocked: {}'s stop failed and stonith is disabled", kNodes[n.id]));
      blocked_ = true;  // it may still run there: nothing is done with it until a cleanup
    }
  }

  void probe(Node& n) {
    n.needs_probe = false;
    const int rc = act(n, "monitor", kMonitorTimeout, true);
    if (rc == 0 || rc == 190) {
      n.active = true;
      if (nodes_[1 - n.id]->active) {  // active on both: stop both, start one (multiple-active=stop_start)
        for (auto& node : nodes_) node->needs_stop = node->active;
      }
    } else if (rc != 7) {
      n.needs_stop = true;  // unknown state: Pacemaker stops it to be sure
    } else {
      n.active = false;
    }
  }

  void start(Node& n) {
    const int rc = act(n, "start", kStartTimeout);
    if (rc == 0) {
      n.active = true;
    } else {
      n.failed = true;
      n.needs_stop = true;
    }
  }

  void monitor(Node& n) {
    const int rc = act(n, "monitor", kMonitorTimeout);
    if (rc == 7) {
      n.active = false;  // "not running": it may be started anywhere, without a stop first
    } else if (rc != 0 && rc != 190) {
      n.failed = true;
      n.needs_stop = true;
    }
  }

  void migrate(Node& from, Node& to) {
    const int rc = act(from, "migrate_to", kMigrateToTimeout, false, to.id);
    if (rc == 0 && act(to, "migrate_from", kMigrateFromTimeout, false, from.id) == 0) {
      to.active = true;
      from.active = false;
      from.needs_stop = true;  // Pacemaker stops the source after migrate_from
      return;
    }
    from.needs_stop = true;  // a failed migration: both copies are stopped
    to.needs_stop = true;
  }

  void pacemaker(std::uint32_t choice) {
    if (blocked_) return;
    for (auto& n : nodes_) {
      if (n->up && n->needs_stop) return stop(*n);
    }
    for (auto& n : nodes_) {
      if (n->up && n->needs_probe) return probe(*n);
    }
    Node* active = nullptr;
    for (auto& n : nodes_) {
      if (n->up && n->active) active = n.get();
    }
    if (active == nullptr) {
      std::vector<Node*> candidates;
      for (auto& n : nodes_) {
        if (n->up && !n->failed && !n->avoided) candidates.push_back(n.get());
      }
      for (auto& n : nodes_) {
        if (candidates.empty() && n->up && !n->failed) candidates.push_back(n.get());
      }
      if (!candidates.empty()) start(*candidates[choice % candidates.size()]);
      return;
    }
    Node& other = *nodes_[1 - active->id];
    const bool other_fit = other.up && !other.failed;
    switch (choice % 8) {
      case 0:  // an admin moves it, live (allow-migrate=true)
        if (other_fit) {
          active->avoided = true;
          other.avoided = false;
          return migrate(*active, other);
        }
        break;
      case 1:  // an admin moves it the slow way: stopped here, started elsewhere
        if (other_fit) {
          active->avoided = true;
          other.avoided = false;
          active->needs_stop = true;
          return stop(*active);
        }
        break;
      default: break;
    }
    monitor(*active);
  }

  bool trace_;
  Outcome& outcome_;
  sys::ManualClock clock_;
  std::array<std::unique_ptr<Node>, 2> nodes_;
  std::string late_;
  bool stonith_ = true;
  bool blocked_ = false;
};

}  // namespace

std::string describe(const Step& step) {
  constexpr std::array<const char*, 22> kNames{"Pacemaker decides",
                                               "time passes",
                                               "libvirtd stops",
                                               "libvirtd starts",
                                               "libvirtd hangs",
                                               "libvirtd answers",
                                               "libvirtd is slow",
                                               "libvirtd restarts",
                                               "calls land late",
                                               "calls answer",
                                               "QEMU is killed",
                                               "destroy leaves QEMU alive",
                                               "config broken",
                                               "config restored",
                                               "DRBD disk Outdated",
                                               "DRBD disk UpToDate",
                                               "node crashes",
                                               "node boots",
                                               "cleanup",
                                               "the stuck QEMU dies",
                                               "stonith disabled",
                                               "stonith enabled"};
  std::string text = kNames[static_cast<std::size_t>(step.kind)];
  switch (step.kind) {
    case StepKind::pacemaker: return fmt::format("{} (choice {})", text, step.param);
    case StepKind::time_passes: return fmt::format("{}: {} s", text, step.param % 120);
    case StepKind::cleanup:
    case StepKind::stonith_disabled:
    case StepKind::stonith_enabled: return text;
    case StepKind::libvirtd_slow:
      return fmt::format("{} on {}: {} s a call", text, kNodes[step.node % 2], step.param % 20);
    case StepKind::calls_land_late:
      return fmt::format("{} on {}: {} s after the call", text, kNodes[step.node % 2], step.param % 120 + 1);
    case StepKind::config_broken: {
      constexpr std::array<const char*, 4> kHow{"emptied", "cut after <uuid>", "unreadable", "on a hung file system"};
      return fmt::format("{} on {}: {}", text, kNodes[step.node % 2], kHow[step.param % 4]);
    }
    default: return fmt::format("{} on {}", text, kNodes[step.node % 2]);
  }
}

Outcome simulate(const std::vector<Step>& steps, bool trace) {
  Outcome outcome;
  Cluster cluster(trace, outcome);
  for (const auto& step : steps) {
    if (trace) outcome.log.push_back(fmt::format("{:4}. {}", outcome.steps_run + 1, describe(step)));
    cluster.apply(step);
    ++outcome.steps_run;
    if (auto broken = cluster.broken(); !broken.empty()) {
      outcome.ok = false;
      outcome.failure = fmt::format("after step {} ({}): {}", outcome.steps_run, describe(step), broken);
      return outcome;
    }
  }
  return outcome;
}

std::vector<Step> random_steps(std::uint64_t seed, std::size_t count) {
  std::mt19937_64 random(seed);
  // Weights: Pacemaker acts most of the time; faults are rarer, so that runs get somewhere.
  struct Weighted {
    StepKind kind;
    unsigned weight;
  };
  static constexpr std::array<Weighted, 22> kTable{
      {{StepKind::pacemaker, 80},     {StepKind::time_passes, 12},      {StepKind::libvirtd_down, 2},
       {StepKind::libvirtd_up, 6},    {StepKind::libvirtd_hangs, 2},    {StepKind::libvirtd_answers, 6},
       {StepKind::libvirtd_slow, 2},  {StepKind::libvirtd_restarts, 2}, {StepKind::calls_land_late, 3},
       {StepKind::calls_answer, 4},   {StepKind::qemu_killed, 2},       {StepKind::destroy_leaves_qemu, 1},
       {StepKind::config_broken, 3},  {StepKind::config_restored, 6},   {StepKind::drbd_outdated, 1},
       {StepKind::drbd_uptodate, 2},  {StepKind::node_crash, 1},        {StepKind::node_boot, 4},
       {StepKind::cleanup, 6},        {StepKind::storage_returns, 2},   {StepKind::stonith_disabled, 1},
       {StepKind::stonith_enabled, 2}}};
  unsigned total = 0;
  for (const auto& entry : kTable) total += entry.weight;
  std::vector<Step> steps;
  steps.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    auto pick = static_cast<unsigned>(random() % total);
    StepKind kind = StepKind::pacemaker;
    for (const auto& entry : kTable) {
      if (pick < entry.weight) {
        kind = entry.kind;
        break;
      }
      pick -= entry.weight;
    }
    steps.push_back(Step{kind, static_cast<std::uint8_t>(random() % 2), static_cast<std::uint32_t>(random())});
  }
  return steps;
}

std::vector<Step> shrink(const std::vector<Step>& failing, const Verdict& fails) {
  // Drop chunks, ever smaller, while the rest still fails.
  std::vector<Step> current = failing;
  std::size_t chunks = 2;
  while (current.size() >= 2) {
    const std::size_t size = (current.size() + chunks - 1) / chunks;
    bool reduced = false;
    for (std::size_t start = 0; start < current.size(); start += size) {
      std::vector<Step> candidate(current.begin(), current.begin() + static_cast<std::ptrdiff_t>(start));
      candidate.insert(candidate.end(),
                       current.begin() + static_cast<std::ptrdiff_t>(std::min(start + size, current.size())),
                       current.end());
      if (fails(candidate)) {
        current = std::move(candidate);
        chunks = std::max<std::size_t>(chunks - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (chunks >= current.size()) break;
      chunks = std::min(current.size(), chunks * 2);
    }
  }
  return current;
}

std::vector<Step> shrink(const std::vector<Step>& failing) {
  // What follows the first broken invariant does not matter.
  std::vector<Step> head = failing;
  if (const auto first = simulate(head); !first.ok) head.resize(first.steps_run);
  return shrink(head, [](const std::vector<Step>& steps) { return !simulate(steps).ok; });
}

}  // namespace vmha::sim
