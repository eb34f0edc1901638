// The embedded meta-data: complete, compatible with ocf:heartbeat:VirtualDomain, and valid
// for every consumer's validator: the OCF 1.0 form for ocf-tester's DTD, resource-agents' RNG
// and pcs's 1.0 schema, the OCF 1.1 form (reloadable, reload-agent) for pcs's 1.1 schema.
#include <algorithm>
#include <filesystem>

#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/valid.h>

#include "VirtualDomain/virtual_domain.hpp"
#include "support/catch.hpp"
#include "vmha/ocf/metadata_xml.hpp"

using vmha::agents::VirtualDomain_metadata;
using vmha::ocf::ParamType;

namespace {

const vmha::ocf::Metadata& metadata() {
  static const auto parsed = vmha::ocf::parse_metadata(VirtualDomain_metadata.ocf_1_1);
  REQUIRE(parsed);
  return *parsed;
}

const vmha::ocf::Metadata& ocf_1_0_metadata() {
  static const auto parsed = vmha::ocf::parse_metadata(VirtualDomain_metadata.ocf_1_0);
  REQUIRE(parsed);
  return *parsed;
}

struct DocFree {
  void operator()(xmlDocPtr doc) const { xmlFreeDoc(doc); }
};
using Doc = std::unique_ptr<xmlDoc, DocFree>;

Doc read_embedded(std::string_view text) {
  Doc doc(xmlReadMemory(text.data(), static_cast<int>(text.size()), nullptr, nullptr, XML_PARSE_NONET));
  REQUIRE(doc != nullptr);
  return doc;
}

void require_file(const std::string& path, const std::string& package) {
  INFO(path << " is missing: apt-get install " << package << " (the README's test command does)");
  REQUIRE(std::filesystem::exists(path));
}

bool valid_against_rng(const std::string& rng, std::string_view text) {
  xmlRelaxNGParserCtxtPtr parser = xmlRelaxNGNewParserCtxt(rng.c_str());
  xmlRelaxNGPtr schema = xmlRelaxNGParse(parser);
  REQUIRE(schema != nullptr);
  xmlRelaxNGValidCtxtPtr validator = xmlRelaxNGNewValidCtxt(schema);
  const Doc doc = read_embedded(text);
  const int rc = xmlRelaxNGValidateDoc(validator, doc.get());
  xmlRelaxNGFreeValidCtxt(validator);
  xmlRelaxNGFree(schema);
  xmlRelaxNGFreeParserCtxt(parser);
  return rc == 0;
}

}  // namespace

TEST_CASE("meta-data names the agent, its version and OCF 1.1", "[metadata]") {
  CHECK(metadata().agent == "VirtualDomain");
  CHECK(metadata().version == VMHA_VERSION);
  CHECK(metadata().ocf_version == "1.1");
  const std::string_view doctype = "<!DOCTYPE resource-agent SYSTEM \"ra-api-1.dtd\">";
  CHECK(VirtualDomain_metadata.ocf_1_0.find(doctype) != std::string_view::npos);
  CHECK(VirtualDomain_metadata.ocf_1_1.find(doctype) == std::string_view::npos);
  CHECK(ocf_1_0_metadata().version == VMHA_VERSION);
}

TEST_CASE("meta-data marks as reloadable every parameter but those that say which domain runs, and how", "[metadata]") {
  // config (which domain), hypervisor (under which daemon: a monitor asking another would not
  // find it), backingfile, stateless and copyindirs (its disks, made at start).
  const std::vector<std::string> restart{"config", "hypervisor", "backingfile", "stateless", "copyindirs"};
  for (const auto& param : metadata().params) {
    INFO(param.name);
    const bool needs_restart = std::find(restart.begin(), restart.end(), param.name) != restart.end();
    CHECK(param.reloadable == !needs_restart);
  }
  CHECK(metadata().advertises("reload-agent"));
}

