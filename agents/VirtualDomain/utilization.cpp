// Utilization attributes (cpu, host_memory, hv_memory) for placement-strategy.
//
// The stock agent reads and writes the CIB on every monitor (3 to 6 crm_resource calls).
// Here the values last written are kept in a record, so a monitor whose values did not change
// spawns nothing; a failed write is retried at most once a minute and never fails the monitor.
#include <chrono>
#include <ctime>

#include <fmt/core.h>

#include "VirtualDomain/job.hpp"
#include "vmha/ocf/values.hpp"

namespace vmha::agents {
namespace {

constexpr std::time_t kRetryAfterFailure = 60;  // seconds
constexpr std::chrono::milliseconds kWriteTime{5'000};
constexpr std::string_view kDelete = "(deleted)";

struct Wanted {
  std::string name;
  std::string value;  ///< kDelete to remove the attribute
};

std::vector<Wanted> wanted_values(const Settings& s, const virt::DomainFacts& facts) {
  const std::string memory = std::to_string(facts.max_memory_kib / 1024);
  std::vector<Wanted> out;
  const auto add = [&](bool autoset, bool unset, const char* name, const std::string& value) {
    if (autoset) {
      out.push_back({name, value});
    } else if (unset) {
      out.push_back({name, std::string(kDelete)});
    }
  };
  add(s.autoset_cpu, s.unset_cpu, "cpu", std::to_string(facts.vcpus));
  add(s.autoset_host_memory, s.unset_host_memory, "host_memory", memory);
  add(s.autoset_hv_memory, s.unset_hv_memory, "hv_memory", memory);
  return out;
}

Result<void> write_attribute(Job& job, const Wanted& wanted) {
  const std::string& resource = job.request.call.resource;
  std::vector<std::string> argv{"crm_resource", "--resource", resource, "--utilization"};
  if (wanted.value == kDelete) {
    argv.insert(argv.end(), {"--delete-parameter", wanted.name});
  } else {
    argv.insert(argv.end(), {"--set-parameter", wanted.name, "--parameter-value", wanted.value});
  }
  auto done = job.services.runner.run(sys::Command(argv), job.deadline().within(kWriteTime).at());
  VMHA_TRY(done);
  if (!done->succeeded()) {
    return fail(ErrorKind::other,
                fmt::format("crm_resource {} {}: {} {}", wanted.value == kDelete ? "delete" : "set", wanted.name,
                            done->describe(), done->err.substr(0, done->err.find('\n'))));
  }
  return {};
}

}  // namespace

void update_utilization(Job& job) {
  const Settings& s = job.settings;
  const bool any = s.autoset_cpu || s.autoset_host_memory || s.autoset_hv_memory || s.unset_cpu ||
                   s.unset_host_memory || s.unset_hv_memory;
  if (!any || job.request.call.resource.empty() || !job.records.enabled()) return;
  const auto facts = job.domains.facts(*job.target.ref, job.query_deadline());
  if (!facts) {
    job.log().warning("utilization not updated: {}", facts.error().reason);
    return;
  }
  auto written = job.records.utilization();
  const std::time_t now = std::time(nullptr);
  if (const auto it = written.find("failed-at"); it != written.end()) {
    const auto failed_at = ocf::parse_integer(it->second);
    if (failed_at && now - *failed_at < kRetryAfterFailure) return;
  }
  bool changed = false;
  bool failed = false;
  for (const auto& wanted : wanted_values(s, *facts)) {
    if (const auto it = written.find(wanted.name); it != written.end() && it->second == wanted.value) continue;
    if (auto ok = write_attribute(job, wanted); ok) {
      job.log().info("utilization {} set to {}", wanted.name, wanted.value);
      written[wanted.name] = wanted.value;
      changed = true;
    } else {
      job.log().warning("utilization {} not written (retried in {} s): {}", wanted.name, kRetryAfterFailure,
                        ok.error().reason);
      failed = true;
    }
  }
  if (failed) {
    written["failed-at"] = std::to_string(now);
  } else {
    changed = written.erase("failed-at") > 0 || changed;
  }
  if (!(changed || failed)) return;
  if (auto saved = job.records.remember_utilization(written); !saved) {
    job.log().warning("cannot write the utilization record: {}", saved.error().reason);
  }
}

}  // namespace vmha::agents
