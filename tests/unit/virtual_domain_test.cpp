// The VirtualDomain actions against the fake hypervisor, with a fake clock for the deadlines.
#include <filesystem>

#include "support/agent_harness.hpp"
#include "support/catch.hpp"
#include "vmha/config_digest.hpp"

using vmha::ErrorKind;
using vmha::sys::Millis;
using vmha::test::AgentHarness;
using vmha::test::kUuid;
using vmha::virt::DomainState;
using vmha::virt::Evidence;
using vmha::virt::StateInfo;

namespace {

vmha::Error error_of(ErrorKind kind) {
  return vmha::Error{kind, "injected"};
}

}  // namespace

TEST_CASE("monitor maps every domain state to an OCF status", "[vd][monitor]") {
  const auto [state, reason, pm_running, rc] = GENERATE(table<DomainState, int, std::string, int>({
      {DomainState::running, 1, "", 0},
      {DomainState::blocked, 0, "", 0},
      {DomainState::shutting_down, 1, "", 0},
      {DomainState::paused, vmha::virt::paused_user, "", 0},
      {DomainState::paused, vmha::virt::paused_migration, "", 0},
      {DomainState::paused, vmha::virt::paused_snapshot, "", 0},
      {DomainState::paused, vmha::virt::paused_ioerror, "", 1},
      {DomainState::paused, vmha::virt::paused_crashed, "", 1},
      {DomainState::paused, vmha::virt::paused_watchdog, "", 1},
      {DomainState::crashed, 0, "", 1},
      {DomainState::pm_suspended, 0, "", 0},
      {DomainState::pm_suspended, 0, "false", 1},
      {DomainState::shut_off, 1, "", 7},
  }));
  AgentHarness h;
  h.fakes.env.set("OCF_RESKEY_autoset_utilization_cpu", "false");
  h.fakes.env.set("OCF_RESKEY_autoset_utilization_host_memory", "false");
  h.fakes.env.set("OCF_RESKEY_autoset_utilization_hv_memory", "false");
  if (!pm_running.empty()) h.fakes.env.set("OCF_RESKEY_pmsuspended_is_running", pm_running);
  h.world.add("vm1", kUuid, StateInfo{state, reason}, true);
  const auto outcome = h.run("monitor");
  CAPTURE(vmha::virt::describe(StateInfo{state, reason}), outcome.err);
  CHECK(outcome.rc == rc);
  if (rc == 1) CHECK_THAT(outcome.reason(), Catch::Contains("vm1"));
  CHECK(h.world.calls == std::vector<std::string>{"state vm1"});  // one query, nothing else
}

TEST_CASE("monitor: an absent domain is not running", "[vd][monitor]") {
  AgentHarness h;
  CHECK(h.run("monitor").rc == 7);
}

TEST_CASE("monitor without libvirtd decides from this node's QEMU process", "[vd][monitor]") {
  const auto [kind, evidence, processes, rc] = GENERATE(table<ErrorKind, Evidence, bool, int>({
      {ErrorKind::unreachable, Evidence::running, true, 190},
      {ErrorKind::unreachable, Evidence::gone, true, 7},
      {ErrorKind::unreachable, Evidence::unknown, true, 1},
      {ErrorKind::unreachable, Evidence::running, false, 1},
      {ErrorKind::timed_out, Evidence::running, true, 190},
      {ErrorKind::timed_out, Evidence::gone, true, 7},
      {ErrorKind::denied, Evidence::running, true, 4},
      {ErrorKind::other, Evidence::running, true, 1},
  }));
  AgentHarness h;
  h.with_processes = processes;
  h.world.add("vm1", kUuid);
  h.world.evidence = evidence;
  h.world.failures["state"].push_back(error_of(kind));
  const auto outcome = h.run("monitor");
  CAPTURE(outcome.err);
  CHECK(outcome.rc == rc);
  if (rc == 1) CHECK_FALSE(outcome.reason().empty());
}

TEST_CASE("monitor with a hung libvirtd answers within its budget", "[vd][monitor]") {
  AgentHarness h;
  h.world.add("vm1", kUuid);
  h.world.hung.insert("*");
  h.world.evidence = Evidence::running;
  const auto outcome = h.run("monitor");
  CHECK(outcome.rc == 190);
  CHECK(outcome.took <= vmha::agents::kQueryTime);
}

