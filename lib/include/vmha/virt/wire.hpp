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

/// A Hypervisor that answers state() and facts(); every other call is an `invalid` error.
/// Errors of kind `invalid` or `other` mean "ask the full agent".
/// The socket is virt::local_daemon(uri)->socket.
[[nodiscard]] std::unique_ptr<Hypervisor> make_wire_hypervisor(std::string socket_path);

namespace detail {
/// The wire client on a stream already connected (owned from now on): the fuzz target feeds
/// it a socketpair.
[[nodiscard]] std::unique_ptr<Hypervisor> wire_hypervisor_on(int connected);
}  // namespace detail

}  // namespace vmha::virt
