// The monitor's hot path: libvirtd's RPC protocol spoken directly over its local unix socket.
//
// Linking libvirt costs ~27 ms per process here (loading and relocating ~55 libraries), a
// hundred times what a state query costs. For the one thing a recurring monitor needs —
// open, look up, get state (and info for utilization) — this client speaks the remote
// protocol's stable, high-priority procedures (numbers unchanged since libvirt 0.x) itself.
// Anything else, or anything unexpected, is for the full agent with the real libvirt.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "vmha/virt/hypervisor.hpp"

namespace vmha::virt {

/// The unix socket of a local system libvirtd for `uri` (qemu:///system, qemu+unix:///system,
/// with ?socket=… honoured; empty = the default), or nullopt when the URI is anything else.
[[nodiscard]] std::optional<std::string> local_libvirt_socket(std::string_view uri);

/// A Hypervisor that answers state() and facts(); every other call is an `invalid` error.
/// Errors of kind `invalid` or `other` mean "ask the full agent".
[[nodiscard]] std::unique_ptr<Hypervisor> make_wire_hypervisor(std::string socket_path);

}  // namespace vmha::virt