TEST_CASE("probes never touch the CIB; monitors write utilization only when it changed", "[vd][monitor]") {
  AgentHarness h;
  h.world.add("vm1", kUuid).vcpus = 2;
  h.fakes.env.set("OCF_RESKEY_CRM_meta_interval", "0");
  CHECK(h.run("monitor").rc == 0);
  CHECK(h.fakes.runner.ran.empty());

  h.fakes.env.set("OCF_RESKEY_CRM_meta_interval", "10000");
  for (int i = 0; i < 3; ++i)
    h.fakes.runner.answers.emplace_back(vmha::sys::Completion{0, 0, false, "", "", Millis{1}});
  CHECK(h.run("monitor").rc == 0);
  REQUIRE(h.fakes.runner.ran.size() == 3);
  CHECK(h.fakes.runner.ran[0] == std::vector<std::string>{"crm_resource", "--resource", "vm1", "--utilization",
                                                          "--set-parameter", "cpu", "--parameter-value", "2"});
  CHECK(h.fakes.runner.ran[1].back() == "128");  // host_memory in MiB

  CHECK(h.run("monitor").rc == 0);
  CHECK(h.fakes.runner.ran.size() == 3);  // unchanged: no child process

  h.world.domains.at("vm1").vcpus = 4;
  h.fakes.runner.answers.emplace_back(vmha::sys::Completion{0, 0, false, "", "", Millis{1}});
  CHECK(h.run("monitor").rc == 0);
  REQUIRE(h.fakes.runner.ran.size() == 4);
  CHECK(h.fakes.runner.ran[3].back() == "4");
}

TEST_CASE("a failed utilization write never fails the monitor and is not retried at once", "[vd][monitor]") {
  AgentHarness h;
  h.world.add("vm1", kUuid);
  h.fakes.runner.answers.emplace_back(vmha::sys::Completion{1, 0, false, "", "no CIB", Millis{1}});
  h.fakes.runner.answers.emplace_back(vmha::sys::Completion{1, 0, false, "", "no CIB", Millis{1}});
  h.fakes.runner.answers.emplace_back(vmha::sys::Completion{1, 0, false, "", "no CIB", Millis{1}});
  CHECK(h.run("monitor").rc == 0);
  CHECK(h.fakes.log.contains(vmha::sys::LogLevel::warning, "not written"));
  const auto spawned = h.fakes.runner.ran.size();
  CHECK(h.run("monitor").rc == 0);
  CHECK(h.fakes.runner.ran.size() == spawned);
}

TEST_CASE("monitor scripts run directly and their failure fails the monitor", "[vd][monitor]") {
  AgentHarness h;
  h.fakes.env.set("OCF_RESKEY_CRM_meta_interval", "0");
  h.fakes.env.set("OCF_RESKEY_monitor_scripts", "/usr/lib/check-dns /usr/lib/check-radius");
  h.world.add("vm1", kUuid);
  h.fakes.runner.answers.emplace_back(vmha::sys::Completion{0, 0, false, "", "", Millis{5}});
  h.fakes.runner.answers.emplace_back(vmha::sys::Completion{2, 0, false, "", "radius: no reply\nmore", Millis{5}});
  const auto outcome = h.run("monitor");
  CHECK(outcome.rc == 1);
  CHECK(outcome.reason() == "monitor script /usr/lib/check-radius failed (exit status 2): radius: no reply");
  CHECK(h.fakes.runner.ran[0] == std::vector<std::string>{"/usr/lib/check-dns"});
}

TEST_CASE("without its config, monitor and stop use the record of the start here", "[vd][monitor][stop]") {
  AgentHarness h;
  CHECK(h.run("start").rc == 0);
  h.remove_config();
  CHECK(h.run("monitor").rc == 0);
  CHECK(h.run("stop").rc == 0);
  CHECK_FALSE(h.world.runs("vm1"));
  CHECK(h.run("monitor").rc == 7);  // the record went with the stop
  CHECK(h.run("stop").rc == 0);
}

TEST_CASE("without config or record, probe says 7 and stop 0, asking libvirt only for a labelled domain",
          "[vd][monitor][stop]") {
  AgentHarness h;
  h.remove_config();
  h.fakes.env.set("OCF_RESKEY_CRM_meta_interval", "0");
  CHECK(h.run("monitor").rc == 7);
  CHECK(h.run("stop").rc == 0);
  CHECK(h.world.calls == std::vector<std::string>{"labelled vm1", "labelled vm1"});
}

