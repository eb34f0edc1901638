// The migration parameters and migrate_options, read and checked once.
#include <algorithm>
#include <array>

#include <fmt/core.h>

#include "VirtualDomain/parameters.hpp"

#include "VirtualDomain/settings.hpp"
#include "vmha/ocf/values.hpp"
#include "vmha/virt/migration.hpp"

namespace vmha::agents {

namespace param = VirtualDomain_param;

namespace {

/// `virsh migrate` switches and the flags they set. --live is implied: vmha only migrates live.
struct Switch {
  std::string_view name;
  std::uint32_t flags;
};
constexpr std::array<Switch, 15> kSwitches{{
    {"--live", 0},
    {"--verbose", 0},
    {"--p2p", virt::migrate_peer2peer},
    {"--tunnelled", virt::migrate_tunnelled | virt::migrate_peer2peer},
    {"--persistent", virt::migrate_persist_dest},
    {"--undefinesource", virt::migrate_undefine_source},
    {"--copy-storage-all", virt::migrate_non_shared_disk},
    {"--copy-storage-inc", virt::migrate_non_shared_inc},
    {"--change-protection", virt::migrate_change_protection},
    {"--unsafe", virt::migrate_unsafe},
    {"--compressed", virt::migrate_compressed},
    {"--abort-on-error", virt::migrate_abort_on_error},
    {"--auto-converge", virt::migrate_auto_converge},
    {"--postcopy", virt::migrate_postcopy},
    {"--tls", virt::migrate_tls},
}};
constexpr std::array<std::string_view, 5> kValued{"--migrateuri", "--bandwidth", "--comp-methods",
                                                  "--parallel-connections", "--listen-address"};
constexpr std::array<std::string_view, 4> kCompression{"xbzrle", "mt", "zlib", "zstd"};

Result<std::vector<std::string>> compression_methods(std::string_view where, std::string_view text) {
  std::vector<std::string> methods;
  for (const auto& method : ocf::split_fields(text, ',')) {
    if (method.empty()) continue;
    if (std::find(kCompression.begin(), kCompression.end(), method) == kCompression.end()) {
      return misconfigured(
          fmt::format("{}: compression method '{}' is not one of xbzrle, mt, zlib, zstd", where, method));
    }
    methods.push_back(method);
  }
  return methods;
}

Result<void> take_value(MigrateOptions& options, std::string_view name, const std::string& value) {
  const auto number = [&]() -> Result<std::int64_t> {
    const auto parsed = ocf::parse_integer(value);
    if (!parsed || *parsed < 0) {
      return misconfigured(fmt::format("migrate_options: {} needs a non-negative number, not '{}'", name, value));
    }
    return *parsed;
  };
  if (name == "--migrateuri") {
    options.migrate_uri = value;
  } else if (name == "--listen-address") {
    options.listen_address = value;
  } else if (name == "--bandwidth") {
    auto n = number();
    VMHA_TRY(n);
    options.bandwidth_mib = static_cast<std::uint64_t>(*n);
  } else if (name == "--parallel-connections") {
    auto n = number();
    VMHA_TRY(n);
    options.parallel_connections = static_cast<int>(std::min<std::int64_t>(*n, 255));
    options.flags |= virt::migrate_parallel;
  } else {
    auto methods = compression_methods("migrate_options", value);
    VMHA_TRY(methods);
    options.compression = std::move(*methods);
    options.flags |= virt::migrate_compressed;
  }
  return {};
}

}  // namespace

Result<MigrateOptions> read_migrate_options(std::string_view text) {
  MigrateOptions options;
  const auto words = ocf::split_words(text);
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string& word = words[i];
    const auto eq = word.find('=');
    const std::string name = word.substr(0, eq);
    if (const auto* found =
            std::find_if(kSwitches.begin(), kSwitches.end(), [&](const Switch& s) { return s.name == name; });
        found != kSwitches.end() && eq == std::string::npos) {
      options.flags |= found->flags;
      continue;
    }
    if (std::find(kValued.begin(), kValued.end(), name) != kValued.end()) {
      std::string value;
      if (eq != std::string::npos) {
        value = word.substr(eq + 1);
      } else if (i + 1 < words.size()) {
        value = words[++i];
      } else {
        return misconfigured(fmt::format("migrate_options: {} needs a value", name));
      }
      VMHA_TRY(take_value(options, name, value));
      continue;
    }
    if (name == "--suspend") {
      // The domain would arrive paused: migrate_from waits for it to run and fails, and
      // Pacemaker then stops the only copy of the VM.
      return misconfigured(
          "migrate_options: --suspend would leave the VM paused on the target, where the cluster "
          "expects it running");
    }
    if (name == "--parallel") {
      options.flags |= virt::migrate_parallel;
      continue;
    }
    return misconfigured(fmt::format(
        "migrate_options: '{}' is not supported by vmha (live migration options of virsh migrate such as --p2p, "
        "--tunnelled, --persistent, --undefinesource, --unsafe, --auto-converge, --postcopy, --compressed, "
        "--migrateuri=URI, --bandwidth=MiB)",
        word));
  }
  return options;
}

Result<MigrationSettings> read_migration_settings(const ocf::Params& params) {
  MigrationSettings m;
  m.transport = params.text(param::migration_transport);
  m.user = params.text(param::migration_user);
  m.network_suffix = params.text(param::migration_network_suffix);
  m.migrateuri = params.text(param::migrateuri);
  m.remoteuri = params.text(param::remoteuri);
  if (const auto port = params.integer(param::migrateport)) {
    if (*port < 1 || *port > 65535) {
      return misconfigured(fmt::format("parameter 'migrateport': {} is not a TCP port", *port));
    }
    m.port = static_cast<int>(*port);
  }
  for (const auto name : {param::migration_downtime, param::migration_speed, param::migration_postcopy_after}) {
    if (const auto value = params.integer(name); value && *value < 0) {
      return misconfigured(fmt::format("parameter '{}': {} is negative", name, *value));
    }
  }
  m.downtime_ms = static_cast<std::uint64_t>(params.integer(param::migration_downtime).value_or(0));
  m.speed_mib = static_cast<std::uint64_t>(params.integer(param::migration_speed).value_or(0));
  m.postcopy_after = std::chrono::seconds(params.integer(param::migration_postcopy_after).value_or(0));
  m.auto_converge = params.flag(param::migration_auto_converge);
  auto methods = compression_methods("parameter 'migration_compression'", params.text(param::migration_compression));
  VMHA_TRY(methods);
  m.compression = std::move(*methods);
  auto options = read_migrate_options(params.text(param::migrate_options));
  VMHA_TRY(options);
  m.options = std::move(*options);
  for (const auto& [name, value] :
       {std::pair{param::migration_transport, m.transport}, std::pair{param::migration_user, m.user},
        std::pair{param::migration_network_suffix, m.network_suffix}}) {
    if (value.find_first_of("/:@?# \t") != std::string::npos) {
      return misconfigured(fmt::format("parameter '{}': '{}' cannot be part of a URI host", name, value));
    }
  }
  return m;
}

}  // namespace vmha::agents
