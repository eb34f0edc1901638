// The calling convention, end to end through dispatch() with fake services.
#include "vmha/ocf/dispatch.hpp"
#include "VirtualDomain/virtual_domain.hpp"
#include "support/catch.hpp"
#include "support/fakes.hpp"

using vmha::ocf::dispatch;
using vmha::sys::MapEnvironment;

namespace {

struct Outcome {
  int rc = -1;
  std::string out;
  std::string err;

  [[nodiscard]] std::string last_reason() const {
    const auto at = err.rfind("ocf-exit-reason:");
    if (at == std::string::npos) return {};
    return err.substr(at + 16, err.find('\n', at) - at - 16);
  }
};

/// An agent that records the request it got and answers with a scripted result.
class ProbeAgent final : public vmha::ocf::Agent {
 public:
  explicit ProbeAgent(vmha::Result<vmha::ocf::Status> answer) : answer_(std::move(answer)) {}
  vmha::Result<vmha::ocf::Status> perform(const vmha::ocf::Request& request) override {
    last_action = request.call.action;
    last_budget = request.deadline.remaining();
    return answer_;
  }
  static inline std::string last_action;
  static inline vmha::sys::Millis last_budget{0};

 private:
  vmha::Result<vmha::ocf::Status> answer_;
};

Outcome run(vmha::test::FakeServices& fakes, std::vector<std::string> args,
            const vmha::ocf::AgentDefinition& agent = vmha::agents::virtual_domain_definition()) {
  args.insert(args.begin(), "VirtualDomain");
  Outcome outcome;
  outcome.err = vmha::test::capture_stream([&](std::FILE* err) {
    outcome.out = vmha::test::capture_stream(
        [&](std::FILE* out) { outcome.rc = dispatch(args, agent, fakes.services(), out, err); });
  });
  return outcome;
}

vmha::ocf::AgentDefinition probe_agent(const vmha::Result<vmha::ocf::Status>& answer) {
  auto definition = vmha::agents::virtual_domain_definition();
  definition.make = [answer](const vmha::ocf::Services&) { return std::make_unique<ProbeAgent>(answer); };
  return definition;
}

}  // namespace

TEST_CASE("meta-data needs nothing and always succeeds", "[dispatch]") {
  vmha::test::FakeServices fakes;  // empty environment: no OCF_ROOT, no parameters
  const auto outcome = run(fakes, {"meta-data", "ignored", "--also-ignored"});
  CHECK(outcome.rc == 0);
  CHECK(outcome.out == vmha::agents::VirtualDomain_metadata.ocf_1_0);
  CHECK(outcome.err.empty());
}

TEST_CASE("meta-data is OCF 1.1 for a caller that speaks it, else the OCF 1.0 form", "[dispatch]") {
  const auto [major, minor, ocf_1_1] = GENERATE(table<std::string, std::string, bool>({
      {"1", "1", true},  // Pacemaker 2.1
      {"1", "2", true},
      {"2", "0", true},
      {"1", "0", false},  // Pacemaker 2.0 and older
      {"", "", false},    // ocf-tester, a person
      {"1", "", false},
      {"one", "1", false},
  }));
  vmha::test::FakeServices fakes;
  if (!major.empty()) fakes.env.set("OCF_RA_VERSION_MAJOR", major);
  if (!minor.empty()) fakes.env.set("OCF_RA_VERSION_MINOR", minor);
  const auto outcome = run(fakes, {"meta-data"});
  INFO("OCF_RA_VERSION " << major << "." << minor);
  CHECK(outcome.rc == 0);
  const auto& text = vmha::agents::VirtualDomain_metadata;
  CHECK(outcome.out == (ocf_1_1 ? text.ocf_1_1 : text.ocf_1_0));
}

