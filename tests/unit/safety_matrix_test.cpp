// The adversarial safety matrix: every action against what really runs on the node, what
// libvirt does, what /proc, the records and the config file say — evidence that contradicts
// the truth included. On every cell: no false "not running" from monitor or probe, no false
// "stopped" from stop (not now, and not once abandoned calls have landed), never past the
// deadline. The one documented exception, counted apart: nothing names the domain at all.
#include <array>
#include <string>

#include "support/agent_harness.hpp"
#include "support/catch.hpp"

using vmha::ErrorKind;
using vmha::sys::Millis;
using vmha::test::AgentHarness;
using vmha::test::kUuid;
using vmha::virt::DomainRef;
using vmha::virt::DomainState;

namespace {

constexpr const char* kOldUuid = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

enum class Truth { absent, running, running_old_uuid, running_labelled, paused_ioerror, shut_off, landing };
enum class Libvirt { answers, unreachable, hung, state_fails, destroy_fails, destroy_leaves_qemu, create_lands_late };
enum class Proc { honest, unreadable, cmdline_blocked };
enum class Records { none, start, identity, both, launching, launching_restarted, unwritable };
enum class Config { usable, missing, unreadable, hung, fifo, cut_after_uuid, empty };

constexpr std::array kTruths{Truth::absent,         Truth::running,  Truth::running_old_uuid, Truth::running_labelled,
                             Truth::paused_ioerror, Truth::shut_off, Truth::landing};
constexpr std::array kLibvirts{Libvirt::answers,          Libvirt::unreachable,   Libvirt::hung,
                               Libvirt::state_fails,      Libvirt::destroy_fails, Libvirt::destroy_leaves_qemu,
                               Libvirt::create_lands_late};
constexpr std::array kProcs{Proc::honest, Proc::unreadable, Proc::cmdline_blocked};
constexpr std::array kRecords{Records::none,      Records::start,     Records::identity,
                              Records::both,      Records::launching, Records::launching_restarted,
                              Records::unwritable};
constexpr std::array kConfigs{Config::usable, Config::missing,        Config::unreadable, Config::hung,
                              Config::fifo,   Config::cut_after_uuid, Config::empty};

const char* name(Truth t) {
  constexpr std::array<const char*, 7> kNames{"absent",
                                              "running",
                                              "running under an older UUID",
                                              "running, labelled (it came by migration)",
                                              "paused (I/O error)",
                                              "shut off",
                                              "an abandoned create lands later"};
  return kNames[static_cast<std::size_t>(t)];
}
const char* name(Libvirt l) {
  constexpr std::array<const char*, 7> kNames{"answers",          "unreachable",   "hung",
                                              "state fails",      "destroy fails", "destroy leaves QEMU alive",
                                              "create lands late"};
  return kNames[static_cast<std::size_t>(l)];
}
const char* name(Proc p) {
  constexpr std::array<const char*, 3> kNames{"honest", "unreadable", "command lines blocked (a stuck QEMU)"};
  return kNames[static_cast<std::size_t>(p)];
}
const char* name(Records r) {
  constexpr std::array<const char*, 7> kNames{"none",
                                              "start record",
                                              "identity",
                                              "both",
                                              "launching",
                                              "launching, daemon restarted since",
                                              "none, and none can be written (HA_RSCTMP read-only)"};
  return kNames[static_cast<std::size_t>(r)];
}
const char* name(Config c) {
  constexpr std::array<const char*, 7> kNames{"usable", "missing",          "unreadable", "on a hung file system",
                                              "a FIFO", "cut after <uuid>", "empty"};
  return kNames[static_cast<std::size_t>(c)];
}

/// Combinations that cannot happen: a pending create was recorded as launching with the daemon
/// that still runs (a reboot or restart would have ended the call).
bool possible(Truth truth, Records records) {
  return truth != Truth::landing || records == Records::launching;
}

/// Double faults no agent can see through: libvirt calls a QEMU destroyed that lives on (libvirt
/// 9.0 with a thread stuck in the kernel), and /proc cannot be read to catch it.
bool detectable(Libvirt libvirt, Proc proc) {
  return !(libvirt == Libvirt::destroy_leaves_qemu && proc == Proc::unreadable);
}

/// Whether anything names the domain: the config (whole or read tolerantly), a record, or the
/// label vmha gave it where it started (with libvirt there to be asked for it).
bool named(Truth truth, Libvirt libvirt, Records records, Config config) {
  const bool label = truth == Truth::running_labelled && libvirt != Libvirt::unreachable && libvirt != Libvirt::hung;
  const bool recorded = records != Records::none && records != Records::unwritable;
  return label || recorded || config == Config::usable || config == Config::cut_after_uuid;
}

struct Cell {
  std::string action;
  Truth truth;
  Libvirt libvirt;
  Proc proc;
  Records records;
  Config config;
};

struct Result {
  int rc = -1;
  bool runs_after = false;  ///< the domain runs once every abandoned call has landed
  bool in_time = true;
  bool reason_given = true;
  std::string said;  ///< the agent's stderr
};

Result run_cell(const Cell& cell) {
  AgentHarness h;
  if (cell.action == "probe") h.fakes.env.set("OCF_RESKEY_CRM_meta_interval", "0");
  h.fakes.env.set("OCF_RESKEY_autoset_utilization_cpu", "false");
  h.fakes.env.set("OCF_RESKEY_autoset_utilization_host_memory", "false");
  h.fakes.env.set("OCF_RESKEY_autoset_utilization_hv_memory", "false");
  auto& world = h.world;
  const DomainRef current{"vm1", kUuid};
  const DomainRef older{"vm1", kOldUuid};

  switch (cell.truth) {
    case Truth::absent: break;
    case Truth::running: world.add("vm1", kUuid); break;
    case Truth::running_old_uuid: world.add("vm1", kOldUuid); break;
    case Truth::running_labelled: world.add("vm1", kUuid).label = "vm1"; break;
    case Truth::paused_ioerror: world.add("vm1", kUuid, {DomainState::paused, vmha::virt::paused_ioerror}); break;
    case Truth::shut_off: world.add("vm1", kUuid, {DomainState::shut_off, 1}, true); break;
    case Truth::landing:
      world.pending.push_back({"create", vmha::test::domain_xml(), current, {}, world.clock.now() + Millis{3'000}});
      break;
  }

  // The records, as earlier actions on this node left them.
  const std::string rsctmp = h.dir.path() + "/rsctmp";
  const vmha::agents::Records records(h.fakes.files, rsctmp, "vm1", vmha::sys::Clock::time_point::max());
  const DomainRef started = cell.truth == Truth::running_old_uuid ? older : current;
  if (cell.records == Records::start || cell.records == Records::both)
    REQUIRE(records.remember_start({started, false, {}, 0, {}}));
  if (cell.records == Records::identity || cell.records == Records::both) {
    REQUIRE(records.remember_config_identity(h.config, {current, "an older version"}));
  }
  if (cell.records == Records::launching || cell.records == Records::launching_restarted) {
    REQUIRE(records.remember_start({started, true, "fake 1", 0, {}}));
  }
  if (cell.records == Records::launching_restarted) world.daemon_generation = 2;
  if (cell.records == Records::unwritable) {
    h.fakes.files.fail(rsctmp, {ErrorKind::other, "Read-only file system", true});
  }

  switch (cell.config) {
    case Config::usable: break;
    case Config::missing: h.remove_config(); break;
    case Config::unreadable: h.fakes.files.fail(h.config, {ErrorKind::denied, "Permission denied", false}); break;
    case Config::hung: h.fakes.files.hang(h.config); break;
    case Config::fifo: h.fakes.files.make_special(h.config); break;
    case Config::cut_after_uuid: {
      const std::string xml = vmha::test::domain_xml();
      h.write_config(xml.substr(0, xml.find("</uuid>") + 7));
      break;
    }
    case Config::empty: h.write_config(""); break;
  }

  switch (cell.libvirt) {
    case Libvirt::answers: break;
    case Libvirt::unreachable: world.unreachable = true; break;
    case Libvirt::hung: world.hung.insert("*"); break;
    case Libvirt::state_fails:
      for (int i = 0; i < 1000; ++i) {
        world.failures["state"].push_back({ErrorKind::other, "internal error"});
      }
      break;
    case Libvirt::destroy_fails:
      for (int i = 0; i < 1000; ++i) {
        world.failures["destroy"].push_back({ErrorKind::other, "Failed to terminate process: Device or resource busy"});
      }
      break;
    case Libvirt::destroy_leaves_qemu: world.destroy_leaves_qemu = true; break;
    case Libvirt::create_lands_late: world.lands_late["create"] = Millis{40'000}; break;
  }
  if (cell.proc == Proc::unreadable) world.evidence = vmha::virt::Evidence::unknown;
  if (cell.proc == Proc::cmdline_blocked) world.cmdline_blocked = true;
  for (auto& [domain_name, domain] : world.domains) domain.obeys_shutdown = false;  // destroy must be reached

  const auto outcome = h.run(cell.action == "probe" ? "monitor" : cell.action);
  Result result;
  result.rc = outcome.rc;
  result.in_time = outcome.took <= h.budget();
  result.reason_given = outcome.rc == 0 || outcome.rc == 7 || outcome.rc == 190 || !outcome.reason().empty();
  world.clock.advance(std::chrono::hours(1));  // every abandoned call lands
  result.runs_after = world.runs("vm1");
  result.said = outcome.err;
  return result;
}

}  // namespace

TEST_CASE("safety matrix: no false 'not running', no false 'stopped', never late", "[vd][invariants][matrix]") {
  int cells = 0;
  int by_rule = 0;
  int stops_refused = 0;
  int undetectable = 0;
  for (const std::string action : {"probe", "monitor", "stop", "start"}) {
    for (const auto truth : kTruths) {
      for (const auto libvirt : kLibvirts) {
        for (const auto proc : kProcs) {
          for (const auto records : kRecords) {
            for (const auto config : kConfigs) {
              if (!possible(truth, records)) continue;
              if (!detectable(libvirt, proc)) {
                ++undetectable;
                continue;
              }
              const Cell cell{action, truth, libvirt, proc, records, config};
              const Result r = run_cell(cell);
              ++cells;
              INFO(action << " | truth: " << name(truth) << " | libvirt: " << name(libvirt)
                          << " | /proc: " << name(proc) << " | records: " << name(records)
                          << " | config: " << name(config) << " | rc " << r.rc);
              CHECK(r.in_time);
              CHECK(r.reason_given);
              const bool running_before = truth != Truth::absent && truth != Truth::shut_off;
              if (!named(truth, libvirt, records, config)) {
                const bool asked = libvirt != Libvirt::unreachable && libvirt != Libvirt::hung;
                if (config == Config::missing || asked) {
                  // The config-missing rule: nothing names a domain, nothing says this node
                  // started one since boot, and no domain carries the resource's label (or,
                  // without a config, libvirt need not be there). Documented in docs/safety.md.
                  if (action == "stop") CHECK(r.rc == 0);
                  if (action == "probe" || action == "monitor") CHECK(r.rc == 7);
                  if (running_before && action != "start") ++by_rule;
                } else {
                  // A config there but unusable, and libvirt cannot be asked: no proof either way.
                  if (action != "start") CHECK(r.rc == 1);
                }
                continue;
              }
              if (action == "stop") {
                CHECK(r.rc != 7);
                if (r.rc == 0) CHECK_FALSE(r.runs_after);
                if (r.rc != 0) ++stops_refused;
              }
              if ((action == "monitor" || action == "probe") && r.rc == 7) CHECK_FALSE(r.runs_after);
              if (action == "start" && r.rc == 0) CHECK(r.runs_after);
            }
          }
        }
      }
    }
  }
  WARN(cells << " cells; " << by_rule << " answered by the config-missing rule while a VM ran that nothing named; "
             << stops_refused << " stops answered 1 (the node would be fenced); " << undetectable
             << " left out: libvirt's false 'destroyed' with /proc unreadable");
  CHECK(cells > 10'000);
}
