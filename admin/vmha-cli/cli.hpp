// The `vmha` admin program: `vmha check` and `vmha status`, wired to the real cluster tools,
// libvirt, DRBD and files. main() only calls run_cli().
#pragma once

namespace vmha::admin {

/// Exit status: check 0 ready, 1 not ready, 2 could not check; status 0, or 2 when the
/// cluster could not be read; a usage error 2.
int run_cli(int argc, char** argv);

}  // namespace vmha::admin
