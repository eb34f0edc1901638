#include "VirtualDomain/target.hpp"

namespace vmha::agents {

std::vector<virt::DomainRef> Target::names() const {
  std::vector<virt::DomainRef> all;
  if (ref) all.push_back(*ref);
  all.insert(all.end(), others.begin(), others.end());
  return all;
}

void Target::add_name(const virt::DomainRef& name) {
  if (!ref) {
    ref = name;
    return;
  }
  if (*ref == name) return;
  for (const auto& known : others) {
    if (known == name) return;
  }
  others.push_back(name);
}

void add_recorded_names(Target& target, const Records& records, const std::string& config) {
  if (const auto identity = records.config_identity(config)) target.add_name(identity->domain);
  target.start = records.start_record();
  if (target.start) target.add_name(target.start->domain);
  target.records_unreadable = records.unreadable();
}

}  // namespace vmha::agents
