// vmha::virt: the domain XML reader, state names, the /proc evidence, and the real libvirt
// wrapper against libvirt's own test driver (no daemon needed).
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "VirtualDomain/exit_status.hpp"
#include "support/agent_harness.hpp"
#include "support/catch.hpp"
#include "vmha/virt/domain_xml.hpp"
#include "vmha/virt/libvirt.hpp"
#include "vmha/virt/qemu_processes.hpp"

using vmha::ErrorKind;
using vmha::sys::Millis;
using vmha::virt::DomainState;
using vmha::virt::Evidence;
using vmha::virt::parse_domain_xml;

TEST_CASE("domain XML: name, UUID, emulator, memory, vCPUs, disks, networks, pools", "[virt][xml]") {
  const auto xml = parse_domain_xml(R"(<domain type='kvm'>
  <name> resolver </name>
  <uuid>6F1E3B52-0D8A-4C53-9A8E-1A2B3C4D5E6F</uuid>
  <memory unit='GiB'>2</memory>
  <vcpu placement='static'>4</vcpu>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='block' device='disk'><source dev='/dev/drbd1'/><target dev='vda' bus='virtio'/></disk>
    <disk type='file' device='cdrom'><source file='/srv/iso/x.iso'/><target dev='hdc'/></disk>
    <disk type='volume' device='disk'><source pool='vmpool' volume='web.qcow2'/><target dev='vdb'/></disk>
    <interface type='network'><source network='default'/></interface>
    <interface type='bridge'><source bridge='br0'/></interface>
  </devices>
</domain>)");
  REQUIRE(xml);
  CHECK(xml->name == "resolver");
  CHECK(xml->uuid == "6f1e3b52-0d8a-4c53-9a8e-1a2b3c4d5e6f");
  CHECK(xml->type == "kvm");
  CHECK(xml->memory_kib == std::uint64_t{2} * 1024 * 1024);
  CHECK(xml->vcpus == 4);
  CHECK(xml->emulator == "/usr/bin/qemu-system-x86_64");
  REQUIRE(xml->disks.size() == 3);
  CHECK(xml->disks[0].path == "/dev/drbd1");
  CHECK(xml->disks[0].type == "block");
  CHECK(xml->disks[1].device == "cdrom");
  CHECK(xml->disks[2].pool == "vmpool");
  CHECK(xml->networks == std::vector<std::string>{"default"});
  CHECK(xml->pools == std::vector<std::string>{"vmpool"});
}

TEST_CASE("domain XML: malformed and hostile input is refused with a reason", "[virt][xml]") {
  const auto [text, needle] = GENERATE(table<std::string, std::string>({
      {"", "domain XML"},
      {"<domain><name>x</name>", "domain XML"},
      {"<vm><name>x</name></vm>", "not <domain>"},
      {"<domain><uuid>6f1e3b52-0d8a-4c53-9a8e-1a2b3c4d5e6f</uuid></domain>", "no <name>"},
      {"<domain><name>x</name><uuid>not-a-uuid</uuid></domain>", "<uuid> is malformed"},
      {"<domain><name>x</name><memory unit='parsecs'>1</memory></domain>", "unknown unit"},
      {"<domain><name>x</name><vcpu>0</vcpu></domain>", "<vcpu>"},
      // Entity expansion ("billion laughs"), external entities and DTDs: never processed.
      {"<?xml version='1.0'?><!DOCTYPE d [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>]>"
       "<domain><name>&b;</name></domain>",
       "DOCTYPE"},
      {"<?xml version='1.0'?><!DOCTYPE d [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><domain><name>&x;</name></domain>",
       "DOCTYPE"},
      {"<!DOCTYPE domain SYSTEM 'http://example.invalid/d.dtd'><domain><name>x</name></domain>", "DOCTYPE"},
  }));
  const auto xml = parse_domain_xml(text);
  REQUIRE_FALSE(xml);
  CHECK(xml.error().kind == ErrorKind::malformed);
  CHECK(vmha::agents::exit_status("start", xml.error()) == vmha::ocf::Status::err_args);
  CHECK_THAT(xml.error().reason, Catch::Contains(needle));
}

TEST_CASE("domain XML: more than 1 MiB is refused before parsing", "[virt][xml]") {
  std::string big = "<domain><name>x</name><description>";
  big.append(std::size_t{1} << 20U, 'x');
  big += "</description></domain>";
  const auto xml = parse_domain_xml(big);
  REQUIRE_FALSE(xml);
  CHECK_THAT(xml.error().reason, Catch::Contains("bytes is more than"));
}

