// A scripted stand-in for libvirtd on a unix socket: one connection, the remote protocol's
// framing, answers chosen per procedure. For the wire client's and the front's tests.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "support/agent_harness.hpp"
#include "support/catch.hpp"

namespace vmha::test {

inline void put32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xffU));
}
inline std::uint32_t get32(const std::string& in, std::size_t at) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v = (v << 8U) | static_cast<unsigned char>(in[at + i]);
  return v;
}

/// What the stand-in does with one call.
struct Answer {
  enum Kind { ok, error, hang, garbage, keepalive_then_ok } kind = ok;
  std::string body;  ///< the reply payload (ok)
  int code = 0;      ///< the error code (error)
};

inline Answer ok(std::string body = {}) {
  return {Answer::ok, std::move(body), 0};
}
inline Answer error(int code) {
  return {Answer::error, {}, code};
}
inline std::string words(std::initializer_list<std::uint32_t> values) {
  std::string out;
  for (const auto v : values) put32(out, v);
  return out;
}

/// A one-connection libvirtd stand-in; records the procedures it was called with.
class FakeDaemon {
 public:
  explicit FakeDaemon(std::function<Answer(std::int32_t, const std::string&)> script)
      : script_(std::move(script)), path_(dir_.path() + "/libvirt-sock") {
    listener_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path_.c_str(), sizeof(address.sun_path) - 1);
    REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
    REQUIRE(::listen(listener_, 1) == 0);
    thread_ = std::thread([this] { serve(); });
  }
  FakeDaemon(const FakeDaemon&) = delete;
  FakeDaemon& operator=(const FakeDaemon&) = delete;
  ~FakeDaemon() {
    ::shutdown(listener_, SHUT_RDWR);
    ::close(listener_);
    if (client_ >= 0) ::shutdown(client_, SHUT_RDWR);
    thread_.join();
    if (client_ >= 0) ::close(client_);
  }
  [[nodiscard]] const std::string& path() const { return path_; }
  std::vector<std::int32_t> calls;

 private:
  bool read_exact(std::string& out, std::size_t count) {
    out.resize(count);
    std::size_t got = 0;
    while (got < count) {
      const ssize_t n = ::recv(client_, out.data() + got, count - got, 0);
      if (n <= 0) return false;
      got += static_cast<std::size_t>(n);
    }
    return true;
  }
  void reply(std::uint32_t program, std::int32_t proc, std::uint32_t serial, std::uint32_t status,
             const std::string& body) {
    std::string out;
    put32(out, static_cast<std::uint32_t>(28 + body.size()));
    put32(out, program);
    put32(out, 1);
    put32(out, static_cast<std::uint32_t>(proc));
    put32(out, 1);  // reply
    put32(out, serial);
    put32(out, status);
    out += body;
    (void)::send(client_, out.data(), out.size(), MSG_NOSIGNAL);
  }
  void serve() {
    client_ = ::accept(listener_, nullptr, nullptr);
    if (client_ < 0) return;
    std::string length;
    std::string message;
    while (read_exact(length, 4) && read_exact(message, get32(length, 0) - 4)) {
      const auto proc = static_cast<std::int32_t>(get32(message, 8));
      const auto serial = get32(message, 16);
      calls.push_back(proc);
      const Answer answer = script_(proc, message.substr(24));
      switch (answer.kind) {
        case Answer::ok: reply(0x20008086, proc, serial, 0, answer.body); break;
        case Answer::keepalive_then_ok:
          reply(0x6b656570, 1, 0, 0, "");  // a keepalive ping first
          reply(0x20008086, proc, serial, 0, answer.body);
          break;
        case Answer::error: {
          std::string body = words({static_cast<std::uint32_t>(answer.code), 10, 1});
          body += words({13}) + "injected fail";
          body.append(3, '\0');
          body += words({2, 0, 0, 0, 0, 0, 0, 0});
          reply(0x20008086, proc, serial, 1, body);
          break;
        }
        case Answer::garbage: (void)::send(client_, "\0\0\0\2xx", 6, MSG_NOSIGNAL); break;
        case Answer::hang: return;
      }
    }
  }

  std::function<Answer(std::int32_t, const std::string&)> script_;
  TempDir dir_;
  std::string path_;
  int listener_ = -1;
  int client_ = -1;
  std::thread thread_;
};

/// libvirtd as the lab runs it: polkit on the socket, root let through by AUTH_LIST.
inline Answer libvirtd(std::int32_t proc, const std::string& /*args*/) {
  switch (proc) {
    case 66: return ok(words({1, 0}));   // AUTH_LIST: none (root bypass)
    case 1: return ok();                 // CONNECT_OPEN
    case 70: return ok(words({1}));      // AUTH_POLKIT: complete
    case 212: return ok(words({3, 5}));  // GET_STATE: paused (I/O error)
    case 23: return ok(words({3}) + "vm1" + std::string(1, '\0') + std::string(16, 'u') + words({7}));
    case 16: return ok(words({1, 0, 262144, 0, 262144, 4, 0, 0}));  // GET_INFO: 256 MiB, 4 vCPUs
    default: return error(1);
  }
}

}  // namespace vmha::test
