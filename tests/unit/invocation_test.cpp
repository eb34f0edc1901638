#include "vmha/ocf/invocation.hpp"
#include "support/catch.hpp"

using vmha::ocf::read_invocation;
using vmha::ocf::split_clone_suffix;
using vmha::sys::MapEnvironment;
using vmha::sys::Millis;

TEST_CASE("timeout and interval are milliseconds; a probe has none or 0", "[invocation]") {
  const auto [action, timeout, interval, probe] = GENERATE(table<std::string, std::string, std::string, bool>({
      {"monitor", "20000", "", true},
      {"monitor", "20000", "0", true},
      {"monitor", "30000", "10000", false},
      {"status", "30000", "", true},
      {"start", "90000", "", false},
      {"stop", "", "", false},
  }));
  MapEnvironment env;
  if (!timeout.empty()) env.set("OCF_RESKEY_CRM_meta_timeout", timeout);
  if (!interval.empty()) env.set("OCF_RESKEY_CRM_meta_interval", interval);
  const auto call = read_invocation(action, env);
  REQUIRE(call);
  CHECK(call->is_probe() == probe);
  if (timeout.empty()) {
    CHECK_FALSE(call->timeout.has_value());
  } else {
    CHECK(call->timeout == Millis{std::stol(timeout)});
  }
  CHECK(call->interval == Millis{interval.empty() ? 0 : std::stol(interval)});
}

TEST_CASE("malformed CRM_meta numbers give 6 with the variable's name", "[invocation]") {
  const auto [name, value] = GENERATE(table<std::string, std::string>({
      {"OCF_RESKEY_CRM_meta_timeout", "20s"},
      {"OCF_RESKEY_CRM_meta_interval", "ten"},
      {"OCF_CHECK_LEVEL", "deep"},
      {"OCF_RESKEY_CRM_meta_clone", "-1"},
      {"OCF_RESKEY_CRM_meta_promoted_max", "two"},
  }));
  const MapEnvironment env(std::map<std::string, std::string>{{name, value}});
  const auto call = read_invocation("monitor", env);
  REQUIRE_FALSE(call);
  CHECK(call.error().kind == vmha::ErrorKind::misconfigured);
  CHECK_THAT(call.error().reason, Catch::Contains(value));
}

TEST_CASE("instance names lose their clone suffix", "[invocation]") {
  const auto [instance, resource, clone] = GENERATE(table<std::string, std::string, std::optional<int>>({
      {"p_vm", "p_vm", std::nullopt},
      {"p_vm:0", "p_vm", 0},
      {"p_drbd:12", "p_drbd", 12},
      {"odd:name", "odd:name", std::nullopt},
      {"trailing:", "trailing:", std::nullopt},
      {"neg:-1", "neg:-1", std::nullopt},
  }));
  const auto [name, number] = split_clone_suffix(instance);
  CHECK(name == resource);
  CHECK(number == clone);
}

TEST_CASE("the rest of Pacemaker's environment is read", "[invocation]") {
  const MapEnvironment env(MapEnvironment::Vars{
      {"OCF_RESOURCE_INSTANCE", "p_vm:1"},
      {"OCF_RESOURCE_TYPE", "VirtualDomain"},
      {"OCF_CHECK_LEVEL", "10"},
      {"OCF_RESKEY_CRM_meta_migrate_source", "node1"},
      {"OCF_RESKEY_CRM_meta_migrate_target", "node2"},
      {"OCF_RESKEY_CRM_meta_on_node", "node1"},
      {"OCF_RESKEY_CRM_meta_master_max", "2"},
      {"OCF_RESKEY_CRM_meta_promoted_node_max", "1"},
  });
  const auto call = read_invocation("migrate_to", env);
  REQUIRE(call);
  CHECK(call->instance == "p_vm:1");
  CHECK(call->resource == "p_vm");
  CHECK(call->clone == 1);
  CHECK(call->type == "VirtualDomain");
  CHECK(call->check_level == 10);
  CHECK(call->migrate_source == "node1");
  CHECK(call->migrate_target == "node2");
  CHECK(call->on_node == "node1");
  CHECK(call->promoted_max == 2);
  CHECK(call->promoted_node_max == 1);
}

TEST_CASE("OCF_RESKEY_OCF_CHECK_LEVEL is read when OCF_CHECK_LEVEL is absent", "[invocation]") {
  const MapEnvironment env(std::map<std::string, std::string>{{"OCF_RESKEY_OCF_CHECK_LEVEL", "20"}});
  const auto call = read_invocation("validate-all", env);
  REQUIRE(call);
  CHECK(call->check_level == 20);
}

TEST_CASE("notify variables are read under both spellings", "[invocation]") {
  const auto [prefix_promoted, prefix_unpromoted] = GENERATE(table<std::string, std::string>({
      {"promoted", "unpromoted"},
      {"master", "slave"},
  }));
  const std::string meta = "OCF_RESKEY_CRM_meta_notify_";
  const MapEnvironment env(MapEnvironment::Vars{
      {meta + "type", "post"},
      {meta + "operation", "promote"},
      {meta + prefix_promoted + "_resource", "drbd:0"},
      {meta + prefix_promoted + "_uname", "node1"},
      {meta + prefix_unpromoted + "_resource", "drbd:1 drbd:2"},
      {meta + prefix_unpromoted + "_uname", "node2  node3"},
      {meta + "start_resource", "drbd:1"},
      {meta + "start_uname", "node2"},
      {meta + "all_uname", "node1 node2 node3"},
  });
  const auto call = read_invocation("notify", env);
  REQUIRE(call);
  const auto& n = call->notify;
  CHECK(n.type == "post");
  CHECK(n.operation == "promote");
  CHECK(n.set("promoted").resources == std::vector<std::string>{"drbd:0"});
  CHECK(n.set("promoted").unames == std::vector<std::string>{"node1"});
  CHECK(n.set("unpromoted").resources == std::vector<std::string>{"drbd:1", "drbd:2"});
  CHECK(n.set("unpromoted").unames == std::vector<std::string>{"node2", "node3"});
  CHECK(n.set("start").unames == std::vector<std::string>{"node2"});
  CHECK(n.set("all").unames.size() == 3);
  CHECK(n.set("stop").resources.empty());
  CHECK(n.set("nosuch").resources.empty());
}
