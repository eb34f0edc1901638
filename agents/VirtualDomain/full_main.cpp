// VirtualDomain-full: every action of ocf:vmha:VirtualDomain with the real libvirt; the front
// hands actions over to it.
#include "VirtualDomain/virtual_domain.hpp"
#include "vmha/ocf/dispatch.hpp"

int main(int argc, char** argv) {
  return vmha::ocf::run_main(argc, argv, vmha::agents::virtual_domain_definition());
}
