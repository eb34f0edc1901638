#include "vmha/virt/domain_xml.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include <fmt/core.h>

#include "vmha/text.hpp"
#include "vmha/xml/document.hpp"

namespace vmha::virt {
namespace {

constexpr std::size_t kMaxDomainXml = 1U << 20U;

Error invalid(std::string reason) {
  return Error{ErrorKind::malformed, std::move(reason)};
}

std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

// <memory unit='MiB'>128</memory> in KiB (libvirt's default unit).
Result<std::uint64_t> memory_kib(xmlNodePtr node) {
  if (node == nullptr) return std::uint64_t{0};
  const auto value = text::parse_integer(trimmed(xml::text(node)));
  if (!value || *value < 0) return fail(invalid("<memory> is not a number"));
  std::string unit = xml::attribute(node, "unit").value_or("KiB");
  std::transform(unit.begin(), unit.end(), unit.begin(), [](unsigned char c) { return std::tolower(c); });
  const auto amount = static_cast<std::uint64_t>(*value);
  // KiB = amount * multiply / divide, refused when it does not fit in 64 bits.
  struct Unit {
    std::string_view name;
    std::uint64_t multiply;
    std::uint64_t divide;
  };
  static constexpr std::array<Unit, 13> kUnits{{{"b", 1, 1024},
                                                {"bytes", 1, 1024},
                                                {"k", 1, 1},
                                                {"kib", 1, 1},
                                                {"kb", 1000, 1024},
                                                {"m", 1024, 1},
                                                {"mib", 1024, 1},
                                                {"mb", 1000ULL * 1000, 1024},
                                                {"g", 1024ULL * 1024, 1},
                                                {"gib", 1024ULL * 1024, 1},
                                                {"gb", 1000ULL * 1000 * 1000, 1024},
                                                {"t", 1024ULL * 1024 * 1024, 1},
                                                {"tib", 1024ULL * 1024 * 1024, 1}}};
  const auto* known = std::find_if(kUnits.begin(), kUnits.end(), [&unit](const Unit& u) { return u.name == unit; });
  if (known == kUnits.end()) return fail(invalid(fmt::format("<memory> has an unknown unit '{}'", unit)));
  const std::uint64_t multiply = known->multiply;
  const std::uint64_t divide = known->divide;
  std::uint64_t product = 0;
  if (__builtin_mul_overflow(amount, multiply, &product)) return fail(invalid("<memory> is too large"));
  return product / divide;
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
  out.target_dev = xml::attribute(xml::child(disk, "target"), "dev").value_or("");
  return out;
}

}  // namespace

Result<DomainXml> parse_domain_xml(std::string_view text) {
  auto doc = xml::Document::parse(text, "domain XML", {.max_bytes = kMaxDomainXml, .allow_doctype = false});
  if (!doc) return fail(invalid(doc.error().reason));
  xmlNodePtr root = doc->root();
  if (!xml::is_named(root, "domain")) return fail(invalid("domain XML: the root element is not <domain>"));
  DomainXml out;
  out.type = xml::attribute(root, "type").value_or("");
  out.name = trimmed(xml::text(xml::child(root, "name")));
  if (out.name.empty()) return fail(invalid("domain XML: no <name>"));
  if (!valid_domain_name(out.name)) {
    return fail(invalid("domain XML: <name> is not a name libvirt accepts (a '/', a control character, '.' or '..')"));
  }
  if (xmlNodePtr uuid = xml::child(root, "uuid"); uuid != nullptr) {
    out.uuid = canonical_uuid(trimmed(xml::text(uuid)));
    if (out.uuid.empty()) return fail(invalid("domain XML: <uuid> is malformed"));
  }
  auto memory = memory_kib(xml::child(root, "memory"));
  VMHA_TRY(memory);
  out.memory_kib = *memory;
  if (xmlNodePtr vcpu = xml::child(root, "vcpu"); vcpu != nullptr) {
    const auto count = text::parse_integer(trimmed(xml::text(vcpu)));
    if (!count || *count < 1 || *count > 4096) return fail(invalid("domain XML: <vcpu> is not a count"));
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
  for (xmlNodePtr metadata : xml::children(root, "metadata")) {
    for (xmlNodePtr element : xml::children(metadata, "resource")) {
      if (element->ns != nullptr && reinterpret_cast<const char*>(element->ns->href) == kLabelNamespace) {
        out.label = xml::attribute(element, "name").value_or("");
      }
    }
  }
  const auto add_once = [](std::vector<std::string>& list, const std::string& item) {
    if (!item.empty() && std::find(list.begin(), list.end(), item) == list.end()) list.push_back(item);
  };
  for (xmlNodePtr iface : xml::children(devices, "interface")) {
    const auto type = xml::attribute(iface, "type").value_or("");
    xmlNodePtr source = xml::child(iface, "source");
    if (type == "network") add_once(out.networks, xml::attribute(source, "network").value_or(""));
    if (type == "bridge") add_once(out.bridges, xml::attribute(source, "bridge").value_or(""));
  }
  xmlNodePtr os_type = xml::child(xml::child(root, "os"), "type");
  out.arch = xml::attribute(os_type, "arch").value_or("");
  out.machine = xml::attribute(os_type, "machine").value_or("");
  if (xmlNodePtr cpu = xml::child(root, "cpu"); cpu != nullptr) {
    out.cpu_model = trimmed(xml::text(xml::child(cpu, "model")));
    if (xmlBufferPtr buffer = xmlBufferCreate(); buffer != nullptr) {
      if (xmlNodeDump(buffer, cpu->doc, cpu, 0, 0) > 0)
        out.cpu_xml = reinterpret_cast<const char*>(xmlBufferContent(buffer));
      xmlBufferFree(buffer);
    }
    // libvirt's default mode is custom when a model is given.
    out.cpu_mode = xml::attribute(cpu, "mode").value_or(out.cpu_model.empty() ? "" : "custom");
  }
  for (xmlNodePtr channel : xml::children(devices, "channel")) {
    xmlNodePtr target = xml::child(channel, "target");
    if (xml::attribute(target, "type").value_or("") == "virtio" &&
        xml::attribute(target, "name").value_or("") == "org.qemu.guest_agent.0") {
      out.guest_agent_channel = true;
    }
  }
  return out;
}

std::optional<DomainRef> recover_domain_ref(std::string_view text) {
  const auto doc = xml::Document::parse_tolerantly(text, {.max_bytes = kMaxDomainXml, .allow_doctype = false});
  if (!doc || !xml::is_named(doc->root(), "domain")) return std::nullopt;
  // An element counts only when the text holds it whole: a file cut inside <name> would
  // otherwise give the start of a name.
  const auto whole = [text](xmlNodePtr node, std::string_view tag) -> std::optional<std::string> {
    if (node == nullptr) return std::nullopt;
    const std::string raw = xml::text(node);
    if (text.find(raw + "</" + std::string(tag) + ">") == std::string_view::npos) return std::nullopt;
    return trimmed(raw);
  };
  const auto name = whole(xml::child(doc->root(), "name"), "name");
  if (!name || !valid_domain_name(*name)) return std::nullopt;
  const auto uuid = whole(xml::child(doc->root(), "uuid"), "uuid");
  return DomainRef{*name, uuid ? canonical_uuid(*uuid) : std::string()};
}

Result<std::string> with_label(std::string_view text, const std::string& resource) {
  auto doc = xml::Document::parse(text, "domain XML", {.max_bytes = kMaxDomainXml, .allow_doctype = false});
  if (!doc) return fail(invalid(doc.error().reason));
  xmlNodePtr root = doc->root();
  if (!xml::is_named(root, "domain")) return fail(invalid("domain XML: the root element is not <domain>"));
  const auto* name = reinterpret_cast<const xmlChar*>("resource");
  xmlNodePtr metadata = xml::child(root, "metadata");
  if (metadata == nullptr) metadata = xmlNewChild(root, nullptr, reinterpret_cast<const xmlChar*>("metadata"), nullptr);
  for (xmlNodePtr old : xml::children(metadata, "resource")) {
    if (old->ns != nullptr && reinterpret_cast<const char*>(old->ns->href) == kLabelNamespace) {
      xmlUnlinkNode(old);
      xmlFreeNode(old);
    }
  }
  xmlNodePtr label = metadata == nullptr ? nullptr : xmlNewChild(metadata, nullptr, name, nullptr);
  if (label == nullptr) return fail(invalid("cannot add a label"));
  const std::string ns(kLabelNamespace);
  xmlNsPtr space =
      xmlNewNs(label, reinterpret_cast<const xmlChar*>(ns.c_str()), reinterpret_cast<const xmlChar*>("vmha"));
  if (space == nullptr) return fail(invalid("cannot add a label"));
  xmlSetNs(label, space);
  xmlSetProp(label, reinterpret_cast<const xmlChar*>("name"), reinterpret_cast<const xmlChar*>(resource.c_str()));
  xmlChar* dumped = nullptr;
  int size = 0;
  xmlDocDumpMemory(doc->get(), &dumped, &size);
  if (dumped == nullptr) return fail(invalid("cannot write the labelled domain XML"));
  std::string out(reinterpret_cast<const char*>(dumped), static_cast<std::size_t>(size));
  xmlFree(dumped);
  return out;
}

}  // namespace vmha::virt
