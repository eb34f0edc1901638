// The VirtualDomain front: the program Pacemaker runs. It answers meta-data, usage and the
// recurring monitor itself — with libvmha only, no libvirt or libxml2 loaded — and hands
// every other action (and any monitor it cannot answer for sure) to VirtualDomain-full.
#pragma once

#include <optional>
#include <string>

#include "VirtualDomain/job.hpp"
#include "vmha/ocf/agent.hpp"

namespace vmha::agents {

/// The embedded ocf-metadata/VirtualDomain.xml (OCF 1.1 and 1.0 forms) and its parsed table.
extern const ocf::MetadataText VirtualDomain_metadata;
[[nodiscard]] const ocf::Metadata& VirtualDomain_metadata_table();

[[nodiscard]] ocf::AgentDefinition virtual_domain_front();

/// monitor/status on the fast path, or nullopt when only the full agent can answer: a URI
/// other than the local system libvirtd, a config file changed since the full agent last
/// read it, or an answer from libvirtd the wire client does not expect.
[[nodiscard]] std::optional<Result<ocf::Status>> fast_monitor(const ocf::Request& request,
                                                              const ocf::Services& services);

/// The full agent's program: next to this one in a build tree, else the installed one.
[[nodiscard]] std::string full_agent_path();

/// The libvirt URI the parameters name (LIBVIRT_DEFAULT_URI, as libvirt, when empty).
[[nodiscard]] std::string effective_uri(const Settings& settings, const sys::Environment& env);

}  // namespace vmha::agents
