// Live migration: URI construction, migrate_options, and migrate_to/migrate_from against
// two fake libvirt worlds (the source and the target node).
#include "VirtualDomain/migration_plan.hpp"
#include "support/agent_harness.hpp"
#include "support/catch.hpp"

using vmha::agents::MigrationSettings;
using vmha::test::AgentHarness;
using vmha::test::FakeLibvirt;
using vmha::test::kUuid;
using vmha::virt::DomainState;
namespace virt = vmha::virt;

namespace {

MigrationSettings with(std::initializer_list<std::pair<std::string, std::string>> values) {
  MigrationSettings m;
  for (const auto& [name, value] : values) {
    if (name == "remoteuri") m.remoteuri = value;
    if (name == "migrateuri") m.migrateuri = value;
    if (name == "transport") m.transport = value;
    if (name == "user") m.user = value;
    if (name == "suffix") m.network_suffix = value;
    if (name == "port") m.port = std::stoi(value);
    if (name == "options") m.options = *vmha::agents::read_migrate_options(value);
  }
  return m;
}

}  // namespace

TEST_CASE("the target's libvirt URI is built as VirtualDomain builds it", "[migration]") {
  const auto [local, settings, target, expected] =
      GENERATE(table<std::string, MigrationSettings, std::string, std::string>({
          {"qemu:///system", with({}), "node2", "qemu://node2/system"},
          {"qemu:///system", with({{"transport", "ssh"}}), "node2", "qemu+ssh://node2/system"},
          {"qemu+tcp://node1/system", with({{"transport", "ssh"}}), "node2", "qemu+ssh://node2/system"},
          {"qemu+tcp://node1/system", with({}), "node2", "qemu+tcp://node2/system"},
          {"qemu+tcp://127.0.0.11:16509/system", with({}), "127.0.0.12", "qemu+tcp://127.0.0.12:16509/system"},
          {"qemu+ssh://root@node1/system", with({{"user", "migrator"}}), "node2", "qemu+ssh://migrator@node2/system"},
          {"qemu+ssh://root@node1/system", with({}), "node2", "qemu+ssh://node2/system"},
          {"qemu:///system", with({{"transport", "tls"}, {"suffix", "-mig"}}), "node2.example.com",
           "qemu+tls://node2-mig.example.com/system"},
          {"qemu+tcp://node1/system?keepalive_interval=1", with({}), "node2",
           "qemu+tcp://node2/system?keepalive_interval=1"},
          {"qemu:///system", with({{"remoteuri", "qemu+unix:///system?socket=/run/%n/sock"}, {"transport", "ssh"}}),
           "n2", "qemu+unix:///system?socket=/run/n2/sock"},
      }));
  CAPTURE(local, target);
  const auto uri = vmha::agents::target_uri(settings, local, target);
  REQUIRE(uri);
  CHECK(*uri == expected);
}

TEST_CASE("the data URI: migrateuri, then --migrateuri, then suffix and port", "[migration]") {
  const auto [settings, expected] = GENERATE(table<MigrationSettings, std::string>({
      {with({}), ""},
      {with({{"suffix", "-mig"}}), "tcp://node2-mig"},
      {with({{"suffix", "-mig"}, {"port", "49200"}}), "tcp://node2-mig:49200"},
      {with({{"port", "49200"}}), "tcp://node2:49200"},
      {with({{"options", "--migrateuri=tcp://%n-data:49300"}, {"suffix", "-mig"}}), "tcp://node2-data:49300"},
      {with({{"migrateuri", "tcp:%n-x:1"}, {"options", "--migrateuri tcp://y"}, {"suffix", "-mig"}}), "tcp:node2-x:1"},
  }));
  CHECK(vmha::agents::data_uri(settings, "node2") == expected);
}

