// Small files the agent keeps under HA_RSCTMP (/run/resource-agents, emptied at boot).
//
// The start record names the domain this resource started, or began to start, on this node
// since boot; it is written before the first call that can create the domain, so its absence
// proves the agent did not start the domain here since boot. The config identity keeps the
// name and UUID of the last good read of the config file, so a config broken later still
// names its domain. The utilization record holds the values last written to the CIB. The
// liveness record holds what depth-10 monitors saw of the guest agent in the domain's current run.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "vmha/result.hpp"
#include "vmha/sys/environment.hpp"
#include "vmha/sys/files.hpp"
#include "vmha/virt/domain.hpp"

namespace vmha::agents {

/// What the start record says.
struct StartRecord {
  virt::DomainRef domain;
  /// Written before a call that can create the domain (create, start, restore) and cleared
  /// once that call answered. Still set: the call was abandoned at a deadline, and libvirt may
  /// still carry it out.
  bool launching = false;
  /// The libvirt daemon that was given that call ("pid start-time"), empty when unknown: once
  /// another daemon serves the node, the abandoned call died with the old one.
  std::string daemon;
  /// The pid of a QEMU that outlived a stop (libvirt called it destroyed while a thread of it
  /// was stuck in the kernel), 0 when none: libvirt no longer knows it, this record does.
  int survivor = 0;
  virt::DomainRef survivor_domain;  ///< the domain that QEMU ran
  bool operator==(const StartRecord&) const = default;
};

/// The domain named by the last good read of a config file, and that file's version then.
struct ConfigIdentity {
  virt::DomainRef domain;
  std::string version;  ///< sys::FileInfo::version() of the file that was read
};

/// What depth-10 monitors saw of the guest agent during one run of the domain (times are
/// steady-clock milliseconds: the record lives in /run, which a reboot empties).
struct LivenessRecord {
  int domain_id = -1;  ///< the run: libvirt's domain ID, new at each start
  std::string uuid;
  std::optional<std::int64_t> answered_ms;  ///< the last answer in this run; none yet: still booting
  int misses = 0;                           ///< unanswered pings since the last answer, in a row
  std::int64_t checked_ms = 0;              ///< the last ping
  std::string last;                         ///< what it got: "answered", or libvirt's message
  bool operator==(const LivenessRecord&) const = default;
};

class Records {
 public:
  /// `key` names the resource (the instance without clone suffix); empty disables records.
  Records(sys::FileSystem& files, std::string dir, std::string key, sys::Clock::time_point deadline)
      : files_(&files), dir_(std::move(dir)), key_(std::move(key)), deadline_(deadline) {}
  static Records from_environment(sys::FileSystem& files, const sys::Environment& env, const std::string& resource,
                                  sys::Clock::time_point deadline);

  [[nodiscard]] bool enabled() const { return !key_.empty(); }

  /// The start record; nullopt when there is none (or it names no valid domain).
  [[nodiscard]] std::optional<StartRecord> start_record() const;
  [[nodiscard]] Result<void> remember_start(const StartRecord& record) const;
  /// Removes the start record; a record that cannot be removed is an error the caller logs.
  [[nodiscard]] Result<void> forget_start() const;

  /// The last good read of `config` (whatever its version now).
  [[nodiscard]] std::optional<ConfigIdentity> config_identity(const std::string& config) const;
  [[nodiscard]] Result<void> remember_config_identity(const std::string& config, const ConfigIdentity& identity) const;

  [[nodiscard]] std::map<std::string, std::string> utilization() const;
  [[nodiscard]] Result<void> remember_utilization(const std::map<std::string, std::string>& values) const;

  [[nodiscard]] std::optional<LivenessRecord> liveness() const;
  [[nodiscard]] Result<void> remember_liveness(const LivenessRecord& record) const;
  /// Removes the liveness record (the domain stopped here, or starts anew).
  [[nodiscard]] Result<void> forget_liveness() const;

  [[nodiscard]] std::string path(std::string_view kind) const;
  /// Why a record could not be read (anything but "there is none"), empty when all could: an
  /// unreadable record proves nothing about what this node started.
  [[nodiscard]] const std::string& unreadable() const { return unreadable_; }

 private:
  [[nodiscard]] std::optional<std::string> read(std::string_view kind) const;
  [[nodiscard]] Result<void> write(std::string_view kind, const std::string& text) const;
  [[nodiscard]] Result<void> forget(std::string_view kind) const;

  sys::FileSystem* files_;
  std::string dir_;
  std::string key_;
  sys::Clock::time_point deadline_;
  mutable std::string unreadable_;
};

}  // namespace vmha::agents
