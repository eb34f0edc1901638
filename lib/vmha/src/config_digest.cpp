#include "vmha/config_digest.hpp"

#include <cstdint>

#include <fmt/core.h>

namespace vmha {

std::string config_digest(std::string_view text) {
  std::uint64_t hash = 14695981039346656037ULL;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return fmt::format("fnv1a64:{:016x}", hash);
}

std::string config_digest_attribute(std::string_view resource) {
  return fmt::format("vmha-config-{}", resource);
}

}  // namespace vmha
