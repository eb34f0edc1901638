#include "vmha/virt/wire.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <vector>

#include <fmt/core.h>

#include "vmha/sys/clock.hpp"
#include "vmha/sys/unique_fd.hpp"
#include "vmha/virt/classify.hpp"

namespace vmha::virt {
namespace {

// The remote program and the procedures used (src/remote/remote_protocol.x).
constexpr std::uint32_t kProgram = 0x20008086;
constexpr std::uint32_t kVersion = 1;
constexpr std::int32_t kConnectOpen = 1;
constexpr std::int32_t kConnectClose = 2;
constexpr std::int32_t kDomainGetInfo = 16;
constexpr std::int32_t kDomainLookupByName = 23;
constexpr std::int32_t kAuthList = 66;
constexpr std::int32_t kAuthPolkit = 70;
constexpr std::int32_t kDomainGetState = 212;
constexpr std::int32_t kAuthTypePolkit = 2;
// How long a finished monitor waits for libvirtd to acknowledge the end of its session.
constexpr sys::Millis kCloseTime{100};
// Message types and statuses (src/rpc/virnetprotocol.x).
constexpr std::int32_t kCall = 0;
constexpr std::int32_t kReply = 1;
constexpr std::int32_t kStatusError = 1;
constexpr std::uint32_t kMaxMessage = 1U << 20U;  // far above any reply used here
constexpr int kErrAuthFailed = 45;                // VIR_ERR_AUTH_FAILED

/// XDR encoding: big-endian 4-byte words, strings padded to 4 bytes.
class Encoder {
 public:
  void u32(std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes_.push_back(static_cast<char>((v >> shift) & 0xffU));
  }
  void i32(std::int32_t v) { u32(static_cast<std::uint32_t>(v)); }
  void opaque(std::string_view data) {
    bytes_.insert(bytes_.end(), data.begin(), data.end());
    while (bytes_.size() % 4 != 0) bytes_.push_back('\0');
  }
  void string(std::string_view text) {
    u32(static_cast<std::uint32_t>(text.size()));
    opaque(text);
  }
  [[nodiscard]] std::vector<char> take() { return std::move(bytes_); }

 private:
  std::vector<char> bytes_;
};

class Decoder {
 public:
  explicit Decoder(std::string_view data) : data_(data) {}
  std::optional<std::uint32_t> u32() {
    if (data_.size() - at_ < 4 || at_ > data_.size()) return std::nullopt;
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8U) | static_cast<unsigned char>(data_[at_ + static_cast<std::size_t>(i)]);
    at_ += 4;
    return v;
  }
  std::optional<std::int32_t> i32() {
    const auto v = u32();
    if (!v) return std::nullopt;
    return static_cast<std::int32_t>(*v);
  }
  std::optional<std::uint64_t> u64() {
    const auto high = u32();
    const auto low = u32();
    if (!high || !low) return std::nullopt;
    return (static_cast<std::uint64_t>(*high) << 32U) | *low;
  }
  std::optional<std::string> opaque(std::size_t length) {
    const std::size_t padded = (length + 3) / 4 * 4;
    if (data_.size() - at_ < padded) return std::nullopt;
    std::string out(data_.substr(at_, length));
    at_ += padded;
    return out;
  }
  std::optional<std::string> string() {
    const auto length = u32();
    if (!length || *length > kMaxMessage) return std::nullopt;
    return opaque(*length);
  }
  std::optional<std::string> optional_string() {
    const auto present = u32();
    if (!present) return std::nullopt;
    if (*present == 0) return std::string();
    return string();
  }

