#include "vmha/ocf/metadata.hpp"

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

}  // namespace vmha::ocf
