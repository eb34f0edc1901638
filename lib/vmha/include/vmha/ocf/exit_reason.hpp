// `ocf-exit-reason:` lines: Pacemaker keeps the last one it finds on stderr.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace vmha::ocf {

inline constexpr std::string_view kExitReasonPrefix = "ocf-exit-reason:";

/// One line: control characters become spaces, surrounding blanks go, and overlong text is
/// cut (Pacemaker shows reasons in status output; detail belongs in the log).
[[nodiscard]] std::string one_line(std::string_view text, std::size_t max_length = 400);

/// Writes "<prefix><reason>\n" and flushes. `prefix` is OCF_EXIT_REASON_PREFIX when set.
void write_exit_reason(std::FILE* err, std::string_view reason, std::string_view prefix = kExitReasonPrefix);

}  // namespace vmha::ocf
