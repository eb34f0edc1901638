// The real hypervisor: libvirt, with every call bounded by its deadline.
//
// All libvirt calls of one connection run on a worker thread; the caller waits for the answer
// until its deadline. A call that does not answer in time (libvirtd hung, SIGSTOPped, stuck
// in a long job) leaves its worker behind: the caller gets timed_out, and the next call gets
// a fresh worker with a fresh connection. Connections also use libvirt's keepalive, so a dead
// peer breaks them even inside long calls.
#pragma once

#include <memory>
#include <string>

#include "vmha/virt/host.hpp"
#include "vmha/virt/hypervisor.hpp"

namespace vmha::virt {

/// Connects lazily, on the first call. An empty `uri` is libvirt's default URI.
[[nodiscard]] std::unique_ptr<Hypervisor> make_libvirt_hypervisor(std::string uri);

/// The host's side of a node's libvirt (host.hpp), for `vmha check`; connects lazily.
[[nodiscard]] std::unique_ptr<HostInspector> make_libvirt_host(std::string uri);

/// Installs the no-op libvirt error handler and the event loop (for keepalive). Idempotent;
/// make_libvirt_hypervisor() calls it.
void initialize_libvirt();

}  // namespace vmha::virt
