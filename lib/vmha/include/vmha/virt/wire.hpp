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

/// The monitor's reader. Besides the answers, it notes whether any was one it did not expect:
/// then the monitor's verdict is the full agent's to give.
class WireReader : public DomainReader {
 public:
  /// Some call failed other than with "no such domain" or a timeout: a daemon that answered
  /// strangely, or one it could not reach (libvirt's own client knows more ways to reach one).
  [[nodiscard]] virtual bool unsure() const = 0;
};

/// The socket is virt::local_daemon(uri)->socket.
[[nodiscard]] std::unique_ptr<WireReader> make_wire_reader(std::string socket_path);

namespace detail {
/// The wire client on a stream already connected (owned from now on): the fuzz target feeds
/// it a socketpair.
[[nodiscard]] std::unique_ptr<WireReader> wire_reader_on(int connected);
}  // namespace detail

}  // namespace vmha::virt
