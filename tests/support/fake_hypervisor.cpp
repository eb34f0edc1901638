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

namespace {

/// A domain stops: a transient one is gone, a persistent one is shut off.
void stop_domain(FakeLibvirt& world, FakeDomain& domain, int reason) {
  domain.off_at.reset();
  if (!domain.persistent) {
    world.domains.erase(domain.name);
  } else {
    domain.state = {DomainState::shut_off, reason};
  }
}

}  // namespace

bool FakeLibvirt::runs(const std::string& name) {
  settle();
  if (lingering.count(name) != 0) return true;
  const auto it = domains.find(name);
  if (it == domains.end()) return false;
  return it->second.state.state != DomainState::shut_off;
}

void FakeLibvirt::settle() {
  const auto now = clock.now();
  for (auto it = pending.begin(); it != pending.end();) {
    if (it->at > now) {
      ++it;
      continue;
    }
    const LateCall call = *it;
    it = pending.erase(it);
    if (call.op == "create") {
      const auto parsed = virt::parse_domain_xml(call.xml);
      const auto existing = parsed ? domains.find(parsed->name) : domains.end();
      if (parsed && (existing == domains.end() || existing->second.state.state == DomainState::shut_off)) {
        const bool persistent = existing != domains.end() && existing->second.persistent;
        auto& domain = add(parsed->name, parsed->uuid, {DomainState::running, 1}, persistent);
        domain.vcpus = parsed->vcpus;
        domain.label = parsed->label;
      }
    } else if (call.op == "start") {
      if (auto found = domains.find(call.domain.name);
          found != domains.end() && found->second.state.state == DomainState::shut_off) {
        found->second.state = {DomainState::running, 1};
      }
    } else if (call.op == "restore") {
      if (const auto state = saved_state(call.path)) add(state->name, state->uuid, {DomainState::running, 3}, false);
      saved.erase(call.path);
    }
  }
  std::vector<std::string> done;
  for (auto& [name, domain] : domains) {
    if (domain.off_at && now >= *domain.off_at) done.push_back(name);
  }
  for (const auto& name : done) stop_domain(*this, domains.at(name), 1);
}

std::optional<virt::DomainRef> FakeLibvirt::saved_state(const std::string& path) const {
  if (files != nullptr) {
    const auto text = files->content(path);
    if (!text) return std::nullopt;
    const auto newline = text->find('\n');
    if (newline == std::string::npos) return std::nullopt;
    return virt::DomainRef{text->substr(0, newline),
                           text->substr(newline + 1, text->find('\n', newline + 1) - newline - 1)};
  }
  const auto it = saved.find(path);
  if (it == saved.end()) return std::nullopt;
  return virt::DomainRef{it->second.first, it->second.second};
}

void FakeLibvirt::restart_daemon() {
  settle();  // what landed before the restart stays: the new daemon takes its QEMU over
  pending.clear();
  ++daemon_generation;
}

void FakeLibvirt::power_off() {
  pending.clear();
  domains.clear();
  lingering.clear();
  evidence.reset();
  ++daemon_generation;
}

std::optional<Error> FakeHypervisor::abandon_if_late(LateCall call, const ocf::Deadline& deadline) {
  const auto late = world_.lands_late.find(call.op);
  if (late == world_.lands_late.end()) return std::nullopt;
  world_.calls.push_back(call.op + " " + (call.domain.name.empty() ? call.path : call.domain.name));
  call.at = world_.clock.now() + late->second;
  world_.pending.push_back(std::move(call));
  world_.clock.sleep_until(deadline.at());
  Error unanswered{ErrorKind::timed_out, "libvirt did not answer in time"};
  unanswered.unanswered = true;
  return unanswered;
}

