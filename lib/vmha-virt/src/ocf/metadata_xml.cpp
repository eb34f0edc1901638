#include <fmt/core.h>

#include "vmha/ocf/metadata_xml.hpp"
#include "vmha/ocf/values.hpp"
#include "vmha/xml/document.hpp"

namespace vmha::ocf {
namespace {

Error bad(std::string detail) {
  return Error{ErrorKind::invalid, "meta-data: " + std::move(detail)};
}

std::optional<ParamType> type_from(std::string_view word) {
  if (word == "string") return ParamType::string;
  if (word == "integer") return ParamType::integer;
  if (word == "boolean") return ParamType::boolean;
  if (word == "time" || word == "second") return ParamType::duration;
  return std::nullopt;
}

bool flag_attribute(xmlNodePtr node, std::string_view name) {
  const auto value = xml::attribute(node, name);
  return value && parse_boolean(*value).value_or(false);
}

Result<ParamSpec> read_param(xmlNodePtr node) {
  ParamSpec spec;
  spec.name = xml::attribute(node, "name").value_or("");
  if (spec.name.empty()) return fail(bad("a parameter has no name"));
  spec.required = flag_attribute(node, "required");
  spec.unique = flag_attribute(node, "unique");
  spec.reloadable = flag_attribute(node, "reloadable");
  xmlNodePtr content = xml::child(node, "content");
  const auto type_word = xml::attribute(content, "type").value_or("");
  const auto type = type_from(type_word);
  if (!type) return fail(bad(fmt::format("parameter '{}' has type '{}'", spec.name, type_word)));
  spec.type = *type;
  spec.default_value = xml::attribute(content, "default");
  return spec;
}

Result<ActionSpec> read_action(xmlNodePtr node) {
  ActionSpec spec;
  spec.name = xml::attribute(node, "name").value_or("");
  if (spec.name.empty()) return fail(bad("an action has no name"));
  const auto timeout = parse_duration(xml::attribute(node, "timeout").value_or(""));
  if (!timeout) return fail(bad(fmt::format("action '{}' has no valid timeout", spec.name)));
  spec.timeout = *timeout;
  if (const auto interval = xml::attribute(node, "interval")) {
    spec.interval = parse_duration(*interval);
    if (!spec.interval) return fail(bad(fmt::format("action '{}' has a bad interval", spec.name)));
  }
  if (const auto depth = xml::attribute(node, "depth")) {
    const auto value = parse_integer(*depth);
    if (!value) return fail(bad(fmt::format("action '{}' has a bad depth", spec.name)));
    spec.depth = static_cast<int>(*value);
  }
  spec.role = xml::attribute(node, "role").value_or("");
  return spec;
}

}  // namespace

Result<Metadata> parse_metadata(std::string_view text) {
  auto doc = xml::Document::parse(text, "meta-data", {.max_bytes = 1U << 20U, .allow_doctype = true});
  if (!doc) return fail(bad(doc.error().reason));
  xmlNodePtr root = doc->root();
  if (!xml::is_named(root, "resource-agent")) return fail(bad("root is not <resource-agent>"));
  Metadata md;
  md.agent = xml::attribute(root, "name").value_or("");
  md.version = xml::attribute(root, "version").value_or("");
  md.ocf_version = xml::text(xml::child(root, "version"));
  for (xmlNodePtr node : xml::children(xml::child(root, "parameters"), "parameter")) {
    auto spec = read_param(node);
    VMHA_TRY(spec);
    if (md.param(spec->name) != nullptr) {
      return fail(bad(fmt::format("parameter '{}' is declared twice", spec->name)));
    }
    md.params.push_back(std::move(*spec));
  }
  for (xmlNodePtr node : xml::children(xml::child(root, "actions"), "action")) {
    auto spec = read_action(node);
    VMHA_TRY(spec);
    md.actions.push_back(std::move(*spec));
  }
  if (md.agent.empty()) return fail(bad("resource-agent has no name"));
  return md;
}

}  // namespace vmha::ocf
