// libFuzzer target for the domain-XML reader: the strict parse and the tolerant read of a
// broken config. Any input must give a domain or an error — never a crash, a hang or UB — and
// a recovered name must be one that is safe in a path.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "vmha/virt/domain_xml.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);  // NOLINT: libFuzzer's bytes
  if (const auto parsed = vmha::virt::parse_domain_xml(text); parsed) {
    if (!vmha::virt::valid_domain_name(parsed->name)) std::abort();
  }
  if (const auto recovered = vmha::virt::recover_domain_ref(text); recovered) {
    if (!vmha::virt::valid_domain_name(recovered->name)) std::abort();
  }
  return 0;
}
