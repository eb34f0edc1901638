#include "vmha/virt/classify.hpp"

#include <libvirt/virterror.h>  // the error code constants only; nothing is linked

namespace vmha::virt::detail {

ErrorKind classify(int code, int domain) noexcept {
  switch (code) {
    case VIR_ERR_NO_DOMAIN:
    case VIR_ERR_NO_NETWORK:
    case VIR_ERR_NO_STORAGE_POOL: return ErrorKind::not_found;
    case VIR_ERR_AUTH_FAILED:
    case VIR_ERR_AUTH_CANCELLED:
    case VIR_ERR_AUTH_UNAVAILABLE:
    case VIR_ERR_ACCESS_DENIED:
    case VIR_ERR_OPERATION_DENIED: return ErrorKind::denied;
    case VIR_ERR_OPERATION_INVALID:
    case VIR_ERR_NO_SUPPORT:
    case VIR_ERR_ARGUMENT_UNSUPPORTED:
    case VIR_ERR_OPERATION_UNSUPPORTED:
    case VIR_ERR_INVALID_ARG:
    case VIR_ERR_XML_ERROR:
    case VIR_ERR_XML_DETAIL:
    case VIR_ERR_CONFIG_UNSUPPORTED: return ErrorKind::invalid;
    case VIR_ERR_OPERATION_TIMEOUT:
    case VIR_ERR_AGENT_UNRESPONSIVE: return ErrorKind::timed_out;
    case VIR_ERR_NO_CONNECT:
    case VIR_ERR_RPC: return ErrorKind::unreachable;
    default: break;
  }
  if (domain == VIR_FROM_RPC || domain == VIR_FROM_REMOTE) return ErrorKind::unreachable;
  return ErrorKind::other;
}

}  // namespace vmha::virt::detail
