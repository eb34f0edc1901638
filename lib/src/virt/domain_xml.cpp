#include "vmha/virt/domain_xml.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/core.h>

#include "vmha/ocf/values.hpp"
#include "vmha/xml/document.hpp"

namespace vmha::virt {
namespace {

constexpr std::size_t kMaxDomainXml = 1U << 20U;

Error invalid(std::string reason) {
  return Error{ocf::Status::err_args, std::move(reason), ErrorKind::invalid};
}

std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

// <memory unit='MiB'>128</memory> in KiB (libvirt's default unit).
Result<std::uint64_t> memory_kib(xmlNodePtr node) {
  if (node == nullptr) return std::uint64_t{0};
  const auto value = ocf::parse_integer(trimmed(xml::text(node)));
  if (!value || *value < 0) return tl::unexpected(invalid("<memory> is not a number"));
  std::string unit = xml::attribute(node, "unit").value_or("KiB");
  std::transform(unit.begin(), unit.end(), unit.begin(), [](unsigned char c) { return std::tolower(c); });
  const auto amount = static_cast<std::uint64_t>(*value);
  if (unit == "b" || unit == "bytes") return amount / 1024;
  if (unit == "k" || unit == "kib") return amount;
  if (unit == "kb") return amount * 1000 / 1024;
  if (unit == "m" || unit == "mib") return amount * 1024;
  if (unit == "mb") return amount * 1000 * 1000 / 1024;
  if (unit == "g" || unit == "gib") return amount * 1024 * 1024;
  if (unit == "gb") return amount * 1000 * 1000 * 1000 / 1024;
  if (unit == "t" || unit == "tib") return amount * 1024 * 1024 * 1024;
  return tl::unexpected(invalid(fmt::format("<memory> has an unknown unit '{}'", unit)));
}

DiskSource read_disk(xmlNodePtr disk) {
  DiskSource out;
  out.type = xml::attribute(disk, "type").value_or("file");
  out.device = xml::attribute(disk, "device").value_or("disk");
  xmlNodePtr source = xml::child(disk, "source");
  for (const auto* key : {"file", "dev", "dir"}) {
    if (auto value = xml::attribute(source, key)) out.path = *value;
  }
  out.pool = xml::attribute(source, "pool").value_or("");
  out.volume = xml::attribute(source, "volume").value_or("");
  out.target = xml::attribute(xml::child(disk, "target"), "dev").value_or("");
  return out;
}

}  // namespace

Result<DomainXml> parse_domain_xml(std::string_view text) {
  auto doc = xml::Document::parse(text, "domain XML", {.max_bytes = kMaxDomainXml, .allow_doctype = false});
  if (!doc) return tl::unexpected(invalid(doc.error().reason));
  xmlNodePtr root = doc->root();
  if (!xml::is_named(root, "domain")) return tl::unexpected(invalid("domain XML: the root element is not <domain>"));
  DomainXml out;
  out.type = xml::attribute(root, "type").value_or("");
  out.name = trimmed(xml::text(xml::child(root, "name")));
  if (out.name.empty()) return tl::unexpected(invalid("domain XML: no <name>"));
  if (xmlNodePtr uuid = xml::child(root, "uuid"); uuid != nullptr) {
    out.uuid = canonical_uuid(trimmed(xml::text(uuid)));
    if (out.uuid.empty()) return tl::unexpected(invalid("domain XML: <uuid> is malformed"));
  }
  auto memory = memory_kib(xml::child(root, "memory"));
  if (!memory) return tl::unexpected(memory.error());
  out.memory_kib = *memory;
  if (xmlNodePtr vcpu = xml::child(root, "vcpu"); vcpu != nullptr) {
    const auto count = ocf::parse_integer(trimmed(xml::text(vcpu)));
    if (!count || *count < 1 || *count > 4096) return tl::unexpected(invalid("domain XML: <vcpu> is not a count"));
    out.vcpus = static_cast<unsigned>(*count);
  }
  xmlNodePtr devices = xml::child(root, "devices");
  out.emulator = trimmed(xml::text(xml::child(devices, "emulator")));
  for (xmlNodePtr disk : xml::children(devices, "disk")) {
    out.disks.push_back(read_disk(disk));
    const auto& added = out.disks.back();
    if (added.type == "volume" && !added.pool.empty() &&
        std::find(out.pools.begin(), out.pools.end(), added.pool) == out.pools.end()) {
      out.pools.push_back(added.pool);
    }
  }
  for (xmlNodePtr iface : xml::children(devices, "interface")) {
    if (xml::attribute(iface, "type").value_or("") != "network") continue;
    const auto network = xml::attribute(xml::child(iface, "source"), "network").value_or("");
    if (!network.empty() && std::find(out.networks.begin(), out.networks.end(), network) == out.networks.end()) {
      out.networks.push_back(network);
    }
  }
  return out;
}

}  // namespace vmha::virt