TEST_CASE("UUIDs are canonicalised", "[virt][xml]") {
  CHECK(vmha::virt::canonical_uuid("6F1E3B520D8A4C539A8E1A2B3C4D5E6F") == "6f1e3b52-0d8a-4c53-9a8e-1a2b3c4d5e6f");
  CHECK(vmha::virt::canonical_uuid("6f1e3b52-0d8a-4c53-9a8e-1a2b3c4d5e6f") == "6f1e3b52-0d8a-4c53-9a8e-1a2b3c4d5e6f");
  CHECK(vmha::virt::canonical_uuid("6f1e3b52").empty());
  CHECK(vmha::virt::canonical_uuid("zz1e3b52-0d8a-4c53-9a8e-1a2b3c4d5e6f").empty());
}

TEST_CASE("states are described with their reasons", "[virt]") {
  using vmha::virt::describe;
  CHECK(describe({DomainState::paused, vmha::virt::paused_ioerror}) == "paused (I/O error)");
  CHECK(describe({DomainState::running, 1}) == "running (booted)");
  CHECK(describe({DomainState::shut_off, 2}) == "shut off (destroyed)");
  CHECK(describe({DomainState::crashed, 0}) == "crashed");
  CHECK(describe({DomainState::paused, 99}) == "paused");
}

TEST_CASE("the QEMU pid directory follows the URI", "[virt][proc]") {
  const auto [uri, dir] = GENERATE(table<std::string, std::optional<std::string>>({
      {"", "/run/libvirt/qemu"},
      {"qemu:///system", "/run/libvirt/qemu"},
      {"qemu+unix:///system", "/run/libvirt/qemu"},
      {"qemu+unix:///system?socket=/tmp/lab/n1/run/libvirt-sock", "/tmp/lab/n1/run/qemu"},
      {"qemu:///system?mode=legacy&socket=/srv/run/libvirt-sock", "/srv/run/qemu"},
      {"qemu:///session", std::nullopt},
      {"qemu+tcp://node2/system", std::nullopt},
      {"qemu+ssh://root@node2/system", std::nullopt},
      {"test:///default", std::nullopt},
      {"qemu+unix:///system?socket=relative", std::nullopt},
  }));
  const auto daemon = vmha::virt::local_daemon(uri);
  CHECK((daemon ? std::optional<std::string>(daemon->pid_dir) : std::nullopt) == dir);
}

