// The DRBD start guard and migration pre-flight as tables (state → decision → reason), over
// every fixture, and through the VirtualDomain agent with a fake DRBD.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fuzz/drbd_status_json.hpp"
#include "support/agent_harness.hpp"
#include "support/catch.hpp"
#include "vmha/drbd/guard.hpp"
#include "vmha/drbd/parse.hpp"

using vmha::drbd::ConnectionState;
using vmha::drbd::DiskState;
using vmha::drbd::Peer;
using vmha::drbd::PeerVolume;
using vmha::drbd::ReplicationState;
using vmha::drbd::Resource;
using vmha::drbd::Role;
using vmha::drbd::Volume;
using vmha::test::AgentHarness;
using vmha::test::kUuid;

namespace {

std::string joined(const std::vector<vmha::drbd::Finding>& findings) {
  std::string text;
  for (const auto& f : findings) text += f.problem + "\n";
  return text;
}

/// r0 with one volume (minor 0) and one peer, node2.
Resource resource(Role role, DiskState disk, Role peer_role, DiskState peer_disk,
                  ConnectionState connection = ConnectionState::connected,
                  ReplicationState replication = ReplicationState::established,
                  std::optional<bool> may_promote = false) {
  Resource r;
  r.name = "r0";
  r.role = role;
  r.may_promote = may_promote;
  r.volumes.push_back(Volume{0, 0, disk, false, std::nullopt});
  Peer peer;
  peer.name = "node2";
  peer.connection = connection;
  peer.role = peer_role;
  peer.volumes.push_back(PeerVolume{0, peer_disk, replication, false, std::nullopt, std::nullopt});
  r.peers.push_back(peer);
  return r;
}

}  // namespace

TEST_CASE("disk paths map to DRBD devices", "[drbd][guard]") {
  const auto resolve = [](const std::string& path) {
    return path == "/dev/drbd/by-disk/vg0/vm1" || path == "/dev/disk/by-id/drbd-vm1" ? std::string("/dev/drbd7") : path;
  };
  const auto [path, resource, volume, minor] =
      GENERATE(table<std::string, std::string, std::optional<int>, std::optional<int>>({
          {"/dev/drbd0", "", std::nullopt, 0},
          {"/dev/drbd1000", "", std::nullopt, 1000},
          {"/dev/drbd/by-res/vm1", "vm1", std::nullopt, std::nullopt},
          {"/dev/drbd/by-res/vm1/1", "vm1", 1, std::nullopt},
          {"/dev/drbd/by-disk/vg0/vm1", "", std::nullopt, 7},
          {"/dev/disk/by-id/drbd-vm1", "", std::nullopt, 7},
      }));
  CAPTURE(path);
  const auto device = vmha::drbd::drbd_device(path, resolve);
  REQUIRE(device);
  CHECK(device->resource == resource);
  CHECK(device->volume == volume);
  CHECK(device->minor == minor);
  CHECK(device->path == path);
  for (const std::string other :
       {"/var/lib/libvirt/images/vm1.qcow2", "/dev/drbdX", "/dev/sda", "", "relative/drbd0", "/dev/drbd/by-res/"}) {
    CHECK_FALSE(vmha::drbd::drbd_device(other, resolve).has_value());
  }
}

TEST_CASE("start guard: state → decision → reason", "[drbd][guard]") {
  using D = DiskState;
  using R = Role;
  const auto [r, dual, allowed, reason] = GENERATE(table<Resource, bool, bool, std::string>({
      {resource(R::primary, D::uptodate, R::secondary, D::uptodate), false, true, ""},
      {resource(R::secondary, D::uptodate, R::secondary, D::uptodate, ConnectionState::connected,
                ReplicationState::established, true),
       false, true, ""},  // DRBD 9 auto-promote
      {resource(R::secondary, D::uptodate, R::secondary, D::uptodate), false, false, "may_promote:no"},
      {resource(R::secondary, D::uptodate, R::unknown, D::dunknown, ConnectionState::connecting, ReplicationState::off,
                std::nullopt),
       false, false, "DRBD 8.4 cannot auto-promote"},
      {resource(R::secondary, D::outdated, R::primary, D::uptodate), false, false, "volume 0 is Outdated"},
      {resource(R::secondary, D::uptodate, R::primary, D::uptodate), false, false, "node2 is Primary"},
      {resource(R::primary, D::uptodate, R::primary, D::uptodate), false, false, "node2 is Primary"},
      {resource(R::primary, D::uptodate, R::primary, D::uptodate), true, true, ""},  // promoted-max=2
      {resource(R::secondary, D::uptodate, R::primary, D::uptodate, ConnectionState::connected,
                ReplicationState::established, true),
       true, false, "this node is not"},
      {resource(R::primary, D::inconsistent, R::secondary, D::uptodate, ConnectionState::connected,
                ReplicationState::synctarget),
       false, false, "Inconsistent"},
      {resource(R::primary, D::consistent, R::unknown, D::dunknown, ConnectionState::connecting), false, false,
       "Consistent"},
      {resource(R::primary, D::diskless, R::secondary, D::uptodate), false, false, "Diskless"},
  }));
  CAPTURE(vmha::drbd::describe(r), dual);
  const auto findings = vmha::drbd::check_start(r, dual);
  CHECK(findings.empty() == allowed);
  if (!allowed) {
    CHECK_THAT(joined(findings), Catch::Contains(reason) && Catch::Contains("r0 ("));
  }
}

