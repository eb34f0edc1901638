#include "vmha/ocf/metadata.hpp"

#include <fmt/core.h>

#include "vmha/ocf/values.hpp"

namespace vmha::ocf {

std::string_view name(ParamType type) noexcept {
  switch (type) {
    case ParamType::string: return "string";
    case ParamType::integer: return "integer";
    case ParamType::boolean: return "boolean";
    case ParamType::duration: return "duration";
  }
  return "unknown";
}

std::string_view content_type(ParamType type) noexcept {
  return type == ParamType::duration ? std::string_view("time") : name(type);
}

std::string duration_text(sys::Millis value) {
  return value.count() % 1000 == 0 ? fmt::format("{}s", value.count() / 1000) : fmt::format("{}ms", value.count());
}

const ParamSpec* Metadata::param(std::string_view wanted) const {
  for (const auto& spec : params) {
    if (spec.name == wanted) return &spec;
  }
  return nullptr;
}

const ActionSpec* Metadata::action(std::string_view wanted) const {
  for (const auto& spec : actions) {
    if (spec.name == wanted) return &spec;
  }
  return nullptr;
}

std::string_view metadata_for_caller(const MetadataText& text, const sys::Environment& env) {
  const auto major = parse_integer(env.get("OCF_RA_VERSION_MAJOR").value_or(""));
  const auto minor = parse_integer(env.get("OCF_RA_VERSION_MINOR").value_or(""));
  if (!major || !minor) return text.ocf_1_0;
  return (*major > 1 || (*major == 1 && *minor >= 1)) ? text.ocf_1_1 : text.ocf_1_0;
}

}  // namespace vmha::ocf
