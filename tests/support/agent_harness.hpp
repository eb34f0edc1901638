// Runs the VirtualDomain agent through dispatch() against a FakeLibvirt world, with a config
// file and HA_RSCTMP in a temporary directory.
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "VirtualDomain/virtual_domain.hpp"
#include "support/fake_hypervisor.hpp"
#include "support/fakes.hpp"
#include "vmha/ocf/dispatch.hpp"

namespace vmha::test {

inline constexpr const char* kUuid = "6f1e3b52-0d8a-4c53-9a8e-1a2b3c4d5e6f";

inline std::string domain_xml(const std::string& name = "vm1", const std::string& uuid = kUuid) {
  return "<domain type='qemu'><name>" + name + "</name>" + (uuid.empty() ? "" : "<uuid>" + uuid + "</uuid>") +
         "<memory unit='MiB'>128</memory><vcpu>2</vcpu><devices><emulator>/bin/true</emulator></devices></domain>";
}

/// A directory removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "vmha-test-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct Outcome {
  int rc = -1;
  std::string out;
  std::string err;
  sys::Millis took{0};

  [[nodiscard]] std::string reason() const {
    const auto at = err.rfind("ocf-exit-reason:");
    if (at == std::string::npos) return {};
    return err.substr(at + 16, err.find('\n', at) - at - 16);
  }
};

class AgentHarness {
 public:
  explicit AgentHarness(sys::Millis timeout = sys::Millis{20'000}) {
    fakes.files.make_directory(dir.path());
    world.files = &fakes.files;
    config = dir.path() + "/vm1.xml";
    write_config(domain_xml());
    fakes.env.set("OCF_RESKEY_config", config);
    fakes.env.set("OCF_RESOURCE_INSTANCE", "vm1");
    fakes.env.set("HA_RSCTMP", dir.path() + "/rsctmp");
    fakes.env.set("OCF_RESKEY_CRM_meta_timeout", std::to_string(timeout.count()));
    fakes.env.set("OCF_RESKEY_CRM_meta_interval", "10000");
  }

  void write_config(const std::string& text) { fakes.files.write(config, text); }
  void remove_config() { fakes.files.erase(config); }

  Outcome run(const std::string& action) {
    Outcome outcome;
    const auto started = fakes.clock.now();
    auto backends = fake_backends(world, with_processes);
    if (drbd_through_runner) {
      backends.drbd = [](const ocf::Services& services) {
        return drbd::make_drbdsetup_source(services.runner, services.env.get("PATH").value_or(""));
      };
    }
    const auto definition = agents::virtual_domain_definition(std::move(backends));
    const std::vector<std::string> args{"VirtualDomain", action};
    outcome.err = capture_stream([&](std::FILE* err) {
      outcome.out = capture_stream(
          [&](std::FILE* out) { outcome.rc = ocf::dispatch(args, definition, fakes.services(), out, err); });
    });
    outcome.took = std::chrono::duration_cast<sys::Millis>(fakes.clock.now() - started);
    return outcome;
  }

  /// The agent's own budget: the timeout less the safety margin.
  [[nodiscard]] sys::Millis budget() const {
    const auto timeout = sys::Millis{std::stol(*fakes.env.get("OCF_RESKEY_CRM_meta_timeout"))};
    return timeout - ocf::safety_margin(timeout);
  }

  TempDir dir;
  std::string config;
  FakeServices fakes;
  FakeLibvirt world{fakes.clock};
  bool with_processes = true;
  /// DRBD's state from drbdsetup's output, as the fake runner prints it, through the real source.
  bool drbd_through_runner = false;
};

}  // namespace vmha::test
