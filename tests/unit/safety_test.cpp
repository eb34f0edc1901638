// The ways evidence can lie, one case each, named as the rule they pin down. The matrix
// (safety_matrix_test.cpp) sweeps their combinations; these read as the specification.
#include <algorithm>

#include "support/agent_harness.hpp"
#include "support/catch.hpp"
#include "vmha/virt/domain_xml.hpp"

using vmha::ErrorKind;
using vmha::sys::Millis;
using vmha::test::AgentHarness;
using vmha::test::kUuid;
using vmha::virt::DomainState;

namespace {

bool called(const AgentHarness& h, const std::string& call) {
  return std::find(h.world.calls.begin(), h.world.calls.end(), call) != h.world.calls.end();
}

vmha::agents::Records records_of(AgentHarness& h) {
  return vmha::agents::Records(h.fakes.files, h.dir.path() + "/rsctmp", "vm1", vmha::sys::Clock::time_point::max());
}

}  // namespace

TEST_CASE("a config that cannot be read is no proof: the last good read still names the domain", "[safety]") {
  const auto [fault, kind] = GENERATE(table<std::string, ErrorKind>({
      {"permission denied", ErrorKind::denied},
      {"I/O error", ErrorKind::other},
      {"a hung file system", ErrorKind::timed_out},
  }));
  AgentHarness h;
  h.world.add("vm1", kUuid);  // started by another tool: no start record
  h.fakes.env.set("OCF_RESKEY_CRM_meta_interval", "0");
  CHECK(h.run("monitor").rc == 0);  // a probe with the good config records its identity
  h.fakes.files.fail(h.config, {kind, fault, false});
  CAPTURE(fault);
  CHECK(h.run("monitor").rc == 0);
  const auto stopped = h.run("stop");
  CHECK(stopped.rc == 0);
  CHECK_FALSE(h.world.runs("vm1"));
  CHECK(stopped.took <= h.budget());
}

TEST_CASE("a config cut short or with a typo names its domain by a tolerant read", "[safety]") {
  const std::string whole = vmha::test::domain_xml();
  const auto broken = GENERATE_COPY(whole.substr(0, whole.find("</uuid>") + 7),  // cut after the UUID
                                    whole.substr(0, whole.find("<memory")) +
                                        "<memory unit='MiB'>128</memory"
                                        "<vcpu>2</vcpu></domain>");  // typo
  AgentHarness h;
  h.world.add("vm1", kUuid);  // no record of any kind
  h.write_config(broken);
  h.fakes.env.set("OCF_RESKEY_CRM_meta_interval", "0");
  CHECK(h.run("monitor").rc == 0);
  CHECK(h.run("stop").rc == 0);
  CHECK_FALSE(h.world.runs("vm1"));
  CHECK(h.run("start").rc == 2);  // but it is no config to start from
}

TEST_CASE("a name is recovered only when the broken file holds it whole", "[safety]") {
  CHECK(vmha::virt::recover_domain_ref("<domain><name>vm-lin") == std::nullopt);  // cut inside <name>
  CHECK(vmha::virt::recover_domain_ref("<domain><name>vm1</name><uuid>6f1e") ==
        std::optional<vmha::virt::DomainRef>({"vm1", ""}));  // the UUID is cut: by name
  CHECK(vmha::virt::recover_domain_ref("<domain><name>../etc</name>") == std::nullopt);
  CHECK(vmha::virt::recover_domain_ref("") == std::nullopt);
  CHECK(vmha::virt::recover_domain_ref("not xml at all") == std::nullopt);
}

TEST_CASE("nothing names the domain: the config-missing rule, and only then", "[safety]") {
  AgentHarness h;
  h.world.add("vm1", kUuid);  // started by another tool, never seen by vmha
  h.write_config("");         // and its config emptied
  h.fakes.env.set("OCF_RESKEY_CRM_meta_interval", "0");
  const auto probe = h.run("monitor");
  CHECK(probe.rc == 7);
  CHECK(h.fakes.log.contains(vmha::sys::LogLevel::info, "nothing else names its domain"));
  CHECK(h.world.calls == std::vector<std::string>{"labelled vm1"});  // no name to ask libvirt about
}