TEST_CASE("the OCF 1.0 form is the OCF 1.1 form without reloadable and reload-agent", "[metadata]") {
  REQUIRE(ocf_1_0_metadata().params.size() == metadata().params.size());
  for (std::size_t i = 0; i < metadata().params.size(); ++i) {
    const auto& full = metadata().params[i];
    const auto& subset = ocf_1_0_metadata().params[i];
    INFO(full.name);
    CHECK(subset.name == full.name);
    CHECK(subset.type == full.type);
    CHECK(subset.default_value == full.default_value);
    CHECK_FALSE(subset.reloadable);
  }
  CHECK_FALSE(ocf_1_0_metadata().advertises("reload-agent"));
  CHECK(ocf_1_0_metadata().actions.size() + 1 == metadata().actions.size());
  CHECK(VirtualDomain_metadata.ocf_1_0.find("reloadable=") == std::string_view::npos);
  CHECK(VirtualDomain_metadata.ocf_1_0.find("\"reload-agent\"") == std::string_view::npos);
}

TEST_CASE("meta-data declares every VirtualDomain parameter with their types and defaults", "[metadata]") {
  struct Expected {
    std::string name;
    ParamType type;
    std::optional<std::string> default_value;
  };
  // ocf:heartbeat:VirtualDomain 4.12, in its order (virtualdomain.md §2), then vmha's own, then tracing.
  const std::vector<Expected> expected{
      {"config", ParamType::string, std::nullopt},
      {"hypervisor", ParamType::string, std::nullopt},
      {"force_stop", ParamType::boolean, "false"},
      {"migration_transport", ParamType::string, ""},
      {"migration_user", ParamType::string, std::nullopt},
      {"migration_downtime", ParamType::integer, "0"},
      {"migration_speed", ParamType::integer, "0"},
      {"migration_network_suffix", ParamType::string, ""},
      {"migrateuri", ParamType::string, std::nullopt},
      {"migrate_options", ParamType::string, std::nullopt},
      {"monitor_scripts", ParamType::string, ""},
      {"autoset_utilization_cpu", ParamType::boolean, "true"},
      {"autoset_utilization_host_memory", ParamType::boolean, "true"},
      {"autoset_utilization_hv_memory", ParamType::boolean, "true"},
      {"unset_utilization_cpu", ParamType::boolean, "false"},
      {"unset_utilization_host_memory", ParamType::boolean, "false"},
      {"unset_utilization_hv_memory", ParamType::boolean, "false"},
      {"migrateport", ParamType::integer, std::nullopt},
      {"remoteuri", ParamType::string, std::nullopt},
      {"save_config_on_stop", ParamType::boolean, "false"},
      {"sync_config_on_stop", ParamType::boolean, "false"},
      {"snapshot", ParamType::string, ""},
      {"backingfile", ParamType::string, ""},
      {"stateless", ParamType::boolean, "false"},
      {"copyindirs", ParamType::string, ""},
      {"shutdown_mode", ParamType::string, ""},
      {"start_resources", ParamType::boolean, "false"},
      {"destroy_reserve", ParamType::integer, "20"},
      {"pmsuspended_is_running", ParamType::boolean, "true"},
      {"guest_agent_timeout", ParamType::integer, "5"},
      {"guest_agent_misses", ParamType::integer, "3"},
      {"migration_auto_converge", ParamType::boolean, "false"},
      {"migration_compression", ParamType::string, ""},
      {"migration_postcopy_after", ParamType::integer, "0"},
      {"drbd_resources", ParamType::string, ""},
      {"drbd_allow_two_primaries", ParamType::boolean, "false"},
      {"trace_ra", ParamType::boolean, "false"},
      {"trace_file", ParamType::string, ""},
  };
  REQUIRE(metadata().params.size() >= expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto& got = metadata().params[i];
    INFO("parameter #" << i << " " << expected[i].name);
    CHECK(got.name == expected[i].name);
    CHECK(got.type == expected[i].type);
    CHECK(got.default_value == expected[i].default_value);
  }
  const auto* config = metadata().param("config");
  REQUIRE(config != nullptr);
  CHECK(config->required);
  CHECK(config->unique);
  for (const auto& param : metadata().params) {
    if (param.name != "config") CHECK_FALSE(param.required);
  }
}

TEST_CASE("meta-data advertises every action with a real timeout", "[metadata]") {
  const auto [action, seconds] = GENERATE(table<std::string, long>({
      {"start", 90},
      {"stop", 90},
      {"monitor", 30},
      {"status", 30},
      {"migrate_to", 120},
      {"migrate_from", 60},
      {"meta-data", 5},
      {"validate-all", 5},
      {"reload-agent", 20},
  }));
  const auto* spec = metadata().action(action);
  REQUIRE(spec != nullptr);
  CHECK(spec->timeout == std::chrono::seconds(seconds));
}

