// start and migrate_from order the host's shutdown after Pacemaker's on hosts run by systemd:
// the drop-in they write, when they write it, and what they do where there is no systemd.
#include <string>
#include <vector>

#include "support/agent_harness.hpp"
#include "support/catch.hpp"

using vmha::test::AgentHarness;
using vmha::test::kUuid;

namespace {

const std::string kDropIn = "/run/systemd/system/resource-agents-deps.target.d/50-vmha-VirtualDomain.conf";
const std::vector<std::string> kReload{"systemctl", "daemon-reload"};
const std::vector<std::string> kStartTarget{"systemctl", "start", "--no-block", "virt-guest-shutdown.target"};

void script_systemctl(AgentHarness& h) {
  for (int i = 0; i < 2; ++i) h.fakes.runner.answers.emplace_back(vmha::sys::Completion{0, 0, false, "", "", {}});
}

}  // namespace

TEST_CASE("host shutdown: with systemd, start writes the drop-in once and reloads once", "[vd][systemd]") {
  AgentHarness h;
  h.fakes.files.make_directory("/run/systemd/system");
  script_systemctl(h);
  REQUIRE(h.run("start").rc == 0);
  const auto text = h.fakes.files.read(kDropIn, 4096, h.fakes.clock.now() + std::chrono::seconds(1));
  REQUIRE(text);
  CHECK(text->text.find("[Unit]\nAfter=libvirtd.service virtqemud.service virtlogd.service virtlockd.service "
                        "libvirt-guests.service\n"
                        "Wants=virt-guest-shutdown.target\n") != std::string::npos);
  CHECK(h.fakes.files.mode(kDropIn).value_or(0) == 0644U);  // systemd reads drop-ins as anyone may
  CHECK(h.fakes.runner.ran == std::vector<std::vector<std::string>>{kReload, kStartTarget});
  // Written since boot: the next start (and a restart after a stop) spawns nothing for it.
  REQUIRE(h.run("stop").rc == 0);
  REQUIRE(h.run("start").rc == 0);
  CHECK(h.fakes.runner.ran.size() == 2);
}

TEST_CASE("host shutdown: a drop-in that differs is replaced, then reloaded", "[vd][systemd]") {
  AgentHarness h;
  h.fakes.files.make_directory("/run/systemd/system");
  h.fakes.files.make_directory("/run/systemd/system/resource-agents-deps.target.d");
  h.fakes.files.write(kDropIn, "[Unit]\nAfter=libvirtd.service\n", 0644);
  script_systemctl(h);
  REQUIRE(h.run("start").rc == 0);
  CHECK(h.fakes.runner.ran == std::vector<std::vector<std::string>>{kReload, kStartTarget});
}

TEST_CASE("host shutdown: without systemd nothing is written and nothing runs", "[vd][systemd]") {
  AgentHarness h;
  REQUIRE(h.run("start").rc == 0);
  CHECK_FALSE(h.fakes.files.exists(kDropIn));
  CHECK(h.fakes.runner.ran.empty());
}

TEST_CASE("host shutdown: a drop-in that cannot be written only warns; the start goes on", "[vd][systemd]") {
  AgentHarness h;
  h.fakes.files.make_directory("/run/systemd/system");
  h.fakes.files.fail("/run/systemd/system/resource-agents-deps.target.d",
                     {vmha::ErrorKind::other, "Read-only file system", true});
  REQUIRE(h.run("start").rc == 0);
  CHECK(h.world.runs("vm1"));
  CHECK(h.fakes.runner.ran.empty());
  CHECK(h.fakes.log.contains(vmha::sys::LogLevel::warning, "cannot order the host's shutdown"));
}

TEST_CASE("host shutdown: a failing systemctl only warns, and the next start tries again", "[vd][systemd]") {
  AgentHarness h;
  h.fakes.files.make_directory("/run/systemd/system");
  REQUIRE(h.run("start").rc == 0);  // the fake runner knows no systemctl
  CHECK(h.world.runs("vm1"));
  CHECK(h.fakes.log.contains(vmha::sys::LogLevel::warning, "systemctl daemon-reload failed"));
  CHECK_FALSE(h.fakes.files.exists(kDropIn));  // not in effect: not left as if it were
  REQUIRE(h.run("stop").rc == 0);
  h.fakes.runner.ran.clear();
  script_systemctl(h);
  REQUIRE(h.run("start").rc == 0);
  CHECK(h.fakes.runner.ran == std::vector<std::vector<std::string>>{kReload, kStartTarget});
  CHECK(h.fakes.files.exists(kDropIn));
}

TEST_CASE("host shutdown: a start that finds the domain running orders it too", "[vd][systemd]") {
  AgentHarness h;
  h.fakes.files.make_directory("/run/systemd/system");
  h.world.add("vm1", kUuid, {vmha::virt::DomainState::running, 1}, false);
  script_systemctl(h);
  REQUIRE(h.run("start").rc == 0);
  CHECK(h.fakes.runner.ran == std::vector<std::vector<std::string>>{kReload, kStartTarget});
}

TEST_CASE("host shutdown: migrate_from orders it too", "[vd][systemd][migration]") {
  AgentHarness h;
  h.fakes.files.make_directory("/run/systemd/system");
  h.world.add("vm1", kUuid, {vmha::virt::DomainState::running, 1}, false);  // the domain has arrived
  h.fakes.env.set("OCF_RESKEY_CRM_meta_migrate_source", "node1");
  h.fakes.env.set("OCF_RESKEY_CRM_meta_migrate_target", "node2");
  script_systemctl(h);
  REQUIRE(h.run("migrate_from").rc == 0);
  CHECK(h.fakes.files.exists(kDropIn));
  CHECK(h.fakes.runner.ran == std::vector<std::vector<std::string>>{kReload, kStartTarget});
}
