// The one table from a failed action to its exit code: every action × every kind, and the rules
// that matter most — no error is ever "not running" or "success".
#include <array>
#include <string_view>

#include "VirtualDomain/exit_status.hpp"
#include "support/catch.hpp"

using vmha::Error;
using vmha::ErrorKind;
using vmha::agents::exit_status;
using vmha::ocf::Status;

namespace {

constexpr std::array<std::string_view, 9> kActions{"monitor",      "status",       "start",  "stop", "migrate_to",
                                                   "migrate_from", "validate-all", "reload", ""};
constexpr std::array<ErrorKind, 10> kKinds{ErrorKind::other,         ErrorKind::not_found,     ErrorKind::unreachable,
                                           ErrorKind::denied,        ErrorKind::invalid,       ErrorKind::timed_out,
                                           ErrorKind::not_installed, ErrorKind::misconfigured, ErrorKind::malformed,
                                           ErrorKind::unsupported};

}  // namespace

TEST_CASE("exit status: what each kind of failure means, in every action", "[exit-status]") {
  const auto [kind, status] = GENERATE(table<ErrorKind, Status>({
      {ErrorKind::other, Status::err_generic},
      {ErrorKind::not_found, Status::err_generic},
      {ErrorKind::unreachable, Status::err_generic},
      {ErrorKind::denied, Status::err_perm},
      {ErrorKind::invalid, Status::err_generic},
      {ErrorKind::timed_out, Status::err_generic},
      {ErrorKind::not_installed, Status::err_installed},
      {ErrorKind::misconfigured, Status::err_configured},
      {ErrorKind::malformed, Status::err_args},
      {ErrorKind::unsupported, Status::err_unimplemented},
  }));
  for (const auto action : kActions) {
    CAPTURE(action, vmha::name(kind));
    CHECK(exit_status(action, Error{kind, "reason"}) == status);
  }
}

TEST_CASE("exit status: no failure is ever success or not running", "[exit-status]") {
  for (const auto action : kActions) {
    for (const auto kind : kKinds) {
      for (const bool unanswered : {false, true}) {
        CAPTURE(action, vmha::name(kind), unanswered);
        const auto status = exit_status(action, Error{kind, "reason", unanswered});
        CHECK(status != Status::success);
        CHECK(status != Status::not_running);  // stop never 7; monitor 7 only for a domain proven absent
        CHECK(status != Status::running_promoted);
      }
    }
  }
}

TEST_CASE("exit status: a call that may still land changes nothing in the code", "[exit-status]") {
  for (const auto kind : kKinds) {
    CHECK(exit_status("stop", Error{kind, "a", true}) == exit_status("stop", Error{kind, "a", false}));
  }
}