TEST_CASE("the OCF 1.0 form is valid against ra-api-1.dtd, as ocf-tester checks it", "[metadata]") {
  const std::string path = "/usr/share/resource-agents/ra-api-1.dtd";
  require_file(path, "resource-agents");
  xmlDtdPtr dtd = xmlParseDTD(nullptr, reinterpret_cast<const xmlChar*>(path.c_str()));
  REQUIRE(dtd != nullptr);
  xmlValidCtxtPtr context = xmlNewValidCtxt();
  const Doc doc = read_embedded(VirtualDomain_metadata.ocf_1_0);
  CHECK(xmlValidateDtd(context, doc.get(), dtd) == 1);
  xmlFreeValidCtxt(context);
  xmlFreeDtd(dtd);
}

TEST_CASE("the OCF 1.0 form is valid against resource-agents' metadata.rng", "[metadata]") {
  const std::string path = "/usr/share/resource-agents/metadata.rng";
  require_file(path, "resource-agents");
  CHECK(valid_against_rng(path, VirtualDomain_metadata.ocf_1_0));
}

TEST_CASE("both forms are valid against pcs's OCF 1.1 schema, the OCF 1.0 form against its 1.0 schema", "[metadata]") {
  // pcs picks the schema by <version>: 1.1 here, whichever form crm_resource hands it.
  const std::string ocf_1_1 = "/usr/share/pcs/data/ocf-1.1.rng";
  const std::string ocf_1_0 = "/usr/share/pcs/data/ocf-1.0.rng";
  require_file(ocf_1_1, "pcs");
  require_file(ocf_1_0, "pcs");
  CHECK(valid_against_rng(ocf_1_1, VirtualDomain_metadata.ocf_1_1));
  CHECK(valid_against_rng(ocf_1_1, VirtualDomain_metadata.ocf_1_0));
  CHECK(valid_against_rng(ocf_1_0, VirtualDomain_metadata.ocf_1_0));
}

TEST_CASE("malformed meta-data is an error, never a crash", "[metadata]") {
  const auto [xml, needle] = GENERATE(table<std::string, std::string>({
      {"", "meta-data"},
      {"<resource-agent", "meta-data"},
      {"<other name='x'/>", "root is not"},
      {"<resource-agent/>", "has no name"},
      {"<resource-agent name='a'><parameters><parameter><content type='string'/></parameter></parameters>"
       "</resource-agent>",
       "a parameter has no name"},
      {"<resource-agent name='a'><parameters><parameter name='p'><content type='float'/></parameter>"
       "</parameters></resource-agent>",
       "type 'float'"},
      {"<resource-agent name='a'><parameters><parameter name='p'><content type='string'/></parameter>"
       "<parameter name='p'><content type='string'/></parameter></parameters></resource-agent>",
       "declared twice"},
      {"<resource-agent name='a'><actions><action name='start'/></actions></resource-agent>", "no valid timeout"},
      {"<resource-agent name='a'><actions><action name='start' timeout='x'/></actions></resource-agent>",
       "no valid timeout"},
  }));
  const auto parsed = vmha::ocf::parse_metadata(xml);
  REQUIRE_FALSE(parsed);
  CHECK_THAT(parsed.error().reason, Catch::Contains(needle));
}

TEST_CASE("meta-data content types map to parameter types", "[metadata]") {
  const auto parsed = vmha::ocf::parse_metadata(
      "<resource-agent name='a'><parameters>"
      "<parameter name='t'><content type='time' default='20s'/></parameter>"
      "<parameter name='s'><content type='second'/></parameter>"
      "<parameter name='i' required='1' unique='1'><content type='integer'/></parameter>"
      "</parameters><actions><action name='monitor' timeout='20s' interval='10s' depth='10'/></actions>"
      "</resource-agent>");
  REQUIRE(parsed);
  CHECK(parsed->param("t")->type == ParamType::duration);
  CHECK(parsed->param("s")->type == ParamType::duration);
  CHECK(parsed->param("i")->required);
  CHECK(parsed->action("monitor")->interval == std::chrono::seconds(10));
  CHECK(parsed->action("monitor")->depth == 10);
}
