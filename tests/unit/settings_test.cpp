// VirtualDomain's parameters: what is wrong on every node is status 6, naming the parameter.
#include "VirtualDomain/settings.hpp"
#include "VirtualDomain/virtual_domain.hpp"
#include "support/catch.hpp"
#include "vmha/ocf/metadata_xml.hpp"
#include "vmha/virt/hypervisor.hpp"

using vmha::sys::MapEnvironment;

namespace {

vmha::Result<vmha::agents::Settings> settings_for(
    MapEnvironment::Vars vars, vmha::agents::SettingsScope scope = vmha::agents::SettingsScope::every_action) {
  static const auto md = vmha::ocf::parse_metadata(vmha::agents::VirtualDomain_metadata.ocf_1_1);
  REQUIRE(md);
  vars.emplace("OCF_RESKEY_config", "/etc/libvirt/qemu/vm1.xml");
  const auto params = vmha::ocf::read_params(*md, MapEnvironment(vars));
  REQUIRE(params);
  return vmha::agents::read_settings(*params, scope);
}

}  // namespace

TEST_CASE("VirtualDomain rejects parameters that are wrong on every node", "[settings]") {
  const auto [vars, reason] = GENERATE(table<MapEnvironment::Vars, std::string>({
      {MapEnvironment::Vars{}, ""},
      {{{"OCF_RESKEY_config", "vm.xml"}}, "parameter 'config': 'vm.xml' is not an absolute path"},
      {{{"OCF_RESKEY_snapshot", "snaps"}}, "parameter 'snapshot': 'snaps' is not an absolute path"},
      {{{"OCF_RESKEY_backingfile", "base.qcow2"}}, "parameter 'backingfile': 'base.qcow2' is not an absolute path"},
      {{{"OCF_RESKEY_force_stop", "true"}, {"OCF_RESKEY_snapshot", "/var/lib/snap"}},
       "force_stop and snapshot cannot be used together: a forced stop cannot save the state"},
      {{{"OCF_RESKEY_stateless", "true"}}, "stateless needs backingfile"},
      {{{"OCF_RESKEY_stateless", "true"}, {"OCF_RESKEY_backingfile", "/b.qcow2"}}, ""},
      {{{"OCF_RESKEY_copyindirs", "/etc/app -a /other/disk"}},
       "parameter 'copyindirs': '-a' is not an absolute path"},  // never a virt-copy-in option
      {{{"OCF_RESKEY_migration_downtime", "-5"}}, "parameter 'migration_downtime': -5 is negative"},
      {{{"OCF_RESKEY_migration_speed", "-1"}}, "parameter 'migration_speed': -1 is negative"},
      {{{"OCF_RESKEY_migrateport", "0"}}, "parameter 'migrateport': 0 is not a TCP port"},
      {{{"OCF_RESKEY_migrateport", "65536"}}, "parameter 'migrateport': 65536 is not a TCP port"},
      {{{"OCF_RESKEY_migrateport", "49152"}}, ""},
      {{{"OCF_RESKEY_shutdown_mode", "acpi"}}, ""},
      {{{"OCF_RESKEY_shutdown_mode", "acpi,agent"}}, ""},
      {{{"OCF_RESKEY_shutdown_mode", "reboot"}},
       "parameter 'shutdown_mode': 'reboot' is not one of acpi, agent, initctl, signal, paravirt"},
      {{{"OCF_RESKEY_destroy_reserve", "-1"}}, "parameter 'destroy_reserve': -1 is not between 0 and 3600 seconds"},
  }));
  const auto checked = settings_for(vars);
  if (reason.empty()) {
    CHECK(checked);
  } else {
    REQUIRE_FALSE(checked);
    CHECK(checked.error().kind == vmha::ErrorKind::misconfigured);
    CHECK(checked.error().reason == reason);
  }
}

TEST_CASE("shutdown_mode maps to libvirt's shutdown flags", "[settings]") {
  const auto [mode, bits] = GENERATE(table<std::string, unsigned>({
      {"", 0U},
      {"acpi", vmha::virt::shutdown_acpi},
      {"agent", vmha::virt::shutdown_agent},
      {"acpi,agent", vmha::virt::shutdown_acpi | vmha::virt::shutdown_agent},
      {"initctl,signal,paravirt",
       vmha::virt::shutdown_initctl | vmha::virt::shutdown_signal | vmha::virt::shutdown_paravirt},
  }));
  const auto s = settings_for({{"OCF_RESKEY_shutdown_mode", mode}});
  REQUIRE(s);
  CHECK(s->shutdown_methods == bits);
}

TEST_CASE("settings read lists, flags and implications", "[settings]") {
  const auto s = settings_for({{"OCF_RESKEY_monitor_scripts", " /a  /b "},
                               {"OCF_RESKEY_sync_config_on_stop", "yes"},
                               {"OCF_RESKEY_destroy_reserve", "7"}});
  REQUIRE(s);
  CHECK(s->monitor_scripts == std::vector<std::string>{"/a", "/b"});
  CHECK(s->save_config);  // implied by sync_config_on_stop
  CHECK(s->destroy_reserve == std::chrono::seconds(7));
  CHECK(s->pmsuspended_is_running);
  CHECK(vmha::agents::overlay_path("/etc/libvirt/qemu/vm1.xml") == "/etc/libvirt/qemu/vm1.qcow2");
  CHECK(vmha::agents::overlay_path("/srv/v.d/vm.one.xml") == "/srv/v.d/vm.one.qcow2");
}

TEST_CASE("the monitor reads neither the migration nor the DRBD parameters", "[settings]") {
  const MapEnvironment::Vars vars{{"OCF_RESKEY_migrate_options", "--unsafe-nonsense"},
                                  {"OCF_RESKEY_drbd_resources", "r0"}};
  REQUIRE_FALSE(settings_for(vars));  // start, migrate_* and validate-all refuse it with 6
  const auto monitored = settings_for(vars, vmha::agents::SettingsScope::monitor);
  REQUIRE(monitored);  // the monitor of a running VM does not fail over a migration option
  CHECK(monitored->drbd_resources.empty());
}
