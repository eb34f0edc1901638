#include "vmha/virt/libvirt.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <mutex>

#include <fmt/core.h>

#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>

#include "errors.hpp"
#include "handles.hpp"
#include "vmha/xml/document.hpp"
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

// The live metadata that labels a domain as a resource's: <vmha:resource name="..."/>, in
// virt::kLabelNamespace (a view of a string literal: its data() ends in a NUL, as libvirt needs).
constexpr const char* kLabelPrefix = "vmha";

std::string xml_escaped(std::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

/// The live XML shows the guest agent's channel disconnected (<target … state='disconnected'/>):
/// no agent in the guest has it open. False when it is connected or cannot be told.
bool agent_disconnected(virDomainPtr domain) {
  char* text = virDomainGetXMLDesc(domain, 0);
  if (text == nullptr) return false;
  const std::string live(text);
  std::free(text);  // NOLINT(cppcoreguidelines-no-malloc): libvirt's allocation
  auto doc = xml::Document::parse(live, "live domain XML", {.max_bytes = 16U << 20U, .allow_doctype = false});
  if (!doc) return false;
  for (xmlNodePtr channel : xml::children(xml::child(doc->root(), "devices"), "channel")) {
    xmlNodePtr target = xml::child(channel, "target");
    if (xml::attribute(target, "name").value_or("") == "org.qemu.guest_agent.0") {
      return xml::attribute(target, "state").value_or("") == "disconnected";
    }
  }
  return false;
}

/// The domain with ref's UUID, else the one with its name (DomainRef's rule).
Result<Domain> lookup(virConnectPtr connection, const DomainRef& ref) {
  if (!ref.uuid.empty()) {
    if (virDomainPtr found = virDomainLookupByUUIDString(connection, ref.uuid.c_str())) return Domain(found);
    auto error = last_error(fmt::format("domain {}", ref.label()), connection);
    if (error.kind != ErrorKind::not_found) return fail(std::move(error));
  }
  virDomainPtr found = virDomainLookupByName(connection, ref.name.c_str());
  if (found == nullptr) return fail(last_error(fmt::format("domain {}", ref.label()), connection));
  return Domain(found);
}

/// A failed call that can create a domain: when the connection broke under it, the request may
/// have reached libvirtd, which would still carry it out. (Connecting failed: never sent.)
Error sent_error(Error error) {
  if (error.kind == ErrorKind::unreachable && !error.reason.starts_with("cannot connect")) error.unanswered = true;
  return error;
}

Result<void> check(int rc, std::string_view what, virConnectPtr connection) {
  if (rc < 0) return fail(last_error(what, connection));
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
            return fail(domain.error());
          }
          int state = 0;
          int reason = 0;
          if (virDomainGetState(domain->get(), &state, &reason, 0) < 0) {
            auto error = last_error(fmt::format("state of domain {}", ref.label()), c);
            // A transient domain that ended between the lookup and this call is gone, not unknown.
            if (error.kind == ErrorKind::not_found) return std::optional<StateInfo>{};
            return fail(std::move(error));
          }
          return std::optional<StateInfo>{StateInfo{static_cast<DomainState>(state), reason}};
        });
  }

  Result<DomainFacts> facts(const DomainRef& ref, const ocf::Deadline& deadline) override {
    return call<DomainFacts>("get domain facts", deadline, [ref](virConnectPtr c) -> Result<DomainFacts> {
      auto domain = lookup(c, ref);
      VMHA_TRY(domain);
      virDomainInfo info{};
      if (virDomainGetInfo(domain->get(), &info) < 0) {
        return fail(last_error(fmt::format("info of domain {}", ref.label()), c));
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
      if (!created) return fail(sent_error(last_error("create domain", c)));
      return {};
    });
  }

  Result<void> define(const std::string& xml, const ocf::Deadline& deadline) override {
    return call<void>("define domain", deadline, [xml](virConnectPtr c) -> Result<void> {
      Domain defined(virDomainDefineXML(c, xml.c_str()));
      if (!defined) return fail(last_error("define domain", c));
      return {};
    });
  }

  Result<void> start(const DomainRef& ref, const ocf::Deadline& deadline) override {
    auto started = with_domain("start domain", ref, deadline, [](virDomainPtr d) { return virDomainCreate(d); });
    if (!started) return fail(sent_error(started.error()));
    return started;
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
    auto restored = call<void>("restore domain", deadline, [path](virConnectPtr c) -> Result<void> {
      return check(virDomainRestore(c, path.c_str()), fmt::format("restore domain from {}", path), c);
    });
    if (!restored) return fail(sent_error(restored.error()));
    return restored;
  }

  Result<std::string> definition(const DomainRef& ref, const ocf::Deadline& deadline) override {
    return call<std::string>("read domain definition", deadline, [ref](virConnectPtr c) -> Result<std::string> {
      auto domain = lookup(c, ref);
      VMHA_TRY(domain);
      char* xml = virDomainGetXMLDesc(domain->get(), VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE);
      if (xml == nullptr) return fail(last_error(fmt::format("definition of {}", ref.label()), c));
      std::string text(xml);
      std::free(xml);  // NOLINT(cppcoreguidelines-no-malloc): libvirt allocates with malloc
      return text;
    });
  }

  Result<void> ensure_network(const std::string& name, const ocf::Deadline& deadline) override {
    return call<void>("start network", deadline, [name](virConnectPtr c) -> Result<void> {
      detail::Network network(virNetworkLookupByName(c, name.c_str()));
      if (!network) return fail(last_error(fmt::format("network {}", name), c));
      if (virNetworkIsActive(network.get()) == 1) return {};
      return check(virNetworkCreate(network.get()), fmt::format("start network {}", name), c);
    });
  }

  Result<void> ensure_pool(const std::string& name, const ocf::Deadline& deadline) override {
    return call<void>("start pool", deadline, [name](virConnectPtr c) -> Result<void> {
      detail::Pool pool(virStoragePoolLookupByName(c, name.c_str()));
      if (!pool) return fail(last_error(fmt::format("storage pool {}", name), c));
      if (virStoragePoolIsActive(pool.get()) == 1) {
        return check(virStoragePoolRefresh(pool.get(), 0), fmt::format("refresh storage pool {}", name), c);
      }
      return check(virStoragePoolCreate(pool.get(), 0), fmt::format("start storage pool {}", name), c);
    });
  }

  Result<MigrationReport> migrate(const DomainRef& ref, const MigrationRequest& request, const ocf::Deadline& deadline,
                                  MigrationWatcher& watcher) override {
    if (request.max_downtime_ms > 0) {
      const auto ms = request.max_downtime_ms;
      auto set = with_domain("set the maximum migration downtime of", ref, deadline,
                             [ms](virDomainPtr d) { return virDomainMigrateSetMaxDowntime(d, ms, 0); });
      VMHA_TRY(set);
    }
    // The migration blocks its connection, so it gets its own; this one stays free for the
    // watcher's progress readings, an abort or the switch to post-copy.
    Worker mover(uri_);
    auto outcome =
        mover.submit<MigrationReport>([ref, request](virConnectPtr c) { return run_migration(c, ref, request); });
    Control control(*this, ref);
    for (;;) {
      const auto next = std::min(deadline.at(), deadline.clock().now() + watcher.interval());
      if (outcome.wait_until(next) == std::future_status::ready) return outcome.get();
      if (deadline.expired()) {
        mover.mark_wedged();
        return fail(ErrorKind::timed_out, fmt::format("migration of {} did not end in time", ref.label()));
      }
      watcher.tick(control);
    }
  }

  Result<void> label(const DomainRef& ref, const std::string& resource, const ocf::Deadline& deadline) override {
    const std::string element = fmt::format("<resource name=\"{}\"/>", xml_escaped(resource));
    return with_domain("label domain", ref, deadline, [element](virDomainPtr d) {
      return virDomainSetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT, element.c_str(), kLabelPrefix, kLabelNamespace.data(),
                                  VIR_DOMAIN_AFFECT_LIVE);
    });
  }

  Result<std::vector<DomainRef>> labelled(const std::string& resource, const ocf::Deadline& deadline) override {
    return call<std::vector<DomainRef>>(
        "list labelled domains", deadline, [resource](virConnectPtr c) -> Result<std::vector<DomainRef>> {
          virDomainPtr* listed = nullptr;
          const int count = virConnectListAllDomains(c, &listed, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
          if (count < 0) return fail(last_error("list domains", c));
          std::vector<Domain> domains;
          domains.reserve(static_cast<std::size_t>(count));
          for (int i = 0; i < count; ++i) domains.emplace_back(listed[i]);
          std::free(listed);  // NOLINT(cppcoreguidelines-no-malloc): libvirt allocates with malloc
          const std::string wanted = fmt::format("name=\"{}\"", xml_escaped(resource));
          std::vector<DomainRef> found;
          for (const auto& domain : domains) {
            char* element = virDomainGetMetadata(domain.get(), VIR_DOMAIN_METADATA_ELEMENT, kLabelNamespace.data(),
                                                 VIR_DOMAIN_AFFECT_LIVE);
            if (element == nullptr) {
              // Unlabelled, or gone meanwhile: fine. Anything else (a broken connection) leaves
              // the answer incomplete, and an incomplete "none" would be taken for proof.
              const int code = virGetLastErrorCode();
              // (OPERATION_INVALID: it shut off since the listing, so it no longer runs.)
              if (code == VIR_ERR_NO_DOMAIN_METADATA || code == VIR_ERR_NO_DOMAIN ||
                  code == VIR_ERR_OPERATION_INVALID) {
                continue;
              }
              return fail(last_error("read domain metadata", c));
            }
            const bool ours = std::string_view(element).find(wanted) != std::string_view::npos;
            std::free(element);  // NOLINT(cppcoreguidelines-no-malloc): libvirt allocates with malloc
            if (!ours) continue;
            char uuid[VIR_UUID_STRING_BUFLEN] = {};
            const char* name = virDomainGetName(domain.get());
            if (name == nullptr || virDomainGetUUIDString(domain.get(), uuid) != 0) continue;
            found.push_back(DomainRef{name, uuid});
          }
          return found;
        });
  }

  Result<GuestAgentPing> ping_guest_agent(const DomainRef& ref, std::chrono::seconds timeout,
                                          const ocf::Deadline& deadline) override {
    const int seconds = static_cast<int>(std::max<std::int64_t>(1, timeout.count()));
    return call<GuestAgentPing>(
        "ping the guest agent", deadline, [ref, seconds](virConnectPtr c) -> Result<GuestAgentPing> {
          auto domain = lookup(c, ref);
          VMHA_TRY(domain);
          GuestAgentPing ping;
          ping.domain_id = static_cast<int>(virDomainGetID(domain->get()));
          char* answer = virDomainQemuAgentCommand(domain->get(), R"({"execute":"guest-ping"})", seconds, 0);
          if (answer != nullptr) {
            std::free(answer);  // NOLINT(cppcoreguidelines-no-malloc): libvirt's allocation
            ping.reply = GuestAgentReply::answered;
            return ping;
          }
          const virError* error = virGetLastError();
          const int code = error != nullptr ? error->code : VIR_ERR_INTERNAL_ERROR;
          ping.detail = error != nullptr && error->message != nullptr ? error->message : "no answer";
          switch (code) {
            case VIR_ERR_AGENT_UNRESPONSIVE:
              // Not connected (no agent in the guest has the channel open) or silent (a timeout, a
              // broken agent): the live XML's channel state tells, in any locale.
              ping.reply = agent_disconnected(domain->get()) ? GuestAgentReply::not_connected : GuestAgentReply::silent;
              return ping;
            case VIR_ERR_ARGUMENT_UNSUPPORTED: ping.reply = GuestAgentReply::no_channel; return ping;
            case VIR_ERR_OPERATION_INVALID: ping.reply = GuestAgentReply::not_executing; return ping;
            default: return fail(last_error(fmt::format("ping the guest agent of {}", ref.label()), c));
          }
        });
  }

  Result<std::string> uri(const ocf::Deadline& deadline) override {
    return call<std::string>("get URI", deadline, [](virConnectPtr c) -> Result<std::string> {
      char* text = virConnectGetURI(c);
      if (text == nullptr) return fail(last_error("get URI", c));
      std::string out(text);
      std::free(text);  // NOLINT(cppcoreguidelines-no-malloc): libvirt allocates with malloc
      return out;
    });
  }

 private:
  /// The watcher's handle on a running migration, over the control connection.
  class Control final : public MigrationControl {
   public:
    Control(LibvirtHypervisor& owner, DomainRef ref) : owner_(owner), ref_(std::move(ref)) {}
    Result<MigrationProgress> progress(const ocf::Deadline& deadline) override {
      const bool postcopy = postcopy_;
      return owner_.call<MigrationProgress>(
          "read migration progress", deadline, [ref = ref_, postcopy](virConnectPtr c) -> Result<MigrationProgress> {
            auto domain = lookup(c, ref);
            VMHA_TRY(domain);
            int type = VIR_DOMAIN_JOB_NONE;
            virTypedParameterPtr params = nullptr;
            int count = 0;
            if (virDomainGetJobStats(domain->get(), &type, &params, &count, 0) < 0) {
              return fail(last_error(fmt::format("migration progress of {}", ref.label()), c));
            }
            MigrationProgress p;
            p.active = type != VIR_DOMAIN_JOB_NONE;
            p.postcopy = postcopy;
            unsigned long long value = 0;
            if (virTypedParamsGetULLong(params, count, VIR_DOMAIN_JOB_TIME_ELAPSED, &value) == 1)
              p.elapsed = sys::Millis(static_cast<sys::Millis::rep>(value));
            if (virTypedParamsGetULLong(params, count, VIR_DOMAIN_JOB_DATA_TOTAL, &value) == 1) p.data_total = value;
            if (virTypedParamsGetULLong(params, count, VIR_DOMAIN_JOB_DATA_PROCESSED, &value) == 1)
              p.data_processed = value;
            if (virTypedParamsGetULLong(params, count, VIR_DOMAIN_JOB_DATA_REMAINING, &value) == 1)
              p.data_remaining = value;
            if (virTypedParamsGetULLong(params, count, VIR_DOMAIN_JOB_MEMORY_BPS, &value) == 1) p.memory_bps = value;
            if (virTypedParamsGetULLong(params, count, VIR_DOMAIN_JOB_MEMORY_ITERATION, &value) == 1)
              p.iteration = value;
            virTypedParamsFree(params, count);
            return p;
          });
    }
    Result<void> abort(const ocf::Deadline& deadline) override {
      return owner_.with_domain("abort the migration of", ref_, deadline,
                                [](virDomainPtr d) { return virDomainAbortJob(d); });
    }
    Result<void> start_postcopy(const ocf::Deadline& deadline) override {
      auto done = owner_.with_domain("switch to post-copy:", ref_, deadline,
                                     [](virDomainPtr d) { return virDomainMigrateStartPostCopy(d, 0); });
      if (done) postcopy_ = true;
      return done;
    }

   private:
    LibvirtHypervisor& owner_;
    DomainRef ref_;
    bool postcopy_ = false;
  };

  /// The blocking migration call, on the mover's thread.
  /// libvirt's own time for the finished migration job of `domain`, when it still knows it.
  static std::optional<sys::Millis> completed_job_time(virDomainPtr domain) {
    int type = VIR_DOMAIN_JOB_NONE;
    virTypedParameterPtr params = nullptr;
    int count = 0;
    if (virDomainGetJobStats(domain, &type, &params, &count, VIR_DOMAIN_JOB_STATS_COMPLETED) < 0) return std::nullopt;
    unsigned long long elapsed = 0;
    const bool found = virTypedParamsGetULLong(params, count, VIR_DOMAIN_JOB_TIME_ELAPSED, &elapsed) == 1;
    virTypedParamsFree(params, count);
    if (!found) return std::nullopt;
    return sys::Millis(static_cast<sys::Millis::rep>(elapsed));
  }

  static Result<MigrationReport> run_migration(virConnectPtr c, const DomainRef& ref, const MigrationRequest& request) {
    auto domain = lookup(c, ref);
    VMHA_TRY(domain);
    detail::TypedParams params;
    bool ok = true;
    if (!request.migrate_uri.empty()) ok = ok && params.add(VIR_MIGRATE_PARAM_URI, request.migrate_uri);
    if (request.bandwidth_mib > 0) {
      ok = ok && params.add(VIR_MIGRATE_PARAM_BANDWIDTH, static_cast<unsigned long long>(request.bandwidth_mib));
    }
    for (const auto& method : request.compression) ok = ok && params.add(VIR_MIGRATE_PARAM_COMPRESSION, method);
    if (request.parallel_connections > 0) {
      ok = ok && params.add(VIR_MIGRATE_PARAM_PARALLEL_CONNECTIONS, request.parallel_connections);
    }
    if (!request.listen_address.empty()) {
      ok = ok && params.add(VIR_MIGRATE_PARAM_LISTEN_ADDRESS, request.listen_address);
    }
    if (!ok) return fail(last_error("migration parameters", c));
    const auto flags = static_cast<unsigned int>(request.flags);
    const std::string what = fmt::format("migrate {} to {}", ref.label(), request.destination);
    if (request.peer_to_peer()) {
      if (virDomainMigrateToURI3(domain->get(), request.destination.c_str(), params.get(), params.size(), flags) < 0) {
        return fail(last_error(what, c));
      }
      return MigrationReport{completed_job_time(domain->get())};
    }
    detail::Connection destination(virConnectOpen(request.destination.c_str()));
    if (!destination) {
      Error error = last_error(fmt::format("cannot connect to the destination {}", request.destination));
      if (error.kind != ErrorKind::denied) error.kind = ErrorKind::unreachable;
      return fail(std::move(error));
    }
    (void)virConnectSetKeepAlive(destination.get(), detail::kKeepAliveInterval, detail::kKeepAliveCount);
    Domain moved(virDomainMigrate3(domain->get(), destination.get(), params.get(), params.size(), flags));
    if (!moved) return fail(last_error(what, c));
    // The destination keeps the statistics of the incoming job; the source may have none left.
    auto job_time = completed_job_time(moved.get());
    return MigrationReport{job_time ? job_time : completed_job_time(domain->get())};
  }

  template <typename T>
  Result<T> call(std::string_view what, const ocf::Deadline& deadline, std::function<Result<T>(virConnectPtr)> body) {
    if (!worker_ || worker_->wedged()) {
      if (workers_ == kMaxWorkers) {
        return fail(ErrorKind::timed_out, fmt::format("{}: libvirt is not answering", what));
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
      VMHA_TRY(domain);
      return check(op(domain->get()), fmt::format("{} {}", what, ref.label()), c);
    });
  }

  std::string uri_;
  std::unique_ptr<Worker> worker_;
  int workers_ = 0;
};

