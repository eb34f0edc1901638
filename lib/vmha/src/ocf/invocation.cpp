#include "vmha/ocf/invocation.hpp"

#include <array>

#include <fmt/core.h>

#include "vmha/ocf/values.hpp"

namespace vmha::ocf {
namespace {

constexpr std::string_view kMeta = "OCF_RESKEY_CRM_meta_";

std::optional<std::string> meta(const sys::Environment& env, std::string_view name) {
  return env.non_empty(std::string(kMeta) + std::string(name));
}

Result<std::optional<sys::Millis>> meta_millis(const sys::Environment& env, std::string_view name) {
  const auto raw = meta(env, name);
  if (!raw) return std::optional<sys::Millis>{};
  const auto value = parse_milliseconds(*raw);
  if (!value) {
    return fail(ErrorKind::misconfigured, fmt::format("{}{}='{}' is not a number of milliseconds", kMeta, name, *raw));
  }
  return std::optional<sys::Millis>{*value};
}

Result<std::optional<int>> meta_int(const sys::Environment& env, std::string_view name) {
  const auto raw = meta(env, name);
  if (!raw) return std::optional<int>{};
  const auto value = parse_integer(*raw);
  if (!value || *value < 0 || *value > 1'000'000) {
    return fail(ErrorKind::misconfigured, fmt::format("{}{}='{}' is not a count", kMeta, name, *raw));
  }
  return std::optional<int>{static_cast<int>(*value)};
}

std::vector<std::string> words(const std::optional<std::string>& text) {
  return text ? split_words(*text) : std::vector<std::string>{};
}

NotifySet notify_set(const sys::Environment& env, std::string_view name) {
  return NotifySet{words(meta(env, fmt::format("notify_{}_resource", name))),
                   words(meta(env, fmt::format("notify_{}_uname", name)))};
}

Notification read_notification(const sys::Environment& env) {
  Notification n;
  n.type = meta(env, "notify_type").value_or("");
  n.operation = meta(env, "notify_operation").value_or("");
  static constexpr std::array<std::string_view, 8> kPlain{"start",   "stop",   "active", "inactive",
                                                          "promote", "demote", "all",    "available"};
  for (const auto name : kPlain) n.sets.emplace(std::string(name), notify_set(env, name));
  // Pacemaker sends both spellings; older releases only the legacy one.
  for (const auto& [current, legacy] : {std::pair{"promoted", "master"}, std::pair{"unpromoted", "slave"}}) {
    NotifySet set = notify_set(env, current);
    if (set.resources.empty() && set.unames.empty()) set = notify_set(env, legacy);
    n.sets.emplace(current, std::move(set));
  }
  // The unames of all/available come without a resource list.
  for (const auto* name : {"all", "available"}) {
    if (n.sets[name].unames.empty()) n.sets[name].unames = words(meta(env, fmt::format("notify_{}_uname", name)));
  }
  return n;
}

}  // namespace

const NotifySet& Notification::set(std::string_view name) const {
  static const NotifySet kEmpty;
  const auto it = sets.find(name);
  return it == sets.end() ? kEmpty : it->second;
}

bool Invocation::is_probe() const {
  return (action == "monitor" || action == "status") && interval.count() == 0;
}

std::pair<std::string, std::optional<int>> split_clone_suffix(std::string_view instance) {
  const auto colon = instance.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == instance.size()) return {std::string(instance), std::nullopt};
  const auto number = parse_integer(instance.substr(colon + 1));
  if (!number || *number < 0 || instance.substr(colon + 1).find_first_not_of("0123456789") != std::string_view::npos) {
    return {std::string(instance), std::nullopt};
  }
  return {std::string(instance.substr(0, colon)), static_cast<int>(*number)};
}

Result<Invocation> read_invocation(std::string action, const sys::Environment& env) {
  Invocation call;
  call.action = std::move(action);
  call.instance = env.non_empty("OCF_RESOURCE_INSTANCE").value_or("");
  std::tie(call.resource, call.clone) = split_clone_suffix(call.instance);
  call.type = env.non_empty("OCF_RESOURCE_TYPE").value_or("");

  auto timeout = meta_millis(env, "timeout");
  VMHA_TRY(timeout);
  call.timeout = *timeout;
  if (call.timeout && call.timeout->count() == 0) call.timeout.reset();
  auto interval = meta_millis(env, "interval");
  VMHA_TRY(interval);
  call.interval = interval->value_or(sys::Millis{0});

  if (const auto level = env.first_of({"OCF_CHECK_LEVEL", "OCF_RESKEY_OCF_CHECK_LEVEL"})) {
    const auto value = parse_integer(*level);
    if (!value || *value < 0) {
      return fail(ErrorKind::misconfigured, fmt::format("OCF_CHECK_LEVEL='{}' is not a number", *level));
    }
    call.check_level = static_cast<int>(*value);
  }
  call.migrate_source = meta(env, "migrate_source").value_or("");
  call.migrate_target = meta(env, "migrate_target").value_or("");
  call.on_node = meta(env, "on_node").value_or("");

  auto clone = meta_int(env, "clone");
  VMHA_TRY(clone);
  if (!call.clone) call.clone = *clone;
  for (auto [field, current, legacy] : {std::tuple{&call.promoted_max, "promoted_max", "master_max"},
                                        std::tuple{&call.promoted_node_max, "promoted_node_max", "master_node_max"}}) {
    auto value = meta_int(env, current);
    VMHA_TRY(value);
    if (!*value) value = meta_int(env, legacy);
    VMHA_TRY(value);
    *field = *value;
  }
  call.notify = read_notification(env);
  return call;
}

}  // namespace vmha::ocf