std::optional<Error> FakeHypervisor::enter(const std::string& op, const std::string& subject,
                                           const ocf::Deadline& deadline) {
  world_.calls.push_back(subject.empty() ? op : op + " " + subject);
  // A call libvirtd took but did not answer may still be carried out (the fake's hung calls
  // never are, but an agent must not know that).
  Error late{ErrorKind::timed_out, op + ": libvirt did not answer in time"};
  late.unanswered = true;
  if (world_.hung.count(op) != 0 || world_.hung.count("*") != 0) {
    world_.clock.sleep_until(deadline.at());
    return late;
  }
  if (const auto it = world_.latency.find(op); it != world_.latency.end()) {
    if (world_.clock.now() + it->second > deadline.at()) {
      world_.clock.sleep_until(deadline.at());
      return late;
    }
    world_.clock.advance(it->second);
  }
  if (world_.unreachable) {
    return Error{ErrorKind::unreachable, "cannot connect to fake:///: Connection refused"};
  }
  if (auto it = world_.failures.find(op); it != world_.failures.end() && !it->second.empty()) {
    Error error = it->second.front();
    it->second.pop_front();
    return error;
  }
  world_.settle();
  return std::nullopt;
}

Result<FakeDomain*> FakeHypervisor::lookup(const virt::DomainRef& ref) {
  // By UUID when one is given, else (or when none has it) by name: DomainRef's rule.
  if (!ref.uuid.empty()) {
    for (auto& [name, domain] : world_.domains) {
      if (domain.uuid == ref.uuid) return &domain;
    }
  }
  const auto it = world_.domains.find(ref.name);
  if (it == world_.domains.end()) {
    return fail(ErrorKind::not_found, fmt::format("Domain not found: {}", ref.label()));
  }
  return &it->second;
}

Result<std::optional<virt::StateInfo>> FakeHypervisor::state(const virt::DomainRef& ref, const ocf::Deadline& d) {
  if (auto error = enter("state", ref.name, d)) return fail(*error);
  auto domain = lookup(ref);
  if (!domain) return std::optional<virt::StateInfo>{};
  return std::optional<virt::StateInfo>{(*domain)->state};
}

Result<virt::DomainFacts> FakeHypervisor::facts(const virt::DomainRef& ref, const ocf::Deadline& d) {
  if (auto error = enter("facts", ref.name, d)) return fail(*error);
  auto domain = lookup(ref);
  VMHA_TRY(domain);
  const FakeDomain& found = **domain;
  return virt::DomainFacts{found.name,           found.uuid,       found.vcpus,
                           found.max_memory_kib, found.persistent, found.state.state != DomainState::shut_off};
}

Result<void> FakeHypervisor::create(const std::string& xml, const ocf::Deadline& d) {
  const auto parsed = virt::parse_domain_xml(xml);
  if (auto late = abandon_if_late(LateCall{"create", xml, parsed ? parsed->ref() : virt::DomainRef{}, {}, {}}, d)) {
    return fail(*late);
  }
  if (auto error = enter("create", parsed ? parsed->name : "?", d)) return fail(*error);
  if (!parsed) return fail(ErrorKind::invalid, parsed.error().reason);
  if (world_.domains.count(parsed->name) != 0 && world_.domains.at(parsed->name).state.state != DomainState::shut_off) {
    return fail(ErrorKind::invalid, "domain already exists and is active");
  }
  auto& domain = world_.add(parsed->name, parsed->uuid, {DomainState::running, 1}, false);
  domain.vcpus = parsed->vcpus;
  domain.max_memory_kib = parsed->memory_kib;
  domain.label = parsed->label;
  domain.id = ++world_.last_id;
  return {};
}

Result<void> FakeHypervisor::define(const std::string& xml, const ocf::Deadline& d) {
  const auto parsed = virt::parse_domain_xml(xml);
  if (auto error = enter("define", parsed ? parsed->name : "?", d)) return fail(*error);
  if (!parsed) return fail(ErrorKind::invalid, parsed.error().reason);
  if (auto it = world_.domains.find(parsed->name); it != world_.domains.end()) {
    it->second.persistent = true;
    // Like libvirt: a running domain's live metadata stays; the new definition is for next time.
    if (it->second.state.state == DomainState::shut_off) it->second.label = parsed->label;
    return {};
  }
  world_.add(parsed->name, parsed->uuid, {DomainState::shut_off, 0}, true).label = parsed->label;
  return {};
}

