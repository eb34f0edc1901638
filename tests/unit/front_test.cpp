// The front's choices: when the monitor's fast path may answer, and when it must hand over.
#include <fstream>

#include "VirtualDomain/exit_status.hpp"
#include "VirtualDomain/front.hpp"
#include "support/agent_harness.hpp"
#include "support/catch.hpp"
#include "support/fake_libvirtd.hpp"

using vmha::sys::MapEnvironment;

namespace {

struct FrontCall {
  explicit FrontCall(MapEnvironment::Vars vars) : env(std::move(vars)) {
    params = *vmha::ocf::read_params(vmha::agents::VirtualDomain_metadata_table(), env);
    call = *vmha::ocf::read_invocation("monitor", env);
  }
  std::optional<vmha::Result<vmha::ocf::Status>> run() {
    const vmha::ocf::Services services{env, clock, runner, files, state_files, log, false};
    const auto deadline = vmha::ocf::Deadline::for_timeout(clock, clock.now(), vmha::sys::Millis{20'000});
    const vmha::ocf::Request request{call, params, vmha::agents::VirtualDomain_metadata_table(), deadline, clock.now()};
    return vmha::agents::fast_monitor(request, services);
  }
  MapEnvironment env;
  vmha::sys::SteadyClock clock;
  vmha::test::FakeCommandRunner runner;
  vmha::sys::BoundedFileSystem files;
  vmha::sys::LocalFileSystem state_files;
  vmha::test::CapturingLogger log;
  vmha::ocf::Params params;
  vmha::ocf::Invocation call;
};

}  // namespace

TEST_CASE("front: the fast path needs a local URI and an up-to-date record of the config", "[front]") {
  vmha::test::TempDir dir;
  const std::string config = dir.path() + "/vm1.xml";
  std::ofstream(config) << vmha::test::domain_xml();
  const std::string rsctmp = dir.path() + "/rsctmp";
  const std::string socket = dir.path() + "/run/libvirt-sock";
  const MapEnvironment::Vars base{{"OCF_RESKEY_config", config},
                                  {"OCF_RESOURCE_INSTANCE", "vm1"},
                                  {"HA_RSCTMP", rsctmp},
                                  {"OCF_RESKEY_CRM_meta_interval", "10000"},
                                  {"OCF_RESKEY_hypervisor", "qemu+unix:///system?socket=" + socket}};

  // No record of the config yet: only the full agent can read it.
  CHECK_FALSE(FrontCall(base).run().has_value());

  vmha::sys::LocalFileSystem local;
  const auto forever = vmha::sys::Clock::time_point::max();
  const vmha::agents::Records records(local, rsctmp, "vm1", forever);
  const vmha::virt::DomainRef vm1{"vm1", vmha::test::kUuid};
  REQUIRE(records.remember_config_identity(config, {vm1, local.info(config, forever)->version()}));
  CHECK(records.config_identity(config)->domain == vm1);

  // A remote URI: no socket and no /proc evidence here.
  auto remote = base;
  remote["OCF_RESKEY_hypervisor"] = "qemu+tcp://node2/system";
  CHECK_FALSE(FrontCall(remote).run().has_value());

  // Local and recorded, but no daemon at the socket: libvirt's own client may know another
  // way in, so the full agent answers.
  CHECK_FALSE(FrontCall(base).run().has_value());

  // A daemon that answers: the fast path decides (here: paused on an I/O error).
  vmha::test::FakeDaemon daemon(vmha::test::libvirtd);
  auto local_daemon = base;
  local_daemon["OCF_RESKEY_hypervisor"] = "qemu+unix:///system?socket=" + daemon.path();
  auto answered = FrontCall(local_daemon).run();
  REQUIRE(answered.has_value());
  REQUIRE_FALSE(*answered);
  CHECK_THAT(answered->error().reason, Catch::Contains("paused (I/O error)"));

  // The config changed: the record no longer vouches for it.
  std::ofstream(config, std::ios::app) << "\n<!-- edited -->\n";
  CHECK(records.config_identity(config)->version != local.info(config, forever)->version());
  CHECK_FALSE(FrontCall(local_daemon).run().has_value());
}

TEST_CASE("front: parameters wrong everywhere are answered at once", "[front]") {
  FrontCall call(MapEnvironment::Vars{{"OCF_RESKEY_config", "relative.xml"}});
  auto answered = call.run();
  REQUIRE(answered.has_value());
  REQUIRE_FALSE(*answered);
  CHECK(vmha::agents::exit_status("monitor", answered->error()) == vmha::ocf::Status::err_configured);
}
