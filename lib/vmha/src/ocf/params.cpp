#include "vmha/ocf/params.hpp"

#include <stdexcept>

#include <fmt/core.h>

#include "vmha/ocf/values.hpp"

namespace vmha::ocf {
namespace {

Result<ParamValue> convert(const ParamSpec& spec, const std::string& raw) {
  const auto wrong = [&](std::string_view what) {
    return fail(ErrorKind::misconfigured, fmt::format("parameter '{}': '{}' is not {}", spec.name, raw, what));
  };
  switch (spec.type) {
    case ParamType::string: return ParamValue{raw};
    case ParamType::boolean:
      if (const auto value = parse_boolean(raw)) return ParamValue{*value};
      return wrong("a boolean (true/false, yes/no, on/off, 1/0)");
    case ParamType::integer:
      if (const auto value = parse_integer(raw)) return ParamValue{*value};
      return wrong("an integer");
    case ParamType::duration:
      if (const auto value = parse_duration(raw)) return ParamValue{*value};
      return wrong("a duration (such as 30s, 500ms, 2min)");
  }
  return wrong("valid");
}

}  // namespace

Result<Params> read_params(const Metadata& metadata, const sys::Environment& env) {
  std::map<std::string, ParamValue, std::less<>> values;
  std::map<std::string, bool, std::less<>> explicit_set;
  for (const auto& spec : metadata.params) {
    const auto given = env.non_empty("OCF_RESKEY_" + spec.name);
    explicit_set[spec.name] = given.has_value();
    if (!given && spec.required) {
      return fail(ErrorKind::misconfigured, fmt::format("required parameter '{}' is not set", spec.name));
    }
    const std::optional<std::string> raw = given ? given : spec.default_value;
    if (!raw || (raw->empty() && spec.type != ParamType::string)) {
      if (spec.type == ParamType::string) values[spec.name] = std::string{};
      if (spec.type == ParamType::boolean) values[spec.name] = false;
      continue;  // integers and durations without a value stay absent
    }
    auto value = convert(spec, *raw);
    if (!value) {
      if (!given) value.error().reason += " (the meta-data default)";
      return fail(value.error());
    }
    values[spec.name] = std::move(*value);
  }
  return Params(std::move(values), std::move(explicit_set));
}

const ParamValue* Params::find(std::string_view name) const {
  const auto it = values_.find(name);
  return it == values_.end() ? nullptr : &it->second;
}

namespace {
[[noreturn]] void misuse(std::string_view name, std::string_view type) {
  throw std::logic_error(fmt::format("parameter '{}' is not declared as {} in the meta-data", name, type));
}
}  // namespace

const std::string& Params::text(std::string_view name) const {
  const auto* value = find(name);
  if (value == nullptr || !std::holds_alternative<std::string>(*value)) misuse(name, "a string");
  return std::get<std::string>(*value);
}

bool Params::flag(std::string_view name) const {
  const auto* value = find(name);
  if (value == nullptr || !std::holds_alternative<bool>(*value)) misuse(name, "a boolean");
  return std::get<bool>(*value);
}

std::optional<std::int64_t> Params::integer(std::string_view name) const {
  const auto* value = find(name);
  if (value == nullptr) {
    if (explicit_.find(name) == explicit_.end()) misuse(name, "an integer");
    return std::nullopt;
  }
  if (!std::holds_alternative<std::int64_t>(*value)) misuse(name, "an integer");
  return std::get<std::int64_t>(*value);
}

std::optional<sys::Millis> Params::duration(std::string_view name) const {
  const auto* value = find(name);
  if (value == nullptr) {
    if (explicit_.find(name) == explicit_.end()) misuse(name, "a duration");
    return std::nullopt;
  }
  if (!std::holds_alternative<sys::Millis>(*value)) misuse(name, "a duration");
  return std::get<sys::Millis>(*value);
}

bool Params::is_set(std::string_view name) const {
  const auto it = explicit_.find(name);
  if (it == explicit_.end()) misuse(name, "a parameter");
  return it->second;
}

}  // namespace vmha::ocf
