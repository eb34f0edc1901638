#include "vmha/ocf/exit_reason.hpp"
#include "support/catch.hpp"
#include "support/fakes.hpp"

using vmha::ocf::one_line;
using vmha::ocf::write_exit_reason;

TEST_CASE("exit reasons are one clean line", "[exit-reason]") {
  const auto [text, expected] = GENERATE(table<std::string, std::string>({
      {"plain", "plain"},
      {"two\nlines", "two lines"},
      {"  padded \r\n", "padded"},
      {"tab\there", "tab here"},
      {"", ""},
  }));
  CHECK(one_line(text) == expected);
}

TEST_CASE("overlong exit reasons are cut", "[exit-reason]") {
  const std::string reason = one_line(std::string(1000, 'x'), 50);
  CHECK(reason.size() == 50);
  CHECK(reason.substr(47) == "...");
}

TEST_CASE("the exit reason is written with its prefix, as the last line", "[exit-reason]") {
  const std::string text = vmha::test::capture_stream([](std::FILE* err) {
    std::fputs("ERROR: something\n", err);
    write_exit_reason(err, "domain vm1 crashed\n(detail)");
  });
  CHECK(text == "ERROR: something\nocf-exit-reason:domain vm1 crashed (detail)\n");
  const std::string custom = vmha::test::capture_stream([](std::FILE* err) { write_exit_reason(err, "x", "cookie:"); });
  CHECK(custom == "cookie:x\n");
}
