#include <cerrno>
#include <cstring>

#include <fmt/core.h>

#include "VirtualDomain/job.hpp"
#include "vmha/sys/files.hpp"

namespace vmha::agents {

Target locate(const Settings& settings, const Records& records) {
  Target target;
  auto text = sys::read_file(settings.config);
  if (!text) {
    target.config_problem =
        Error{ocf::Status::err_installed,
              fmt::format("config file {} is not readable on this node: {}", settings.config, std::strerror(errno)),
              ErrorKind::not_found};
  } else {
    target.config_text = std::move(*text);
    auto parsed = virt::parse_domain_xml(target.config_text);
    if (parsed) {
      target.ref = parsed->ref();
      records.remember_config_identity(settings.config, *target.ref);
      target.config = std::move(*parsed);
    } else {
      target.config_problem = parsed.error();
      target.config_problem->reason = fmt::format("config file {}: {}", settings.config, parsed.error().reason);
    }
  }
  if (!target.ref) target.ref = records.domain();
  return target;
}

}  // namespace vmha::agents
