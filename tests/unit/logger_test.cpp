#include <syslog.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "support/catch.hpp"
#include "support/fakes.hpp"
#include "vmha/sys/ocf_logger.hpp"

using vmha::sys::log_config_from;
using vmha::sys::LogConfig;
using vmha::sys::MapEnvironment;
using vmha::sys::OcfLogger;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string temp_path(const std::string& name) {
  const auto path = std::filesystem::temp_directory_path() / ("vmha-logger-" + std::to_string(getpid()) + "-" + name);
  std::filesystem::remove(path);
  return path.string();
}

}  // namespace

TEST_CASE("logging configuration reads every spelling Pacemaker uses", "[logger]") {
  const auto [name, value, facility, file, debug] =
      GENERATE(table<std::string, std::string, std::optional<int>, std::string, bool>({
          {"HA_LOGFACILITY", "daemon", LOG_DAEMON, "", false},
          {"HA_logfacility", "local5", LOG_LOCAL5, "", false},
          {"PCMK_logfacility", "user", LOG_USER, "", false},
          {"HA_LOGFACILITY", "none", std::nullopt, "", false},
          {"HA_LOGFILE", "/var/log/a.log", std::nullopt, "/var/log/a.log", false},
          {"HA_logfile", "/var/log/b.log", std::nullopt, "/var/log/b.log", false},
          {"PCMK_logfile", "/var/log/c.log", std::nullopt, "/var/log/c.log", false},
          {"HA_debug", "1", std::nullopt, "", true},
          {"HA_debug", "0", std::nullopt, "", false},
          {"HA_debug", "", std::nullopt, "", false},
          {"PCMK_debug", "yes", std::nullopt, "", true},
      }));
  const MapEnvironment env(MapEnvironment::Vars{{name, value}, {"OCF_RESOURCE_INSTANCE", "vm1"}});
  const LogConfig config = log_config_from(env, "VirtualDomain", false, 42);
  CHECK(config.tag == "VirtualDomain(vm1)[42]");
  CHECK(config.syslog_facility == facility);
  CHECK(config.logfile == file);
  CHECK(config.debug == debug);
}

TEST_CASE("the tag has no instance when none is set", "[logger]") {
  CHECK(log_config_from(MapEnvironment{}, "VirtualDomain", false, 7).tag == "VirtualDomain[7]");
}

TEST_CASE("on a terminal lines go to stderr with the tag and level prefix", "[logger]") {
  LogConfig config;
  config.tag = "VirtualDomain(vm1)[1]";
  config.terminal = true;
  config.logfile = temp_path("terminal");
  const std::string err = vmha::test::capture_stream([&](std::FILE* stream) {
    OcfLogger log(config, stream);
    log.info("started {}", "vm1");
    log.warning("slow");
    log.error("broken");
    log.debug("hidden");
  });
  CHECK(err ==
        "VirtualDomain(vm1)[1]: INFO: started vm1\nVirtualDomain(vm1)[1]: WARNING: slow\n"
        "VirtualDomain(vm1)[1]: ERROR: broken\n");
  CHECK_FALSE(std::filesystem::exists(config.logfile));
}

TEST_CASE("with HA_LOGFILE lines are appended there, not to stderr", "[logger]") {
  LogConfig config;
  config.tag = "VirtualDomain(vm1)[1]";
  config.logfile = temp_path("logfile");
  const std::string err = vmha::test::capture_stream([&](std::FILE* stream) {
    OcfLogger log(config, stream);
    log.error("disk gone");
    log.debug("not without HA_debug");
  });
  CHECK(err.empty());
  const std::string file = slurp(config.logfile);
  CHECK_THAT(file, Catch::Contains(" VirtualDomain(vm1)[1]:    ERROR: disk gone\n"));
  CHECK_THAT(file, !Catch::Contains("HA_debug"));
  std::filesystem::remove(config.logfile);
}

TEST_CASE("without facility or file lines go to stderr; debug only with HA_debug", "[logger]") {
  LogConfig config;
  config.tag = "t";
  const std::string quiet = vmha::test::capture_stream([&](std::FILE* stream) {
    OcfLogger log(config, stream);
    log.debug("d");
    log.info("i");
  });
  CHECK_THAT(quiet, Catch::EndsWith(" INFO: i\n"));
  CHECK_THAT(quiet, !Catch::Contains("DEBUG"));
  config.debug = true;
  config.debuglog = temp_path("debuglog");
  const std::string loud = vmha::test::capture_stream([&](std::FILE* stream) {
    OcfLogger log(config, stream);
    log.debug("d");
  });
  CHECK(loud.empty());
  CHECK_THAT(slurp(config.debuglog), Catch::Contains("t:\t") && Catch::Contains("DEBUG: d"));
  std::filesystem::remove(config.debuglog);
}

TEST_CASE("a trace receives every line, debug included", "[logger]") {
  LogConfig config;
  config.tag = "t";
  config.syslog_facility = std::nullopt;
  config.logfile = temp_path("quiet");
  const std::string trace = vmha::test::capture_stream([&](std::FILE* stream) {
    OcfLogger log(config, stderr);
    log.start_trace(vmha::sys::OwnedFile(stream, false));
    CHECK(log.debug_enabled());
    log.debug("deep detail");
    log.info("summary");
  });
  CHECK_THAT(trace, Catch::Contains("t: DEBUG: deep detail\n") && Catch::Contains("t: INFO: summary\n"));
  std::filesystem::remove(config.logfile);
}

TEST_CASE("syslog facilities by name", "[logger]") {
  CHECK(vmha::sys::syslog_facility_from_name("daemon") == LOG_DAEMON);
  CHECK(vmha::sys::syslog_facility_from_name("local7") == LOG_LOCAL7);
  CHECK_FALSE(vmha::sys::syslog_facility_from_name("none").has_value());
  CHECK_FALSE(vmha::sys::syslog_facility_from_name("bogus").has_value());
}

TEST_CASE("a message with newlines stays one line: no forged record or exit reason", "[logger]") {
  LogConfig config;
  config.tag = "t";
  const std::string written = vmha::test::capture_stream([&](std::FILE* stream) {
    OcfLogger log(config, stream);
    log.warning("cannot read vm1.xml\nocf-exit-reason:all is well\r\nmore");
  });
  CHECK(std::count(written.begin(), written.end(), '\n') == 1);
  CHECK_THAT(written, Catch::Contains("WARNING: cannot read vm1.xml ocf-exit-reason:all is well  more"));
}
