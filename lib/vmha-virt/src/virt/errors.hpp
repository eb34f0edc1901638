// libvirt's structured errors as vmha Errors (private to the libvirt implementation).
#pragma once

#include <string_view>

#include <libvirt/libvirt.h>

#include "vmha/result.hpp"

namespace vmha::virt::detail {

/// The calling thread's last libvirt error as an Error; "what" says what was attempted.
/// When `connection` is given and no longer alive, the kind is unreachable.
[[nodiscard]] Error last_error(std::string_view what, virConnectPtr connection = nullptr);

}  // namespace vmha::virt::detail
