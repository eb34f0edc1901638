#include "VirtualDomain/exit_status.hpp"

#include <array>

namespace vmha::agents {
namespace {

using ocf::Status;

/// One row a kind: what a failure of that kind means to each action. Every action reads a
/// failure the same way today; the columns are there so that one that must differ says so here.
struct Row {
  ErrorKind kind;
  Status monitor;  ///< monitor, status and probes
  Status start;    ///< start and migrate_from: a failure moves the resource elsewhere
  Status stop;     ///< stop (any failure fences the node) and migrate_to (a failure means a stop); never 7
  Status other;    ///< validate-all, unknown actions, the dispatcher's own checks
};

constexpr std::array<Row, 10> kTable{{
    {ErrorKind::other, Status::err_generic, Status::err_generic, Status::err_generic, Status::err_generic},
    {ErrorKind::not_found, Status::err_generic, Status::err_generic, Status::err_generic, Status::err_generic},
    {ErrorKind::unreachable, Status::err_generic, Status::err_generic, Status::err_generic, Status::err_generic},
    {ErrorKind::denied, Status::err_perm, Status::err_perm, Status::err_perm, Status::err_perm},
    {ErrorKind::invalid, Status::err_generic, Status::err_generic, Status::err_generic, Status::err_generic},
    {ErrorKind::timed_out, Status::err_generic, Status::err_generic, Status::err_generic, Status::err_generic},
    {ErrorKind::not_installed, Status::err_installed, Status::err_installed, Status::err_installed,
     Status::err_installed},
    {ErrorKind::misconfigured, Status::err_configured, Status::err_configured, Status::err_configured,
     Status::err_configured},
    {ErrorKind::malformed, Status::err_args, Status::err_args, Status::err_args, Status::err_args},
    {ErrorKind::unsupported, Status::err_unimplemented, Status::err_unimplemented, Status::err_unimplemented,
     Status::err_unimplemented},
}};

}  // namespace

ocf::Status exit_status(std::string_view action, const Error& error) {
  for (const Row& row : kTable) {
    if (row.kind != error.kind) continue;
    if (action == "monitor" || action == "status") return row.monitor;
    if (action == "start" || action == "migrate_from") return row.start;
    if (action == "stop" || action == "migrate_to") return row.stop;
    return row.other;
  }
  return Status::err_generic;
}

}  // namespace vmha::agents
