#include "VirtualDomain/records.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>

#include <fmt/core.h>

#include "vmha/ocf/values.hpp"

namespace vmha::agents {
namespace {

/// Longest resource part of a record's file name: far below NAME_MAX with the prefix.
constexpr std::size_t kMaxKey = 160;
constexpr std::size_t kMaxRecord = std::size_t{64} * 1024U;

/// The resource name as a file name part: unsafe bytes become '_', and a long name is cut
/// and given a hash of the whole, so two long names never share records.
std::string safe(const std::string& key) {
  std::string out;
  for (const char c : key)
    out.push_back(std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.' ? c : '_');
  if (out.size() <= kMaxKey && out == key) return out;
  std::uint64_t hash = 14695981039346656037ULL;  // FNV-1a over the original bytes
  for (const char c : key) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return fmt::format("{}-{:016x}", out.substr(0, kMaxKey), hash);
}

/// A record's domain: a valid name, and a UUID that is canonical or dropped.
std::optional<virt::DomainRef> domain_of(const std::string& name, const std::string& uuid) {
  if (!virt::valid_domain_name(name)) return std::nullopt;
  return virt::DomainRef{name, virt::canonical_uuid(uuid)};
}

}  // namespace

Records Records::from_environment(sys::FileSystem& files, const sys::Environment& env, const std::string& resource,
                                  sys::Clock::time_point deadline) {
  return Records(files, env.non_empty("HA_RSCTMP").value_or("/run/resource-agents"), resource, deadline);
}

std::string Records::path(std::string_view kind) const {
  return fmt::format("{}/vmha-VirtualDomain-{}.{}", dir_, safe(key_), kind);
}

std::optional<std::string> Records::read(std::string_view kind) const {
  if (!enabled()) return std::nullopt;
  auto content = files_->read(path(kind), kMaxRecord, deadline_);
  if (!content) {
    if (content.error().kind != ErrorKind::not_found) unreadable_ = content.error().reason;
    return std::nullopt;
  }
  return std::move(content->text);
}

Result<void> Records::write(std::string_view kind, const std::string& text) const {
  if (!enabled()) return {};
  return files_->replace(path(kind), text, deadline_, sys::ReplaceOptions{true, 0644});
}

std::optional<StartRecord> Records::start_record() const {
  const auto text = read("domain");
  if (!text) return std::nullopt;
  const auto lines = ocf::split_fields(*text, '\n');
  if (lines.empty()) return std::nullopt;
  auto domain = domain_of(lines[0], lines.size() > 1 ? lines[1] : std::string());
  if (!domain) {
    unreadable_ = fmt::format("{} names no valid domain", path("domain"));
    return std::nullopt;
  }
  StartRecord record{std::move(*domain), false, {}, 0, {}};
  for (std::size_t i = 2; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (line.rfind("launching", 0) == 0) {
      record.launching = true;
      record.daemon = line.size() > 10 ? line.substr(10) : std::string();
    } else if (line.rfind("survivor ", 0) == 0) {
      const auto fields = ocf::split_fields(line.substr(9), ' ');
      const std::int64_t pid = fields.empty() ? 0 : ocf::parse_integer(fields[0]).value_or(0);
      auto ran = fields.size() > 1 ? domain_of(fields[1], fields.size() > 2 ? fields[2] : std::string())
                                   : std::optional<virt::DomainRef>(record.domain);
      if (pid <= 1 || pid > INT32_MAX || !ran) {
        unreadable_ = fmt::format("{} has a malformed survivor line", path("domain"));
      } else {
        record.survivor = static_cast<int>(pid);
        record.survivor_domain = std::move(*ran);
      }
    }
  }
  return record;
}

Result<void> Records::remember_start(const StartRecord& record) const {
  std::string text = fmt::format("{}\n{}\n", record.domain.name, record.domain.uuid);
  if (record.launching) text += fmt::format("launching {}\n", record.daemon);
  if (record.survivor != 0) {
    text +=
        fmt::format("survivor {} {} {}\n", record.survivor, record.survivor_domain.name, record.survivor_domain.uuid);
  }
  return write("domain", text);
}

Result<void> Records::forget(std::string_view kind) const {
  if (!enabled()) return {};
  auto removed = files_->remove(path(kind), deadline_);
  if (!removed && removed.error().kind == ErrorKind::not_found) return {};
  return removed;
}

Result<void> Records::forget_start() const {
  return forget("domain");
}

Result<void> Records::forget_liveness() const {
  return forget("liveness");
}

std::optional<ConfigIdentity> Records::config_identity(const std::string& config) const {
  const auto text = read("config");
  if (!text) return std::nullopt;
  const auto lines = ocf::split_fields(*text, '\n');
  if (lines.size() < 4 || lines[0] != config) return std::nullopt;
  auto domain = domain_of(lines[2], lines[3]);
  if (!domain) return std::nullopt;
  return ConfigIdentity{std::move(*domain), lines[1]};
}

Result<void> Records::remember_config_identity(const std::string& config, const ConfigIdentity& identity) const {
  return write("config",
               fmt::format("{}\n{}\n{}\n{}\n", config, identity.version, identity.domain.name, identity.domain.uuid));
}

std::map<std::string, std::string> Records::utilization() const {
  std::map<std::string, std::string> values;
  const auto text = read("utilization");
  if (!text) return values;
  for (const std::string& line : ocf::split_fields(*text, '\n')) {
    const auto eq = line.find('=');
    if (eq != std::string::npos) values[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return values;
}

Result<void> Records::remember_utilization(const std::map<std::string, std::string>& values) const {
  std::string text;
  for (const auto& [name, value] : values) text += fmt::format("{}={}\n", name, value);
  return write("utilization", text);
}

std::optional<LivenessRecord> Records::liveness() const {
  const auto text = read("liveness");
  if (!text) return std::nullopt;
  LivenessRecord record;
  for (const std::string& line : ocf::split_fields(*text, '\n')) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = line.substr(0, eq);
    const std::string value = line.substr(eq + 1);
    const auto number = ocf::parse_integer(value);
    if (key == "domain_id" && number && *number >= -1 && *number <= INT32_MAX)
      record.domain_id = static_cast<int>(*number);
    if (key == "uuid") record.uuid = virt::canonical_uuid(value);
    if (key == "answered_ms" && number) record.answered_ms = *number;
    if (key == "misses" && number && *number >= 0 && *number <= INT32_MAX) record.misses = static_cast<int>(*number);
    if (key == "checked_ms" && number) record.checked_ms = *number;
    if (key == "last") record.last = value;
  }
  return record;
}

Result<void> Records::remember_liveness(const LivenessRecord& record) const {
  std::string text = fmt::format("domain_id={}\nuuid={}\n", record.domain_id, record.uuid);
  if (record.answered_ms) text += fmt::format("answered_ms={}\n", *record.answered_ms);
  std::string last = record.last;
  std::replace(last.begin(), last.end(), '\n', ' ');
  text += fmt::format("misses={}\nchecked_ms={}\nlast={}\n", record.misses, record.checked_ms, last);
  return write("liveness", text);
}

}  // namespace vmha::agents
