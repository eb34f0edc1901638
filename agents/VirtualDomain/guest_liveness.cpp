// A monitor at depth 10 (OCF_CHECK_LEVEL=10): the guest agent must answer a ping. Misses in a
// row are counted in the liveness record, so one slow answer never fails the monitor.
#include <fmt/core.h>

#include "VirtualDomain/job.hpp"

namespace vmha::agents {
namespace {

using ocf::Status;
using virt::GuestAgentReply;

/// Leaves the monitor this much of its budget after the ping's wait.
constexpr sys::Millis kAfterPing{2'000};
/// After an unanswered command libvirt first re-synchronises with the agent (guest-sync),
/// waiting about 5 s for it, before it sends the next command (libvirt 9.0; measured: a ping
/// with a 3 s timeout to a frozen agent took 5.0 s). timeout + max(5 s, timeout) bounds both.
constexpr std::chrono::seconds kLibvirtSync{5};

/// The longest a ping with this timeout can keep libvirt busy.
std::chrono::seconds ping_time(std::chrono::seconds timeout) {
  return timeout + std::max(kLibvirtSync, timeout);
}

std::int64_t steady_ms(const sys::Clock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock.now().time_since_epoch()).count();
}

std::string seconds_text(std::int64_t ms) {
  return fmt::format("{} s", (ms + 500) / 1000);
}

}  // namespace

Result<Status> check_guest_agent(Job& job, const Sighting& seen) {
  const virt::DomainRef& ref = seen.ref;
  const std::string name = ref.label();
  if (job.hypervisor == nullptr) {
    job.log().debug("depth {}: no libvirt client here, the guest agent of {} is not asked",
                    job.request.call.check_level, name);
    return Status::success;
  }
  const auto budget = job.deadline().remaining() - kAfterPing;
  auto timeout = job.settings.guest_agent_timeout;
  while (timeout > std::chrono::seconds(1) && ping_time(timeout) > budget) timeout -= std::chrono::seconds(1);
  if (ping_time(timeout) > budget) {
    job.log().warning("the monitor's time is too short to ping the guest agent of {}; not asked", name);
    return Status::success;
  }
  if (timeout < job.settings.guest_agent_timeout) {
    job.log().warning("guest_agent_timeout={} s does not fit the monitor's timeout: waiting {} s",
                      job.settings.guest_agent_timeout.count(), timeout.count());
  }
  auto ping =
      job.hypervisor->ping_guest_agent(ref, timeout, job.deadline().within(ping_time(timeout) + kAfterPing / 2));
  if (!ping) {
    // libvirt itself failed (it answered the state a moment ago): nothing learnt of the guest.
    job.log().warning("{}; the guest agent's answer is unknown, not counted", ping.error().reason);
    return Status::success;
  }
  if (ping->reply == GuestAgentReply::no_channel) {
    // Shown in the status (degraded), but never a recovery: the VM itself is fine.
    job.log().error(
        "depth 10 asks for the guest agent, but domain {} has no org.qemu.guest_agent.0 channel: liveness not checked",
        name);
    return Status::degraded;
  }
  if (ping->reply == GuestAgentReply::not_executing) {
    job.log().debug("domain {} is not executing: its guest agent cannot answer, not counted", name);
    return Status::success;
  }

  const std::int64_t now = steady_ms(job.services.clock);
  auto record = job.records.liveness().value_or(LivenessRecord{});
  if (record.domain_id != ping->domain_id || record.uuid != ref.uuid) {
    record = LivenessRecord{ping->domain_id, ref.uuid, std::nullopt, 0, 0, {}};  // a new run of the domain
    // A domain that arrived by live migration is no guest at boot: its silence counts from now
    // (libvirt gives it a new ID here). A guest still booting when it moved has not connected its
    // agent, which resets the count below.
    if (seen.state.state == virt::DomainState::running && seen.state.reason == virt::running_migrated) {
      record.answered_ms = now;
    }
  }
  record.checked_ms = now;
  Result<Status> verdict = Status::success;
  if (!job.settings.liveness_problem.empty()) {
    job.log().error("{}: using guest_agent_timeout={} s and guest_agent_misses={}", job.settings.liveness_problem,
                    job.settings.guest_agent_timeout.count(), job.settings.guest_agent_misses);
  }
  if (ping->reply == GuestAgentReply::not_connected) {
    // The guest closed the agent's port: it reboots, or its agent stopped. A hung kernel keeps
    // the port open (and is silent instead). Counted anew from the next answer, as at boot.
    if (record.answered_ms) {
      job.log().warning(
          "the guest agent of {} disconnected ({}): the guest reboots or its agent stopped; counting "
          "again after its next answer",
          name, ping->detail);
    } else {
      job.log().warning("the guest agent of {} has not connected since the domain started ({}); not counted", name,
                        ping->detail);
    }
    record.answered_ms.reset();
    record.misses = 0;
    record.last = ping->detail;
  } else if (ping->reply == GuestAgentReply::answered) {
    if (record.misses > 0) {
      job.log().info("the guest agent of {} answers again after {} missed ping(s)", name, record.misses);
    }
    record.answered_ms = now;
    record.misses = 0;
    record.last = "answered";
  } else {
    record.last = ping->detail;
    if (!record.answered_ms) {
      // Not yet answered in this run: the guest may still be booting. Not counted.
      job.log().warning(
          "the guest agent of {} has not answered since the domain started ({}); not counted until it has", name,
          ping->detail);
    } else {
      ++record.misses;
      const std::string silent = seconds_text(now - *record.answered_ms);
      if (record.misses >= job.settings.guest_agent_misses) {
        verdict = fail(ErrorKind::other,
                       fmt::format("the guest of domain {} has not answered its agent for {} ({} pings in a row, "
                                   "guest_agent_misses={}): {}",
                                   name, silent, record.misses, job.settings.guest_agent_misses, ping->detail));
      } else {
        job.log().warning("the guest agent of {} did not answer (miss {} of {}, silent for {}): {}", name,
                          record.misses, job.settings.guest_agent_misses, silent, ping->detail);
      }
    }
  }
  if (auto written = job.records.remember_liveness(record); !written) {
    job.log().error("cannot record the guest agent's answer, misses are not counted: {}", written.error().reason);
  }
  return verdict;
}

}  // namespace vmha::agents
