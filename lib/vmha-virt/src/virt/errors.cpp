#include "errors.hpp"

#include "vmha/virt/classify.hpp"

#include <libvirt/virterror.h>

#include <fmt/core.h>

namespace vmha::virt::detail {

Error last_error(std::string_view what, virConnectPtr connection) {
  // Copy everything first: any further libvirt call (virConnectIsAlive too) resets the error.
  const virError* error = virGetLastError();
  const int code = error != nullptr ? error->code : VIR_ERR_INTERNAL_ERROR;
  const int domain = error != nullptr ? error->domain : VIR_FROM_NONE;
  const std::string message =
      error != nullptr && error->message != nullptr ? std::string(error->message) : "unknown libvirt error";
  ErrorKind kind = classify(code, domain);
  if (connection != nullptr && virConnectIsAlive(connection) == 0) kind = ErrorKind::unreachable;
  return Error{kind, fmt::format("{}: {}", what, message)};
}

}  // namespace vmha::virt::detail
