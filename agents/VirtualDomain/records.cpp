#include "VirtualDomain/records.hpp"

#include <sys/stat.h>

#include <cctype>
#include <cstdio>
#include <filesystem>

#include <fmt/core.h>

#include "vmha/ocf/values.hpp"
#include "vmha/sys/files.hpp"

namespace vmha::agents {
namespace {

std::string safe(const std::string& key) {
  std::string out;
  for (const char c : key)
    out.push_back(std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.' ? c : '_');
  return out;
}

/// What identifies one version of a file: device, inode, size, modification and change times.
std::optional<std::string> file_version(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return std::nullopt;
  return fmt::format("{} {} {} {}.{} {}.{}", info.st_dev, info.st_ino, info.st_size, info.st_mtim.tv_sec,
                     info.st_mtim.tv_nsec, info.st_ctim.tv_sec, info.st_ctim.tv_nsec);
}

}  // namespace

std::optional<virt::DomainRef> Records::config_identity(const std::string& config) const {
  if (!enabled()) return std::nullopt;
  const auto text = sys::read_file(path("config"));
  const auto version = file_version(config);
  if (!text || !version) return std::nullopt;
  const auto lines = ocf::split_fields(*text, '\n');
  if (lines.size() < 4 || lines[0] != config || lines[1] != *version || lines[2].empty()) return std::nullopt;
  return virt::DomainRef{lines[2], lines[3]};
}

bool Records::remember_config_identity(const std::string& config, const virt::DomainRef& domain) const {
  const auto version = file_version(config);
  if (!enabled() || !version) return true;
  return sys::replace_file(path("config"), fmt::format("{}\n{}\n{}\n{}\n", config, *version, domain.name, domain.uuid));
}

Records Records::from_environment(const sys::Environment& env, const std::string& resource) {
  return Records(env.non_empty("HA_RSCTMP").value_or("/run/resource-agents"), resource);
}

std::string Records::path(std::string_view kind) const {
  return fmt::format("{}/vmha-VirtualDomain-{}.{}", dir_, safe(key_), kind);
}

std::optional<virt::DomainRef> Records::domain() const {
  if (!enabled()) return std::nullopt;
  const auto text = sys::read_file(path("domain"));
  if (!text) return std::nullopt;
  const auto lines = ocf::split_fields(*text, '\n');
  if (lines.empty() || lines[0].empty()) return std::nullopt;
  return virt::DomainRef{lines[0], lines.size() > 1 ? lines[1] : std::string()};
}

bool Records::remember_domain(const virt::DomainRef& domain) const {
  return !enabled() || sys::replace_file(path("domain"), fmt::format("{}\n{}\n", domain.name, domain.uuid));
}

bool Records::forget_domain() const {
  std::error_code ec;
  std::filesystem::remove(path("domain"), ec);
  return !ec;
}

std::map<std::string, std::string> Records::utilization() const {
  std::map<std::string, std::string> values;
  if (!enabled()) return values;
  const auto text = sys::read_file(path("utilization"));
  if (!text) return values;
  for (const std::string& line : ocf::split_fields(*text, '\n')) {
    const auto eq = line.find('=');
    if (eq != std::string::npos) values[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return values;
}

bool Records::remember_utilization(const std::map<std::string, std::string>& values) const {
  if (!enabled()) return true;
  std::string text;
  for (const auto& [name, value] : values) text += fmt::format("{}={}\n", name, value);
  return sys::replace_file(path("utilization"), text);
}

}  // namespace vmha::agents
