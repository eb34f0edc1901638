#include "vmha/ocf/status.hpp"
#include "support/catch.hpp"
#include "vmha/result.hpp"

using vmha::ocf::Status;

TEST_CASE("every OCF status has Pacemaker's value and name", "[status]") {
  const auto [status, code, name] = GENERATE(table<Status, int, std::string>({
      {Status::success, 0, "OCF_SUCCESS"},
      {Status::err_generic, 1, "OCF_ERR_GENERIC"},
      {Status::err_args, 2, "OCF_ERR_ARGS"},
      {Status::err_unimplemented, 3, "OCF_ERR_UNIMPLEMENTED"},
      {Status::err_perm, 4, "OCF_ERR_PERM"},
      {Status::err_installed, 5, "OCF_ERR_INSTALLED"},
      {Status::err_configured, 6, "OCF_ERR_CONFIGURED"},
      {Status::not_running, 7, "OCF_NOT_RUNNING"},
      {Status::running_promoted, 8, "OCF_RUNNING_PROMOTED"},
      {Status::failed_promoted, 9, "OCF_FAILED_PROMOTED"},
      {Status::degraded, 190, "OCF_DEGRADED"},
      {Status::degraded_promoted, 191, "OCF_DEGRADED_PROMOTED"},
  }));
  CHECK(vmha::ocf::exit_code(status) == code);
  CHECK(vmha::ocf::name(status) == name);
}

TEST_CASE("errors carry a kind and a reason, and no exit code", "[status]") {
  const vmha::Result<int> result = vmha::fail(vmha::ErrorKind::misconfigured, "bad");
  REQUIRE_FALSE(result);
  CHECK(result.error().reason == "bad");
  CHECK(result.error().kind == vmha::ErrorKind::misconfigured);
  CHECK_FALSE(result.error().unanswered);
}
