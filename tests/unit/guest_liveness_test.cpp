// A monitor at depth 10 pings the guest agent: misses in a row fail it, one slow answer never.
#include "support/agent_harness.hpp"
#include "support/catch.hpp"

using vmha::sys::LogLevel;
using vmha::test::AgentHarness;
using vmha::test::kUuid;
using vmha::virt::DomainState;
using vmha::virt::GuestAgentReply;
using vmha::virt::StateInfo;

namespace {

/// A running vm1 with an answering agent, monitored at depth 10 every 10 s.
struct DeepMonitor {
  DeepMonitor() {
    h.fakes.env.set("OCF_CHECK_LEVEL", "10");
    h.fakes.env.set("OCF_RESKEY_autoset_utilization_cpu", "false");
    h.fakes.env.set("OCF_RESKEY_autoset_utilization_host_memory", "false");
    h.fakes.env.set("OCF_RESKEY_autoset_utilization_hv_memory", "false");
    h.world.add("vm1", kUuid);
  }
  vmha::test::FakeDomain& vm() { return h.world.domains.at("vm1"); }
  vmha::test::Outcome monitor() {
    h.fakes.clock.advance(std::chrono::seconds(10));
    return h.run("monitor");
  }
  AgentHarness h;
};

}  // namespace

TEST_CASE("depth 10: an answering guest passes, with one ping after the state", "[vd][liveness]") {
  DeepMonitor m;
  CHECK(m.monitor().rc == 0);
  CHECK(m.h.world.calls == std::vector<std::string>{"state vm1", "ping vm1"});
}

TEST_CASE("depth 0 never pings the guest agent", "[vd][liveness]") {
  DeepMonitor m;
  m.h.fakes.env.unset("OCF_CHECK_LEVEL");
  m.vm().agent = GuestAgentReply::silent;
  for (int i = 0; i < 5; ++i) CHECK(m.monitor().rc == 0);
  CHECK(m.h.world.calls == std::vector<std::string>(5, "state vm1"));
}

TEST_CASE("depth 10: a guest silent after answering fails after guest_agent_misses pings in a row", "[vd][liveness]") {
  DeepMonitor m;
  m.h.fakes.env.set("OCF_RESKEY_guest_agent_misses", "3");
  REQUIRE(m.monitor().rc == 0);
  m.vm().agent = GuestAgentReply::silent;
  CHECK(m.monitor().rc == 0);
  CHECK(m.h.fakes.log.contains(LogLevel::warning, "miss 1 of 3"));
  CHECK(m.monitor().rc == 0);
  CHECK(m.h.fakes.log.contains(LogLevel::warning, "miss 2 of 3"));
  const auto failed = m.monitor();
  CHECK(failed.rc == 1);
  // Silent since the last answer: three 10 s intervals and three 5 s waits for an answer.
  CHECK_THAT(failed.reason(), Catch::StartsWith("the guest of domain vm1 (" + std::string(kUuid) +
                                                ") has not answered its agent for 45 s (3 pings in a row"));
  CHECK(m.monitor().rc == 1);  // stays failed until it answers or the domain restarts
}

TEST_CASE("depth 10: one slow answer is forgiven once the agent answers again", "[vd][liveness]") {
  DeepMonitor m;
  REQUIRE(m.monitor().rc == 0);
  for (int round = 0; round < 3; ++round) {
    m.vm().agent = GuestAgentReply::silent;
    CHECK(m.monitor().rc == 0);
    CHECK(m.monitor().rc == 0);
    m.vm().agent = GuestAgentReply::answered;
    CHECK(m.monitor().rc == 0);
  }
  CHECK(m.h.fakes.log.contains(LogLevel::info, "answers again after 2 missed ping(s)"));
}

TEST_CASE("depth 10: a guest that never answered since its start is not counted (booting)", "[vd][liveness]") {
  const auto reply = GENERATE(GuestAgentReply::silent, GuestAgentReply::not_connected);
  DeepMonitor m;
  m.vm().agent = reply;
  for (int i = 0; i < 6; ++i) CHECK(m.monitor().rc == 0);
  CHECK(m.h.fakes.log.contains(LogLevel::warning, "since the domain started"));
}

TEST_CASE("depth 10: a restarted domain starts a new count", "[vd][liveness]") {
  DeepMonitor m;
  m.h.fakes.env.set("OCF_RESKEY_guest_agent_misses", "2");
  REQUIRE(m.monitor().rc == 0);
  m.vm().agent = GuestAgentReply::silent;
  REQUIRE(m.monitor().rc == 0);
  m.vm().id = 7;  // a new run of the domain (stopped and started outside this agent)
  CHECK(m.monitor().rc == 0);
  CHECK(m.monitor().rc == 0);  // still booting as far as the count knows
}

