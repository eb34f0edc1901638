// vmha: the admin program (vmha check, vmha status); see cli.hpp.
#include "vmha-cli/cli.hpp"

int main(int argc, char** argv) {
  return vmha::admin::run_cli(argc, argv);
}