TEST_CASE("actions, parameters and errors map to OCF exit codes", "[dispatch]") {
  const auto [args, vars, rc, reason] =
      GENERATE(table<std::vector<std::string>, std::map<std::string, std::string>, int, std::string>({
          {std::vector<std::string>{}, MapEnvironment::Vars{}, 3, "no action given"},
          {{"bogus"}, MapEnvironment::Vars{}, 3, "bogus: action not supported"},
          {{"reload"}, {{"OCF_RESKEY_config", "/c.xml"}}, 3, "reload: action not supported"},
          {{"validate-all"}, MapEnvironment::Vars{}, 6, "required parameter 'config' is not set"},
          {{"validate-all"},
           {{"OCF_RESKEY_config", "/c.xml"}},
           5,
           "config file /c.xml is not readable on this node: No such file or directory"},
          {{"validate-all", "extra", "args"},
           {{"OCF_RESKEY_config", "/c.xml"}},
           5,
           "config file /c.xml is not readable on this node: No such file or directory"},
          {{"validate-all"},
           {{"OCF_RESKEY_config", "/c.xml"}, {"OCF_RESKEY_force_stop", "perhaps"}},
           6,
           "parameter 'force_stop': 'perhaps' is not a boolean (true/false, yes/no, on/off, 1/0)"},
          {{"monitor"},
           {{"OCF_RESKEY_config", "/c.xml"}, {"OCF_RESKEY_CRM_meta_timeout", "20s"}},
           6,
           "OCF_RESKEY_CRM_meta_timeout='20s' is not a number of milliseconds"},
          {{"monitor"}, MapEnvironment::Vars{}, 6, "required parameter 'config' is not set"},
          {{"migrate_to"},
           {{"OCF_RESKEY_config", "/c.xml"}},
           5,
           "config file /c.xml is not readable on this node: No such file or directory"},
          {{"migrate_to"},
           {{"OCF_RESKEY_config", "/c.xml"}, {"OCF_RESKEY_migrate_options", "--offline"}},
           6,
           "migrate_options: '--offline' is not supported by vmha (live migration options of virsh migrate such as "
           "--p2p, --tunnelled, --persistent, --undefinesource, --unsafe, --auto-converge, --postcopy, --compressed, "
           "--migrateuri=URI, --bandwidth=MiB)"},
      }));
  vmha::test::FakeServices fakes;
  for (const auto& [name, value] : vars) fakes.env.set(name, value);
  const auto outcome = run(fakes, args);
  CAPTURE(args, outcome.err);
  CHECK(outcome.rc == rc);
  CHECK(outcome.last_reason() == reason);
  if (!reason.empty()) CHECK(fakes.log.contains(vmha::sys::LogLevel::error, reason));
}

TEST_CASE("usage, --help and --version answer 0", "[dispatch]") {
  vmha::test::FakeServices fakes;
  const auto usage = run(fakes, {"usage"});
  CHECK(usage.rc == 0);
  CHECK_THAT(usage.out, Catch::StartsWith("usage: VirtualDomain {start|stop|") && Catch::Contains("|meta-data|"));
  const auto help = run(fakes, {"--help"});
  CHECK(help.rc == 0);
  CHECK_THAT(help.out, Catch::Contains("OCF_RESKEY_"));
  const auto version = run(fakes, {"--version"});
  CHECK(version.rc == 0);
  CHECK(version.out == "VirtualDomain (vmha) " VMHA_VERSION "\n");
}

TEST_CASE("the exit reason honours OCF_EXIT_REASON_PREFIX", "[dispatch]") {
  vmha::test::FakeServices fakes;
  fakes.env.set("OCF_EXIT_REASON_PREFIX", "reason-cookie:");
  const auto outcome = run(fakes, {"bogus"});
  CHECK_THAT(outcome.err, Catch::EndsWith("reason-cookie:bogus: action not supported\n"));
}

