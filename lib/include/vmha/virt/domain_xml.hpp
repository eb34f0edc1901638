// Reading a libvirt domain XML (the `config` file): only what the agents need.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vmha/result.hpp"
#include "vmha/virt/domain.hpp"

namespace vmha::virt {

struct DiskSource {
  std::string type;    ///< file, block, network, volume, dir
  std::string device;  ///< disk, cdrom, floppy, lun
  std::string path;    ///< file= or dev= (or dir=); empty for network and volume disks
  std::string pool;    ///< for type='volume'
  std::string volume;  ///< for type='volume'
  std::string target;  ///< target dev, e.g. vda
};

struct DomainXml {
  std::string name;
  std::string uuid;      ///< canonical lower-case, or empty when the XML has none
  std::string type;      ///< domain type: kvm, qemu, …
  std::string emulator;  ///< devices/emulator
  std::uint64_t memory_kib = 0;
  unsigned vcpus = 0;
  std::vector<DiskSource> disks;
  std::vector<std::string> networks;  ///< interface type='network' sources
  std::vector<std::string> pools;     ///< storage pools of volume disks
  std::string label;                  ///< the resource its vmha label names, or empty

  [[nodiscard]] DomainRef ref() const { return DomainRef{name, uuid}; }
};

/// Parses domain XML: hardened (no network, no entities, no DTD, at most 1 MiB). Errors have
/// kind invalid and say what is wrong ("no <name>", "line 3: …").
[[nodiscard]] Result<DomainXml> parse_domain_xml(std::string_view text);

/// What a tolerant read (libxml2's recovery mode) of a domain XML that parse_domain_xml
/// refuses still says of its identity: the <name> and <uuid> that are complete in the text (a
/// file cut short after them, a typo further down). nullopt when no whole, valid name is there.
[[nodiscard]] std::optional<DomainRef> recover_domain_ref(std::string_view text);

/// The namespace of vmha's label in a domain's <metadata>: <vmha:resource name="…"/>.
inline constexpr std::string_view kLabelNamespace = "urn:vmha:resource:1";

/// The domain XML with vmha's label for `resource` in its <metadata> (replacing an older one),
/// so that a domain is labelled from its creation on, even by a start that then times out.
[[nodiscard]] Result<std::string> with_label(std::string_view text, const std::string& resource);

}  // namespace vmha::virt