Result<void> FakeHypervisor::start(const virt::DomainRef& ref, const ocf::Deadline& d) {
  if (auto late = abandon_if_late(LateCall{"start", {}, ref, {}, {}}, d)) return fail(*late);
  if (auto error = enter("start", ref.name, d)) return fail(*error);
  auto domain = lookup(ref);
  VMHA_TRY(domain);
  if ((*domain)->state.state != DomainState::shut_off) {
    return fail(ErrorKind::invalid, "domain is already running");
  }
  (*domain)->state = {DomainState::running, 1};
  (*domain)->id = ++world_.last_id;
  return {};
}

Result<void> FakeHypervisor::shutdown(const virt::DomainRef& ref, unsigned methods, const ocf::Deadline& d) {
  if (auto error = enter("shutdown", ref.name, d)) return fail(*error);
  auto domain = lookup(ref);
  VMHA_TRY(domain);
  world_.last_shutdown_methods = methods;
  if ((*domain)->state.state == DomainState::shut_off) {
    return fail(ErrorKind::invalid, "domain is not running");
  }
  if ((*domain)->obeys_shutdown) (*domain)->off_at = world_.clock.now() + (*domain)->shutdown_takes;
  return {};
}

Result<void> FakeHypervisor::destroy(const virt::DomainRef& ref, const ocf::Deadline& d) {
  if (auto error = enter("destroy", ref.name, d)) return fail(*error);
  auto domain = lookup(ref);
  VMHA_TRY(domain);
  if ((*domain)->state.state == DomainState::shut_off) {
    return fail(ErrorKind::invalid, "domain is not running");
  }
  if (world_.destroy_leaves_qemu) world_.lingering.insert((*domain)->name);
  stop_domain(world_, **domain, 2);
  return {};
}

Result<void> FakeHypervisor::save(const virt::DomainRef& ref, const std::string& path, const ocf::Deadline& d) {
  if (auto error = enter("save", ref.name, d)) return fail(*error);
  auto domain = lookup(ref);
  VMHA_TRY(domain);
  world_.saved[path] = {(*domain)->name, (*domain)->uuid};
  if (world_.files != nullptr) world_.files->write(path, (*domain)->name + "\n" + (*domain)->uuid + "\n", 0600);
  stop_domain(world_, **domain, 5);
  return {};
}

Result<void> FakeHypervisor::restore(const std::string& path, const ocf::Deadline& d) {
  if (auto late = abandon_if_late(LateCall{"restore", {}, {}, path, {}}, d)) return fail(*late);
  if (auto error = enter("restore", path, d)) return fail(*error);
  const auto saved = world_.saved_state(path);
  if (!saved) return fail(ErrorKind::invalid, "not a saved state");
  world_.add(saved->name, saved->uuid, {DomainState::running, 3}, false);
  world_.saved.erase(path);
  return {};
}

Result<std::string> FakeHypervisor::definition(const virt::DomainRef& ref, const ocf::Deadline& d) {
  if (auto error = enter("definition", ref.name, d)) return fail(*error);
  auto domain = lookup(ref);
  VMHA_TRY(domain);
  return fmt::format(
      "<domain type='qemu'><name>{}</name><uuid>{}</uuid><memory>{}</memory><vcpu>{}</vcpu>"
      "<description>saved</description></domain>",
      (*domain)->name, (*domain)->uuid, (*domain)->max_memory_kib, (*domain)->vcpus);
}

Result<void> FakeHypervisor::ensure_network(const std::string& name, const ocf::Deadline& d) {
  if (auto error = enter("ensure_network", name, d)) return fail(*error);
  return {};
}