TEST_CASE("start guard: suspended I/O and lost quorum refuse", "[drbd][guard]") {
  auto r = resource(Role::primary, DiskState::uptodate, Role::secondary, DiskState::uptodate);
  r.suspended = true;
  CHECK_THAT(joined(vmha::drbd::check_start(r)), Catch::Contains("suspended"));
  r.suspended = false;
  r.quorum = false;
  CHECK_THAT(joined(vmha::drbd::check_start(r)), Catch::Contains("quorum"));
}

TEST_CASE("migration pre-flight: state → decision → reason", "[drbd][guard]") {
  using D = DiskState;
  using R = Role;
  using C = ConnectionState;
  using P = ReplicationState;
  const auto [r, two, allowed, reason] = GENERATE(table<Resource, bool, bool, std::string>({
      {resource(R::primary, D::uptodate, R::primary, D::uptodate), false, true, ""},   // promoted-max=2
      {resource(R::primary, D::uptodate, R::secondary, D::uptodate), true, true, ""},  // allow-two-primaries
      {resource(R::primary, D::uptodate, R::secondary, D::uptodate), false, false, "dual-primary is not allowed"},
      {resource(R::primary, D::uptodate, R::primary, D::outdated), false, false, "node2's volume 0 is Outdated"},
      {resource(R::primary, D::uptodate, R::secondary, D::inconsistent, C::connected, P::syncsource), true, false,
       "resyncing"},
      {resource(R::primary, D::uptodate, R::unknown, D::dunknown, C::connecting, P::off), true, false,
       "connection to node2 is Connecting"},
      {resource(R::primary, D::uptodate, R::unknown, D::dunknown, C::standalone, P::off), true, false, "StandAlone"},
  }));
  CAPTURE(vmha::drbd::describe(r), two);
  const auto findings = vmha::drbd::check_migration(r, "node2", two);
  CHECK(findings.empty() == allowed);
  if (!allowed) CHECK_THAT(joined(findings), Catch::Contains(reason));
  CHECK_THAT(joined(vmha::drbd::check_migration(r, "node3", true)), Catch::Contains("no DRBD connection to node3"));
}

namespace {

/// Every fixture of tests/fixtures/drbd, parsed: its file name and the resources in it.
std::vector<std::pair<std::string, std::vector<Resource>>> parsed_fixtures() {
  std::vector<std::pair<std::string, std::vector<Resource>>> out;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(VMHA_FIXTURES_DIR) + "/drbd")) {
    const std::string name = entry.path().filename().string();
    if (name == "README.md") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    auto parsed = name.starts_with("events2-")  ? vmha::drbd::parse_events2(text.str())
                  : name.starts_with("status-") ? vmha::drbd::parse_status_json(text.str())
                                                : vmha::drbd::parse_proc_drbd(text.str());
    CAPTURE(name);
    REQUIRE(parsed);
    out.emplace_back(name, std::move(*parsed));
  }
  return out;
}

}  // namespace

TEST_CASE("over every fixture, no start where the disk is not UpToDate or a peer is Primary", "[drbd][guard]") {
  int resources = 0;
  int allowed = 0;
  for (const auto& [name, parsed] : parsed_fixtures()) {
    for (const auto& r : parsed) {
      ++resources;
      CAPTURE(name, vmha::drbd::describe(r));
      if (!vmha::drbd::check_start(r).empty()) continue;
      ++allowed;
      for (const auto& v : r.volumes) CHECK(v.disk == DiskState::uptodate);
      for (const auto& p : r.peers) CHECK(p.role != Role::primary);
      CHECK((r.role == Role::primary || r.may_promote == true));
    }
  }
  CHECK(resources >= 20);
  CHECK(allowed >= 1);  // the guard is not a wall
  CHECK(allowed < resources);
}

