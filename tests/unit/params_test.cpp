#include "vmha/ocf/params.hpp"
#include "support/catch.hpp"
#include "vmha/ocf/metadata_xml.hpp"

using vmha::ocf::parse_metadata;
using vmha::ocf::read_params;
using vmha::sys::MapEnvironment;

namespace {

const vmha::ocf::Metadata& sample() {
  static const auto md = parse_metadata(
      "<resource-agent name='x'><parameters>"
      "<parameter name='config' required='1'><content type='string'/></parameter>"
      "<parameter name='mode'><content type='string' default='fast'/></parameter>"
      "<parameter name='force'><content type='boolean' default='false'/></parameter>"
      "<parameter name='port'><content type='integer'/></parameter>"
      "<parameter name='speed'><content type='integer' default='0'/></parameter>"
      "<parameter name='wait'><content type='time' default='10s'/></parameter>"
      "</parameters><actions><action name='start' timeout='20s'/></actions></resource-agent>");
  REQUIRE(md);
  return *md;
}

}  // namespace

TEST_CASE("parameters come from OCF_RESKEY_ with meta-data defaults applied", "[params]") {
  const MapEnvironment env(MapEnvironment::Vars{{"OCF_RESKEY_config", "/etc/vm.xml"}, {"OCF_RESKEY_port", "49152"}});
  const auto params = read_params(sample(), env);
  REQUIRE(params);
  CHECK(params->text("config") == "/etc/vm.xml");
  CHECK(params->text("mode") == "fast");
  CHECK_FALSE(params->flag("force"));
  CHECK(params->integer("port") == 49152);
  CHECK(params->integer("speed") == 0);
  CHECK(params->duration("wait") == std::chrono::seconds(10));
  CHECK(params->is_set("config"));
  CHECK_FALSE(params->is_set("mode"));
}

TEST_CASE("an unset integer without default has no value", "[params]") {
  const MapEnvironment env(MapEnvironment::Vars{{"OCF_RESKEY_config", "/c"}});
  const auto params = read_params(sample(), env);
  REQUIRE(params);
  CHECK_FALSE(params->integer("port").has_value());
}

TEST_CASE("bad or missing parameters give status 6 and name the parameter", "[params]") {
  const auto [name, value, needle] = GENERATE(table<std::string, std::string, std::string>({
      {"config", "", "required parameter 'config' is not set"},
      {"force", "maybe", "parameter 'force': 'maybe' is not a boolean"},
      {"port", "49152x", "parameter 'port': '49152x' is not an integer"},
      {"wait", "soon", "parameter 'wait': 'soon' is not a duration"},
  }));
  MapEnvironment env(MapEnvironment::Vars{{"OCF_RESKEY_config", "/etc/vm.xml"}});
  env.set("OCF_RESKEY_" + name, value);
  const auto params = read_params(sample(), env);
  REQUIRE_FALSE(params);
  CHECK(params.error().kind == vmha::ErrorKind::misconfigured);
  CHECK_THAT(params.error().reason, Catch::Contains(needle));
}

TEST_CASE("an empty variable counts as unset", "[params]") {
  const MapEnvironment env(
      MapEnvironment::Vars{{"OCF_RESKEY_config", "/c"}, {"OCF_RESKEY_force", ""}, {"OCF_RESKEY_mode", ""}});
  const auto params = read_params(sample(), env);
  REQUIRE(params);
  CHECK_FALSE(params->flag("force"));
  CHECK(params->text("mode") == "fast");
}

TEST_CASE("booleans take every ocf_is_true spelling", "[params]") {
  const auto [value, expected] = GENERATE(table<std::string, bool>({
      {"yes", true},
      {"TRUE", true},
      {"1", true},
      {"on", true},
      {"ja", true},
      {"no", false},
      {"False", false},
      {"0", false},
      {"off", false},
  }));
  const MapEnvironment env(MapEnvironment::Vars{{"OCF_RESKEY_config", "/c"}, {"OCF_RESKEY_force", value}});
  const auto params = read_params(sample(), env);
  REQUIRE(params);
  CHECK(params->flag("force") == expected);
}

TEST_CASE("asking for an undeclared parameter is a programming error", "[params]") {
  const MapEnvironment env(MapEnvironment::Vars{{"OCF_RESKEY_config", "/c"}});
  const auto params = read_params(sample(), env);
  REQUIRE(params);
  CHECK_THROWS_AS(params->text("nosuch"), std::logic_error);
  CHECK_THROWS_AS(params->flag("config"), std::logic_error);
  CHECK_THROWS_AS(params->integer("mode"), std::logic_error);
}

TEST_CASE("a broken default in the meta-data is reported as such", "[params]") {
  const auto md = parse_metadata(
      "<resource-agent name='x'><parameters><parameter name='n'><content type='integer' default='many'/>"
      "</parameter></parameters><actions/></resource-agent>");
  REQUIRE(md);
  const auto params = read_params(*md, MapEnvironment{});
  REQUIRE_FALSE(params);
  CHECK_THAT(params.error().reason, Catch::Contains("meta-data default"));
}
