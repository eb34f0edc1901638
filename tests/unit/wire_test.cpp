// The monitor's libvirt wire client against a scripted stand-in for libvirtd on a unix socket.
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "support/fake_libvirtd.hpp"
#include "vmha/virt/qemu_processes.hpp"
#include "vmha/virt/wire.hpp"

using vmha::ErrorKind;
using vmha::sys::Millis;
using vmha::test::Answer;
using vmha::test::error;
using vmha::test::FakeDaemon;
using vmha::test::libvirtd;
using vmha::test::ok;
using vmha::test::words;
using vmha::virt::DomainState;

namespace {

struct Call {
  vmha::sys::SteadyClock clock;
  vmha::ocf::Deadline deadline{clock, clock.now() + Millis{2'000}};
};

const vmha::virt::DomainRef kRef{"vm1", vmha::test::kUuid};

}  // namespace

TEST_CASE("wire: state of a domain in three round trips", "[wire]") {
  FakeDaemon daemon(libvirtd);
  Call call;
  auto hypervisor = vmha::virt::make_wire_reader(daemon.path());
  const auto state = hypervisor->state(kRef, call.deadline);
  REQUIRE(state);
  REQUIRE(state->has_value());
  CHECK((*state)->state == DomainState::paused);
  CHECK((*state)->reason == vmha::virt::paused_ioerror);
  CHECK(daemon.calls == std::vector<std::int32_t>{66, 1, 212});
}

TEST_CASE("wire: a finished session ends with CONNECT_CLOSE, so libvirtd logs no end-of-file error", "[wire]") {
  std::atomic<bool> closed{false};
  FakeDaemon daemon([&closed](std::int32_t proc, const std::string& args) {
    if (proc == 2) {
      closed = true;
      return ok();  // libvirtd answers, then closes the connection itself
    }
    return libvirtd(proc, args);
  });
  Call call;
  auto hypervisor = vmha::virt::make_wire_reader(daemon.path());
  REQUIRE(hypervisor->state(kRef, call.deadline));
  CHECK_FALSE(closed);
  hypervisor.reset();
  CHECK(closed);
}

TEST_CASE("wire: a session that never opened sends nothing more", "[wire]") {
  FakeDaemon daemon(
      [](std::int32_t proc, const std::string& args) { return proc == 1 ? error(38) : libvirtd(proc, args); });
  Call call;
  auto hypervisor = vmha::virt::make_wire_reader(daemon.path());
  CHECK_FALSE(hypervisor->state(kRef, call.deadline));
  hypervisor.reset();
  CHECK(daemon.calls == std::vector<std::int32_t>{66, 1});
}

TEST_CASE("wire: a name without UUID is looked up first; facts come from GET_INFO", "[wire]") {
  FakeDaemon daemon(libvirtd);
  Call call;
  auto hypervisor = vmha::virt::make_wire_reader(daemon.path());
  CHECK(hypervisor->state({"vm1", ""}, call.deadline));
  const auto facts = hypervisor->facts(kRef, call.deadline);
  REQUIRE(facts);
  CHECK(facts->vcpus == 4);
  CHECK(facts->max_memory_kib == 262144);
  CHECK(daemon.calls == std::vector<std::int32_t>{66, 1, 23, 212, 16});
}

TEST_CASE("wire: answers map to the right kinds", "[wire]") {
  const auto [case_name, script, state_kind] =
      GENERATE(table<std::string, std::function<Answer(std::int32_t, const std::string&)>, std::optional<ErrorKind>>({
          {"no such domain", [](std::int32_t p, const std::string& a) { return p == 212 ? error(42) : libvirtd(p, a); },
           std::nullopt},
          {"internal error", [](std::int32_t p, const std::string& a) { return p == 212 ? error(1) : libvirtd(p, a); },
           ErrorKind::other},
          {"RPC error from the daemon",
           [](std::int32_t p, const std::string& a) { return p == 1 ? error(39) : libvirtd(p, a); }, ErrorKind::other},
          {"access denied", [](std::int32_t p, const std::string& a) { return p == 1 ? error(88) : libvirtd(p, a); },
           ErrorKind::denied},
          {"SASL only",
           [](std::int32_t p, const std::string& a) { return p == 66 ? ok(words({1, 1})) : libvirtd(p, a); },
           ErrorKind::other},
          {"garbage",
           [](std::int32_t p,
              const std::string& a) { return p == 212 ? Answer{Answer::garbage, {}, 0} : libvirtd(p, a); },
           ErrorKind::other},
          {"keepalive ping first",
           [](std::int32_t p,
              const std::string&
                  a) { return p == 212 ? Answer{Answer::keepalive_then_ok, words({1, 1}), 0} : libvirtd(p, a); },
           std::nullopt},
          {"never answers",
           [](std::int32_t p, const std::string& a) { return p == 212 ? Answer{Answer::hang, {}, 0} : libvirtd(p, a); },
           ErrorKind::timed_out},
      }));
  FakeDaemon daemon(script);
  vmha::sys::SteadyClock clock;
  const auto started = clock.now();
  auto hypervisor = vmha::virt::make_wire_reader(daemon.path());
  const auto state = hypervisor->state(kRef, vmha::ocf::Deadline(clock, clock.now() + Millis{500}));
  CAPTURE(case_name);
  if (!state_kind) {
    CHECK(state);
  } else {
    REQUIRE_FALSE(state);
    CHECK(state.error().kind == *state_kind);
  }
  CHECK(clock.now() - started < Millis{1'000});
}

TEST_CASE("wire: polkit sockets are passed by asking", "[wire]") {
  FakeDaemon daemon([](std::int32_t p, const std::string& a) { return p == 66 ? ok(words({1, 2})) : libvirtd(p, a); });
  Call call;
  auto hypervisor = vmha::virt::make_wire_reader(daemon.path());
  CHECK(hypervisor->state(kRef, call.deadline));
  CHECK(daemon.calls == std::vector<std::int32_t>{66, 70, 1, 212});
}

TEST_CASE("wire: no daemon is unreachable, at once", "[wire]") {
  Call call;
  auto hypervisor = vmha::virt::make_wire_reader("/nonexistent/libvirt-sock");
  const auto state = hypervisor->state(kRef, call.deadline);
  REQUIRE_FALSE(state);
  CHECK(state.error().kind == ErrorKind::unreachable);
  CHECK(hypervisor->unsure());  // libvirt's own client may know another way: the full agent asks
}

TEST_CASE("wire: only the local system libvirtd qualifies", "[wire]") {
  using vmha::virt::local_daemon;
  vmha::test::TempDir run;
  CHECK(local_daemon("", run.path())->socket == run.path() + "/libvirt-sock");
  CHECK(local_daemon("qemu:///system", run.path())->socket == run.path() + "/libvirt-sock");
  CHECK(local_daemon("qemu+unix:///system?socket=/lab/n1/run/libvirt-sock", run.path())->socket ==
        "/lab/n1/run/libvirt-sock");
  CHECK_FALSE(local_daemon("qemu+tcp://node2/system", run.path()));
  CHECK_FALSE(local_daemon("qemu:///session", run.path()));
  CHECK_FALSE(local_daemon("test:///default", run.path()));
  // libvirt's modular daemons (virtqemud): their socket, as libvirt's client picks it.
  std::ofstream(run.path() + "/virtqemud-sock") << "";
  CHECK(local_daemon("qemu:///system", run.path())->socket == run.path() + "/virtqemud-sock");
  CHECK(local_daemon("", run.path())->pid_dir == run.path() + "/qemu");
  CHECK(local_daemon("qemu+unix:///system?socket=/lab/n1/run/libvirt-sock", run.path())->socket ==
        "/lab/n1/run/libvirt-sock");
}
