// What vmha knows about a libvirt domain, independent of libvirt's C types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vmha::virt {

/// libvirt's virDomainState, one to one.
enum class DomainState {
  no_state = 0,
  running = 1,
  blocked = 2,
  paused = 3,
  shutting_down = 4,
  shut_off = 5,
  crashed = 6,
  pm_suspended = 7,
};

/// The guest executes: running, or blocked on a resource.
[[nodiscard]] constexpr bool is_executing(DomainState state) noexcept {
  return state == DomainState::running || state == DomainState::blocked;
}

/// A state with libvirt's reason code for it (virDomainRunningReason, virDomainPausedReason…).
struct StateInfo {
  DomainState state = DomainState::no_state;
  int reason = 0;
  bool operator==(const StateInfo&) const = default;
};

/// libvirt's running reasons that matter (virDomainRunningReason).
enum RunningReason : int {
  running_booted = 1,
  running_migrated = 2,
};

/// libvirt's paused reasons that matter for monitoring (virDomainPausedReason).
enum PausedReason : int {
  paused_unknown = 0,
  paused_user = 1,
  paused_migration = 2,
  paused_save = 3,
  paused_dump = 4,
  paused_ioerror = 5,
  paused_watchdog = 6,
  paused_from_snapshot = 7,
  paused_shutting_down = 8,
  paused_snapshot = 9,
  paused_crashed = 10,
  paused_starting_up = 11,
  paused_postcopy = 12,
  paused_postcopy_failed = 13,
};

/// "8D5F…" or "8d5f…" with or without dashes → canonical "8d5f…-…"; empty when malformed.
[[nodiscard]] std::string canonical_uuid(std::string_view text);

/// A name libvirt could have given a domain and safe inside a path: 1 to 255 bytes, no '/', no
/// control character, not "." or "..".
[[nodiscard]] bool valid_domain_name(std::string_view name);

/// "running (booted)", "paused (I/O error)", "shut off (destroyed)".
[[nodiscard]] std::string describe(StateInfo info);

/// Which domain: the one with this UUID when known (names can be reused), and when no domain
/// has it, the one with this name (a config whose UUID was edited while its domain ran).
struct DomainRef {
  std::string name;
  std::string uuid;  ///< lower-case canonical form, or empty
  [[nodiscard]] std::string label() const { return uuid.empty() ? name : name + " (" + uuid + ")"; }
  bool operator==(const DomainRef&) const = default;
};

/// libvirt's word that nothing of the domain runs: no such domain, or one shut off.
[[nodiscard]] inline bool is_gone(const std::optional<StateInfo>& state) noexcept {
  return !state || state->state == DomainState::shut_off;
}

/// Facts read from a defined or running domain.
struct DomainFacts {
  std::string name;
  std::string uuid;
  unsigned vcpus = 0;
  std::uint64_t max_memory_kib = 0;
  bool persistent = false;
  bool active = false;
};

/// What the agents read of a domain XML (parsed by domain_xml.hpp, in libvmha-virt).
struct DiskSource {
  std::string type;        ///< file, block, network, volume, dir
  std::string device;      ///< disk, cdrom, floppy, lun
  std::string path;        ///< file= or dev= (or dir=); empty for network and volume disks
  std::string pool;        ///< for type='volume'
  std::string volume;      ///< for type='volume'
  std::string target_dev;  ///< the guest's device name (<target dev=…>), e.g. vda
};

struct DomainXml {
  std::string name;
  std::string uuid;      ///< canonical lower-case, or empty when the XML has none
  std::string type;      ///< domain type: kvm, qemu, …
  std::string emulator;  ///< devices/emulator
  std::uint64_t memory_kib = 0;
  unsigned vcpus = 0;
  std::vector<DiskSource> disks;
  std::vector<std::string> networks;  ///< interface type='network' sources
  std::vector<std::string> bridges;   ///< interface type='bridge' sources
  std::string arch;                   ///< os/type arch=, e.g. x86_64
  std::string machine;                ///< os/type machine=, e.g. pc-q35-7.2
  std::string cpu_mode;               ///< cpu mode= (custom, host-model, host-passthrough…), empty: none
  std::string cpu_model;              ///< cpu/model text for a custom CPU
  std::string cpu_xml;                ///< the <cpu> element as written, for a CPU comparison
  /// A virtio channel named org.qemu.guest_agent.0: libvirt can talk to a guest agent.
  bool guest_agent_channel = false;
  std::vector<std::string> pools;  ///< storage pools of volume disks
  std::string label;               ///< the resource its vmha label names, or empty

  [[nodiscard]] DomainRef ref() const { return DomainRef{name, uuid}; }
};

/// The namespace of vmha's label in a domain's <metadata>: <vmha:resource name="…"/>.
inline constexpr std::string_view kLabelNamespace = "urn:vmha:resource:1";

}  // namespace vmha::virt