 private:
  std::string_view data_;
  std::size_t at_ = 0;
};

/// A domain as the protocol names it: name, raw UUID, id.
struct WireDomain {
  std::string name;
  std::string uuid;  ///< 16 raw bytes
  std::int32_t id = 0;
};

void encode_domain(Encoder& e, const WireDomain& d) {
  e.string(d.name);
  e.opaque(d.uuid);
  e.i32(d.id);
}

std::optional<WireDomain> decode_domain(Decoder& d) {
  WireDomain out;
  auto name = d.string();
  auto uuid = d.opaque(16);
  auto id = d.i32();
  if (!name || !uuid || !id) return std::nullopt;
  out.name = std::move(*name);
  out.uuid = std::move(*uuid);
  out.id = *id;
  return out;
}

std::optional<std::string> raw_uuid(const std::string& text) {
  const std::string canonical = canonical_uuid(text);
  if (canonical.empty()) return std::nullopt;
  const auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  std::string raw;
  for (std::size_t i = 0; i < canonical.size(); ++i) {
    if (canonical[i] == '-') continue;
    raw.push_back(static_cast<char>(nibble(canonical[i]) * 16 + nibble(canonical[i + 1])));
    ++i;
  }
  return raw;
}

std::string canonical_from_raw(const std::string& raw) {
  std::string hex;
  for (const char c : raw) hex += fmt::format("{:02x}", static_cast<unsigned char>(c));
  return canonical_uuid(hex);
}

Error wire_error(std::string reason, ErrorKind kind = ErrorKind::other) {
  return Error{kind, std::move(reason)};
}

/// One connection to libvirtd; every read and write bounded by the caller's deadline, except the
/// session's end (CONNECT_CLOSE), which has 100 ms of its own, inside every action's safety margin.
class Connection {
 public:
  explicit Connection(std::string socket_path) : path_(std::move(socket_path)) {}
  /// A stream already connected to a daemon (or to a test's socketpair).
  Connection(int connected, std::string name) : path_(std::move(name)), fd_(connected), connected_(true) {}
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    try {
      close_session();
    } catch (...) {  // NOLINT(bugprone-empty-catch): an allocation failure ends no action
    }
    reset();
  }

  /// Calls `procedure` with `args`; the reply body, or the daemon's error. After any other
  /// failure the connection is dropped, so no later call runs on a half-open or
  /// desynchronised stream.
  Result<std::string> call(std::int32_t procedure, const std::vector<char>& args, const ocf::Deadline& deadline) {
    if (!open_) {
      if (auto opened = open(deadline); !opened) {
        reset();
        return fail(opened.error());
      }
      open_ = true;
    }
    auto reply = exchange(procedure, args, deadline);
    if (!reply && !daemon_said_) reset();
    return reply;
  }

 private:
  /// Ends an open session as libvirt's own client does: a socket closed without CONNECT_CLOSE
  /// makes libvirtd log "End of file while reading data" as an error, once per monitor. Its
  /// answer is awaited for at most kCloseTime; a session already broken is simply dropped.
  void close_session() {
    if (!open_ || !fd_.valid()) return;
    sys::SteadyClock clock;
    const ocf::Deadline deadline{clock, clock.now() + kCloseTime};
    (void)exchange(kConnectClose, {}, deadline);
  }

  void reset() {
    fd_.reset();
    open_ = false;
    connected_ = false;
  }

