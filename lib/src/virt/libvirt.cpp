#include "vmha/virt/libvirt.hpp"

#include <cstdlib>
#include <mutex>

#include <fmt/core.h>

#include <libvirt/virterror.h>

#include "errors.hpp"
#include "handles.hpp"
#include "worker.hpp"

namespace vmha::virt {
namespace {

using detail::Domain;
using detail::last_error;
using detail::Worker;

// libvirt must never print on our stderr, where Pacemaker reads the exit reason.
void ignore_error(void* /*opaque*/, virErrorPtr /*error*/) {}

// A hung call leaves its worker behind; this many replacements are tried per process.
constexpr int kMaxWorkers = 3;

Result<Domain> lookup(virConnectPtr connection, const DomainRef& ref) {
  virDomainPtr found = ref.uuid.empty() ? virDomainLookupByName(connection, ref.name.c_str())
                                        : virDomainLookupByUUIDString(connection, ref.uuid.c_str());
  if (found == nullptr) return tl::unexpected(last_error(fmt::format("domain {}", ref.label()), connection));
  return Domain(found);
}

Result<void> check(int rc, std::string_view what, virConnectPtr connection) {
  if (rc < 0) return tl::unexpected(last_error(what, connection));
  return {};
}

class LibvirtHypervisor final : public Hypervisor {
 public:
  explicit LibvirtHypervisor(std::string uri) : uri_(std::move(uri)) {}

  Result<std::optional<StateInfo>> state(const DomainRef& ref, const ocf::Deadline& deadline) override {
    return call<std::optional<StateInfo>>(
        "get domain state", deadline, [ref](virConnectPtr c) -> Result<std::optional<StateInfo>> {
          auto domain = lookup(c, ref);
          if (!domain) {
            if (domain.error().kind == ErrorKind::not_found) return std::optional<StateInfo>{};
            return tl::unexpected(domain.error());
          }
          int state = 0;
          int reason = 0;
          if (virDomainGetState(domain->get(), &state, &reason, 0) < 0) {
            return tl::unexpected(last_error(fmt::format("state of domain {}", ref.label()), c));
          }
          return std::optional<StateInfo>{StateInfo{static_cast<DomainState>(state), reason}};
        });
  }

  Result<DomainFacts> facts(const DomainRef& ref, const ocf::Deadline& deadline) override {
    return call<DomainFacts>("get domain facts", deadline, [ref](virConnectPtr c) -> Result<DomainFacts> {
      auto domain = lookup(c, ref);
      if (!domain) return tl::unexpected(domain.error());
      virDomainInfo info{};
      if (virDomainGetInfo(domain->get(), &info) < 0) {
        return tl::unexpected(last_error(fmt::format("info of domain {}", ref.label()), c));
      }
      DomainFacts facts;
      const char* name = virDomainGetName(domain->get());
      facts.name = name != nullptr ? name : ref.name;
      char uuid[VIR_UUID_STRING_BUFLEN] = {};
      if (virDomainGetUUIDString(domain->get(), uuid) == 0) facts.uuid = uuid;
      facts.vcpus = info.nrVirtCpu;
      facts.max_memory_kib = info.maxMem;
      facts.persistent = virDomainIsPersistent(domain->get()) == 1;
      facts.active = virDomainIsActive(domain->get()) == 1;
      return facts;
    });
  }

  Result<void> create(const std::string& xml, const ocf::Deadline& deadline) override {
    return call<void>("create domain", deadline, [xml](virConnectPtr c) -> Result<void> {
      Domain created(virDomainCreateXML(c, xml.c_str(), 0));
      if (!created) return tl::unexpected(last_error("create domain", c));
      return {};
    });
  }

  Result<void> define(const std::string& xml, const ocf::Deadline& deadline) override {
    return call<void>("define domain", deadline, [xml](virConnectPtr c) -> Result<void> {
      Domain defined(virDomainDefineXML(c, xml.c_str()));
      if (!defined) return tl::unexpected(last_error("define domain", c));
      return {};
    });
  }

  Result<void> start(const DomainRef& ref, const ocf::Deadline& deadline) override {
    return with_domain("start domain", ref, deadline, [](virDomainPtr d) { return virDomainCreate(d); });
  }

  Result<void> shutdown(const DomainRef& ref, unsigned methods, const ocf::Deadline& deadline) override {
    return with_domain("shut down domain", ref, deadline,
                       [methods](virDomainPtr d) { return virDomainShutdownFlags(d, methods); });
  }

  Result<void> destroy(const DomainRef& ref, const ocf::Deadline& deadline) override {
    return with_domain("destroy domain", ref, deadline, [](virDomainPtr d) { return virDomainDestroyFlags(d, 0); });
  }