namespace {

/// A VM whose disk is /dev/drbd/by-res/r0/0.
struct DrbdVm {
  DrbdVm() {
    h.write_config("<domain type='qemu'><name>vm1</name><uuid>" + std::string(kUuid) +
                   "</uuid><memory unit='MiB'>128</memory><vcpu>1</vcpu><devices><emulator>/bin/true</emulator>"
                   "<disk type='block' device='disk'><source dev='/dev/drbd/by-res/r0/0'/><target dev='vda'/></disk>"
                   "</devices></domain>");
    h.fakes.env.set("OCF_RESKEY_autoset_utilization_cpu", "false");
    h.fakes.env.set("OCF_RESKEY_autoset_utilization_host_memory", "false");
    h.fakes.env.set("OCF_RESKEY_autoset_utilization_hv_memory", "false");
  }
  AgentHarness h;
};

}  // namespace

TEST_CASE("start refuses a VM whose DRBD disk is not usable here, naming it", "[drbd][vd]") {
  DrbdVm vm;
  vm.h.world.drbd = {resource(Role::secondary, DiskState::outdated, Role::primary, DiskState::uptodate)};
  const auto outcome = vm.h.run("start");
  CHECK(outcome.rc == 1);
  CHECK_THAT(outcome.reason(), Catch::Contains("start refused by DRBD") && Catch::Contains("r0 (Secondary") &&
                                   Catch::Contains("Outdated") && Catch::Contains("node2 is Primary"));
  CHECK_FALSE(vm.h.world.runs("vm1"));
  CHECK(vm.h.world.drbd_reads == 1);
}

TEST_CASE("start proceeds when DRBD is Primary and UpToDate here; one read per action", "[drbd][vd]") {
  DrbdVm vm;
  vm.h.world.drbd = {resource(Role::primary, DiskState::uptodate, Role::secondary, DiskState::uptodate)};
  CHECK(vm.h.run("start").rc == 0);
  CHECK(vm.h.world.runs("vm1"));
  CHECK(vm.h.world.drbd_reads == 1);
  CHECK(vm.h.run("monitor").rc == 0);
  CHECK(vm.h.run("stop").rc == 0);
  CHECK(vm.h.world.drbd_reads == 1);  // monitor and stop never ask DRBD
}

TEST_CASE("drbd_resources overrides detection; none turns the checks off", "[drbd][vd]") {
  DrbdVm vm;
  vm.h.world.drbd = {resource(Role::secondary, DiskState::uptodate, Role::primary, DiskState::uptodate)};
  SECTION("a resource DRBD does not know") {
    vm.h.fakes.env.set("OCF_RESKEY_drbd_resources", "r9");
    const auto outcome = vm.h.run("start");
    CHECK(outcome.rc == 1);
    CHECK_THAT(outcome.reason(), Catch::Contains("r9 is not configured"));
  }
  SECTION("none") {
    vm.h.fakes.env.set("OCF_RESKEY_drbd_resources", "none");
    CHECK(vm.h.run("start").rc == 0);
    CHECK(vm.h.world.drbd_reads == 0);
  }
}

TEST_CASE("a VM without DRBD disks never reads DRBD", "[drbd][vd]") {
  AgentHarness h;
  h.world.drbd_error = vmha::Error{vmha::ErrorKind::not_installed, "not installed"};
  CHECK(h.run("start").rc == 0);
  CHECK(h.world.drbd_reads == 0);
}

TEST_CASE("DRBD not installed where the disks need it: start and validate-all give 5", "[drbd][vd]") {
  DrbdVm vm;
  vm.h.world.drbd_error = vmha::Error{vmha::ErrorKind::not_installed, "no drbdsetup on PATH"};
  CHECK(vm.h.run("start").rc == 5);
  CHECK(vm.h.run("validate-all").rc == 5);
}

TEST_CASE("validate-all reports what DRBD forbids as a warning, not an error", "[drbd][vd]") {
  DrbdVm vm;
  vm.h.world.drbd = {resource(Role::secondary, DiskState::uptodate, Role::primary, DiskState::uptodate)};
  CHECK(vm.h.run("validate-all").rc == 0);
  CHECK(vm.h.fakes.log.contains(vmha::sys::LogLevel::warning, "node2 is Primary"));
}