TEST_CASE("a domain that arrived by migration is found by its label when nothing else names it", "[safety]") {
  AgentHarness h;
  h.world.add("vm1", kUuid).label = "vm1";  // vmha labelled it on the node it came from
  h.fakes.files.fail(h.config, {ErrorKind::denied, "Permission denied", false});  // no config, no record here
  h.fakes.env.set("OCF_RESKEY_CRM_meta_interval", "0");
  CHECK(h.run("monitor").rc == 0);
  h.fakes.env.set("OCF_RESKEY_CRM_meta_migrate_source", "node1");
  CHECK(h.run("migrate_from").rc == 0);  // and recorded here
  h.fakes.files.heal(h.config);
  h.remove_config();
  CHECK(h.run("stop").rc == 0);  // the start record now names it
  CHECK_FALSE(h.world.runs("vm1"));
}

TEST_CASE("the config's UUID edited under a running VM: it is still found, by its name", "[safety]") {
  AgentHarness h;
  h.world.add("vm1", "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d");  // the UUID the VM was started with
  CHECK(h.run("monitor").rc == 0);
  CHECK(h.run("stop").rc == 0);
  CHECK_FALSE(h.world.runs("vm1"));
}

TEST_CASE("a start that cannot write its start record does not start", "[safety]") {
  AgentHarness h;
  h.fakes.files.fail(h.dir.path() + "/rsctmp", {ErrorKind::other, "No space left on device", true});
  const auto outcome = h.run("start");
  CHECK(outcome.rc == 1);
  CHECK_THAT(outcome.reason(), Catch::Contains("cannot record the start") && Catch::Contains("No space left"));
  CHECK_FALSE(h.world.runs("vm1"));
  CHECK_FALSE(called(h, "create vm1"));
}

