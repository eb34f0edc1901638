// libFuzzer targets for the DRBD parsers, one per parser (VMHA_FUZZ_PARSER picks it at build
// time): any input must give a Result — a model or an error — never a crash, a hang or UB.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/drbd_status_json.hpp"
#include "vmha/drbd/guard.hpp"
#include "vmha/drbd/parse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);  // NOLINT: libFuzzer's bytes
  const auto parsed = VMHA_FUZZ_PARSER(text);
  if (parsed) {
    // What the agent does next with a parsed state must hold too.
    for (const auto& resource : *parsed) {
      (void)vmha::drbd::check_start(resource);
      (void)vmha::drbd::check_migration(resource, "node2", true);
      (void)vmha::drbd::describe(resource);
    }
  }
  return 0;
}
