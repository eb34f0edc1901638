// The domain a VirtualDomain resource manages on this node, and every name it may run under.
//
// A config that cannot be read or parsed is never proof that nothing runs: the domain is still
// named by what a tolerant read of the file gives, by the last good read's identity and by the
// start record. Only when nothing names a domain does the config-missing rule apply.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "VirtualDomain/records.hpp"
#include "vmha/result.hpp"
#include "vmha/virt/domain.hpp"

namespace vmha::agents {

/// How the config file was found on this node.
enum class ConfigState {
  usable,      ///< read and parsed
  missing,     ///< ENOENT: not on this node
  unreadable,  ///< there, but cannot be read (permissions, I/O error, a hung file system, not a regular file)
  malformed,   ///< read, but not a domain XML vmha accepts
};

struct Target {
  ConfigState config_state = ConfigState::missing;
  std::optional<virt::DomainXml> config;  ///< the parsed config, when usable
  std::string config_text;
  std::optional<Error> config_problem;  ///< why the config is not usable: 5 missing, 2 malformed, 4 or 1 unreadable
  /// The domain by its best name: the config, else a tolerant read of it, else the records.
  std::optional<virt::DomainRef> ref;
  /// Further names the records give when they differ from `ref`: a domain started under an
  /// older config still runs under its old name.
  std::vector<virt::DomainRef> others;
  std::optional<StartRecord> start;  ///< the start record
  /// What a good read found (name, UUID, the file's version), for the records.
  std::optional<ConfigIdentity> identity;
  std::string records_unreadable;  ///< why a record could not be read: then no record proves nothing

  /// ref, then others.
  [[nodiscard]] std::vector<virt::DomainRef> names() const;
  /// Adds a name unless one with the same name and UUID is known.
  void add_name(const virt::DomainRef& name);
};

/// Adds what the records know: the last good read of `config` and the start record.
void add_recorded_names(Target& target, const Records& records, const std::string& config);

}  // namespace vmha::agents