TEST_CASE("migrate_to: the DRBD pre-flight refuses before libvirt is asked anything", "[drbd][vd][migration]") {
  DrbdVm vm;
  vm.h.world.add("vm1", kUuid, {vmha::virt::DomainState::running, 1}, false);
  vm.h.fakes.env.set("OCF_RESKEY_CRM_meta_migrate_source", "node1");
  vm.h.fakes.env.set("OCF_RESKEY_CRM_meta_migrate_target", "node2");
  vm.h.world.drbd = {resource(Role::primary, DiskState::uptodate, Role::secondary, DiskState::inconsistent,
                              ConnectionState::connected, ReplicationState::syncsource)};
  vm.h.world.calls.clear();
  const auto outcome = vm.h.run("migrate_to");
  CHECK(outcome.rc == 1);
  CHECK_THAT(outcome.reason(), Catch::Contains("migrate_to refused by DRBD") && Catch::Contains("resyncing"));
  CHECK(vm.h.world.calls == std::vector<std::string>{"drbd-read"});
  CHECK(vm.h.world.migrations.empty());
}

TEST_CASE("the agent's start over every fixture: it runs the VM exactly where the guard allows", "[drbd][vd]") {
  // The fake DRBD source serves what drbdsetup would print on that node (a fixture, parsed),
  // and the VM's disk is each of its resources in turn.
  int starts = 0;
  int refusals = 0;
  for (const auto& [name, parsed] : parsed_fixtures()) {
    for (const auto& r : parsed) {
      CAPTURE(name, vmha::drbd::describe(r));
      DrbdVm vm;
      vm.h.world.drbd = parsed;
      vm.h.fakes.env.set("OCF_RESKEY_drbd_resources", r.name);
      const auto outcome = vm.h.run("start");
      if (vmha::drbd::check_start(r).empty()) {
        ++starts;
        CHECK(outcome.rc == 0);
        CHECK(vm.h.world.runs("vm1"));
      } else {
        ++refusals;
        CHECK(outcome.rc == 1);
        CHECK_THAT(outcome.reason(), Catch::Contains("start refused by DRBD") && Catch::Contains(r.name));
        CHECK_FALSE(vm.h.world.runs("vm1"));
      }
      CHECK(vm.h.world.drbd_reads == 1);
    }
  }
  CHECK(starts >= 1);
  CHECK(refusals >= 10);
}

TEST_CASE("a drbdsetup dump cut short fails the start closed, saying so", "[drbd][vd]") {
  // A node that may auto-promote; the peer's Primary role comes on a line that a cut can lose.
  const std::string whole =
      "exists resource name:r0 role:Secondary suspended:no may_promote:yes promotion_score:10102\n"
      "exists device name:r0 volume:0 minor:0 disk:UpToDate client:no quorum:yes\n"
      "exists connection name:r0 peer-node-id:1 conn-name:node2 connection:Connected role:Primary\n"
      "exists peer-device name:r0 peer-node-id:1 conn-name:node2 volume:0 replication:Established "
      "peer-disk:UpToDate peer-client:no resync-suspended:no\n"
      "exists -\n";
  const auto [output, truncated, why] = GENERATE_COPY(table<std::string, bool, std::string>({
      {whole.substr(0, whole.find("exists connection")), false, "before its 'exists -' line"},
      {whole, true, "more than"},
  }));
  DrbdVm vm;
  vm.h.drbd_through_runner = true;
  vm.h.fakes.env.set("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
  vmha::sys::Completion printed{0, 0, false, output, "", vmha::sys::Millis{5}};
  printed.truncated = truncated;
  vm.h.fakes.runner.answers.emplace_back(printed);
  const auto outcome = vm.h.run("start");
  CAPTURE(outcome.err);
  CHECK(outcome.rc == 1);
  CHECK_THAT(outcome.reason(), Catch::Contains("cut short") && Catch::Contains(why));
  CHECK_FALSE(vm.h.world.runs("vm1"));
  // The whole dump, as drbdsetup prints it, is refused for the reason that matters.
  if (!truncated) {
    vm.h.fakes.runner.answers.emplace_back(vmha::sys::Completion{0, 0, false, whole, "", vmha::sys::Millis{5}});
    CHECK_THAT(vm.h.run("start").reason(), Catch::Contains("node2 is Primary"));
  }
}
