#include "support/fake_hypervisor.hpp"

#include <fmt/core.h>

#include "vmha/virt/domain_xml.hpp"

namespace vmha::test {

using virt::DomainState;

FakeDomain& FakeLibvirt::add(const std::string& name, const std::string& uuid, virt::StateInfo state, bool persistent) {
  FakeDomain& domain = domains[name];
  domain.name = name;
  domain.uuid = uuid;
  domain.state = state;
  domain.persistent = persistent;
  return domain;
}

bool FakeLibvirt::runs(const std::string& name) {
  const auto it = domains.find(name);
  if (it == domains.end()) return false;
  if (it->second.off_at && clock.now() >= *it->second.off_at) return false;
  return it->second.state.state != DomainState::shut_off;
}

std::optional<Error> FakeHypervisor::enter(const std::string& op, const std::string& subject,
                                           const ocf::Deadline& deadline) {
  world_.calls.push_back(subject.empty() ? op : op + " " + subject);
  if (world_.hung.count(op) != 0 || world_.hung.count("*") != 0) {
    world_.clock.sleep_until(deadline.at());
    return Error{ocf::Status::err_generic, op + ": libvirt did not answer in time", ErrorKind::timed_out};
  }
  if (const auto it = world_.latency.find(op); it != world_.latency.end()) {
    if (world_.clock.now() + it->second > deadline.at()) {
      world_.clock.sleep_until(deadline.at());
      return Error{ocf::Status::err_generic, op + ": libvirt did not answer in time", ErrorKind::timed_out};
    }
    world_.clock.advance(it->second);
  }
  if (world_.unreachable) {
    return Error{ocf::Status::err_generic, "cannot connect to fake:///: Connection refused", ErrorKind::unreachable};
  }
  if (auto it = world_.failures.find(op); it != world_.failures.end() && !it->second.empty()) {
    Error error = it->second.front();
    it->second.pop_front();
    return error;
  }
  settle();
  return std::nullopt;
}

void FakeHypervisor::stopped(FakeDomain& domain, int reason) {
  domain.off_at.reset();
  if (!domain.persistent) {
    world_.domains.erase(domain.name);  // a transient domain is gone once it stops
  } else {
    domain.state = {DomainState::shut_off, reason};
  }
}

void FakeHypervisor::settle() {
  std::vector<std::string> done;
  for (auto& [name, domain] : world_.domains) {
    if (domain.off_at && world_.clock.now() >= *domain.off_at) done.push_back(name);
  }
  for (const auto& name : done) stopped(world_.domains.at(name), 1);
}

Result<FakeDomain*> FakeHypervisor::lookup(const virt::DomainRef& ref) {
  const auto it = world_.domains.find(ref.name);
  if (it == world_.domains.end() || (!ref.uuid.empty() && it->second.uuid != ref.uuid)) {
    return fail(ocf::Status::err_generic, fmt::format("Domain not found: {}", ref.label()), ErrorKind::not_found);
  }
  return &it->second;
}

Result<std::optional<virt::StateInfo>> FakeHypervisor::state(const virt::DomainRef& ref, const ocf::Deadline& d) {
  if (auto error = enter("state", ref.name, d)) return tl::unexpected(*error);
  auto domain = lookup(ref);
  if (!domain) return std::optional<virt::StateInfo>{};
  return std::optional<virt::StateInfo>{(*domain)->state};
}

Result<virt::DomainFacts> FakeHypervisor::facts(const virt::DomainRef& ref, const ocf::Deadline& d) {
  if (auto error = enter("facts", ref.name, d)) return tl::unexpected(*error);
  auto domain = lookup(ref);
  if (!domain) return tl::unexpected(domain.error());
  const FakeDomain& found = **domain;
  return virt::DomainFacts{found.name,           found.uuid,       found.vcpus,
                           found.max_memory_kib, found.persistent, found.state.state != DomainState::shut_off};
}

Result<void> FakeHypervisor::create(const std::string& xml, const ocf::Deadline& d) {
  const auto parsed = virt::parse_domain_xml(xml);
  if (auto error = enter("create", parsed ? parsed->name : "?", d)) return tl::unexpected(*error);
  if (!parsed) return fail(ocf::Status::err_generic, parsed.error().reason, ErrorKind::invalid);
  if (world_.domains.count(parsed->name) != 0 && world_.domains.at(parsed->name).state.state != DomainState::shut_off) {
    return fail(ocf::Status::err_generic, "domain already exists and is active", ErrorKind::invalid);
  }
  auto& domain = world_.add(parsed->name, parsed->uuid, {DomainState::running, 1}, false);
  domain.vcpus = parsed->vcpus;
  domain.max_memory_kib = parsed->memory_kib;
  return {};
}

Result<void> FakeHypervisor::define(const std::string& xml, const ocf::Deadline& d) {
  const auto parsed = virt::parse_domain_xml(xml);
  if (auto error = enter("define", parsed ? parsed->name : "?", d)) return tl::unexpected(*error);
  if (!parsed) return fail(ocf::Status::err_generic, parsed.error().reason, ErrorKind::invalid);
  if (auto it = world_.domains.find(parsed->name); it != world_.domains.end()) {
    it->second.persistent = true;
    return {};
  }
  world_.add(parsed->name, parsed->uuid, {DomainState::shut_off, 0}, true);
  return {};
}

Result<void> FakeHypervisor::start(const virt::DomainRef& ref, const ocf::Deadline& d) {
  if (auto error = enter("start", ref.name, d)) return tl::unexpected(*error);
  auto domain = lookup(ref);
  if (!domain) return tl::unexpected(domain.error());
  if ((*domain)->state.state != DomainState::shut_off) {
    return fail(ocf::Status::err_generic, "domain is already running", ErrorKind::invalid);
  }
  (*domain)->state = {DomainState::running, 1};
  return {};
}

Result<void> FakeHypervisor::shutdown(const virt::DomainRef& ref, unsigned methods, const ocf::Deadline& d) {
  if (auto error = enter("shutdown", ref.name, d)) return tl::unexpected(*error);
  auto domain = lookup(ref);
  if (!domain) return tl::unexpected(domain.error());
  world_.last_shutdown_methods = methods;
  if ((*domain)->state.state == DomainState::shut_off) {
    return fail(ocf::Status::err_generic, "domain is not running", ErrorKind::invalid);
  }
  if ((*domain)->obeys_shutdown) (*domain)->off_at = world_.clock.now() + (*domain)->shutdown_takes;
  return {};
}

Result<void> FakeHypervisor::destroy(const virt::DomainRef& ref, const ocf::Deadline& d) {
  if (auto error = enter("destroy", ref.name, d)) return tl::unexpected(*error);
  auto domain = lookup(ref);
  if (!domain) return tl::unexpected(domain.error());
  if ((*domain)->state.state == DomainState::shut_off) {
    return fail(ocf::Status::err_generic, "domain is not running", ErrorKind::invalid);
  }
  stopped(**domain, 2);
  return {};
}

Result<void> FakeHypervisor::save(const virt::DomainRef& ref, const std::string& path, const ocf::Deadline& d) {
  if (auto error = enter("save", ref.name, d)) return tl::unexpected(*error);
  auto domain = lookup(ref);
  if (!domain) return tl::unexpected(domain.error());
  world_.saved[path] = {(*domain)->name, (*domain)->uuid};
  stopped(**domain, 5);
  return {};
}

Result<void> FakeHypervisor::restore(const std::string& path, const ocf::Deadline& d) {
  if (auto error = enter("restore", path, d)) return tl::unexpected(*error);
  const auto it = world_.saved.find(path);
  if (it == world_.saved.end()) return fail(ocf::Status::err_generic, "not a saved state", ErrorKind::invalid);
  world_.add(it->second.first, it->second.second, {DomainState::running, 3}, false);
  world_.saved.erase(it);
  return {};
}

Result<std::string> FakeHypervisor::definition(const virt::DomainRef& ref, const ocf::Deadline& d) {
  if (auto error = enter("definition", ref.name, d)) return tl::unexpected(*error);
  auto domain = lookup(ref);
  if (!domain) return tl::unexpected(domain.error());
  return fmt::format(
      "<domain type='qemu'><name>{}</name><uuid>{}</uuid><memory>{}</memory><vcpu>{}</vcpu>"
      "<description>saved</description></domain>",
      (*domain)->name, (*domain)->uuid, (*domain)->max_memory_kib, (*domain)->vcpus);
}

Result<void> FakeHypervisor::ensure_network(const std::string& name, const ocf::Deadline& d) {
  if (auto error = enter("ensure_network", name, d)) return tl::unexpected(*error);
  return {};
}

Result<void> FakeHypervisor::ensure_pool(const std::string& name, const ocf::Deadline& d) {
  if (auto error = enter("ensure_pool", name, d)) return tl::unexpected(*error);
  return {};
}

namespace {

/// The watcher's view of a fake migration.
class FakeControl final : public virt::MigrationControl {
 public:
  FakeControl(FakeLibvirt& world, sys::Clock::time_point began) : world_(world), began_(began) {}
  Result<virt::MigrationProgress> progress(const ocf::Deadline& /*deadline*/) override {
    world_.calls.push_back("migration-progress");
    virt::MigrationProgress p;
    p.active = true;
    p.elapsed = std::chrono::duration_cast<sys::Millis>(world_.clock.now() - began_);
    p.data_total = 128U << 20U;
    p.data_remaining = world_.migration.converges ? (64U << 20U) : (100U << 20U);
    p.data_processed = p.data_total - p.data_remaining;
    p.memory_bps = 10U << 20U;
    p.postcopy = postcopy;
    return p;
  }
  Result<void> abort(const ocf::Deadline& /*deadline*/) override {
    world_.calls.push_back("migration-abort");
    ++world_.aborts;
    if (world_.aborts <= world_.migration.abort_refusals) {
      return fail(ocf::Status::err_generic, "Requested operation is not valid: no job is active on the domain",
                  ErrorKind::invalid);
    }
    aborted = true;
    return {};
  }
  Result<void> start_postcopy(const ocf::Deadline& /*deadline*/) override {
    world_.calls.push_back("migration-postcopy");
    ++world_.postcopy_switches;
    postcopy = true;
    if (world_.migration.postcopy_times_out) {
      return fail(ocf::Status::err_generic, "switch to post-copy: libvirt is not answering", ErrorKind::timed_out);
    }
    return {};
  }
  bool aborted = false;
  bool postcopy = false;