  Result<void> connect_socket() {
    fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd_.valid()) return fail(ErrorKind::other, fmt::format("socket: {}", std::strerror(errno)));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path_.size() >= sizeof(address.sun_path)) return fail(wire_error("socket path too long"));
    std::memcpy(address.sun_path, path_.c_str(), path_.size() + 1);
    // On a unix socket connect completes at once; EAGAIN is a full backlog: not accepting.
    if (::connect(fd_.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 && errno != EINPROGRESS) {
      return fail(
          wire_error(fmt::format("cannot connect to {}: {}", path_, std::strerror(errno)), ErrorKind::unreachable));
    }
    return {};
  }

  Result<void> open(const ocf::Deadline& deadline) {
    if (!connected_) {
      if (auto ok = connect_socket(); !ok) return ok;
    }
    // As libvirt's own client: ask which authentication the socket wants; root passes polkit
    // by asking for it. SASL and anything else is left to the full agent.
    Encoder none;
    auto methods = exchange(kAuthList, none.take(), deadline);
    VMHA_TRY(methods);
    Decoder d(*methods);
    const auto count = d.u32();
    if (!count || *count > 20) return fail(wire_error("malformed authentication list"));
    bool none_needed = *count == 0;
    bool polkit = false;
    for (std::uint32_t i = 0; i < *count; ++i) {
      const auto method = d.i32();
      if (!method) return fail(wire_error("malformed authentication list"));
      none_needed = none_needed || *method == 0;
      polkit = polkit || *method == kAuthTypePolkit;
    }
    if (!none_needed) {
      if (!polkit) return fail(wire_error("the socket wants an authentication only libvirt speaks"));
      Encoder empty;
      VMHA_TRY(exchange(kAuthPolkit, empty.take(), deadline));
    }
    return exchange_open(deadline);
  }

  Result<void> exchange_open(const ocf::Deadline& deadline) {
    Encoder e;
    e.u32(1);  // remote_string present
    e.string("qemu:///system");
    e.u32(0);  // flags
    auto reply = exchange(kConnectOpen, e.take(), deadline);
    VMHA_TRY(reply);
    return {};
  }

  Result<std::string> exchange(std::int32_t procedure, const std::vector<char>& args, const ocf::Deadline& deadline) {
    const std::uint32_t serial = ++serial_;
    Encoder e;
    e.u32(static_cast<std::uint32_t>(4 + 24 + args.size()));  // the length word counts itself
    e.u32(kProgram);
    e.u32(kVersion);
    e.i32(procedure);
    e.i32(kCall);
    e.u32(serial);
    e.i32(0);
    auto message = e.take();
    message.insert(message.end(), args.begin(), args.end());
    daemon_said_ = false;
    VMHA_TRY(send_all(message, deadline));
    for (;;) {  // skip anything that is not our reply (keepalive pings, events)
      if (deadline.expired()) {
        return fail(wire_error(fmt::format("libvirtd at {} did not answer in time", path_), ErrorKind::timed_out));
      }
      auto length_word = receive(4, deadline);
      VMHA_TRY(length_word);
      const auto length = Decoder(*length_word).u32().value_or(0);
      if (length < 28 || length > kMaxMessage) return fail(wire_error("malformed reply length"));
      auto body = receive(length - 4, deadline);
      VMHA_TRY(body);
      Decoder d(*body);
      const auto program = d.u32();
      const auto version = d.u32();
      const auto proc = d.i32();
      const auto type = d.i32();
      const auto reply_serial = d.u32();
      const auto status = d.i32();
      if (!status) return fail(wire_error("malformed reply header"));
      if (*program != kProgram || *type != kReply || *reply_serial != serial) continue;
      if (*version != kVersion || *proc != procedure) return fail(wire_error("unexpected reply"));
      const std::string payload = body->substr(24);
      if (*status == kStatusError) {
        daemon_said_ = true;  // a proper answer: the stream is still in step
        return fail(daemon_error(payload));
      }
      if (*status != 0) return fail(wire_error("unexpected reply status"));
      return payload;
    }
  }

  static Error daemon_error(const std::string& payload) {
    Decoder d(payload);
    const auto code = d.i32();
    const auto domain = d.i32();
    const auto message = d.optional_string();
    if (!code || !domain) return wire_error("malformed error reply");
    ErrorKind kind = detail::classify(*code, *domain);
    if (*code == kErrAuthFailed) kind = ErrorKind::denied;
    if (kind == ErrorKind::unreachable) kind = ErrorKind::other;  // it answered: it is reachable
    return wire_error(message.value_or("libvirt error") + fmt::format(" (code {})", *code), kind);
  }

  Result<void> wait_for(short events, const ocf::Deadline& deadline) {
    pollfd one{fd_.get(), events, 0};
    const auto left = static_cast<int>(deadline.remaining().count());
    const int ready = left <= 0 ? 0 : ::poll(&one, 1, left);
    if (ready == 0) {
      return fail(wire_error(fmt::format("libvirtd at {} did not answer in time", path_), ErrorKind::timed_out));
    }
    if (ready < 0 && errno != EINTR) return fail(wire_error(fmt::format("poll: {}", std::strerror(errno))));
    return {};
  }

  Result<void> send_all(const std::vector<char>& data, const ocf::Deadline& deadline) {
    std::size_t sent = 0;
    while (sent < data.size()) {
      const ssize_t n = ::send(fd_.get(), data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        if (auto ok = wait_for(POLLOUT, deadline); !ok) return ok;
        continue;
      }
      return fail(wire_error(fmt::format("libvirtd at {} closed the connection", path_), ErrorKind::unreachable));
    }
    return {};
  }

  Result<std::string> receive(std::size_t count, const ocf::Deadline& deadline) {
    std::string out(count, '\0');
    std::size_t got = 0;
    while (got < count) {
      const ssize_t n = ::recv(fd_.get(), out.data() + got, count - got, 0);
      if (n > 0) {
        got += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        VMHA_TRY(wait_for(POLLIN, deadline));
        continue;
      }
      return fail(wire_error(fmt::format("libvirtd at {} closed the connection", path_), ErrorKind::unreachable));
    }
    return out;
  }

  std::string path_;
  sys::UniqueFd fd_;
  bool connected_ = false;    ///< the socket is connected
  bool open_ = false;         ///< authenticated and CONNECT_OPEN answered
  bool daemon_said_ = false;  ///< the last failure was the daemon's own error reply
  std::uint32_t serial_ = 0;
};

class WireClient final : public WireReader {
 public:
  explicit WireClient(std::string socket_path) : connection_(std::move(socket_path)) {}
  WireClient(int connected, std::string name) : connection_(connected, std::move(name)) {}

