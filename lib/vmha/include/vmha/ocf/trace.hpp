// Agent tracing (OCF_TRACE_RA / trace_ra): where the trace goes, as ocf-shellfuncs decides it.
#pragma once

#include <ctime>
#include <optional>
#include <string>

#include "vmha/ocf/invocation.hpp"
#include "vmha/ocf/params.hpp"
#include "vmha/result.hpp"
#include "vmha/sys/environment.hpp"
#include "vmha/sys/owned_file.hpp"

namespace vmha::ocf {

struct TraceTarget {
  std::optional<int> fd;  ///< an inherited descriptor 3..9
  std::string path;       ///< else an absolute file path; both empty = stderr
};

/// nullopt when tracing is off. OCF_TRACE_RA wins over the trace_ra parameter, and
/// OCF_TRACE_FILE over trace_file; the default file is
/// ${OCF_RESKEY_trace_dir:-$HA_VARLIB/trace_ra}/<type>/<instance>.<action>.<%F.%T>.
[[nodiscard]] std::optional<TraceTarget> trace_target(const sys::Environment& env, const Params& params,
                                                      const Invocation& call, bool terminal, std::time_t now);

/// Opens the target (creating the default directory). Failure is an error the caller logs
/// as a warning: tracing never fails an action.
[[nodiscard]] Result<sys::OwnedFile> open_trace(const TraceTarget& target);

}  // namespace vmha::ocf
