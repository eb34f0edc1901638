// Typed instance parameters from OCF_RESKEY_<name>, checked against the meta-data.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "vmha/ocf/metadata.hpp"
#include "vmha/result.hpp"
#include "vmha/sys/environment.hpp"

namespace vmha::ocf {

using ParamValue = std::variant<std::string, std::int64_t, bool, sys::Millis>;

class Params {
 public:
  Params() = default;
  explicit Params(std::map<std::string, ParamValue, std::less<>> values,
                  std::map<std::string, bool, std::less<>> explicit_set)
      : values_(std::move(values)), explicit_(std::move(explicit_set)) {}

  /// Typed access. A name the meta-data does not declare, or a type mismatch, is a
  /// programming error and throws std::logic_error (caught at the process boundary).
  [[nodiscard]] const std::string& text(std::string_view name) const;
  [[nodiscard]] bool flag(std::string_view name) const;
  /// Integers and durations may have no value (no default and not set).
  [[nodiscard]] std::optional<std::int64_t> integer(std::string_view name) const;
  [[nodiscard]] std::optional<sys::Millis> duration(std::string_view name) const;
  /// True when the environment gave a value (not a default).
  [[nodiscard]] bool is_set(std::string_view name) const;

 private:
  [[nodiscard]] const ParamValue* find(std::string_view name) const;
  std::map<std::string, ParamValue, std::less<>> values_;
  std::map<std::string, bool, std::less<>> explicit_;
};

/// Reads every declared parameter. An empty variable counts as unset. Errors (status 6,
/// err_configured, since a malformed or missing value is wrong on every node):
///   "required parameter 'config' is not set"
///   "parameter 'force_stop': 'maybe' is not a boolean"
[[nodiscard]] Result<Params> read_params(const Metadata& metadata, const sys::Environment& env);

}  // namespace vmha::ocf
