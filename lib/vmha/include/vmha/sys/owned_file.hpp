// A FILE* owned by exactly one object.
#pragma once

#include <cstdio>
#include <utility>

namespace vmha::sys {

class OwnedFile {
 public:
  OwnedFile() = default;
  /// `owned` false borrows the stream (stderr, an inherited descriptor): it is never closed.
  OwnedFile(std::FILE* file, bool owned) : file_(file), owned_(owned) {}
  OwnedFile(OwnedFile&& other) noexcept : file_(std::exchange(other.file_, nullptr)), owned_(other.owned_) {}
  OwnedFile& operator=(OwnedFile&& other) noexcept {
    if (this != &other) {
      reset();
      file_ = std::exchange(other.file_, nullptr);
      owned_ = other.owned_;
    }
    return *this;
  }
  OwnedFile(const OwnedFile&) = delete;
  OwnedFile& operator=(const OwnedFile&) = delete;
  ~OwnedFile() { reset(); }

  [[nodiscard]] std::FILE* get() const { return file_; }
  explicit operator bool() const { return file_ != nullptr; }

 private:
  void reset() {
    if (file_ != nullptr && owned_) std::fclose(file_);
    file_ = nullptr;
  }
  std::FILE* file_ = nullptr;
  bool owned_ = false;
};

}  // namespace vmha::sys