// The core mirrors libvirt's flag values so that it needs no libvirt header.
constexpr bool same_flag(std::uint32_t ours, unsigned theirs) {
  return ours == theirs;
}
static_assert(same_flag(migrate_live, VIR_MIGRATE_LIVE) && same_flag(migrate_peer2peer, VIR_MIGRATE_PEER2PEER) &&
              same_flag(migrate_tunnelled, VIR_MIGRATE_TUNNELLED) &&
              same_flag(migrate_persist_dest, VIR_MIGRATE_PERSIST_DEST) &&
              same_flag(migrate_undefine_source, VIR_MIGRATE_UNDEFINE_SOURCE) &&
              same_flag(migrate_paused, VIR_MIGRATE_PAUSED) &&
              same_flag(migrate_non_shared_disk, VIR_MIGRATE_NON_SHARED_DISK) &&
              same_flag(migrate_non_shared_inc, VIR_MIGRATE_NON_SHARED_INC) &&
              same_flag(migrate_change_protection, VIR_MIGRATE_CHANGE_PROTECTION) &&
              same_flag(migrate_unsafe, VIR_MIGRATE_UNSAFE) && same_flag(migrate_compressed, VIR_MIGRATE_COMPRESSED) &&
              same_flag(migrate_abort_on_error, VIR_MIGRATE_ABORT_ON_ERROR) &&
              same_flag(migrate_auto_converge, VIR_MIGRATE_AUTO_CONVERGE) &&
              same_flag(migrate_postcopy, VIR_MIGRATE_POSTCOPY) && same_flag(migrate_tls, VIR_MIGRATE_TLS) &&
              same_flag(migrate_parallel, VIR_MIGRATE_PARALLEL));

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