TEST_CASE("migrate_options are read as virsh migrate reads them", "[migration]") {
  const auto [text, flags, uri] = GENERATE(table<std::string, std::uint32_t, std::string>({
      {"", 0U, ""},
      {"--live --verbose", 0U, ""},
      {"--p2p --tunnelled", virt::migrate_peer2peer | virt::migrate_tunnelled, ""},
      {"--tunnelled", virt::migrate_peer2peer | virt::migrate_tunnelled, ""},
      {"--unsafe --persistent --undefinesource",
       virt::migrate_unsafe | virt::migrate_persist_dest | virt::migrate_undefine_source, ""},
      {"--auto-converge --postcopy --abort-on-error",
       virt::migrate_auto_converge | virt::migrate_postcopy | virt::migrate_abort_on_error, ""},
      {"--migrateuri=tcp://%n:49152", 0U, "tcp://%n:49152"},
      {"--migrateuri tcp://x --p2p", virt::migrate_peer2peer, "tcp://x"},
      {"--comp-methods xbzrle,mt", virt::migrate_compressed, ""},
      {"--parallel --parallel-connections=4", virt::migrate_parallel, ""},
  }));
  CAPTURE(text);
  const auto options = vmha::agents::read_migrate_options(text);
  REQUIRE(options);
  CHECK(options->flags == flags);
  CHECK(options->migrate_uri == uri);
}

TEST_CASE("migrate_options vmha cannot honour are configuration errors", "[migration]") {
  const auto text = GENERATE(as<std::string>{}, "--offline", "--dname other", "--xml /tmp/x.xml", "--migrateuri",
                             "--bandwidth fast", "--comp-methods lz4", "--timeout 30", "p2p", "--suspend");
  CAPTURE(text);
  const auto options = vmha::agents::read_migrate_options(text);
  REQUIRE_FALSE(options);
  CHECK(options.error().kind == vmha::ErrorKind::misconfigured);
  CHECK_THAT(options.error().reason, Catch::Contains("migrate_options"));
}

TEST_CASE("the migration request carries every parameter", "[migration]") {
  auto m = with({{"options", "--p2p --unsafe"}, {"suffix", "-mig"}});
  m.auto_converge = true;
  m.compression = {"xbzrle"};
  m.postcopy_after = std::chrono::seconds(30);
  m.speed_mib = 100;
  m.downtime_ms = 300;
  const auto request = vmha::agents::plan_migration(m, "qemu+tcp://node1/system", "node2");
  REQUIRE(request);
  CHECK(request->destination == "qemu+tcp://node2-mig/system");
  CHECK(request->migrate_uri == "tcp://node2-mig");
  CHECK(request->flags == (virt::migrate_live | virt::migrate_peer2peer | virt::migrate_unsafe |
                           virt::migrate_auto_converge | virt::migrate_compressed | virt::migrate_postcopy));
  CHECK(request->peer_to_peer());
  CHECK(request->bandwidth_mib == 100);
  CHECK(request->max_downtime_ms == 300);
  CHECK(request->compression == std::vector<std::string>{"xbzrle"});
  CHECK(vmha::agents::describe(*request) ==
        "destination qemu+tcp://node2-mig/system, data over tcp://node2-mig, bandwidth 100 MiB/s, max downtime "
        "300 ms, compression xbzrle, parallel connections default, flags "
        "live,peer2peer,unsafe,compressed,auto-converge,postcopy");
  CHECK_FALSE(vmha::agents::plan_migration(m, "qemu:///system", ""));  // no target node
}