TEST_CASE("the start record is written before libvirt is asked to create the domain", "[safety]") {
  AgentHarness h;
  h.world.lands_late["create"] = Millis{60'000};  // libvirtd takes the call, answers too late
  CHECK(h.run("start").rc == 1);
  const auto record = records_of(h).start_record();
  REQUIRE(record);
  CHECK(record->launching);
  CHECK(record->daemon == "fake 1");
}

TEST_CASE("a stop after a start that gave up on libvirt's create never says stopped while it may land", "[safety]") {
  SECTION("the create lands during the stop: it is stopped") {
    AgentHarness h;
    h.world.lands_late["create"] = Millis{25'000};
    CHECK(h.run("start").rc == 1);  // gave up at its deadline (18 s)
    const auto stopped = h.run("stop");
    CHECK(stopped.rc == 0);
    CHECK(stopped.took <= h.budget());
    h.world.clock.advance(std::chrono::hours(1));
    CHECK_FALSE(h.world.runs("vm1"));
  }
  SECTION("it has not landed by the end of the stop: 1, and the node is fenced") {
    AgentHarness h;
    h.world.lands_late["create"] = Millis{3'600'000};
    CHECK(h.run("start").rc == 1);
    const auto stopped = h.run("stop");
    CHECK(stopped.rc == 1);
    CHECK_THAT(stopped.reason(), Catch::Contains("cannot prove the domain will not run here"));
    CHECK(stopped.took <= h.budget());
    CHECK(h.run("monitor").rc == 1);  // nor does a probe call it stopped
  }
  SECTION("libvirtd was restarted since: the call died with it") {
    AgentHarness h;
    h.world.lands_late["create"] = Millis{3'600'000};
    CHECK(h.run("start").rc == 1);
    h.world.restart_daemon();
    CHECK(h.run("stop").rc == 0);
    h.world.clock.advance(std::chrono::hours(2));
    CHECK_FALSE(h.world.runs("vm1"));
  }
}

TEST_CASE("libvirt saying 'still running' is never overruled by /proc", "[safety]") {
  AgentHarness h;
  h.fakes.env.set("OCF_RESKEY_force_stop", "true");
  h.world.add("vm1", kUuid);
  h.world.evidence = vmha::virt::Evidence::gone;  // /proc would say gone
  h.world.failures["destroy"].push_back({ErrorKind::other, "Failed to terminate process: Device or resource busy"});
  const auto outcome = h.run("stop");
  CHECK(outcome.rc == 1);
  CHECK_THAT(outcome.reason(), Catch::Contains("is still running (booted) after destroy"));
  CHECK(h.world.kills == 0);
}

TEST_CASE("libvirt calling a domain destroyed while its QEMU lives on fails the stop", "[safety]") {
  AgentHarness h;
  h.fakes.env.set("OCF_RESKEY_force_stop", "true");
  h.world.add("vm1", kUuid);
  h.world.destroy_leaves_qemu = true;  // libvirt 9.0: a thread stuck in the kernel, "shut off" all the same
  const auto outcome = h.run("stop");
  CHECK(outcome.rc == 1);
  CHECK_THAT(outcome.reason(), Catch::Contains("lives on"));
  CHECK(outcome.took <= h.budget());
}

TEST_CASE("a snapshot restore retires the state file first and never restores it twice", "[safety]") {
  AgentHarness h;
  const std::string snapshots = h.dir.path() + "/snap";
  h.fakes.files.make_directory(snapshots);
  h.fakes.env.set("OCF_RESKEY_snapshot", snapshots);
  const std::string saved = snapshots + "/vm1.state";
  SECTION("a start killed between the retirement and the restore's end boots the disks afresh") {
    h.fakes.files.write(saved + ".restoring", std::string("vm1\n") + kUuid + "\n");
    CHECK(h.run("start").rc == 0);
    CHECK_FALSE(called(h, "restore " + saved + ".restoring"));
    CHECK(h.fakes.log.contains(vmha::sys::LogLevel::warning, "never used again"));
  }
  SECTION("a state file that cannot be retired is not restored, and the start fails") {
    h.fakes.files.write(saved, std::string("vm1\n") + kUuid + "\n");
    h.fakes.files.fail(saved + ".restoring", {ErrorKind::other, "Read-only file system", true});
    const auto outcome = h.run("start");
    CHECK(outcome.rc == 1);
    CHECK_THAT(outcome.reason(), Catch::Contains("cannot retire"));
    CHECK_FALSE(h.world.runs("vm1"));
  }
}

TEST_CASE("records that are corrupt are read safely or not at all", "[safety]") {
  AgentHarness h;
  h.fakes.files.write(records_of(h).path("domain"), "vm1\nnot-a-uuid-zz\n");
  const auto record = records_of(h).start_record();
  REQUIRE(record);
  CHECK(record->domain == vmha::virt::DomainRef{"vm1", ""});  // the name still counts
  h.fakes.files.write(records_of(h).path("domain"), "../../etc/passwd\n");
  CHECK_FALSE(records_of(h).start_record());
  // A resource id too long for a file name still gets records of its own.
  const vmha::agents::Records long_id(h.fakes.files, "/run", std::string(300, 'a'),
                                      vmha::sys::Clock::time_point::max());
  CHECK(long_id.path("domain").size() < 250);
  CHECK(long_id.path("domain") !=
        vmha::agents::Records(h.fakes.files, "/run", std::string(301, 'a'), vmha::sys::Clock::time_point::max())
            .path("domain"));
}

TEST_CASE("a domain name that would steer a path is refused", "[safety]") {
  for (const std::string& bad : std::vector<std::string>{"../vm1", "vm/1", ".", "..", "vm\n1"}) {
    CAPTURE(bad);
    CHECK_FALSE(vmha::virt::valid_domain_name(bad));
    const auto parsed = vmha::virt::parse_domain_xml("<domain type='qemu'><name>" + bad + "</name></domain>");
    CHECK_FALSE(parsed);
  }
  CHECK(vmha::virt::valid_domain_name("resolver-1.example"));
}

TEST_CASE("a QEMU that outlived libvirt's destroy is remembered after the failed stop", "[safety]") {
  AgentHarness h;
  h.fakes.env.set("OCF_RESKEY_force_stop", "true");
  h.world.add("vm1", kUuid);
  h.world.destroy_leaves_qemu = true;
  CHECK(h.run("stop").rc == 1);  // without fencing, Pacemaker blocks the resource; then a cleanup:
  h.fakes.env.set("OCF_RESKEY_CRM_meta_interval", "0");
  const auto probe = h.run("monitor");
  CHECK(probe.rc == 1);  // libvirt has forgotten it; the record has not
  CHECK_THAT(probe.reason(), Catch::Contains("outlived an earlier stop"));
  CHECK(h.run("stop").rc == 1);  // still stuck in the kernel: SIGKILL cannot end it yet
  h.world.lingering.clear();     // the storage came back; the QEMU died
  CHECK(h.run("monitor").rc == 7);
  CHECK(h.run("stop").rc == 0);
}

TEST_CASE("a start that could not even reach libvirt leaves no call that may land", "[safety]") {
  AgentHarness h;
  h.world.failures["create"].push_back({ErrorKind::unreachable, "cannot connect to fake:///: Connection refused"});
  CHECK(h.run("start").rc == 1);
  const auto record = records_of(h).start_record();
  REQUIRE(record);
  CHECK_FALSE(record->launching);
  const auto stopped = h.run("stop");
  CHECK(stopped.rc == 0);
  CHECK(stopped.took < Millis{1'000});  // no wait for a landing that cannot come
}

TEST_CASE("a create that landed before libvirtd's restart is found by the new daemon", "[safety]") {
  AgentHarness h;
  h.world.lands_late["create"] = Millis{25'000};
  CHECK(h.run("start").rc == 1);
  h.world.clock.advance(std::chrono::seconds(10));  // it lands (at 25 s, past the start's 18 s)
  h.world.restart_daemon();
  h.fakes.env.set("OCF_RESKEY_CRM_meta_interval", "0");
  CHECK(h.run("monitor").rc == 0);
  CHECK(h.run("stop").rc == 0);
  CHECK_FALSE(h.world.runs("vm1"));
}

TEST_CASE("a disk path that cannot be resolved fails the DRBD check closed", "[safety]") {
  AgentHarness h;
  h.write_config("<domain type='qemu'><name>vm1</name><uuid>" + std::string(kUuid) +
                 "</uuid><memory unit='MiB'>128</memory><devices><emulator>/bin/true</emulator>"
                 "<disk type='block' device='disk'><source dev='/dev/disk/by-id/vm1'/><target dev='vda'/></disk>"
                 "</devices></domain>");
  h.fakes.files.hang("/dev/disk/by-id/vm1");  // a udev link that may lead to /dev/drbdN
  const auto outcome = h.run("start");
  CHECK(outcome.rc == 1);
  CHECK_THAT(outcome.reason(), Catch::Contains("cannot tell whether disk /dev/disk/by-id/vm1 is on DRBD"));
  CHECK_FALSE(h.world.runs("vm1"));
}

TEST_CASE("records that cannot be read are no proof that this node started nothing", "[safety]") {
  AgentHarness h;
  h.remove_config();
  h.fakes.files.fail(h.dir.path() + "/rsctmp", {ErrorKind::other, "Input/output error", false});
  h.fakes.env.set("OCF_RESKEY_CRM_meta_interval", "0");
  const auto probe = h.run("monitor");
  CHECK(probe.rc == 1);
  CHECK_THAT(probe.reason(), Catch::Contains("records cannot be read"));
  CHECK(h.run("stop").rc == 1);
}

TEST_CASE(
    "a domain is labelled from its creation on: an abandoned start's domain is found on the node it "
    "migrates to",
    "[safety]") {
  const auto labelled = vmha::virt::with_label(vmha::test::domain_xml(), "vm-web");
  REQUIRE(labelled);
  const auto parsed = vmha::virt::parse_domain_xml(*labelled);
  REQUIRE(parsed);
  CHECK(parsed->label == "vm-web");
  CHECK(parsed->ref() == vmha::virt::DomainRef{"vm1", kUuid});
  const auto again = vmha::virt::with_label(*labelled, "vm-db");  // one label, never two
  REQUIRE(again);
  CHECK(vmha::virt::parse_domain_xml(*again)->label == "vm-db");
  CHECK(again->find("vm-web") == std::string::npos);

  AgentHarness h;
  h.world.lands_late["create"] = Millis{30'000};
  CHECK(h.run("start").rc == 1);  // timed out at 18 s; libvirtd creates it at 30 s
  h.world.clock.advance(std::chrono::seconds(15));
  REQUIRE(h.world.runs("vm1"));
  CHECK(h.world.domains.at("vm1").label == "vm1");
}

TEST_CASE("a QEMU whose command line cannot be read is still watched through its destroy", "[safety]") {
  AgentHarness h;
  h.fakes.env.set("OCF_RESKEY_force_stop", "true");
  h.world.add("vm1", kUuid);
  h.world.cmdline_blocked = true;      // stuck on storage: reading its command line blocks
  h.world.destroy_leaves_qemu = true;  // and libvirt calls it destroyed all the same
  const auto stopped = h.run("stop");
  CHECK(stopped.rc == 1);
  CHECK_THAT(stopped.reason(), Catch::Contains("lives on"));
  const auto record = records_of(h).start_record();
  REQUIRE(record);
  CHECK(record->survivor == vmha::test::fake_pid("vm1"));
  h.fakes.env.set("OCF_RESKEY_CRM_meta_interval", "0");
  CHECK(h.run("monitor").rc == 1);
  CHECK(h.run("start").rc == 1);  // never a second QEMU beside it
}