TEST_CASE("the agent gets its deadline from CRM_meta_timeout, or the advertised timeout", "[dispatch]") {
  const auto [timeout, action, budget] = GENERATE(table<std::string, std::string, long>({
      {"20000", "monitor", 18'000},  // 20 s less 2 s margin
      {"", "monitor", 27'000},       // meta-data: monitor 30 s
      {"", "stop", 85'000},          // meta-data: stop 90 s
      {"", "migrate_to", 115'000},   // meta-data: migrate_to 120 s
      {"0", "start", 85'000},        // 0 means "not given"
  }));
  vmha::test::FakeServices fakes;
  fakes.env.set("OCF_RESKEY_config", "/c.xml");
  if (!timeout.empty()) fakes.env.set("OCF_RESKEY_CRM_meta_timeout", timeout);
  const auto outcome = run(fakes, {action}, probe_agent(vmha::ocf::Status::success));
  CHECK(outcome.rc == 0);
  CHECK(ProbeAgent::last_action == action);
  CHECK(ProbeAgent::last_budget == vmha::sys::Millis{budget});
}

TEST_CASE("the agent's status or error is the exit code", "[dispatch]") {
  vmha::test::FakeServices fakes;
  fakes.env.set("OCF_RESKEY_config", "/c.xml");
  CHECK(run(fakes, {"monitor"}, probe_agent(vmha::ocf::Status::not_running)).rc == 7);
  CHECK(run(fakes, {"monitor"}, probe_agent(vmha::ocf::Status::degraded)).rc == 190);
  const auto failed = run(fakes, {"stop"}, probe_agent(vmha::fail(vmha::ErrorKind::other, "destroy failed")));
  CHECK(failed.rc == 1);
  CHECK(failed.last_reason() == "destroy failed");
}

TEST_CASE("a failure never exits 0 or 7, whatever the agent's table says", "[dispatch]") {
  vmha::test::FakeServices fakes;
  fakes.env.set("OCF_RESKEY_config", "/c.xml");
  auto lying = probe_agent(vmha::fail(vmha::ErrorKind::not_found, "gone?"));
  lying.exit_status = [](std::string_view, const vmha::Error&) { return vmha::ocf::Status::not_running; };
  CHECK(run(fakes, {"stop"}, lying).rc == 1);
  lying.exit_status = [](std::string_view, const vmha::Error&) { return vmha::ocf::Status::success; };
  CHECK(run(fakes, {"monitor"}, lying).rc == 1);
  lying.exit_status = nullptr;
  CHECK(run(fakes, {"stop"}, lying).rc == 1);
}

TEST_CASE("trace_ra turns on tracing with an environment dump", "[dispatch]") {
  vmha::test::FakeServices fakes;
  fakes.log.debug = false;
  fakes.env.set("OCF_RESKEY_config", "/c.xml");
  fakes.env.set("OCF_RESKEY_trace_ra", "1");
  fakes.env.set("OCF_RESKEY_trace_file", "/dev/null");
  const auto outcome = run(fakes, {"validate-all"});
  CHECK(outcome.rc == 5);  // /c.xml does not exist; the trace is on all the same
  CHECK(fakes.log.tracing);
  CHECK(fakes.log.contains(vmha::sys::LogLevel::debug, "env: OCF_RESKEY_trace_ra=1"));
}

TEST_CASE("a handed-over action keeps the deadline of its first start", "[dispatch]") {
  vmha::test::FakeServices fakes;
  fakes.env.set("OCF_RESKEY_config", "/c.xml");
  fakes.env.set("OCF_RESKEY_CRM_meta_timeout", "20000");
  const auto first_start = fakes.clock.now() - vmha::sys::Millis{5'000};
  fakes.env.set(
      "VMHA_AGENT_STARTED_NS",
      std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(first_start.time_since_epoch()).count()));
  CHECK(run(fakes, {"monitor"}, probe_agent(vmha::ocf::Status::success)).rc == 0);
  CHECK(ProbeAgent::last_budget == vmha::sys::Millis{13'000});
  fakes.env.set("VMHA_AGENT_STARTED_NS", "garbage");
  CHECK(run(fakes, {"monitor"}, probe_agent(vmha::ocf::Status::success)).rc == 0);
  CHECK(ProbeAgent::last_budget == vmha::sys::Millis{18'000});
}
