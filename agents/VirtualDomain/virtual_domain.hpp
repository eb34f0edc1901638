// The VirtualDomain agent: actions over one libvirt domain.
#pragma once

#include "vmha/ocf/agent.hpp"

namespace vmha::agents {

/// The embedded ocf-metadata/VirtualDomain.xml.
extern const std::string_view VirtualDomain_metadata;

[[nodiscard]] ocf::AgentDefinition virtual_domain_definition();

/// Checks of the parameters alone (check level 0): wrong values are wrong on every node,
/// so each failure is status 6 with a reason naming the parameter.
[[nodiscard]] Result<void> validate_parameters(const ocf::Params& params);

class VirtualDomainAgent final : public ocf::Agent {
 public:
  explicit VirtualDomainAgent(const ocf::Services& services) : services_(services) {}
  [[nodiscard]] Result<ocf::Status> perform(const ocf::Request& request) override;

 private:
  const ocf::Services& services_;
};

}  // namespace vmha::agents