  Result<void> save(const DomainRef& ref, const std::string& path, const ocf::Deadline& deadline) override {
    return with_domain("save domain", ref, deadline, [path](virDomainPtr d) { return virDomainSave(d, path.c_str()); });
  }

  Result<void> restore(const std::string& path, const ocf::Deadline& deadline) override {
    return call<void>("restore domain", deadline, [path](virConnectPtr c) -> Result<void> {
      return check(virDomainRestore(c, path.c_str()), fmt::format("restore domain from {}", path), c);
    });
  }

  Result<std::string> definition(const DomainRef& ref, const ocf::Deadline& deadline) override {
    return call<std::string>("read domain definition", deadline, [ref](virConnectPtr c) -> Result<std::string> {
      auto domain = lookup(c, ref);
      if (!domain) return tl::unexpected(domain.error());
      char* xml = virDomainGetXMLDesc(domain->get(), VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE);
      if (xml == nullptr) return tl::unexpected(last_error(fmt::format("definition of {}", ref.label()), c));
      std::string text(xml);
      std::free(xml);  // NOLINT(cppcoreguidelines-no-malloc): libvirt allocates with malloc
      return text;
    });
  }

  Result<void> ensure_network(const std::string& name, const ocf::Deadline& deadline) override {
    return call<void>("start network", deadline, [name](virConnectPtr c) -> Result<void> {
      detail::Network network(virNetworkLookupByName(c, name.c_str()));
      if (!network) return tl::unexpected(last_error(fmt::format("network {}", name), c));
      if (virNetworkIsActive(network.get()) == 1) return {};
      return check(virNetworkCreate(network.get()), fmt::format("start network {}", name), c);
    });
  }

  Result<void> ensure_pool(const std::string& name, const ocf::Deadline& deadline) override {
    return call<void>("start pool", deadline, [name](virConnectPtr c) -> Result<void> {
      detail::Pool pool(virStoragePoolLookupByName(c, name.c_str()));
      if (!pool) return tl::unexpected(last_error(fmt::format("storage pool {}", name), c));
      if (virStoragePoolIsActive(pool.get()) == 1) {
        return check(virStoragePoolRefresh(pool.get(), 0), fmt::format("refresh storage pool {}", name), c);
      }
      return check(virStoragePoolCreate(pool.get(), 0), fmt::format("start storage pool {}", name), c);
    });
  }

  Result<std::string> uri(const ocf::Deadline& deadline) override {
    return call<std::string>("get URI", deadline, [](virConnectPtr c) -> Result<std::string> {
      char* text = virConnectGetURI(c);
      if (text == nullptr) return tl::unexpected(last_error("get URI", c));
      std::string out(text);
      std::free(text);  // NOLINT(cppcoreguidelines-no-malloc): libvirt allocates with malloc
      return out;
    });
  }

 private:
  template <typename T>
  Result<T> call(std::string_view what, const ocf::Deadline& deadline, std::function<Result<T>(virConnectPtr)> body) {
    if (!worker_ || worker_->wedged()) {
      if (workers_ == kMaxWorkers) {
        return fail(ocf::Status::err_generic, fmt::format("{}: libvirt is not answering", what), ErrorKind::timed_out);
      }
      worker_ = std::make_unique<Worker>(uri_);
      ++workers_;
    }
    return worker_->call<T>(what, deadline, std::move(body));
  }

  template <typename Op>
  Result<void> with_domain(std::string_view what, const DomainRef& ref, const ocf::Deadline& deadline, Op op) {
    return call<void>(what, deadline, [what = std::string(what), ref, op](virConnectPtr c) -> Result<void> {
      auto domain = lookup(c, ref);
      if (!domain) return tl::unexpected(domain.error());
      return check(op(domain->get()), fmt::format("{} {}", what, ref.label()), c);
    });
  }

  std::string uri_;
  std::unique_ptr<Worker> worker_;
  int workers_ = 0;
};

}  // namespace

void initialize_libvirt() {
  static std::once_flag once;
  std::call_once(once, [] {
    virSetErrorFunc(nullptr, ignore_error);
    if (virInitialize() < 0) return;
    if (virEventRegisterDefaultImpl() < 0) return;
    // The event loop drives keepalive; it runs until the process exits.
    std::thread([] {
      for (;;) {
        if (virEventRunDefaultImpl() < 0) return;
      }
    }).detach();
  });
}

std::unique_ptr<Hypervisor> make_libvirt_hypervisor(std::string uri) {
  initialize_libvirt();
  return std::make_unique<LibvirtHypervisor>(std::move(uri));
}

}  // namespace vmha::virt
