// ocf:vmha:VirtualDomain — keeps one libvirt domain running on one node of the cluster.
#include "VirtualDomain/virtual_domain.hpp"
#include "vmha/ocf/dispatch.hpp"

int main(int argc, char** argv) {
  return vmha::ocf::run_main(argc, argv, vmha::agents::virtual_domain_definition());
}
