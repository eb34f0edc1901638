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

TEST_CASE("exit reasons are valid UTF-8, cut on a character boundary", "[exit-reason]") {
  // "é" is two bytes: a cut at 50 would fall inside the 24th of them.
  std::string accented;
  for (int i = 0; i < 40; ++i) accented += "\xc3\xa9";
  const std::string cut = one_line(accented, 50);
  CHECK(cut == std::string(accented.substr(0, 46)) + "...");
  CHECK(one_line("vm\xff\xfe name \xc3") == "vm?? name ?");  // stray bytes, a sequence cut short
  CHECK(one_line("domaine \xc3\xa9t\xc3\xa9 \xe2\x82\xac") == "domaine \xc3\xa9t\xc3\xa9 \xe2\x82\xac");
  CHECK(one_line("\xed\xa0\x80") == "???");  // a surrogate is not UTF-8
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
