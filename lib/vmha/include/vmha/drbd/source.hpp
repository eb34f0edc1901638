// Where DRBD's state comes from: one `drbdsetup events2 --now --statistics all` per action
// (DRBD 9, and 8.4.7+ userland), or /proc/drbd on a DRBD 8.4 kernel without it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "vmha/drbd/state.hpp"
#include "vmha/ocf/deadline.hpp"
#include "vmha/result.hpp"
#include "vmha/sys/spawn.hpp"

namespace vmha::drbd {

class StatusSource {
 public:
  virtual ~StatusSource() = default;
  /// Every DRBD resource on this node. Errors: not_found when DRBD is not installed here.
  [[nodiscard]] virtual Result<std::vector<Resource>> resources(const ocf::Deadline& deadline) = 0;
};

/// drbdsetup from PATH (`path_variable`), bounded by the deadline; /proc/drbd (`proc_drbd`)
/// when there is no drbdsetup.
[[nodiscard]] std::unique_ptr<StatusSource> make_drbdsetup_source(sys::CommandRunner& runner, std::string path_variable,
                                                                  std::string proc_drbd = "/proc/drbd");

}  // namespace vmha::drbd