 private:
  FakeLibvirt& world_;
  sys::Clock::time_point began_;
};

}  // namespace

Result<virt::MigrationReport> FakeHypervisor::migrate(const virt::DomainRef& ref, const virt::MigrationRequest& request,
                                                      const ocf::Deadline& d, virt::MigrationWatcher& watcher) {
  if (auto error = enter("migrate", ref.name, d)) return tl::unexpected(*error);
  world_.migrations.push_back(request);
  auto domain = lookup(ref);
  if (!domain) return tl::unexpected(domain.error());
  if ((*domain)->state.state != DomainState::running) {
    return fail(ocf::Status::err_generic, "Requested operation is not valid: domain is not running",
                ErrorKind::invalid);
  }
  const auto peer = world_.peers.find(request.destination);
  if (peer == world_.peers.end() || peer->second->unreachable) {
    return fail(ocf::Status::err_generic,
                fmt::format("cannot connect to the destination {}: Connection refused", request.destination),
                ErrorKind::unreachable);
  }
  const auto began = world_.clock.now();
  FakeControl control(world_, began);
  for (;;) {
    const bool done = (world_.migration.converges && world_.clock.now() - began >= world_.migration.takes) ||
                      (control.postcopy && world_.migration.postcopy_completes);
    if (done) break;
    if (control.aborted) {
      return fail(ocf::Status::err_generic, "operation aborted: migration out job: canceled by client");
    }
    if (d.expired()) {
      return fail(ocf::Status::err_generic, "migration did not end in time", ErrorKind::timed_out);
    }
    world_.clock.sleep_until(std::min(d.at(), world_.clock.now() + watcher.interval()));
    watcher.tick(control);
  }
  FakeDomain moved = **domain;
  FakeLibvirt& destination = *peer->second;
  moved.persistent = (request.flags & virt::migrate_persist_dest) != 0 || destination.has(moved.name);
  moved.state = {DomainState::running, 2};  // VIR_DOMAIN_RUNNING_MIGRATED
  destination.domains[moved.name] = moved;
  if ((**domain).persistent && (request.flags & virt::migrate_undefine_source) == 0) {
    (**domain).state = {DomainState::shut_off, 3};  // VIR_DOMAIN_SHUTOFF_MIGRATED
  } else {
    world_.domains.erase(ref.name);
  }
  return virt::MigrationReport{std::chrono::duration_cast<sys::Millis>(world_.clock.now() - began)};
}

Result<std::string> FakeHypervisor::uri(const ocf::Deadline& d) {
  if (auto error = enter("uri", "", d)) return tl::unexpected(*error);
  return std::string("fake:///system");
}

virt::ProcessCheck FakeQemuProcesses::check(const virt::DomainRef& domain) {
  world_.calls.push_back("proc-check " + domain.name);
  switch (world_.evidence) {
    case virt::Evidence::running: return {virt::Evidence::running, 4242, "QEMU pid 4242 runs " + domain.label()};
    case virt::Evidence::gone: return {virt::Evidence::gone, 0, "no pid file"};
    case virt::Evidence::unknown: break;
  }
  return {virt::Evidence::unknown, 0, "no QEMU run directory"};
}

Result<void> FakeQemuProcesses::kill(const virt::DomainRef& domain, const ocf::Deadline& /*deadline*/) {
  world_.calls.push_back("proc-kill " + domain.name);
  ++world_.kills;
  if (!world_.kill_works) return fail(ocf::Status::err_generic, "QEMU pid 4242 survived SIGKILL", ErrorKind::timed_out);
  world_.evidence = virt::Evidence::gone;
  world_.domains.erase(domain.name);
  return {};
}

namespace {

class FakeDrbd final : public drbd::StatusSource {
 public:
  explicit FakeDrbd(FakeLibvirt& world) : world_(world) {}
  Result<std::vector<drbd::Resource>> resources(const ocf::Deadline& /*deadline*/) override {
    ++world_.drbd_reads;
    world_.calls.push_back("drbd-read");
    if (world_.drbd_error) return tl::unexpected(*world_.drbd_error);
    return world_.drbd;
  }

 private:
  FakeLibvirt& world_;
};

}  // namespace

agents::Backends fake_backends(FakeLibvirt& world, bool with_processes) {
  return agents::Backends{[&world](const std::string& uri) {
                            const auto peer = world.peers.find(uri);
                            return std::make_unique<FakeHypervisor>(peer != world.peers.end() ? *peer->second : world);
                          },
                          [&world, with_processes](const std::string&) -> std::unique_ptr<virt::QemuProcesses> {
                            if (!with_processes) return nullptr;
                            return std::make_unique<FakeQemuProcesses>(world);
                          },
                          [&world](const ocf::Services&) { return std::make_unique<FakeDrbd>(world); }};
}

}  // namespace vmha::test
