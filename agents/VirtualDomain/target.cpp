#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/core.h>

#include "VirtualDomain/job.hpp"

namespace vmha::agents {

Target locate(const Settings& settings, const Records& records) {
  Target target;
  std::ifstream in(settings.config, std::ios::binary);
  if (!in) {
    target.config_problem =
        Error{ocf::Status::err_installed,
              fmt::format("config file {} is not readable on this node: {}", settings.config, std::strerror(errno)),
              ErrorKind::not_found};
  } else {
    std::ostringstream text;
    text << in.rdbuf();
    target.config_text = text.str();
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
