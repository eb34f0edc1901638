// The real posix_spawn runner, against real programs.
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "VirtualDomain/exit_status.hpp"
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

TEST_CASE("a program that is not installed is said so (err_installed to the agents)", "[spawn]") {
  PosixCommandRunner runner;
  for (const std::string name : {"vmha-no-such-program", "/nonexistent/prog"}) {
    const auto done = runner.run(Command({name}), in(Millis{5'000}));
    REQUIRE_FALSE(done);
    CHECK(done.error().kind == vmha::ErrorKind::not_installed);
    CHECK(vmha::agents::exit_status("start", done.error()) == vmha::ocf::Status::err_installed);
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
  CHECK(done->truncated);  // a parser must know it saw only the start
  CHECK(done->exit_code == 0);
}

TEST_CASE("an already passed deadline times the command out without leaving a child", "[spawn]") {
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

namespace {

bool process_gone(pid_t pid) {
  for (int i = 0; i < 100; ++i) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line) || line.find(") Z") != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

}  // namespace

TEST_CASE("a grandchild left running in the background dies with its group", "[spawn]") {
  PosixCommandRunner runner;
  // A monitor script that starts a check in the background and exits at once (curl, ping).
  const auto done = runner.run(Command({"sh", "-c", "sleep 300 & echo $!"}), in(Millis{5'000}));
  REQUIRE(done);
  CHECK(done->exit_code == 0);
  const auto grandchild = std::stoi(done->out);
  CHECK(process_gone(grandchild));
}

TEST_CASE("a grandchild that left its group is swept up by the subreaper at the end", "[spawn]") {
  // In a child process: becoming a subreaper changes the process for good.
  std::array<int, 2> report{};
  REQUIRE(pipe(report.data()) == 0);
  const pid_t tester = fork();
  REQUIRE(tester >= 0);
  if (tester == 0) {
    vmha::sys::become_subreaper();
    PosixCommandRunner runner;
    const auto done =
        runner.run(Command({"sh", "-c", "setsid sleep 300 >/dev/null 2>&1 & echo $!"}), in(Millis{5'000}));
    const int escaped = done ? std::atoi(done->out.c_str()) : 0;
    const auto left = static_cast<int>(vmha::sys::kill_leftover_children(Millis{500}));
    const std::array<int, 2> said{escaped, left};
    (void)!write(report[1], said.data(), sizeof said);
    _exit(0);
  }
  close(report[1]);
  std::array<int, 2> said{};
  REQUIRE(read(report[0], said.data(), sizeof said) == static_cast<ssize_t>(sizeof said));
  close(report[0]);
  waitpid(tester, nullptr, 0);
  REQUIRE(said[0] > 0);
  CHECK(said[1] == 1);  // the escaped sleep, reparented to the subreaper
  CHECK(process_gone(said[0]));
}