TEST_CASE("start creates a transient domain and waits until it runs", "[vd][start]") {
  AgentHarness h;
  const auto outcome = h.run("start");
  CHECK(outcome.rc == 0);
  REQUIRE(h.world.has("vm1"));
  CHECK_FALSE(h.world.domains.at("vm1").persistent);
  CHECK(h.world.calls.front() == "state vm1");
  CHECK(h.world.calls.at(1) == "create vm1");
  CHECK(h.world.domains.at("vm1").label == "vm1");  // found by its label wherever it migrates
  // Idempotent: a second start only looks (recording the domain as libvirt knows it) and labels
  // it again.
  h.world.calls.clear();
  CHECK(h.run("start").rc == 0);
  CHECK(h.world.calls == std::vector<std::string>{"state vm1", "facts vm1", "label vm1"});
}

TEST_CASE("start of a persistent, stopped domain redefines and starts it, never undefines", "[vd][start]") {
  AgentHarness h;
  h.world.add("vm1", kUuid, {DomainState::shut_off, 1}, true);
  CHECK(h.run("start").rc == 0);
  CHECK(h.world.domains.at("vm1").persistent);
  CHECK(std::find(h.world.calls.begin(), h.world.calls.end(), "define vm1") != h.world.calls.end());
  CHECK(std::find(h.world.calls.begin(), h.world.calls.end(), "start vm1") != h.world.calls.end());
}

TEST_CASE("start destroys a crashed domain first", "[vd][start]") {
  AgentHarness h;
  h.world.add("vm1", kUuid, {DomainState::crashed, 0}, true);
  CHECK(h.run("start").rc == 0);
  CHECK(h.world.domains.at("vm1").state.state == DomainState::running);
}

TEST_CASE("start fails clearly when the config is missing or malformed on this node", "[vd][start]") {
  AgentHarness h;
  h.remove_config();
  auto outcome = h.run("start");
  CHECK(outcome.rc == 5);
  CHECK_THAT(outcome.reason(), Catch::Contains("is not readable on this node"));
  h.write_config("<domain><name>vm1</name>");
  outcome = h.run("start");
  CHECK(outcome.rc == 2);
  CHECK_THAT(outcome.reason(), Catch::Contains("config file"));
  h.write_config("<!DOCTYPE d [<!ENTITY x 'y'>]><domain><name>&x;</name></domain>");
  CHECK(h.run("start").rc == 2);
  CHECK(h.world.calls.empty());
}

TEST_CASE("start reports libvirt's refusal and gives up at the deadline", "[vd][start]") {
  AgentHarness h;
  h.world.failures["create"].push_back(vmha::Error{vmha::ErrorKind::other, "cannot allocate memory"});
  auto outcome = h.run("start");
  CHECK(outcome.rc == 1);
  CHECK(outcome.reason() == "cannot start: cannot allocate memory");

  AgentHarness hung;
  hung.world.hung.insert("create");
  outcome = hung.run("start");
  CHECK(outcome.rc == 1);
  CHECK(outcome.took <= hung.budget());
}

TEST_CASE("start waits for monitor scripts until they pass", "[vd][start]") {
  AgentHarness h;
  h.fakes.env.set("OCF_RESKEY_monitor_scripts", "/bin/check");
  h.fakes.runner.answers.emplace_back(vmha::sys::Completion{1, 0, false, "", "not yet", Millis{1}});
  h.fakes.runner.answers.emplace_back(vmha::sys::Completion{0, 0, false, "", "", Millis{1}});
  CHECK(h.run("start").rc == 0);
  CHECK(h.fakes.runner.ran.size() == 2);
}

TEST_CASE("start restores a saved state and removes the file", "[vd][start]") {
  AgentHarness h;
  const std::string snapshots = h.dir.path() + "/snap";
  h.fakes.files.make_directory(snapshots);
  h.fakes.env.set("OCF_RESKEY_snapshot", snapshots);
  const std::string saved = snapshots + "/vm1.state";
  h.fakes.files.write(saved, std::string("vm1\n") + kUuid + "\n");  // what the fake's save writes
  CHECK(h.run("start").rc == 0);
  // Retired before the restore, so it can never be restored twice.
  CHECK(std::find(h.world.calls.begin(), h.world.calls.end(), "restore " + saved + ".restoring") !=
        h.world.calls.end());
  CHECK(h.world.runs("vm1"));
  CHECK_FALSE(h.fakes.files.exists(saved));
  CHECK_FALSE(h.fakes.files.exists(saved + ".restoring"));
}