TEST_CASE("depth 10: no agent channel is degraded, never a recovery; validate-all says 6", "[vd][liveness]") {
  DeepMonitor m;
  m.vm().agent = GuestAgentReply::no_channel;
  CHECK(m.monitor().rc == 190);
  CHECK(m.h.fakes.log.contains(LogLevel::error, "no org.qemu.guest_agent.0 channel"));
  const auto validated = m.h.run("validate-all");
  CHECK(validated.rc == 6);
  CHECK_THAT(validated.reason(), Catch::Contains("no virtio channel named org.qemu.guest_agent.0"));
  m.h.fakes.env.unset("OCF_CHECK_LEVEL");
  CHECK(m.h.run("validate-all").rc == 0);
}

TEST_CASE("validate-all at depth 10 accepts a domain XML with the agent channel", "[vd][liveness]") {
  DeepMonitor m;
  m.h.write_config(
      "<domain type='qemu'><name>vm1</name><uuid>" + std::string(kUuid) +
      "</uuid><memory unit='MiB'>128</memory><devices><emulator>/bin/true</emulator>"
      "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel></devices></domain>");
  CHECK(m.h.run("validate-all").rc == 0);
}

TEST_CASE("depth 10: a paused guest is not pinged into a miss; libvirt failing the ping is not a miss",
          "[vd][liveness]") {
  DeepMonitor m;
  m.h.fakes.env.set("OCF_RESKEY_guest_agent_misses", "1");
  REQUIRE(m.monitor().rc == 0);
  m.vm().state = StateInfo{DomainState::paused, vmha::virt::paused_user};
  CHECK(m.monitor().rc == 0);
  m.vm().state = StateInfo{DomainState::running, 1};
  m.h.world.failures["ping"].push_back(vmha::Error{vmha::ErrorKind::unreachable, "connection reset"});
  CHECK(m.monitor().rc == 0);
  CHECK(m.h.fakes.log.contains(LogLevel::warning, "not counted"));
  m.vm().agent = GuestAgentReply::silent;
  CHECK(m.monitor().rc == 1);  // a real miss, with guest_agent_misses=1
}

TEST_CASE(
    "malformed guest_agent_timeout or guest_agent_misses: 6 from validate-all and reload-agent, never from "
    "a monitor or a stop",
    "[vd][liveness]") {
  const auto [name, value] = GENERATE(table<std::string, std::string>({
      {"guest_agent_timeout", "0"},
      {"guest_agent_timeout", "301"},
      {"guest_agent_misses", "0"},
      {"guest_agent_misses", "101"},
  }));
  DeepMonitor m;
  m.h.fakes.env.set("OCF_RESKEY_" + name, value);
  const auto validated = m.h.run("validate-all");
  CHECK(validated.rc == 6);
  CHECK_THAT(validated.reason(), Catch::Contains(name));
  CHECK(m.h.run("reload-agent").rc == 6);
  CHECK(m.monitor().rc == 0);  // depth 10, with the defaults and an error in the log
  CHECK(m.h.fakes.log.contains(vmha::sys::LogLevel::error, name));
  m.h.fakes.env.unset("OCF_CHECK_LEVEL");
  CHECK(m.monitor().rc == 0);
  CHECK(m.h.run("stop").rc == 0);
}

TEST_CASE("depth 10: a guest whose agent disconnects (a reboot) counts anew, never as misses", "[vd][liveness]") {
  DeepMonitor m;
  m.h.fakes.env.set("OCF_RESKEY_guest_agent_misses", "2");
  REQUIRE(m.monitor().rc == 0);
  m.vm().agent = GuestAgentReply::silent;
  REQUIRE(m.monitor().rc == 0);                   // miss 1 of 2
  m.vm().agent = GuestAgentReply::not_connected;  // the guest reboots: its agent's port closes
  for (int i = 0; i < 5; ++i) CHECK(m.monitor().rc == 0);
  CHECK(m.h.fakes.log.contains(LogLevel::warning, "disconnected"));
  m.vm().agent = GuestAgentReply::silent;  // still booting: not counted until it answers once
  CHECK(m.monitor().rc == 0);
  CHECK(m.monitor().rc == 0);
  m.vm().agent = GuestAgentReply::answered;
  CHECK(m.monitor().rc == 0);
  m.vm().agent = GuestAgentReply::silent;
  CHECK(m.monitor().rc == 0);
  CHECK(m.monitor().rc == 1);
}

TEST_CASE("depth 10: a domain that arrived by live migration counts from its arrival, not as a boot",
          "[vd][liveness]") {
  DeepMonitor m;
  m.h.fakes.env.set("OCF_RESKEY_guest_agent_misses", "2");
  m.vm().state = StateInfo{DomainState::running, vmha::virt::running_migrated};
  m.vm().id = 9;
  m.vm().agent = GuestAgentReply::silent;  // its kernel hung before the move
  CHECK(m.monitor().rc == 0);
  CHECK(m.h.fakes.log.contains(LogLevel::warning, "miss 1 of 2"));
  CHECK(m.monitor().rc == 1);
}
