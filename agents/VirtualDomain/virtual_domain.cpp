#include "VirtualDomain/virtual_domain.hpp"

#include <fmt/core.h>

namespace vmha::agents {

ocf::AgentDefinition virtual_domain_definition() {
  return ocf::AgentDefinition{"VirtualDomain", VirtualDomain_metadata, [](const ocf::Services& services) {
                                return std::make_unique<VirtualDomainAgent>(services);
                              }};
}

Result<ocf::Status> VirtualDomainAgent::perform(const ocf::Request& request) {
  const auto checked = validate_parameters(request.params);
  if (!checked) return tl::unexpected(checked.error());
  if (request.call.action == "validate-all") return ocf::Status::success;
  return fail(ocf::Status::err_unimplemented,
              fmt::format("{}: not implemented in this release of vmha", request.call.action));
}

}  // namespace vmha::agents
