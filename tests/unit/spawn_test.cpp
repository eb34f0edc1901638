// The real posix_spawn runner, against real programs.
#include <chrono>
#include <csignal>

#include "support/catch.hpp"
#include "vmha/sys/spawn.hpp"

using vmha::sys::Command;
using vmha::sys::Millis;
using vmha::sys::PosixCommandRunner;

namespace {

auto in(Millis ms) {
  return std::chrono::steady_clock::now() + ms;
}

}  // namespace

TEST_CASE("stdout, stderr and the exit status are captured", "[spawn]") {
  PosixCommandRunner runner;
  const auto done = runner.run(Command({"sh", "-c", "echo out; echo err >&2; exit 3"}), in(Millis{5'000}));
  REQUIRE(done);
  CHECK(done->out == "out\n");
  CHECK(done->err == "err\n");
  CHECK(done->exit_code == 3);
  CHECK_FALSE(done->timed_out);
  CHECK_FALSE(done->succeeded());
  CHECK(done->describe() == "exit status 3");
}

TEST_CASE("arguments reach the program verbatim: no shell interprets them", "[spawn]") {
  PosixCommandRunner runner;
  const auto done = runner.run(Command({"printf", "%s|", "$(id)", "a b", "*", ";rm -rf /"}), in(Millis{5'000}));
  REQUIRE(done);
  CHECK(done->out == "$(id)|a b|*|;rm -rf /|");
  CHECK(done->succeeded());
}

TEST_CASE("children run with LC_ALL=C and any extra variables", "[spawn]") {
  PosixCommandRunner runner;
  Command command({"sh", "-c", "echo \"$LC_ALL/$VMHA_TEST/${LANG:-unset}\""});
  command.env["VMHA_TEST"] = "x";
  const auto done = runner.run(command, in(Millis{5'000}));
  REQUIRE(done);
  CHECK(done->out == "C/x/unset\n");
}

TEST_CASE("a program that is not installed is err_installed", "[spawn]") {
  PosixCommandRunner runner;
  for (const std::string name : {"vmha-no-such-program", "/nonexistent/prog"}) {
    const auto done = runner.run(Command({name}), in(Millis{5'000}));
    REQUIRE_FALSE(done);
    CHECK(done.error().status == vmha::ocf::Status::err_installed);
    CHECK(done.error().kind == vmha::ErrorKind::not_found);
  }
}

TEST_CASE("the deadline ends a hung child with SIGTERM", "[spawn]") {
  PosixCommandRunner runner;
  const auto started = std::chrono::steady_clock::now();
  const auto done = runner.run(Command({"sleep", "30"}), in(Millis{700}));
  const auto took = std::chrono::steady_clock::now() - started;
  REQUIRE(done);
  CHECK(done->timed_out);
  CHECK(done->signal == SIGTERM);
  CHECK(took < Millis{1'500});
  CHECK_THAT(done->describe(), Catch::StartsWith("timed out"));
}

TEST_CASE("a child ignoring SIGTERM is killed at the deadline", "[spawn]") {
  PosixCommandRunner runner;
  Command command({"sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.05; done"});
  command.term_grace = Millis{300};
  const auto started = std::chrono::steady_clock::now();
  const auto done = runner.run(command, in(Millis{800}));
  const auto took = std::chrono::steady_clock::now() - started;
  REQUIRE(done);
  CHECK(done->timed_out);
  CHECK(done->signal == SIGKILL);
  CHECK(done->out == "ready\n");
  CHECK(took < Millis{2'000});
}

TEST_CASE("a grandchild holding the pipes open does not keep the runner", "[spawn]") {
  PosixCommandRunner runner;
  const auto started = std::chrono::steady_clock::now();
  const auto done = runner.run(Command({"sh", "-c", "sleep 5 & echo parent"}), in(Millis{4'000}));
  const auto took = std::chrono::steady_clock::now() - started;
  REQUIRE(done);
  CHECK(done->exit_code == 0);
  CHECK(took < Millis{4'500});
}

TEST_CASE("output beyond the limit is truncated", "[spawn]") {
  PosixCommandRunner runner;
  Command command({"sh", "-c", "head -c 100000 /dev/zero"});
  command.max_output = 1000;
  const auto done = runner.run(command, in(Millis{5'000}));
  REQUIRE(done);
  CHECK(done->out.size() == 1000);
  CHECK(done->exit_code == 0);
}

TEST_CASE("an already passed deadline still reaps the child", "[spawn]") {
  PosixCommandRunner runner;
  const auto done = runner.run(Command({"sleep", "10"}), in(Millis{0}));
  REQUIRE(done);
  CHECK(done->timed_out);
}

TEST_CASE("programs are found in PATH or by path", "[spawn]") {
  CHECK(vmha::sys::find_program("sh", "/usr/bin:/bin") == std::optional<std::string>("/usr/bin/sh"));
  CHECK(vmha::sys::find_program("/bin/sh", "") == std::optional<std::string>("/bin/sh"));
  CHECK_FALSE(vmha::sys::find_program("/etc/passwd", "").has_value());
  CHECK_FALSE(vmha::sys::find_program("", "/bin").has_value());
}
