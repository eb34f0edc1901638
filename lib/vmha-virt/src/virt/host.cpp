// HostInspector over libvirt: one worker thread and connection, each call bounded.
#include <cstdlib>

#include <fmt/core.h>

#include <libvirt/virterror.h>

#include "errors.hpp"
#include "handles.hpp"
#include "vmha/virt/libvirt.hpp"
#include "worker.hpp"

namespace vmha::virt {
namespace {

using detail::last_error;

const char* or_null(const std::string& text) {
  return text.empty() ? nullptr : text.c_str();
}

class LibvirtHost final : public HostInspector {
 public:
  explicit LibvirtHost(std::string uri) : worker_(std::move(uri)) {}

  Result<bool> network_active(const std::string& name, const ocf::Deadline& deadline) override {
    return worker_.call<bool>("look up network", deadline, [name](virConnectPtr c) -> Result<bool> {
      detail::Network network(virNetworkLookupByName(c, name.c_str()));
      if (!network) return fail(last_error(fmt::format("network {}", name), c));
      const int active = virNetworkIsActive(network.get());
      if (active < 0) return fail(last_error(fmt::format("network {}", name), c));
      return active == 1;
    });
  }

  Result<void> offers(const MachineRequest& m, const ocf::Deadline& deadline) override {
    return worker_.call<void>("read domain capabilities", deadline, [m](virConnectPtr c) -> Result<void> {
      char* caps = virConnectGetDomainCapabilities(c, or_null(m.emulator), or_null(m.arch), or_null(m.machine),
                                                   or_null(m.virt_type), 0);
      if (caps == nullptr) {
        Error error = last_error("domain capabilities", c);
        if (error.kind != ErrorKind::unreachable && error.kind != ErrorKind::timed_out &&
            error.kind != ErrorKind::denied) {
          error.kind = ErrorKind::invalid;  // libvirt refuses the combination: not offered here
        }
        return fail(std::move(error));
      }
      std::free(caps);  // NOLINT(cppcoreguidelines-no-malloc): libvirt's allocation
      return {};
    });
  }

  Result<void> runs_cpu(const MachineRequest& m, const std::string& cpu_xml, const ocf::Deadline& deadline) override {
    return worker_.call<void>("compare the guest CPU", deadline, [m, cpu_xml](virConnectPtr c) -> Result<void> {
      const int verdict = virConnectCompareHypervisorCPU(c, or_null(m.emulator), or_null(m.arch), or_null(m.machine),
                                                         or_null(m.virt_type), cpu_xml.c_str(),
                                                         VIR_CONNECT_COMPARE_CPU_FAIL_INCOMPATIBLE);
      if (verdict == VIR_CPU_COMPARE_ERROR) {
        Error error = last_error("guest CPU", c);
        if (error.kind != ErrorKind::unreachable && error.kind != ErrorKind::timed_out &&
            error.kind != ErrorKind::denied) {
          error.kind = ErrorKind::invalid;
        }
        return fail(std::move(error));
      }
      if (verdict == VIR_CPU_COMPARE_INCOMPATIBLE) return fail(ErrorKind::invalid, "guest CPU: incompatible");
      return {};
    });
  }

  Result<HostSize> size(const ocf::Deadline& deadline) override {
    return worker_.call<HostSize>("read node info", deadline, [](virConnectPtr c) -> Result<HostSize> {
      virNodeInfo info{};
      if (virNodeGetInfo(c, &info) < 0) return fail(last_error("node info", c));
      return HostSize{info.memory, info.cpus};
    });
  }

 private:
  detail::Worker worker_;
};

}  // namespace

std::unique_ptr<HostInspector> make_libvirt_host(std::string uri) {
  initialize_libvirt();
  return std::make_unique<LibvirtHost>(std::move(uri));
}

}  // namespace vmha::virt