Result<void> FakeHypervisor::ensure_pool(const std::string& name, const ocf::Deadline& d) {
  if (auto error = enter("ensure_pool", name, d)) return fail(*error);
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
      return fail(ErrorKind::invalid, "Requested operation is not valid: no job is active on the domain");
    }
    aborted = true;
    return {};
  }
  Result<void> start_postcopy(const ocf::Deadline& /*deadline*/) override {
    world_.calls.push_back("migration-postcopy");
    ++world_.postcopy_switches;
    postcopy = true;
    if (world_.migration.postcopy_times_out) {
      return fail(ErrorKind::timed_out, "switch to post-copy: libvirt is not answering");
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
  if (auto error = enter("migrate", ref.name, d)) return fail(*error);
  world_.migrations.push_back(request);
  auto domain = lookup(ref);
  VMHA_TRY(domain);
  if ((*domain)->state.state != DomainState::running) {
    return fail(ErrorKind::invalid, "Requested operation is not valid: domain is not running");
  }
  const auto peer = world_.peers.find(request.destination);
  if (peer != world_.peers.end() && peer->second->hung.count("*") != 0) {
    world_.clock.sleep_until(d.at());
    return fail(ErrorKind::timed_out, "the destination's libvirtd did not answer");
  }
  if (peer == world_.peers.end() || peer->second->unreachable) {
    return fail(ErrorKind::unreachable,
                fmt::format("cannot connect to the destination {}: Connection refused", request.destination));
  }
  const auto began = world_.clock.now();
  FakeControl control(world_, began);
  for (;;) {
    const bool done = (world_.migration.converges && world_.clock.now() - began >= world_.migration.takes) ||
                      (control.postcopy && world_.migration.postcopy_completes);
    if (done) break;
    if (control.aborted) {
      return fail(ErrorKind::other, "operation aborted: migration out job: canceled by client");
    }
    if (d.expired()) {
      return fail(ErrorKind::timed_out, "migration did not end in time");
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

Result<void> FakeHypervisor::label(const virt::DomainRef& ref, const std::string& resource, const ocf::Deadline& d) {
  if (auto error = enter("label", ref.name, d)) return fail(*error);
  auto domain = lookup(ref);
  VMHA_TRY(domain);
  (*domain)->label = resource;
  return {};
}

Result<std::vector<virt::DomainRef>> FakeHypervisor::labelled(const std::string& resource, const ocf::Deadline& d) {
  if (auto error = enter("labelled", resource, d)) return fail(*error);
  std::vector<virt::DomainRef> found;
  for (const auto& [name, domain] : world_.domains) {
    if (domain.label == resource && domain.state.state != DomainState::shut_off) found.push_back({name, domain.uuid});
  }
  return found;
}

Result<virt::GuestAgentPing> FakeHypervisor::ping_guest_agent(const virt::DomainRef& ref, std::chrono::seconds timeout,
                                                              const ocf::Deadline& d) {
  if (auto error = enter("ping", ref.name, d)) return fail(*error);
  auto domain = lookup(ref);
  VMHA_TRY(domain);
  const FakeDomain& found = **domain;
  virt::GuestAgentPing ping{found.agent, found.id, {}};
  if (!virt::is_executing(found.state.state)) ping.reply = virt::GuestAgentReply::not_executing;
  if (ping.reply == virt::GuestAgentReply::silent) {
    world_.clock.advance(timeout);  // libvirt waits the whole timeout for the answer
    ping.detail = "Guest agent is not responding: Guest agent not available for now";
  }
  if (ping.reply == virt::GuestAgentReply::not_connected) {
    ping.detail = "Guest agent is not responding: QEMU guest agent is not connected";
  }
  if (ping.reply == virt::GuestAgentReply::no_channel)
    ping.detail = "argument unsupported: QEMU guest agent is not configured";
  return ping;
}

Result<std::string> FakeHypervisor::uri(const ocf::Deadline& d) {
  if (auto error = enter("uri", "", d)) return fail(*error);
  return std::string("fake:///system");
}

namespace {

virt::ProcessCheck shown(virt::Evidence evidence, const virt::DomainRef& domain) {
  const int pid = fake_pid(domain.name);
  switch (evidence) {
    case virt::Evidence::running:
      return {virt::Evidence::running, pid, fmt::format("QEMU pid {} runs {}", pid, domain.label())};
    case virt::Evidence::gone: return {virt::Evidence::gone, 0, "no pid file"};
    case virt::Evidence::unknown: break;
  }
  return {virt::Evidence::unknown, 0, "no QEMU run directory"};
}

}  // namespace

virt::ProcessCheck FakeQemuProcesses::check(const virt::DomainRef& domain, const ocf::Deadline& /*deadline*/) {
  world_.calls.push_back("proc-check " + domain.name);
  // The pid file: libvirt writes it while the domain runs and removes it when it lets go,
  // even of a QEMU that lingers.
  world_.settle();
  const auto it = world_.domains.find(domain.name);
  const bool listed = it != world_.domains.end() && it->second.state.state != DomainState::shut_off;
  if (world_.cmdline_blocked && !world_.evidence && listed) {
    const int pid = fake_pid(domain.name);
    return {virt::Evidence::unknown, pid, fmt::format("cannot read the command line of pid {}", pid)};
  }
  return shown(world_.evidence.value_or(listed ? virt::Evidence::running : virt::Evidence::gone), domain);
}

virt::ProcessCheck FakeQemuProcesses::check_pid(const virt::DomainRef& domain, int /*pid*/,
                                                const ocf::Deadline& /*deadline*/) {
  // A pid seen before: /proc tells whether that process still lives, lingering or not.
  const bool alive = world_.runs(domain.name);
  if (world_.cmdline_blocked && !world_.evidence && alive) {
    const int pid = fake_pid(domain.name);
    return {virt::Evidence::unknown, pid, fmt::format("cannot read the command line of pid {}", pid)};
  }
  return shown(world_.evidence.value_or(alive ? virt::Evidence::running : virt::Evidence::gone), domain);
}

Result<void> FakeQemuProcesses::kill(const virt::DomainRef& domain, const ocf::Deadline& /*deadline*/) {
  world_.calls.push_back("proc-kill " + domain.name);
  ++world_.kills;
  if (!world_.kill_works || world_.lingering.count(domain.name) != 0) {
    return fail(ErrorKind::timed_out, "QEMU pid 4242 survived SIGKILL");
  }
  if (world_.evidence) world_.evidence = virt::Evidence::gone;
  world_.domains.erase(domain.name);
  return {};
}

virt::Evidence FakeQemuProcesses::process_state(int pid, const ocf::Deadline& /*deadline*/) {
  if (world_.evidence) return *world_.evidence;
  world_.settle();
  for (const auto& [name, domain] : world_.domains) {
    if (fake_pid(name) == pid && domain.state.state != DomainState::shut_off) return virt::Evidence::running;
  }
  for (const auto& name : world_.lingering) {
    if (fake_pid(name) == pid) return virt::Evidence::running;
  }
  return virt::Evidence::gone;
}

Result<void> FakeQemuProcesses::kill_pid(const virt::DomainRef& domain, int /*pid*/, const ocf::Deadline& deadline) {
  return kill(domain, deadline);
}

std::optional<std::string> FakeQemuProcesses::daemon_instance() {
  if (!world_.daemon_known) return std::nullopt;
  return "fake " + std::to_string(world_.daemon_generation);
}

namespace {

class FakeDrbd final : public drbd::StatusSource {
 public:
  explicit FakeDrbd(FakeLibvirt& world) : world_(world) {}
  Result<std::vector<drbd::Resource>> resources(const ocf::Deadline& /*deadline*/) override {
    ++world_.drbd_reads;
    world_.calls.push_back("drbd-read");
    if (world_.drbd_error) return fail(*world_.drbd_error);
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