TEST_CASE("start with a backing file makes the overlay and defines the domain", "[vd][start]") {
  AgentHarness h;
  h.fakes.env.set("OCF_RESKEY_backingfile", "/var/lib/images/base.qcow2");
  h.fakes.env.set("OCF_RESKEY_stateless", "true");
  h.fakes.runner.answers.emplace_back(
      vmha::sys::Completion{0, 0, false, "{\n    \"format\": \"raw\",\n}", "", Millis{1}});
  h.fakes.runner.answers.emplace_back(vmha::sys::Completion{0, 0, false, "", "", Millis{1}});
  CHECK(h.run("start").rc == 0);
  REQUIRE(h.fakes.runner.ran.size() == 2);
  CHECK(h.fakes.runner.ran[1] == std::vector<std::string>{"qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b",
                                                          "/var/lib/images/base.qcow2", h.dir.path() + "/vm1.qcow2"});
  CHECK(h.world.domains.at("vm1").persistent);
}

TEST_CASE("start without qemu-img for a backing file fails with 1, as before: validate-all says 5", "[vd][start]") {
  AgentHarness h;
  h.fakes.env.set("OCF_RESKEY_backingfile", "/var/lib/images/base.qcow2");
  const auto outcome = h.run("start");  // the fake runner knows no program: "not scripted"
  CHECK(outcome.rc == 1);
  CHECK_FALSE(h.world.runs("vm1"));
}

