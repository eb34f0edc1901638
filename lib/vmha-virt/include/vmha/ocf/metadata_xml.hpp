// Reading an agent's meta-data XML into ocf::Metadata: at build time (vmha-metadata-gen) and in
// tests. In libvmha-virt, since it needs libxml2; agents read the generated table instead.
#pragma once

#include <string_view>

#include "vmha/ocf/metadata.hpp"
#include "vmha/result.hpp"

namespace vmha::ocf {

/// Parses meta-data XML (in libvmha-virt: it needs libxml2). Agents get their meta-data
/// already parsed, as a table generated from the XML at build time. Content types: string, integer, boolean; "time" and
/// "second" (the DTD's and metadata.rng's names) are durations.
[[nodiscard]] Result<Metadata> parse_metadata(std::string_view xml);

}  // namespace vmha::ocf
