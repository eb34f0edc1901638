// OCF exit codes, as Pacemaker 2.1.5 knows them (include/crm/common/results.h).
#pragma once

#include <string_view>

namespace vmha::ocf {

enum class Status : int {
  success = 0,
  err_generic = 1,
  err_args = 2,
  err_unimplemented = 3,
  err_perm = 4,
  err_installed = 5,
  err_configured = 6,
  not_running = 7,
  running_promoted = 8,
  failed_promoted = 9,
  degraded = 190,
  degraded_promoted = 191,
};

/// The OCF name of a status, e.g. "OCF_NOT_RUNNING".
[[nodiscard]] std::string_view name(Status status) noexcept;

/// The process exit code for a status.
[[nodiscard]] constexpr int exit_code(Status status) noexcept {
  return static_cast<int>(status);
}

}  // namespace vmha::ocf
