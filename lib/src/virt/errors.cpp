#include "errors.hpp"

#include <libvirt/virterror.h>

#include <fmt/core.h>

namespace vmha::virt::detail {

ErrorKind classify(int code, int domain) noexcept {
  switch (code) {
    case VIR_ERR_NO_DOMAIN:
    case VIR_ERR_NO_NETWORK:
    case VIR_ERR_NO_STORAGE_POOL:
      return ErrorKind::not_found;
    case VIR_ERR_AUTH_FAILED:
    case VIR_ERR_AUTH_CANCELLED:
    case VIR_ERR_AUTH_UNAVAILABLE:
    case VIR_ERR_ACCESS_DENIED:
    case VIR_ERR_OPERATION_DENIED:
      return ErrorKind::denied;
    case VIR_ERR_OPERATION_INVALID:
    case VIR_ERR_NO_SUPPORT:
    case VIR_ERR_ARGUMENT_UNSUPPORTED:
    case VIR_ERR_OPERATION_UNSUPPORTED:
    case VIR_ERR_INVALID_ARG:
    case VIR_ERR_XML_ERROR:
    case VIR_ERR_XML_DETAIL:
    case VIR_ERR_CONFIG_UNSUPPORTED:
      return ErrorKind::invalid;
    case VIR_ERR_OPERATION_TIMEOUT:
    case VIR_ERR_AGENT_UNRESPONSIVE:
      return ErrorKind::timed_out;
    case VIR_ERR_NO_CONNECT:
    case VIR_ERR_RPC:
      return ErrorKind::unreachable;
    default:
      break;
  }
  if (domain == VIR_FROM_RPC || domain == VIR_FROM_REMOTE) return ErrorKind::unreachable;
  return ErrorKind::other;
}

Error last_error(std::string_view what, virConnectPtr connection) {
  // Copy everything first: any further libvirt call (virConnectIsAlive too) resets the error.
  const virError* error = virGetLastError();
  const int code = error != nullptr ? error->code : VIR_ERR_INTERNAL_ERROR;
  const int domain = error != nullptr ? error->domain : VIR_FROM_NONE;
  const std::string message =
      error != nullptr && error->message != nullptr ? std::string(error->message) : "unknown libvirt error";
  ErrorKind kind = classify(code, domain);
  if (connection != nullptr && virConnectIsAlive(connection) == 0) kind = ErrorKind::unreachable;
  return Error{ocf::Status::err_generic, fmt::format("{}: {}", what, message), kind};
}

}  // namespace vmha::virt::detail
