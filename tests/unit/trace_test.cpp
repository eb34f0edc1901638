#include <filesystem>

#include "support/catch.hpp"
#include "support/fakes.hpp"
#include "vmha/ocf/metadata_xml.hpp"
#include "vmha/ocf/trace.hpp"

using vmha::ocf::trace_target;
using vmha::sys::MapEnvironment;

namespace {

vmha::ocf::Metadata tracing_metadata() {
  auto md = vmha::ocf::parse_metadata(
      "<resource-agent name='x'><parameters>"
      "<parameter name='trace_ra'><content type='boolean' default='false'/></parameter>"
      "<parameter name='trace_file'><content type='string' default=''/></parameter>"
      "</parameters><actions/></resource-agent>");
  REQUIRE(md);
  return *md;
}

}  // namespace

TEST_CASE("tracing follows OCF_TRACE_RA, the trace_ra parameter and their files", "[trace]") {
  const auto [vars, terminal, enabled, fd, path] =
      GENERATE(table<std::map<std::string, std::string>, bool, bool, std::optional<int>, std::string>({
          {MapEnvironment::Vars{}, false, false, std::nullopt, ""},
          {{{"OCF_TRACE_RA", "0"}, {"OCF_RESKEY_trace_ra", "1"}}, false, false, std::nullopt, ""},
          {{{"OCF_TRACE_RA", "1"}, {"OCF_TRACE_FILE", "/tmp/t.log"}}, false, true, std::nullopt, "/tmp/t.log"},
          {{{"OCF_TRACE_RA", "yes"}, {"OCF_TRACE_FILE", "5"}}, false, true, 5, ""},
          {{{"OCF_RESKEY_trace_ra", "true"}, {"OCF_RESKEY_trace_file", "/tmp/p.log"}},
           false,
           true,
           std::nullopt,
           "/tmp/p.log"},
          {{{"OCF_TRACE_RA", "1"}}, true, true, std::nullopt, ""},
          {{{"OCF_TRACE_RA", "1"}, {"OCF_TRACE_FILE", "relative"}}, true, true, std::nullopt, ""},
          {{{"OCF_TRACE_RA", "1"}, {"OCF_RESKEY_trace_dir", "/tmp/tr"}},
           false,
           true,
           std::nullopt,
           "/tmp/tr/VirtualDomain/vm1.start.1970-01-01.00:00:00"},
          {{{"OCF_TRACE_RA", "1"}, {"HA_VARLIB", "/var/x"}},
           false,
           true,
           std::nullopt,
           "/var/x/trace_ra/VirtualDomain/vm1.start.1970-01-01.00:00:00"},
      }));
  setenv("TZ", "UTC", 1);
  tzset();
  auto env_vars = vars;
  env_vars["OCF_RESOURCE_INSTANCE"] = "vm1";
  env_vars["OCF_RESOURCE_TYPE"] = "VirtualDomain";
  const MapEnvironment env(env_vars);
  const auto md = tracing_metadata();
  const auto params = vmha::ocf::read_params(md, env);
  REQUIRE(params);
  const auto call = vmha::ocf::read_invocation("start", env);
  REQUIRE(call);
  const auto target = trace_target(env, *params, *call, terminal, 0);
  REQUIRE(target.has_value() == enabled);
  if (target) {
    CHECK(target->fd == fd);
    CHECK(target->path == path);
  }
}

TEST_CASE("a trace file is opened, creating its directory", "[trace]") {
  const auto dir = std::filesystem::temp_directory_path() / ("vmha-trace-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  const auto file = vmha::ocf::open_trace({std::nullopt, (dir / "a" / "b.trace").string()});
  REQUIRE(file);
  CHECK(std::filesystem::exists(dir / "a" / "b.trace"));
  const auto bad_fd = vmha::ocf::open_trace({9, ""});
  CHECK_FALSE(bad_fd);
  std::filesystem::remove_all(dir);
}
