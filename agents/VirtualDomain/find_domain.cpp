// Finding the domain under its names, and what may still make it appear.
#include <fmt/core.h>

#include "VirtualDomain/job.hpp"

namespace vmha::agents {

Result<std::optional<virt::StateInfo>> read_state(Job& job, const virt::DomainRef& ref, const ocf::Deadline& deadline) {
  // "no state" is transient (a domain starting or stopping): ask again, briefly.
  for (;;) {
    auto state = job.domains.state(ref, deadline);
    if (!state || !*state || (*state)->state != virt::DomainState::no_state || deadline.expired()) return state;
    deadline.sleep(kPollInterval);
  }
}

Result<std::optional<virt::StateInfo>> read_state(Job& job, const ocf::Deadline& deadline) {
  return read_state(job, *job.target.ref, deadline);
}

Result<std::optional<Sighting>> find_running(Job& job, const ocf::Deadline& deadline) {
  for (const auto& name : job.target.names()) {
    auto state = read_state(job, name, deadline);
    VMHA_TRY(state);
    if (!virt::is_gone(*state)) return std::optional<Sighting>{Sighting{name, **state}};
  }
  return std::optional<Sighting>{};
}

bool name_by_label(Job& job) {
  const std::string& resource = job.request.call.resource;
  if (resource.empty() || job.hypervisor == nullptr) return false;
  const auto found = job.hypervisor->labelled(resource, job.query_deadline());
  if (!found) {
    job.log().warning("cannot ask libvirt for a domain labelled as {}'s: {}", resource, found.error().reason);
    return false;
  }
  for (const auto& ref : *found) {
    job.log().warning("domain {} runs here labelled as {}'s, though nothing else names it", ref.label(), resource);
    job.target.add_name(ref);
  }
  return true;
}

Result<bool> never_ran_here(Job& job, std::string_view meaning) {
  const bool asked = job.target.ref || name_by_label(job);
  if (!job.target.ref &&
      ((!asked && job.target.config_state != ConfigState::missing) || !job.target.records_unreadable.empty())) {
    return fail(ErrorKind::other, unnamed_and_unasked(job));
  }
  if (job.target.ref) return false;
  // Nothing names a domain — no config (or one unusable past reading), no label, no record of a
  // start or of a good read here since boot (HA_RSCTMP is emptied at boot): the config-missing rule.
  job.log().info("{}; nothing else names its domain and there is no record of a start on this node since boot: {}",
                 job.target.config_problem->reason, meaning);
  return true;
}

std::string unnamed_and_unasked(const Job& job) {
  if (!job.target.records_unreadable.empty()) {
    return fmt::format(
        "{}; nothing else names its domain, and vmha's records cannot be read ({}): whether it runs "
        "here is unknown",
        job.target.config_problem->reason, job.target.records_unreadable);
  }
  return fmt::format(
      "{}; nothing else on this node names its domain, and libvirt cannot be asked for one labelled "
      "as {}'s: whether it runs here is unknown",
      job.target.config_problem->reason, job.request.call.resource);
}

std::string records_unreadable(const Job& job) {
  return fmt::format(
      "libvirt shows no domain {} running, but vmha's records cannot be read ({}): they could tell "
      "of a start still under way or a QEMU that outlived a stop",
      job.target.ref ? job.target.ref->label() : std::string("of this resource"), job.target.records_unreadable);
}

std::optional<virt::ProcessCheck> recorded_survivor(Job& job) {
  const auto& start = job.target.start;
  if (!start || start->survivor == 0) return std::nullopt;
  const auto& ran = start->survivor_domain.name.empty() ? start->domain : start->survivor_domain;
  if (job.processes == nullptr) {
    return virt::ProcessCheck{virt::Evidence::unknown, start->survivor, "no local evidence for this URI"};
  }
  auto seen = job.processes->check_pid(ran, start->survivor, job.query_deadline());
  if (seen.evidence == virt::Evidence::gone) return std::nullopt;
  seen.pid = start->survivor;
  seen.detail =
      fmt::format("QEMU pid {} of {} outlived an earlier stop: {}", start->survivor, ran.label(), seen.detail);
  return seen;
}

void remember_survivor(Job& job, const virt::DomainRef& ref, int pid) {
  auto record = job.target.start.value_or(StartRecord{ref, false, {}, 0, {}});
  record.survivor = pid;
  record.survivor_domain = ref;
  if (auto written = job.records.remember_start(record); !written) {
    job.log().warning("cannot record the surviving QEMU pid {}: {}", pid, written.error().reason);
  }
  job.target.start = record;
}

StartRecord next_start_record(const Job& job, const virt::DomainRef& domain, bool launching, std::string daemon) {
  StartRecord record{domain, launching, std::move(daemon), 0, {}};
  if (job.target.start) {
    record.survivor = job.target.start->survivor;
    record.survivor_domain = job.target.start->survivor_domain;
  }
  return record;
}

virt::DomainRef as_libvirt_knows(Job& job, const virt::DomainRef& ref) {
  const auto facts = job.domains.facts(ref, job.query_deadline());
  if (!facts || facts->name.empty()) return ref;
  return virt::DomainRef{facts->name, facts->uuid.empty() ? ref.uuid : facts->uuid};
}

void label_domain(Job& job, const virt::DomainRef& ref) {
  const std::string& resource = job.request.call.resource;
  if (resource.empty() || job.hypervisor == nullptr) return;
  if (auto labelled = job.hypervisor->label(ref, resource, job.query_deadline()); !labelled) {
    job.log().warning("domain {} not labelled as {}'s: {}", ref.label(), resource, labelled.error().reason);
  }
}

std::optional<std::string> launch_may_land(Job& job) {
  const auto& start = job.target.start;
  if (!start || !start->launching) return std::nullopt;
  const auto now = job.processes != nullptr ? job.processes->daemon_instance() : std::nullopt;
  if (now && !start->daemon.empty() && *now != start->daemon) {
    // The call died with the old daemon — unless it landed just before the restart, and the new
    // daemon took the QEMU over: the earlier lookups may predate that, so look once more.
    const auto found = find_running(job, job.query_deadline());
    if (!found || *found) {
      return fmt::format("libvirt's daemon was restarted after a start of {} gave up on it, and {}",
                         start->domain.label(),
                         found ? fmt::format("domain {} now runs", (*found)->ref.label())
                               : "whether the call landed first cannot be told: " + found.error().reason);
    }
    // A QEMU the old daemon started but never recorded would be invisible to the new one.
    if (job.processes != nullptr) {
      for (const auto& name : job.target.names()) {
        const auto seen = job.processes->check(name, job.query_deadline());
        if (seen.evidence != virt::Evidence::gone) {
          return fmt::format("libvirt's daemon was restarted after a start of {} gave up on it, and {}",
                             start->domain.label(), seen.detail);
        }
      }
    }
    job.log().info(
        "libvirt's daemon was restarted (was {}, now {}) since a start gave up on it: what it was "
        "still doing for {} died with it",
        start->daemon, *now, start->domain.label());
    auto settled = next_start_record(job, start->domain, false);
    if (job.records.remember_start(settled)) job.target.start = settled;
    return std::nullopt;
  }
  return fmt::format(
      "a start of {} gave up on a libvirt call that can still create the domain, and libvirt's daemon{} has not "
      "been restarted since: vmha cannot prove the domain will not run here (restart libvirtd, or remove {} once "
      "sure)",
      start->domain.label(),
      start->daemon.empty() ? "" : fmt::format(" (pid {})", start->daemon.substr(0, start->daemon.find(' '))),
      job.records.path("domain"));
}

}  // namespace vmha::agents
