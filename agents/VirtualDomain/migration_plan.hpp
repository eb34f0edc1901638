// Where a migration goes: the target's libvirt URI and the data URI, built from the
// parameters as ocf:heartbeat:VirtualDomain builds them, and the request for libvirt.
#pragma once

#include <string>
#include <string_view>

#include "VirtualDomain/settings.hpp"
#include "vmha/result.hpp"
#include "vmha/virt/migration.hpp"

namespace vmha::agents {

/// "%n" in a remoteuri or migrateuri pattern replaced by the target node's name.
[[nodiscard]] std::string substitute_node(std::string_view pattern, std::string_view node);

/// The target's name on the migration network: the suffix goes after the first label
/// (node2.example.com + "-mig" → node2-mig.example.com).
[[nodiscard]] std::string with_suffix(std::string_view node, std::string_view suffix);

/// The target's libvirt URI: remoteuri, or the local URI with its host swapped for the
/// target (suffixed), migration_user and migration_transport added, port and path kept.
[[nodiscard]] Result<std::string> target_uri(const MigrationSettings& m, std::string_view local_uri,
                                             std::string_view target);

/// The data URI: migrateuri, else --migrateuri of migrate_options, else tcp://<target>[:port]
/// when a suffix or migrateport asks for one, else empty (the target's libvirt chooses).
[[nodiscard]] std::string data_uri(const MigrationSettings& m, std::string_view target);

/// The whole request: URIs, flags from migrate_options and the vmha parameters, bandwidth,
/// downtime and compression.
[[nodiscard]] Result<virt::MigrationRequest> plan_migration(const MigrationSettings& m, std::string_view local_uri,
                                                            std::string_view target);

/// What a migration will apply, for the log and an admin: destination, data URI, bandwidth,
/// maximum downtime, compression, parallel connections and the libvirt flags, each with
/// "default" where the hypervisor chooses.
[[nodiscard]] std::string describe(const virt::MigrationRequest& request);

}  // namespace vmha::agents
