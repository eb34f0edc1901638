// A deterministic simulation of a two-node cluster running one VM under ocf:vmha:VirtualDomain:
// seeded sequences of Pacemaker's calls and of faults, on the fake libvirt worlds and one
// manual clock, checked after every step: the domain never runs on two nodes at once, and no
// action runs past its deadline. A failing sequence shrinks to a short one that still fails.
//
// Pacemaker is a small model of how it reacts to the answers: a start's 0 makes the VM active
// there; a monitor's or probe's 7, or a stop's 0, lets it start the VM elsewhere; a failed
// stop fences the node (which kills everything on it and empties its records); a failed start
// or monitor is followed by a stop; a probe finding the VM active twice stops both copies. With
// stonith disabled, a failed stop blocks the resource (nothing is done with it) until a cleanup.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace vmha::sim {

enum class StepKind : std::uint8_t {
  pacemaker,            ///< Pacemaker takes its next decision; `param` chooses where it has a choice
  time_passes,          ///< `param` seconds go by (abandoned calls may land)
  libvirtd_down,        ///< the node's libvirtd stops (its QEMUs live on)
  libvirtd_up,          ///< …and comes back, reattaching to them
  libvirtd_hangs,       ///< libvirtd stops answering (SIGSTOP)
  libvirtd_answers,     ///< …and answers again, at its normal speed
  libvirtd_slow,        ///< every call takes `param` % 20 seconds
  libvirtd_restarts,    ///< a new daemon: calls the old one was carrying out die with it
  calls_land_late,      ///< create/start/restore time out for the agent, land `param` % 120 + 1 s later
  calls_answer,         ///< no more late landings
  qemu_killed,          ///< the VM's QEMU dies on this node
  destroy_leaves_qemu,  ///< libvirt calls a destroyed QEMU gone while it lives on, stuck
  config_broken,        ///< `param` % 4: emptied, cut after <uuid>, unreadable, on a hung file system
  config_restored,
  drbd_outdated,  ///< this node's DRBD disk is Outdated: a start here is refused
  drbd_uptodate,
  node_crash,  ///< the node dies; Pacemaker fences it; it stays down until node_boot
  node_boot,
  cleanup,           ///< `crm resource cleanup`: bans lifted, every node probed again
  storage_returns,   ///< a QEMU stuck in the kernel finally dies; destroys work again
  stonith_disabled,  ///< a failed stop no longer fences: the resource is blocked until a cleanup
  stonith_enabled,
};

struct Step {
  StepKind kind = StepKind::pacemaker;
  std::uint8_t node = 0;  ///< 0 or 1
  std::uint32_t param = 0;
  bool operator==(const Step&) const = default;
};

struct Outcome {
  bool ok = true;
  std::size_t steps_run = 0;
  long actions = 0;              ///< agent actions performed
  std::string failure;           ///< what broke, when !ok
  std::vector<std::string> log;  ///< each step and each action's answer, when traced
};

/// Runs `steps` on a fresh cluster; stops at the first broken invariant. `trace` fills the log.
[[nodiscard]] Outcome simulate(const std::vector<Step>& steps, bool trace = false);

/// `count` steps drawn from `seed` (std::mt19937_64: the same on every machine).
[[nodiscard]] std::vector<Step> random_steps(std::uint64_t seed, std::size_t count);

/// Whether a sequence fails.
using Verdict = std::function<bool(const std::vector<Step>&)>;

/// The shortest failing sequence delta debugging (ddmin) finds inside a failing one.
[[nodiscard]] std::vector<Step> shrink(const std::vector<Step>& failing, const Verdict& fails);
/// shrink() with the simulation as the verdict.
[[nodiscard]] std::vector<Step> shrink(const std::vector<Step>& failing);

[[nodiscard]] std::string describe(const Step& step);

}  // namespace vmha::sim
