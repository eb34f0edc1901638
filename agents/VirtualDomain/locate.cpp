// locate: the config file read within the deadline, parsed strictly, read tolerantly when that
// fails, and the records' names added; the identity of a good read is recorded.
#include <cerrno>
#include <cstring>

#include <fmt/core.h>

#include "VirtualDomain/job.hpp"

namespace vmha::agents {
namespace {

/// Read at most this much: the XML parser refuses more anyway.
constexpr std::size_t kMaxConfig = 1U << 20U;
/// The longest the config read may take: a hung file system must leave time to ask libvirt.
constexpr std::chrono::milliseconds kConfigReadTime{5'000};

ocf::Status status_for_unreadable(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::not_found: return ocf::Status::err_installed;
    case ErrorKind::denied: return ocf::Status::err_perm;
    case ErrorKind::invalid: return ocf::Status::err_installed;  // a directory, a FIFO, too large
    default: return ocf::Status::err_generic;                    // EIO, a hung file system
  }
}

}  // namespace

Target locate(const Settings& settings, const Records& records, sys::FileSystem& files, const ocf::Deadline& deadline) {
  Target target;
  const auto read_by = deadline.within(kConfigReadTime);
  auto content = files.read(settings.config, kMaxConfig, read_by.at());
  if (!content) {
    const auto kind = content.error().kind;
    target.config_state = kind == ErrorKind::not_found ? ConfigState::missing : ConfigState::unreadable;
    const std::string why = kind == ErrorKind::not_found ? std::strerror(ENOENT) : content.error().reason;
    target.config_problem =
        Error{status_for_unreadable(kind),
              fmt::format("config file {} is not readable on this node: {}", settings.config, why), kind};
  } else {
    target.config_text = std::move(content->text);
    auto parsed = virt::parse_domain_xml(target.config_text);
    if (parsed) {
      target.config_state = ConfigState::usable;
      target.ref = parsed->ref();
      target.config = std::move(*parsed);
    } else {
      target.config_state = ConfigState::malformed;
      target.config_problem = parsed.error();
      target.config_problem->reason = fmt::format("config file {}: {}", settings.config, parsed.error().reason);
      // A file cut short or with a typo further down still names its domain.
      target.ref = virt::recover_domain_ref(target.config_text);
    }
  }
  add_recorded_names(target, records, settings.config);  // before the identity below replaces the old one
  if (target.config_state == ConfigState::usable) {
    if (auto saved = records.remember_config_identity(settings.config, {*target.ref, content->info.version()});
        !saved) {
      // Not fatal: the start record still names the domain; the monitor's fast path hands over.
      target.identity_problem = saved.error().reason;
    }
  }
  return target;
}

}  // namespace vmha::agents
