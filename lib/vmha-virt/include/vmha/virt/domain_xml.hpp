// Reading a libvirt domain XML (the `config` file) into virt::DomainXml (domain.hpp): only what
// the agents need. In libvmha-virt: it needs libxml2.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vmha/result.hpp"
#include "vmha/virt/domain.hpp"

namespace vmha::virt {

/// Parses domain XML: hardened (no network, no entities, no DTD, at most 1 MiB). Errors have
/// kind invalid and say what is wrong ("no <name>", "line 3: …").
[[nodiscard]] Result<DomainXml> parse_domain_xml(std::string_view text);

/// What a tolerant read (libxml2's recovery mode) of a domain XML that parse_domain_xml
/// refuses still says of its identity: the <name> and <uuid> that are complete in the text (a
/// file cut short after them, a typo further down). nullopt when no whole, valid name is there.
[[nodiscard]] std::optional<DomainRef> recover_domain_ref(std::string_view text);

/// The domain XML with vmha's label for `resource` in its <metadata> (replacing an older one),
/// so that a domain is labelled from its creation on, even by a start that then times out.
[[nodiscard]] Result<std::string> with_label(std::string_view text, const std::string& resource);

}  // namespace vmha::virt