TEST_CASE("QEMU evidence comes from this node's pid file and /proc", "[virt][proc]") {
  vmha::test::TempDir tmp;
  const std::string run = tmp.path() + "/run";
  const std::string proc = tmp.path() + "/proc";
  const vmha::virt::DomainRef ref{"vm1", vmha::test::kUuid};
  // A process in a fake /proc: its stat and command line, and the threads under task/.
  const auto make_task = [&](const std::string& dir, int pid, char state, const std::string& cmdline) {
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/stat") << pid << " (qemu-system-x86) " << state << " 1 2 3";
    std::ofstream(dir + "/cmdline", std::ios::binary) << cmdline;
  };
  const auto make_process = [&](int pid, char state, const std::string& cmdline) {
    std::filesystem::remove_all(proc + "/" + std::to_string(pid));
    make_task(proc + "/" + std::to_string(pid), pid, state, cmdline);
    make_task(proc + "/" + std::to_string(pid) + "/task/" + std::to_string(pid), pid, state, cmdline);
  };
  using namespace std::string_literals;
  const std::string qemu =
      "/usr/bin/qemu-system-x86_64\0-name\0guest=vm1,debug-threads=on\0-uuid\0"s + vmha::test::kUuid + "\0"s;
  vmha::virt::ProcQemuProcesses processes({run + "/libvirt-sock", run}, proc);
  vmha::sys::SteadyClock clock;
  const vmha::ocf::Deadline soon(clock, clock.now() + Millis{5'000});
  CHECK(processes.check(ref, soon).evidence == Evidence::unknown);  // no run directory: cannot tell
  std::filesystem::create_directories(run);
  CHECK(processes.check(ref, soon).evidence == Evidence::gone);  // no pid file
  std::ofstream(run + "/vm1.pid") << "4242\n";
  CHECK(processes.check(ref, soon).evidence == Evidence::gone);  // stale: no such process
  make_process(4242, 'S', qemu);
  const auto found = processes.check(ref, soon);
  CHECK(found.evidence == Evidence::running);
  CHECK(found.pid == 4242);
  make_process(4242, 'Z', "");
  CHECK(processes.check(ref, soon).evidence == Evidence::gone);  // a zombie with no thread left is dead
  // The main thread has exited, an I/O thread is stuck (D): the process lives.
  make_task(proc + "/4242/task/4250", 4250, 'D', qemu);
  CHECK(processes.check(ref, soon).evidence == Evidence::running);
  make_process(4242, 'S',
               "/usr/bin/qemu-system-x86_64\0-name\0guest=vm7\0-uuid\0aaaaaaaa-0d8a-4c53-9a8e-1a2b3c4d5e6f\0"s);
  CHECK(processes.check(ref, soon).evidence == Evidence::gone);  // the pid was reused by another VM
  make_process(4242, 'S',
               "/usr/bin/qemu-system-x86_64\0-name\0guest=vm1\0-uuid\0aaaaaaaa-0d8a-4c53-9a8e-1a2b3c4d5e6f\0"s);
  CHECK(processes.check(ref, soon).evidence == Evidence::running);  // vm1 under an older UUID: still vm1
  make_process(4242, 'S', "/usr/bin/qemu-system-x86_64\0-name\0guest=vm1,debug-threads=on\0"s);
  CHECK(processes.check(vmha::virt::DomainRef{"vm1", ""}, soon).evidence == Evidence::running);  // by name
  std::ofstream(run + "/vm1.pid") << "garbage";
  CHECK(processes.check(ref, soon).evidence == Evidence::unknown);
  std::filesystem::remove(run + "/vm1.pid");
  std::ofstream(run + "/vm1.xml") << "<domstatus/>";
  CHECK(processes.check(ref, soon).evidence == Evidence::unknown);  // status but no pid: mid-start/stop
  // Only ENOENT proves anything: a pid file that cannot be read is no evidence.
  std::filesystem::remove(run + "/vm1.xml");
  std::filesystem::create_directories(run + "/vm1.pid");  // EISDIR on read
  CHECK(processes.check(ref, soon).evidence == Evidence::unknown);
  // A name that would leave the pid directory is never followed.
  CHECK(processes.check(vmha::virt::DomainRef{"../vm1", ""}, soon).evidence == Evidence::unknown);
}

TEST_CASE("a real QEMU-like process whose main thread exited is alive until its last thread ends", "[virt][proc]") {
  vmha::test::TempDir tmp;
  const std::string run = tmp.path() + "/run";
  std::filesystem::create_directories(run);
  const vmha::virt::DomainRef ref{"vm1", vmha::test::kUuid};
  std::vector<std::string> args{VMHA_LEADER_EXITS, "-name", "guest=vm1", "-uuid", vmha::test::kUuid};
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  REQUIRE(posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) == 0);
  std::ofstream(run + "/vm1.pid") << pid << "\n";
  vmha::virt::ProcQemuProcesses processes({run + "/libvirt-sock", run});
  vmha::sys::SteadyClock clock;
  const vmha::ocf::Deadline soon(clock, clock.now() + Millis{5'000});
  // Wait until the leader has exited (state Z) while its thread runs.
  std::string stat;
  for (int i = 0; i < 200; ++i) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::getline(in, stat);
    if (stat.find(") Z") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(stat.find(") Z") != std::string::npos);
  const auto seen = processes.check(ref, soon);
  CAPTURE(seen.detail);
  CHECK(seen.evidence == Evidence::running);
  CHECK(seen.pid == pid);
  CHECK(processes.process_state(pid, soon) == Evidence::running);  // a pidfd sees the live thread
  REQUIRE(processes.kill(ref, vmha::ocf::Deadline(clock, clock.now() + Millis{5'000})));
  CHECK(processes.process_state(pid, soon) == Evidence::gone);
  CHECK(processes.check(ref, soon).evidence == Evidence::gone);  // the whole group has exited (a zombie now)
  int status = 0;
  CHECK(waitpid(pid, &status, 0) == pid);
  CHECK(processes.check(ref, soon).evidence == Evidence::gone);  // reaped: no such process
}

TEST_CASE("the libvirt wrapper against libvirt's test driver", "[virt][libvirt]") {
  vmha::sys::SteadyClock clock;
  const auto deadline = vmha::ocf::Deadline(clock, clock.now() + Millis{10'000});
  auto hypervisor = vmha::virt::make_libvirt_hypervisor("test:///default");
  const vmha::virt::DomainRef test{"test", ""};
  auto state = hypervisor->state(test, deadline);
  REQUIRE(state);
  REQUIRE(state->has_value());
  CHECK((*state)->state == DomainState::running);
  const auto facts = hypervisor->facts(test, deadline);
  REQUIRE(facts);
  CHECK(facts->persistent);
  CHECK(facts->vcpus >= 1);
  CHECK_FALSE(facts->uuid.empty());

  CHECK_FALSE(hypervisor->state({"nosuch", ""}, deadline)->has_value());
  const auto missing = hypervisor->destroy({"nosuch", ""}, deadline);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().kind == ErrorKind::not_found);

  REQUIRE(hypervisor->destroy(test, deadline));
  CHECK((*hypervisor->state(test, deadline))->state == DomainState::shut_off);
  const auto again = hypervisor->destroy(test, deadline);
  REQUIRE_FALSE(again);
  CHECK(again.error().kind == ErrorKind::invalid);  // "domain is not running"
  REQUIRE(hypervisor->start(test, deadline));
  CHECK((*hypervisor->state(test, deadline))->state == DomainState::running);

  const std::string fresh = std::string("<domain type='test'><name>fresh</name><uuid>") + vmha::test::kUuid +
                            "</uuid><memory>8192</memory><os><type>hvm</type></os></domain>";
  REQUIRE(hypervisor->create(fresh, deadline));
  CHECK((*hypervisor->state({"fresh", vmha::test::kUuid}, deadline))->state == DomainState::running);
  REQUIRE(hypervisor->shutdown({"fresh", vmha::test::kUuid}, 0, deadline));
  CHECK_FALSE(hypervisor->state({"fresh", vmha::test::kUuid}, deadline)->has_value());  // transient: gone
  const auto bad = hypervisor->create("<domain><name>x</name></domain>", deadline);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().reason == "create domain: internal error: missing domain type attribute");
  const auto definition = hypervisor->definition(test, deadline);
  REQUIRE(definition);
  CHECK(parse_domain_xml(*definition));
  // The label a migration carries along: live metadata, found by the resource's name only.
  REQUIRE(hypervisor->label(test, "vm-test", deadline));
  const auto labelled = hypervisor->labelled("vm-test", deadline);
  REQUIRE(labelled);
  REQUIRE(labelled->size() == 1);
  CHECK(labelled->front().name == "test");
  CHECK(labelled->front().uuid == facts->uuid);
  CHECK(hypervisor->labelled("vm-other", deadline)->empty());
  CHECK(hypervisor->labelled("vm-test\" x=\"", deadline)->empty());  // quotes cannot forge a match
  CHECK(*hypervisor->uri(deadline) == "test:///default");
}

TEST_CASE("an unreachable daemon is an unreachable error, quickly", "[virt][libvirt]") {
  vmha::sys::SteadyClock clock;
  const auto deadline = vmha::ocf::Deadline(clock, clock.now() + Millis{5'000});
  auto hypervisor = vmha::virt::make_libvirt_hypervisor("qemu+unix:///system?socket=/nonexistent/libvirt-sock");
  const auto started = clock.now();
  const auto state = hypervisor->state({"vm1", ""}, deadline);
  REQUIRE_FALSE(state);
  CHECK(state.error().kind == ErrorKind::unreachable);
  CHECK_THAT(state.error().reason, Catch::Contains("/nonexistent/libvirt-sock"));
  CHECK(clock.now() - started < Millis{1'000});
}

TEST_CASE("a daemon that never answers is cut off at the deadline", "[virt][libvirt]") {
  // A unix socket that accepts connections but never speaks: libvirt's open hangs.
  vmha::test::TempDir tmp;
  const std::string socket_path = tmp.path() + "/libvirt-sock";
  const int listener = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, socket_path.c_str(), sizeof(address.sun_path) - 1);
  REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  REQUIRE(::listen(listener, 4) == 0);
  vmha::sys::SteadyClock clock;
  auto hypervisor = vmha::virt::make_libvirt_hypervisor("qemu+unix:///system?socket=" + socket_path);
  const auto started = clock.now();
  const auto state = hypervisor->state({"vm1", ""}, vmha::ocf::Deadline(clock, clock.now() + Millis{700}));
  const auto took = clock.now() - started;
  REQUIRE_FALSE(state);
  CHECK(state.error().kind == ErrorKind::timed_out);
  CHECK(took < Millis{1'200});
  // The next call gets a fresh connection attempt, also bounded.
  const auto second = hypervisor->state({"vm1", ""}, vmha::ocf::Deadline(clock, clock.now() + Millis{300}));
  CHECK_FALSE(second);
  ::close(listener);
}
