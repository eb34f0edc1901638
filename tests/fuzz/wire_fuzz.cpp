// libFuzzer target for the monitor's libvirt wire client: the input is everything "libvirtd"
// sends back on the socket (a socketpair), read by the client's framing, skip loop and
// decoders for a state and a facts query. Any input must give an answer or an error, within
// the deadline — never a crash, a hang or UB.
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstddef>
#include <cstdint>

#include "vmha/sys/clock.hpp"
#include "vmha/virt/wire.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::array<int, 2> ends{};
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends.data()) != 0) return 0;
  // The daemon's side: everything at once, then the end of the stream.
  std::size_t sent = 0;
  while (sent < size) {
    const ssize_t n = send(ends[1], data + sent, size - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  shutdown(ends[1], SHUT_WR);
  vmha::sys::SteadyClock clock;
  const vmha::ocf::Deadline deadline(clock, clock.now() + std::chrono::seconds(2));
  auto client = vmha::virt::detail::wire_reader_on(ends[0]);
  const vmha::virt::DomainRef by_uuid{"vm1", "6f1e3b52-0d8a-4c53-9a8e-1a2b3c4d5e6f"};
  (void)client->state(by_uuid, deadline);
  (void)client->facts({"vm1", ""}, deadline);
  client.reset();
  close(ends[1]);
  return 0;
}