  Result<std::optional<StateInfo>> state(const DomainRef& ref, const ocf::Deadline& deadline) override {
    return note(ask_state(ref, deadline));
  }
  Result<DomainFacts> facts(const DomainRef& ref, const ocf::Deadline& deadline) override {
    return note(ask_facts(ref, deadline));
  }
  bool unsure() const override { return unsure_; }

 private:
  Result<std::optional<StateInfo>> ask_state(const DomainRef& ref, const ocf::Deadline& deadline) {
    return with_domain<std::optional<StateInfo>>(
        ref, deadline, [this, &deadline](const WireDomain& domain) -> Result<std::optional<StateInfo>> {
          Encoder e;
          encode_domain(e, domain);
          e.u32(0);  // flags
          auto reply = connection_.call(kDomainGetState, e.take(), deadline);
          VMHA_TRY(reply);
          Decoder d(*reply);
          const auto state = d.i32();
          const auto reason = d.i32();
          if (!state || !reason || *state < 0 || *state > 7) {
            return fail(wire_error("malformed state reply"));
          }
          return std::optional<StateInfo>{StateInfo{static_cast<DomainState>(*state), *reason}};
        });
  }

  Result<DomainFacts> ask_facts(const DomainRef& ref, const ocf::Deadline& deadline) {
    auto found = with_domain<std::optional<DomainFacts>>(
        ref, deadline, [this, &deadline](const WireDomain& domain) -> Result<std::optional<DomainFacts>> {
          Encoder e;
          encode_domain(e, domain);
          auto reply = connection_.call(kDomainGetInfo, e.take(), deadline);
          VMHA_TRY(reply);
          Decoder d(*reply);
          const auto state = d.u32();
          const auto max_memory = d.u64();
          const auto memory = d.u64();
          const auto vcpus = d.u32();
          if (!state || !max_memory || !memory || !vcpus) return fail(wire_error("malformed info reply"));
          DomainFacts facts;
          facts.name = domain.name;
          facts.uuid = canonical_from_raw(domain.uuid);
          facts.persistent = false;  // not asked: the monitor does not need it
          facts.vcpus = *vcpus;
          facts.max_memory_kib = *max_memory;
          facts.active = *state != static_cast<std::uint32_t>(DomainState::shut_off);
          return std::optional<DomainFacts>{facts};
        });
    VMHA_TRY(found);
    if (!*found) {
      return fail(ErrorKind::not_found, fmt::format("domain {} not found", ref.label()));
    }
    return **found;
  }

  /// Notes an answer the front cannot be sure of (see WireReader::unsure).
  template <typename T>
  Result<T> note(Result<T> result) {
    if (!result && result.error().kind != ErrorKind::not_found && result.error().kind != ErrorKind::timed_out) {
      unsure_ = true;
    }
    return result;
  }

  /// Runs `query` on the domain `ref` names; nullopt when there is none. With a UUID no
  /// lookup is needed: libvirtd finds the domain by its UUID — one round trip less on every
  /// monitor. When no domain has that UUID, the one with the name is asked for (a config whose
  /// UUID was edited while the domain ran). A domain that vanishes meanwhile is simply gone.
  template <typename T>
  Result<T> with_domain(const DomainRef& ref, const ocf::Deadline& deadline,
                        const std::function<Result<T>(const WireDomain&)>& query) {
    if (!ref.uuid.empty()) {
      const auto raw = raw_uuid(ref.uuid);
      if (!raw) return fail(wire_error("malformed UUID " + ref.uuid, ErrorKind::invalid));
      auto answer = query(WireDomain{ref.name, *raw, -1});
      if (answer || answer.error().kind != ErrorKind::not_found) return answer;
    }
    Encoder e;
    e.string(ref.name);
    auto reply = connection_.call(kDomainLookupByName, e.take(), deadline);
    if (!reply) {
      if (reply.error().kind == ErrorKind::not_found) return T{};
      return fail(reply.error());
    }
    Decoder d(*reply);
    auto domain = decode_domain(d);
    if (!domain) return fail(wire_error("malformed lookup reply"));
    auto answer = query(*domain);
    if (!answer && answer.error().kind == ErrorKind::not_found) return T{};
    return answer;
  }

  Connection connection_;
  bool unsure_ = false;
};

}  // namespace

std::unique_ptr<WireReader> make_wire_reader(std::string socket_path) {
  return std::make_unique<WireClient>(std::move(socket_path));
}

namespace detail {

std::unique_ptr<WireReader> wire_reader_on(int connected) {
  return std::make_unique<WireClient>(connected, "a test stream");
}

}  // namespace detail

}  // namespace vmha::virt
