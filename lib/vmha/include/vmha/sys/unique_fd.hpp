// A file descriptor owned by exactly one object: closed when the owner goes, never twice.
// The one owner type for descriptors (sockets, pipes, pidfds) in vmha.
#pragma once

#include <unistd.h>

#include <utility>

namespace vmha::sys {

class UniqueFd {
 public:
  UniqueFd() = default;
  /// Takes `fd` over (a negative one owns nothing).
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  [[nodiscard]] int get() const { return fd_; }
  [[nodiscard]] bool valid() const { return fd_ >= 0; }
  /// Closes what it owns, and owns `fd` from now on.
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace vmha::sys
