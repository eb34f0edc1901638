// VirtualDomain's parameter checks (validate-all at check level 0).
#include "VirtualDomain/virtual_domain.hpp"
#include "support/catch.hpp"

using vmha::sys::MapEnvironment;

TEST_CASE("VirtualDomain rejects parameters that are wrong on every node", "[validate]") {
  const auto [vars, reason] = GENERATE(table<std::map<std::string, std::string>, std::string>({
      {MapEnvironment::Vars{}, ""},
      {{{"OCF_RESKEY_config", "vm.xml"}}, "parameter 'config': 'vm.xml' is not an absolute path"},
      {{{"OCF_RESKEY_snapshot", "snaps"}}, "parameter 'snapshot': 'snaps' is not an absolute path"},
      {{{"OCF_RESKEY_backingfile", "base.qcow2"}}, "parameter 'backingfile': 'base.qcow2' is not an absolute path"},
      {{{"OCF_RESKEY_force_stop", "true"}, {"OCF_RESKEY_snapshot", "/var/lib/snap"}},
       "force_stop and snapshot cannot be used together: a forced stop cannot save the state"},
      {{{"OCF_RESKEY_stateless", "true"}}, "stateless needs backingfile"},
      {{{"OCF_RESKEY_stateless", "true"}, {"OCF_RESKEY_backingfile", "/b.qcow2"}}, ""},
      {{{"OCF_RESKEY_migration_downtime", "-5"}}, "parameter 'migration_downtime': -5 is negative"},
      {{{"OCF_RESKEY_migration_speed", "-1"}}, "parameter 'migration_speed': -1 is negative"},
      {{{"OCF_RESKEY_migrateport", "0"}}, "parameter 'migrateport': 0 is not a TCP port"},
      {{{"OCF_RESKEY_migrateport", "65536"}}, "parameter 'migrateport': 65536 is not a TCP port"},
      {{{"OCF_RESKEY_migrateport", "49152"}}, ""},
      {{{"OCF_RESKEY_shutdown_mode", "acpi"}}, ""},
      {{{"OCF_RESKEY_shutdown_mode", "acpi,agent"}}, ""},
      {{{"OCF_RESKEY_shutdown_mode", "reboot"}},
       "parameter 'shutdown_mode': 'reboot' is not one of acpi, agent, initctl, signal, paravirt"},
  }));
  static const auto md = vmha::ocf::parse_metadata(vmha::agents::VirtualDomain_metadata);
  REQUIRE(md);
  auto env_vars = vars;
  env_vars.emplace("OCF_RESKEY_config", "/etc/libvirt/qemu/vm1.xml");
  const auto params = vmha::ocf::read_params(*md, MapEnvironment(env_vars));
  REQUIRE(params);
  const auto checked = vmha::agents::validate_parameters(*params);
  if (reason.empty()) {
    CHECK(checked);
  } else {
    REQUIRE_FALSE(checked);
    CHECK(checked.error().status == vmha::ocf::Status::err_configured);
    CHECK(checked.error().reason == reason);
  }
}
