// The manual page ocf_vmha_<agent>(7), written from the agent's meta-data XML at build time in
// the form resource-agents gives its agents' pages: parameters, actions, crm and pcs examples.
#pragma once

#include <string>
#include <string_view>

#include "vmha/ocf/metadata.hpp"
#include "vmha/result.hpp"

namespace vmha::ocf {

/// The page in man(7) roff. `xml` is the meta-data text, `md` its parsed table.
[[nodiscard]] Result<std::string> man_page(std::string_view xml, const Metadata& md, const std::string& agent);

}  // namespace vmha::ocf
