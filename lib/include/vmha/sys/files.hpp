// Small files read and replaced with plain system calls. No iostreams: their first use
// builds the C++ locale, a measurable part of a monitor that takes a few milliseconds.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace vmha::sys {

/// The whole file, or nullopt when it cannot be read or is larger than `limit` bytes.
[[nodiscard]] std::optional<std::string> read_file(const std::string& path, std::size_t limit = 16U << 20U);

/// Replaces the file atomically (a temporary next to it, then rename), so a reader never sees
/// half of it. Creates missing parent directories. False when it could not.
[[nodiscard]] bool replace_file(const std::string& path, const std::string& content);

}  // namespace vmha::sys
