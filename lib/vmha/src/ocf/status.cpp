#include "vmha/ocf/status.hpp"

namespace vmha::ocf {

std::string_view name(Status status) noexcept {
  switch (status) {
    case Status::success: return "OCF_SUCCESS";
    case Status::err_generic: return "OCF_ERR_GENERIC";
    case Status::err_args: return "OCF_ERR_ARGS";
    case Status::err_unimplemented: return "OCF_ERR_UNIMPLEMENTED";
    case Status::err_perm: return "OCF_ERR_PERM";
    case Status::err_installed: return "OCF_ERR_INSTALLED";
    case Status::err_configured: return "OCF_ERR_CONFIGURED";
    case Status::not_running: return "OCF_NOT_RUNNING";
    case Status::running_promoted: return "OCF_RUNNING_PROMOTED";
    case Status::failed_promoted: return "OCF_FAILED_PROMOTED";
    case Status::degraded: return "OCF_DEGRADED";
    case Status::degraded_promoted: return "OCF_DEGRADED_PROMOTED";
  }
  return "OCF_UNKNOWN";
}

}  // namespace vmha::ocf
