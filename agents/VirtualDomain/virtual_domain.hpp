// The VirtualDomain agent: actions over one libvirt domain.
#pragma once

#include "VirtualDomain/front.hpp"
#include "VirtualDomain/job.hpp"
#include "vmha/ocf/agent.hpp"

namespace vmha::agents {

/// The agent with real backends (libvirt, /proc).
[[nodiscard]] ocf::AgentDefinition virtual_domain_definition();
/// The agent with the given backends (tests pass fakes).
[[nodiscard]] ocf::AgentDefinition virtual_domain_definition(Backends backends);

class VirtualDomainAgent final : public ocf::Agent {
 public:
  VirtualDomainAgent(const ocf::Services& services, Backends backends)
      : services_(services), backends_(std::move(backends)) {}
  [[nodiscard]] Result<ocf::Status> perform(const ocf::Request& request) override;

 private:
  const ocf::Services& services_;
  Backends backends_;
};

}  // namespace vmha::agents
