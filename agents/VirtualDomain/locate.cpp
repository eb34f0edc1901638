// locate: the config file read within the deadline, parsed strictly, read tolerantly when that
// fails, and the records' names added. It reads and writes nothing else.
#include <cerrno>
#include <cstring>

#include <fmt/core.h>

#include "VirtualDomain/job.hpp"
#include "vmha/virt/domain_xml.hpp"

namespace vmha::agents {
namespace {

/// Read at most this much: the XML parser refuses more anyway.
constexpr std::size_t kMaxConfig = 1U << 20U;
/// The longest the config read may take: a hung file system must leave time to ask libvirt.
constexpr std::chrono::milliseconds kConfigReadTime{5'000};

/// What an unreadable config means to the actions that need it: a missing one, or one that is
/// not a regular file, is not installed on this node; EACCES is denied; EIO or a hung file
/// system is what it is.
ErrorKind kind_for_unreadable(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::not_found:
    case ErrorKind::invalid: return ErrorKind::not_installed;  // a directory, a FIFO, too large
    default: return kind;
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
    target.config_problem = Error{kind_for_unreadable(kind),
                                  fmt::format("config file {} is not readable on this node: {}", settings.config, why)};
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
  add_recorded_names(target, records, settings.config);
  if (target.config_state == ConfigState::usable)
    target.identity = ConfigIdentity{*target.ref, content->info.version()};
  return target;
}

Target read_target(const Settings& settings, const Records& records, const ocf::Services& services,
                   const ocf::Deadline& deadline) {
  auto target = locate(settings, records, services.files, deadline);
  if (target.identity) {
    if (auto saved = records.remember_config_identity(settings.config, *target.identity); !saved) {
      // Not fatal: the start record still names the domain; the monitor's fast path hands over.
      services.log.warning("cannot record what the config names: {}", saved.error().reason);
    }
  }
  return target;
}

}  // namespace vmha::agents
