#include "VirtualDomain/migration_plan.hpp"

#include <array>
#include <vector>

#include <fmt/format.h>

namespace vmha::agents {

std::string substitute_node(std::string_view pattern, std::string_view node) {
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '%' && i + 1 < pattern.size() && pattern[i + 1] == 'n') {
      out += node;
      ++i;
    } else {
      out += pattern[i];
    }
  }
  return out;
}

std::string with_suffix(std::string_view node, std::string_view suffix) {
  const auto dot = node.find('.');
  if (dot == std::string_view::npos) return fmt::format("{}{}", node, suffix);
  return fmt::format("{}{}{}", node.substr(0, dot), suffix, node.substr(dot));
}

Result<std::string> target_uri(const MigrationSettings& m, std::string_view local_uri, std::string_view target) {
  if (!m.remoteuri.empty()) return substitute_node(m.remoteuri, target);
  const auto separator = local_uri.find("://");
  if (separator == std::string_view::npos || separator == 0) {
    return fail(ErrorKind::misconfigured,
                fmt::format("cannot derive the target's libvirt URI from '{}': set remoteuri", local_uri));
  }
  std::string scheme(local_uri.substr(0, separator));
  if (!m.transport.empty()) scheme = fmt::format("{}+{}", scheme.substr(0, scheme.find('+')), m.transport);
  const std::string_view rest = local_uri.substr(separator + 3);
  const auto path_at = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, path_at);
  const std::string_view path = path_at == std::string_view::npos ? std::string_view("/") : rest.substr(path_at);
  // The port survives the swap; a user in the local URI does not (as VirtualDomain does).
  const std::string_view host_port =
      authority.substr(authority.find('@') == std::string_view::npos ? 0 : authority.find('@') + 1);
  const auto colon = host_port.rfind(':');
  const bool bracketed = host_port.find(']') != std::string_view::npos;
  const std::string_view port = colon != std::string_view::npos && (!bracketed || colon > host_port.find(']'))
                                    ? host_port.substr(colon)
                                    : std::string_view();
  const std::string user = m.user.empty() ? std::string() : m.user + "@";
  return fmt::format("{}://{}{}{}{}", scheme, user, with_suffix(target, m.network_suffix), port, path);
}

std::string data_uri(const MigrationSettings& m, std::string_view target) {
  if (!m.migrateuri.empty()) return substitute_node(m.migrateuri, target);
  if (!m.options.migrate_uri.empty()) return substitute_node(m.options.migrate_uri, target);
  if (m.network_suffix.empty() && !m.port) return {};
  const std::string host = with_suffix(target, m.network_suffix);
  return m.port ? fmt::format("tcp://{}:{}", host, *m.port) : fmt::format("tcp://{}", host);
}

Result<virt::MigrationRequest> plan_migration(const MigrationSettings& m, std::string_view local_uri,
                                              std::string_view target) {
  if (target.empty()) {
    return fail(ErrorKind::invalid, "no target node: OCF_RESKEY_CRM_meta_migrate_target is not set");
  }
  auto destination = target_uri(m, local_uri, target);
  VMHA_TRY(destination);
  virt::MigrationRequest request;
  request.destination = std::move(*destination);
  request.migrate_uri = data_uri(m, target);
  request.flags = virt::migrate_live | m.options.flags;
  if (m.auto_converge) request.flags |= virt::migrate_auto_converge;
  request.compression = m.compression.empty() ? m.options.compression : m.compression;
  if (!request.compression.empty()) request.flags |= virt::migrate_compressed;
  if (m.postcopy_after.count() > 0) request.flags |= virt::migrate_postcopy;
  request.bandwidth_mib = m.speed_mib != 0 ? m.speed_mib : m.options.bandwidth_mib;
  request.max_downtime_ms = m.downtime_ms;
  request.parallel_connections = m.options.parallel_connections;
  request.listen_address = m.options.listen_address;
  return request;
}

std::string describe(const virt::MigrationRequest& request) {
  struct Named {
    virt::MigrateFlag flag;
    std::string_view name;
  };
  static constexpr std::array<Named, 16> kFlags{{{virt::migrate_live, "live"},
                                                 {virt::migrate_peer2peer, "peer2peer"},
                                                 {virt::migrate_tunnelled, "tunnelled"},
                                                 {virt::migrate_persist_dest, "persist-dest"},
                                                 {virt::migrate_undefine_source, "undefine-source"},
                                                 {virt::migrate_paused, "paused"},
                                                 {virt::migrate_non_shared_disk, "copy-storage-all"},
                                                 {virt::migrate_non_shared_inc, "copy-storage-inc"},
                                                 {virt::migrate_change_protection, "change-protection"},
                                                 {virt::migrate_unsafe, "unsafe"},
                                                 {virt::migrate_compressed, "compressed"},
                                                 {virt::migrate_abort_on_error, "abort-on-error"},
                                                 {virt::migrate_auto_converge, "auto-converge"},
                                                 {virt::migrate_postcopy, "postcopy"},
                                                 {virt::migrate_tls, "tls"},
                                                 {virt::migrate_parallel, "parallel"}}};
  std::vector<std::string_view> flags;
  for (const auto& named : kFlags) {
    if ((request.flags & named.flag) != 0) flags.push_back(named.name);
  }
  const auto or_default = [](std::uint64_t value, std::string_view unit) {
    return value == 0 ? std::string("default") : fmt::format("{} {}", value, unit);
  };
  return fmt::format(
      "destination {}, data over {}{}, bandwidth {}, max downtime {}, compression {}, parallel connections {}, "
      "flags {}",
      request.destination, request.migrate_uri.empty() ? "the destination's choice" : request.migrate_uri,
      request.listen_address.empty() ? std::string() : fmt::format(" (listening on {})", request.listen_address),
      or_default(request.bandwidth_mib, "MiB/s"), or_default(request.max_downtime_ms, "ms"),
      request.compression.empty() ? std::string("default") : fmt::format("{}", fmt::join(request.compression, ",")),
      request.parallel_connections == 0 ? std::string("default") : std::to_string(request.parallel_connections),
      flags.empty() ? std::string("none") : fmt::format("{}", fmt::join(flags, ",")));
}

}  // namespace vmha::agents