TEST_CASE("stop shuts a cooperative guest down gracefully", "[vd][stop]") {
  AgentHarness h;
  h.fakes.env.set("OCF_RESKEY_shutdown_mode", "acpi");
  h.world.add("vm1", kUuid).shutdown_takes = Millis{700};
  const auto outcome = h.run("stop");
  CHECK(outcome.rc == 0);
  CHECK_FALSE(h.world.runs("vm1"));
  CHECK(h.world.last_shutdown_methods == vmha::virt::shutdown_acpi);
  CHECK(std::find(h.world.calls.begin(), h.world.calls.end(), "destroy vm1") == h.world.calls.end());
  CHECK(outcome.took < Millis{1'000});
}

TEST_CASE("stop destroys a guest that ignores ACPI, keeping the destroy reserve", "[vd][stop]") {
  const auto [timeout, reserve, graceful] = GENERATE(table<long, std::string, long>({
      {90'000, "", 65'000},    // 85 s budget, 20 s kept for destroy
      {20'000, "", 9'000},     // 18 s budget: at most half kept
      {90'000, "30", 55'000},  // a larger reserve
      {90'000, "0", 85'000},
  }));
  AgentHarness h{Millis{timeout}};
  if (!reserve.empty()) h.fakes.env.set("OCF_RESKEY_destroy_reserve", reserve);
  h.world.add("vm1", kUuid).obeys_shutdown = false;
  h.world.latency["destroy"] = Millis{reserve == "0" ? 0 : 8'000};  // a slow destroy still fits
  const auto outcome = h.run("stop");
  CAPTURE(timeout, reserve, outcome.err);
  CHECK(outcome.rc == 0);
  CHECK_FALSE(h.world.runs("vm1"));
  CHECK(outcome.took <= h.budget());
  CHECK(outcome.took >= Millis{graceful});
}

TEST_CASE("stop with force_stop destroys at once; paused and crashed guests too", "[vd][stop]") {
  const auto [force, state] = GENERATE(table<bool, DomainState>({
      {true, DomainState::running},
      {false, DomainState::paused},
      {false, DomainState::crashed},
      {false, DomainState::pm_suspended},
  }));
  AgentHarness h;
  if (force) h.fakes.env.set("OCF_RESKEY_force_stop", "true");
  h.world.add("vm1", kUuid, {state, 0});
  CHECK(h.run("stop").rc == 0);
  CHECK(std::find(h.world.calls.begin(), h.world.calls.end(), "shutdown vm1") == h.world.calls.end());
  CHECK_FALSE(h.world.runs("vm1"));
}

TEST_CASE("stop without libvirtd kills this node's QEMU, or fails when it cannot tell", "[vd][stop]") {
  const auto [evidence, kill_works, rc] = GENERATE(table<Evidence, bool, int>({
      {Evidence::running, true, 0},
      {Evidence::running, false, 1},
      {Evidence::gone, true, 0},
      {Evidence::unknown, true, 1},
  }));
  AgentHarness h;
  h.world.add("vm1", kUuid);
  h.world.unreachable = true;
  h.world.evidence = evidence;
  h.world.kill_works = kill_works;
  const auto outcome = h.run("stop");
  CHECK(outcome.rc == rc);
  if (rc == 1) CHECK_FALSE(outcome.reason().empty());
}

TEST_CASE("stop saves the state to the snapshot directory", "[vd][stop]") {
  AgentHarness h;
  h.fakes.env.set("OCF_RESKEY_snapshot", h.dir.path());
  h.world.add("vm1", kUuid);
  CHECK(h.run("stop").rc == 0);
  CHECK(h.world.saved.count(h.dir.path() + "/vm1.state") == 1);
}

TEST_CASE("save_config_on_stop writes the definition back to the config file", "[vd][stop]") {
  AgentHarness h;
  h.fakes.env.set("OCF_RESKEY_save_config_on_stop", "true");
  h.world.add("vm1", kUuid);
  CHECK(h.run("stop").rc == 0);
  const std::string text = h.fakes.files.content(h.config).value_or("");
  CHECK_THAT(text, Catch::Contains("<description>saved</description>"));
}

TEST_CASE("stop after a migration away returns 0 at once", "[vd][stop]") {
  AgentHarness h;
  const auto outcome = h.run("stop");
  CHECK(outcome.rc == 0);
  CHECK(h.world.calls == std::vector<std::string>{"state vm1"});
}

namespace {

/// Calls that would change the running domain.
bool touched(const std::vector<std::string>& calls) {
  for (const auto& call : calls) {
    for (const char* verb : {"create", "destroy", "shutdown", "start", "define", "undefine", "migrate"}) {
      if (call.rfind(verb, 0) == 0) return true;
    }
  }
  return false;
}

void no_utilization(AgentHarness& h) {
  for (const char* name : {"cpu", "host_memory", "hv_memory"}) {
    h.fakes.env.set(std::string("OCF_RESKEY_autoset_utilization_") + name, "false");
  }
}

}  // namespace

TEST_CASE("reload-agent leaves the running domain alone and logs the values now in effect", "[vd][reload]") {
  AgentHarness h;
  no_utilization(h);
  h.world.add("vm1", kUuid);
  h.fakes.env.set("OCF_RESKEY_migration_speed", "50");
  h.fakes.env.set("OCF_RESKEY_shutdown_mode", "acpi");
  const auto outcome = h.run("reload-agent");
  CAPTURE(outcome.err);
  CHECK(outcome.rc == 0);
  CHECK(h.world.runs("vm1"));
  CHECK_FALSE(touched(h.world.calls));
  CHECK(h.fakes.log.contains(vmha::sys::LogLevel::info, "migration_speed=50"));
  CHECK(h.fakes.log.contains(vmha::sys::LogLevel::info, "shutdown_mode=acpi"));
}

TEST_CASE("reload-agent leaves monitor scripts and utilization to the monitor Pacemaker reschedules", "[vd][reload]") {
  // A failed reload-agent counts as a failed start (fail-count INFINITY): a script that fails
  // once must not cost more than it does in the recurring monitor.
  AgentHarness h;
  h.world.add("vm1", kUuid).vcpus = 2;
  h.fakes.env.set("OCF_RESKEY_monitor_scripts", "/usr/lib/check-dns");
  h.fakes.env.set("OCF_RESKEY_autoset_utilization_cpu", "true");
  CHECK(h.run("reload-agent").rc == 0);
  CHECK(h.fakes.runner.ran.empty());

  h.fakes.runner.answers.emplace_back(vmha::sys::Completion{0, 0, false, "", "", Millis{5}});
  for (int i = 0; i < 3; ++i)
    h.fakes.runner.answers.emplace_back(vmha::sys::Completion{0, 0, false, "", "", Millis{1}});
  CHECK(h.run("monitor").rc == 0);
  REQUIRE_FALSE(h.fakes.runner.ran.empty());
  CHECK(h.fakes.runner.ran[0] == std::vector<std::string>{"/usr/lib/check-dns"});
}

TEST_CASE("reload-agent of a domain in an unknown or failed state answers 0: the next monitor decides",
          "[vd][reload]") {
  AgentHarness h;
  no_utilization(h);
  h.world.add("vm1", kUuid).state = StateInfo{DomainState::crashed, 0};
  const auto outcome = h.run("reload-agent");
  CHECK(outcome.rc == 0);
  CHECK(h.fakes.log.contains(vmha::sys::LogLevel::warning, "state is unknown"));
  CHECK(h.run("monitor").rc == 1);
}

TEST_CASE("a malformed migration or DRBD parameter never fails a stop", "[vd][stop]") {
  AgentHarness h;
  no_utilization(h);
  h.fakes.env.set("OCF_RESKEY_migrate_options", "--no-such-option");
  h.fakes.env.set("OCF_RESKEY_force_stop", "true");
  h.world.add("vm1", kUuid);
  CHECK(h.run("stop").rc == 0);
  CHECK_FALSE(h.world.runs("vm1"));
  CHECK(h.run("migrate_to").rc == 6);
}

TEST_CASE("reload-agent refuses malformed values with 6 and a domain not running here with 1", "[vd][reload]") {
  const auto [name, value, running, rc, reason] = GENERATE(table<std::string, std::string, bool, int, std::string>({
      {"migration_speed", "fast", true, 6, "parameter 'migration_speed': 'fast' is not an integer"},
      {"migrate_options", "--no-such-option", true, 6, "--no-such-option"},
      {"force_stop", "maybe", true, 6, "'maybe' is not a boolean"},
      {"migration_speed", "50", false, 1, "not running here: nothing to reload"},
  }));
  AgentHarness h;
  no_utilization(h);
  if (running) h.world.add("vm1", kUuid);
  h.fakes.env.set("OCF_RESKEY_" + name, value);
  const auto outcome = h.run("reload-agent");
  CAPTURE(name, value, outcome.err);
  CHECK(outcome.rc == rc);
  CHECK_THAT(outcome.reason(), Catch::Contains(reason));
  CHECK(h.world.runs("vm1") == running);
  CHECK_FALSE(touched(h.world.calls));
}

TEST_CASE("validate-all checks what this node needs", "[vd][validate]") {
  AgentHarness h;
  CHECK(h.run("validate-all").rc == 0);
  h.fakes.env.set("OCF_RESKEY_sync_config_on_stop", "true");
  h.fakes.env.set("PATH", "/nonexistent");
  auto outcome = h.run("validate-all");
  CHECK(outcome.rc == 5);
  CHECK(outcome.reason() == "csync2 is not installed (needed for sync_config_on_stop)");
  h.fakes.env.unset("OCF_RESKEY_sync_config_on_stop");
  h.fakes.env.set("OCF_RESKEY_snapshot", "/nonexistent/snaps");
  CHECK(h.run("validate-all").rc == 5);
  h.fakes.env.unset("OCF_RESKEY_snapshot");
  h.write_config("<domain><name>vm1</name><devices><emulator>/nonexistent/qemu</emulator></devices></domain>");
  outcome = h.run("validate-all");
  CHECK(outcome.rc == 5);
  CHECK_THAT(outcome.reason(), Catch::Contains("emulator /nonexistent/qemu"));
  h.remove_config();
  CHECK(h.run("validate-all").rc == 5);
  CHECK(h.world.calls.empty());  // validate-all never needs libvirtd
}

// Every action × initial state × fault × evidence: the safety rules hold in all of them.
TEST_CASE("safety invariants hold for every action, state and fault", "[vd][invariants]") {
  const auto action = GENERATE(as<std::string>{}, "start", "stop", "probe", "monitor");
  const auto initial = GENERATE(as<int>{}, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8);  // -1 absent; 8 = paused on I/O error
  const auto fault = GENERATE(as<std::string>{}, "none", "unreachable", "hung", "state-fails", "shutdown-fails",
                              "destroy-fails", "destroy-hung", "create-fails");
  const auto evidence_known = GENERATE(true, false);

  AgentHarness h;
  if (action == "probe") h.fakes.env.set("OCF_RESKEY_CRM_meta_interval", "0");
  const std::string run_action = action == "probe" ? "monitor" : action;
  if (initial >= 0) {
    const auto state = initial == 8 ? DomainState::paused : static_cast<DomainState>(initial);
    auto& domain = h.world.add("vm1", kUuid, {state, initial == 8 ? vmha::virt::paused_ioerror : 1}, true);
    domain.obeys_shutdown = initial % 2 == 0;
  }
  const bool ran_before = h.world.runs("vm1");
  if (fault == "unreachable") h.world.unreachable = true;
  if (fault == "hung") h.world.hung.insert("*");
  if (fault == "destroy-hung") h.world.hung.insert("destroy");
  const auto injected = vmha::Error{vmha::ErrorKind::other, "injected"};
  if (fault == "state-fails") h.world.failures["state"].push_back(injected);
  if (fault == "shutdown-fails") h.world.failures["shutdown"].push_back(injected);
  if (fault == "destroy-fails") h.world.failures["destroy"].push_back(injected);
  if (fault == "create-fails") h.world.failures["create"].push_back(injected);
  h.world.evidence = !evidence_known ? Evidence::unknown : ran_before ? Evidence::running : Evidence::gone;

  const auto outcome = h.run(run_action);
  const bool runs_after = h.world.runs("vm1") && !(h.world.kills > 0);
  CAPTURE(action, initial, fault, evidence_known, outcome.rc, outcome.err);
  CHECK(outcome.took <= h.budget());  // never past the deadline
  if (outcome.rc != 0 && outcome.rc != 7 && outcome.rc != 190) CHECK_FALSE(outcome.reason().empty());
  if (run_action == "stop") {
    CHECK(outcome.rc != 7);                        // stop never answers "not running"
    if (outcome.rc == 0) CHECK_FALSE(runs_after);  // 0 only when verifiably gone
  }
  if (run_action == "monitor" && outcome.rc == 7) CHECK_FALSE(runs_after);  // never a false "stopped"
  if (run_action == "start" && outcome.rc == 0) CHECK(runs_after);
  if (action == "probe") CHECK(h.fakes.runner.ran.empty());  // probes never write the CIB
}

TEST_CASE("the config digest goes out at probes, starts and a new file version, never on a recurring monitor",
          "[vd][digest]") {
  AgentHarness h;
  h.fakes.env.set("OCF_RESKEY_CRM_meta_on_node", "node1");
  h.fakes.env.set("OCF_RESKEY_autoset_utilization_cpu", "false");
  h.fakes.env.set("OCF_RESKEY_autoset_utilization_host_memory", "false");
  h.fakes.env.set("OCF_RESKEY_autoset_utilization_hv_memory", "false");
  const auto published = [&h] {
    int count = 0;
    for (const auto& argv : h.fakes.runner.ran) count += !argv.empty() && argv[0] == "attrd_updater" ? 1 : 0;
    return count;
  };
  const std::vector<std::string> expected{
      "attrd_updater", "--name", "vmha-config-vm1", "--update", vmha::config_digest(vmha::test::domain_xml()),
      "--node",        "node1"};
  h.fakes.env.set("OCF_RESKEY_CRM_meta_interval", "0");
  CHECK(h.run("monitor").rc == 7);  // a probe
  REQUIRE(published() == 1);
  CHECK(h.fakes.runner.ran.back() == expected);
  CHECK(h.run("start").rc == 0);
  CHECK(published() == 2);
  h.fakes.env.set("OCF_RESKEY_CRM_meta_interval", "10000");
  for (int i = 0; i < 3; ++i) CHECK(h.run("monitor").rc == 0);
  CHECK(published() == 2);
  h.write_config(vmha::test::domain_xml() + "\n");  // a new version of the file
  CHECK(h.run("monitor").rc == 0);
  CHECK(published() == 3);
  CHECK(h.run("monitor").rc == 0);
  CHECK(published() == 3);
  // A config on a file system that stopped answering is not read a second time to publish.
  h.fakes.files.hang(h.config);
  h.fakes.env.set("OCF_RESKEY_CRM_meta_interval", "0");
  const auto probe = h.run("monitor");
  CHECK(probe.rc == 0);  // the records still name the running domain
  CHECK(probe.took < h.budget());
  CHECK(published() == 3);
}
