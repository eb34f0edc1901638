// ocf:vmha:VirtualDomain — keeps one libvirt domain running on one node of the cluster.
// This is the front Pacemaker runs; see front.hpp.
#include "VirtualDomain/front.hpp"
#include "vmha/ocf/dispatch.hpp"

int main(int argc, char** argv) {
  return vmha::ocf::run_main(argc, argv, vmha::agents::virtual_domain_front());
}
