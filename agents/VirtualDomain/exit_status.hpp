// The one place VirtualDomain turns an error into an OCF exit code, per action (in the spirit
// of Pacemaker's pcmk_rc2ocf): the layers below say what happened, this table says what it means.
#pragma once

#include <string_view>

#include "vmha/ocf/status.hpp"
#include "vmha/result.hpp"

namespace vmha::agents {

/// The exit code of `action` failing with `error`. Never 0 and never 7: only a domain proven
/// absent is "not running", and that is an answer, not an error.
[[nodiscard]] ocf::Status exit_status(std::string_view action, const Error& error);

}  // namespace vmha::agents