namespace {

/// A source node (the harness's world) and a target node reachable as fake://node2/system.
struct TwoNodes {
  explicit TwoNodes(vmha::sys::Millis timeout = vmha::sys::Millis{120'000}) : source(timeout) {
    source.world.peers["fake://node2/system"] = &target;
    source.fakes.env.set("OCF_RESKEY_CRM_meta_migrate_source", "node1");
    source.fakes.env.set("OCF_RESKEY_CRM_meta_migrate_target", "node2");
    source.world.add("vm1", kUuid, {DomainState::running, 1}, false);
  }
  AgentHarness source;
  FakeLibvirt target{source.fakes.clock};
};

}  // namespace

TEST_CASE("migrate_to moves a running domain and verifies it left", "[migration][vd]") {
  TwoNodes nodes;
  nodes.source.fakes.env.set("OCF_RESKEY_migration_speed", "50");
  nodes.source.fakes.env.set("OCF_RESKEY_migration_downtime", "200");
  const auto outcome = nodes.source.run("migrate_to");
  CAPTURE(outcome.err);
  CHECK(outcome.rc == 0);
  CHECK_FALSE(nodes.source.world.runs("vm1"));
  CHECK(nodes.target.runs("vm1"));
  REQUIRE(nodes.source.world.migrations.size() == 1);
  const auto& request = nodes.source.world.migrations.front();
  CHECK(request.destination == "fake://node2/system");
  CHECK(request.bandwidth_mib == 50);
  CHECK(request.max_downtime_ms == 200);  // handed over before the migration starts
  CHECK((request.flags & virt::migrate_live) != 0);
  // What it applied is in the log, for an admin who set it.
  CHECK(nodes.source.fakes.log.contains(vmha::sys::LogLevel::info, "bandwidth 50 MiB/s, max downtime 200 ms"));
  // Then Pacemaker stops the source: at once, with 0.
  const auto stopped = nodes.source.run("stop");
  CHECK(stopped.rc == 0);
  CHECK(stopped.took < vmha::sys::Millis{1'000});
  CHECK(nodes.source.run("monitor").rc == 7);
}

TEST_CASE("migrate_to refuses a domain that does not run here", "[migration][vd]") {
  TwoNodes nodes;
  nodes.source.world.domains.at("vm1").state = {DomainState::shut_off, 1};
  nodes.source.world.domains.at("vm1").persistent = true;
  const auto outcome = nodes.source.run("migrate_to");
  CHECK(outcome.rc == 1);
  CHECK_THAT(outcome.reason(), Catch::Contains("not running"));
  CHECK(nodes.source.world.migrations.empty());
}

TEST_CASE("a migration that cannot converge is aborted before the deadline; the VM stays", "[migration][vd]") {
  const auto timeout = GENERATE(vmha::sys::Millis{20'000}, vmha::sys::Millis{120'000});
  TwoNodes nodes(timeout);
  nodes.source.world.migration.converges = false;
  const auto outcome = nodes.source.run("migrate_to");
  CAPTURE(outcome.err);
  CHECK(outcome.rc == 1);
  CHECK(outcome.took < nodes.source.budget());
  CHECK(nodes.source.world.aborts == 1);
  CHECK(nodes.source.world.runs("vm1"));
  CHECK_FALSE(nodes.target.has("vm1"));
  CHECK_THAT(outcome.reason(),
             Catch::Contains("aborted") && Catch::Contains("still runs here") && Catch::Contains("MiB"));
}

TEST_CASE("a migration whose abort is refused still returns before the deadline", "[migration][vd]") {
  TwoNodes nodes(vmha::sys::Millis{20'000});
  nodes.source.world.migration.converges = false;
  nodes.source.world.migration.abort_refusals = vmha::test::FakeMigration::kAlways;
  const auto outcome = nodes.source.run("migrate_to");
  CHECK(outcome.rc == 1);
  CHECK(outcome.took <= nodes.source.budget());
  CHECK(nodes.source.world.runs("vm1"));
  CHECK(nodes.source.world.aborts > 1);  // tried again on every look at the migration
  CHECK_THAT(outcome.reason(), Catch::Contains("could not abort it") && Catch::Contains("no job is active") &&
                                   Catch::Contains("still runs here"));
}

TEST_CASE("an abort refused at first (the job not begun yet) is tried again until it is done", "[migration][vd]") {
  TwoNodes nodes(vmha::sys::Millis{20'000});
  nodes.source.world.migration.converges = false;
  nodes.source.world.migration.abort_refusals = 3;
  const auto outcome = nodes.source.run("migrate_to");
  CHECK(outcome.rc == 1);
  CHECK(outcome.took < nodes.source.budget());
  CHECK(nodes.source.world.aborts == 4);
  CHECK_THAT(outcome.reason(), Catch::Contains("so vmha aborted it") && Catch::Contains("still runs here"));
}

TEST_CASE("a switch to post-copy that answers too late counts as done: no abort follows", "[migration][vd]") {
  TwoNodes nodes;
  nodes.source.world.migration.converges = false;
  nodes.source.world.migration.postcopy_times_out = true;
  nodes.source.fakes.env.set("OCF_RESKEY_migration_postcopy_after", "10");
  const auto outcome = nodes.source.run("migrate_to");
  CAPTURE(outcome.err);
  CHECK(outcome.rc == 0);
  CHECK(nodes.source.world.postcopy_switches == 1);
  CHECK(nodes.source.world.aborts == 0);
  CHECK(nodes.target.runs("vm1"));
}

TEST_CASE("post-copy is not started too close to the abort point: it could not be aborted", "[migration][vd]") {
  TwoNodes nodes(vmha::sys::Millis{20'000});  // abort point at 16 s
  nodes.source.world.migration.converges = false;
  nodes.source.fakes.env.set("OCF_RESKEY_migration_postcopy_after", "10");
  const auto outcome = nodes.source.run("migrate_to");
  CHECK(outcome.rc == 1);
  CHECK(nodes.source.world.postcopy_switches == 0);
  CHECK(nodes.source.world.aborts == 1);
  CHECK(nodes.source.fakes.log.contains(vmha::sys::LogLevel::warning, "no switch to post-copy"));
  CHECK(nodes.source.world.runs("vm1"));
}

TEST_CASE("post-copy after N seconds ends a migration that would not converge", "[migration][vd]") {
  TwoNodes nodes;
  nodes.source.world.migration.converges = false;
  nodes.source.fakes.env.set("OCF_RESKEY_migration_postcopy_after", "10");
  const auto outcome = nodes.source.run("migrate_to");
  CAPTURE(outcome.err);
  CHECK(outcome.rc == 0);
  CHECK(nodes.source.world.postcopy_switches == 1);
  CHECK(outcome.took >= vmha::sys::Millis{10'000});
  CHECK(outcome.took < vmha::sys::Millis{11'000});
  CHECK((nodes.source.world.migrations.front().flags & virt::migrate_postcopy) != 0);
  CHECK(nodes.target.runs("vm1"));
}

TEST_CASE("an unreachable or refusing target fails migrate_to at once; the VM stays", "[migration][vd]") {
  TwoNodes nodes;
  SECTION("daemon down") {
    nodes.target.unreachable = true;
  }
  SECTION("no route to it") {
    nodes.source.world.peers.clear();
  }
  SECTION("the target refuses") {
    nodes.source.world.failures["migrate"].push_back(
        vmha::Error{vmha::ErrorKind::other, "operation failed: guest CPU doesn't match specification"});
  }
  const auto outcome = nodes.source.run("migrate_to");
  CHECK(outcome.rc == 1);
  CHECK(outcome.took < vmha::sys::Millis{1'000});
  CHECK(nodes.source.world.runs("vm1"));
  CHECK_FALSE(nodes.target.has("vm1"));
  CHECK_THAT(outcome.reason(), Catch::Contains("still runs here"));
}

TEST_CASE("a hung source libvirtd cannot carry migrate_to past its deadline", "[migration][vd]") {
  TwoNodes nodes(vmha::sys::Millis{30'000});
  nodes.source.world.hung.insert("migrate");
  const auto outcome = nodes.source.run("migrate_to");
  CHECK(outcome.rc == 1);
  CHECK(outcome.took <= nodes.source.budget());
}

TEST_CASE("migrate_from waits, bounded, for the domain, and is idempotent", "[migration][vd]") {
  AgentHarness target(vmha::sys::Millis{10'000});
  target.fakes.env.set("OCF_RESKEY_CRM_meta_migrate_source", "node1");
  target.fakes.env.set("OCF_RESKEY_CRM_meta_migrate_target", "node2");
  SECTION("the domain arrived") {
    target.world.add("vm1", kUuid, {DomainState::running, 2}, false);
    CHECK(target.run("migrate_from").rc == 0);
    CHECK(target.run("migrate_from").rc == 0);
    CHECK(target.run("monitor").rc == 0);
  }
  SECTION("it never arrives: 1 before the deadline") {
    const auto outcome = target.run("migrate_from");
    CHECK(outcome.rc == 1);
    CHECK(outcome.took <= target.budget());
    CHECK_THAT(outcome.reason(), Catch::Contains("node1"));
  }
  SECTION("without a migration under way (ocf-tester): 1 at once") {
    target.fakes.env.unset("OCF_RESKEY_CRM_meta_migrate_source");
    target.fakes.env.unset("OCF_RESKEY_CRM_meta_migrate_target");
    const auto outcome = target.run("migrate_from");
    CHECK(outcome.rc == 1);
    CHECK(outcome.took < vmha::sys::Millis{1'000});
  }
}

TEST_CASE("migrate_from keeps the definition when save_config_on_stop asks", "[migration][vd]") {
  AgentHarness target;
  target.fakes.env.set("OCF_RESKEY_CRM_meta_migrate_source", "node1");
  target.fakes.env.set("OCF_RESKEY_save_config_on_stop", "true");
  target.world.add("vm1", kUuid, {DomainState::running, 2}, true);
  CHECK(target.run("migrate_from").rc == 0);
  const std::string saved = target.fakes.files.content(target.config).value_or("");
  CHECK_THAT(saved, Catch::Contains("<description>saved</description>"));
}
