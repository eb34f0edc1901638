// Read access to the process environment, behind an interface so tests can supply a map.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace vmha::sys {

class Environment {
 public:
  virtual ~Environment() = default;
  /// The value of `name`, or nullopt when it is unset.
  [[nodiscard]] virtual std::optional<std::string> get(std::string_view name) const = 0;
  /// Every variable, sorted by name (for trace dumps).
  [[nodiscard]] virtual std::map<std::string, std::string> all() const = 0;

  /// The value of `name` when set and not empty.
  [[nodiscard]] std::optional<std::string> non_empty(std::string_view name) const;
  /// The first of `names` that is set and not empty.
  [[nodiscard]] std::optional<std::string> first_of(std::initializer_list<std::string_view> names) const;
};

/// The real environment of this process.
class ProcessEnvironment final : public Environment {
 public:
  [[nodiscard]] std::optional<std::string> get(std::string_view name) const override;
  [[nodiscard]] std::map<std::string, std::string> all() const override;
};

/// An environment held in a map: for tests, and for building a child's environment.
class MapEnvironment final : public Environment {
 public:
  using Vars = std::map<std::string, std::string>;
  MapEnvironment() = default;
  explicit MapEnvironment(std::map<std::string, std::string> vars) : vars_(std::move(vars)) {}

  void set(std::string name, std::string value) { vars_[std::move(name)] = std::move(value); }
  void unset(const std::string& name) { vars_.erase(name); }

  [[nodiscard]] std::optional<std::string> get(std::string_view name) const override;
  [[nodiscard]] std::map<std::string, std::string> all() const override { return vars_; }

 private:
  std::map<std::string, std::string> vars_;
};

}  // namespace vmha::sys
