// libvirt's structured error codes as vmha error kinds (shared by the libvirt and wire clients).
#pragma once

#include "vmha/result.hpp"

namespace vmha::virt::detail {

/// The kind of failure a libvirt error code (and error domain) stands for.
[[nodiscard]] ErrorKind classify(int code, int domain) noexcept;

}  // namespace vmha::virt::detail
