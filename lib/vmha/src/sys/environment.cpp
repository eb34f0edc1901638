#include "vmha/sys/environment.hpp"

#include <unistd.h>  // environ

#include <cstdlib>
#include <string>

namespace vmha::sys {

std::optional<std::string> Environment::non_empty(std::string_view name) const {
  auto value = get(name);
  if (value && value->empty()) return std::nullopt;
  return value;
}

std::optional<std::string> Environment::first_of(std::initializer_list<std::string_view> names) const {
  for (const auto name : names) {
    if (auto value = non_empty(name)) return value;
  }
  return std::nullopt;
}

std::optional<std::string> ProcessEnvironment::get(std::string_view name) const {
  const std::string key(name);
  const char* value = std::getenv(key.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

std::map<std::string, std::string> ProcessEnvironment::all() const {
  std::map<std::string, std::string> vars;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const auto eq = text.find('=');
    if (eq == std::string_view::npos) continue;
    vars.emplace(std::string(text.substr(0, eq)), std::string(text.substr(eq + 1)));
  }
  return vars;
}

std::optional<std::string> MapEnvironment::get(std::string_view name) const {
  const auto it = vars_.find(std::string(name));
  if (it == vars_.end()) return std::nullopt;
  return it->second;
}

}  // namespace vmha::sys
