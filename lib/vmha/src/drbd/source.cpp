#include "vmha/drbd/source.hpp"

#include <fmt/core.h>

#include "vmha/drbd/parse.hpp"
#include "vmha/sys/files.hpp"

namespace vmha::drbd {
namespace {

class DrbdsetupSource final : public StatusSource {
 public:
  DrbdsetupSource(sys::CommandRunner& runner, std::string path_variable, std::string proc_drbd)
      : runner_(runner), path_(std::move(path_variable)), proc_drbd_(std::move(proc_drbd)) {}

  Result<std::vector<Resource>> resources(const ocf::Deadline& deadline) override {
    if (!sys::find_program("drbdsetup", path_)) return from_proc();
    auto done = runner_.run(sys::Command({"drbdsetup", "events2", "--now", "--statistics", "all"}), deadline.at());
    VMHA_TRY(done);
    if (!done->succeeded()) {
      const std::string first = done->err.substr(0, done->err.find('\n'));
      return fail(ErrorKind::other,
                  fmt::format("drbdsetup events2 failed ({}){}{}", done->describe(), first.empty() ? "" : ": ", first));
    }
    // A dump cut short may lack a peer that is Primary: never decide on part of one.
    if (done->truncated) {
      return fail(ErrorKind::other,
                  fmt::format("drbdsetup events2 printed more than {} bytes: its output was cut short",
                              sys::Command().max_output));
    }
    if (!events2_dump_complete(done->out)) {
      return fail(ErrorKind::other, "drbdsetup events2's output ended before its 'exists -' line: cut short");
    }
    return parse_events2(done->out);
  }

 private:
  Result<std::vector<Resource>> from_proc() {
    const auto text = sys::read_file(proc_drbd_, kMaxStateText);
    if (!text && text.error().kind != ErrorKind::not_found) {
      return fail(ErrorKind::other, fmt::format("cannot read DRBD's state: {}", text.error().reason));
    }
    if (!text) {
      return fail(ErrorKind::not_installed, "DRBD is not installed here: no drbdsetup on PATH and no /proc/drbd");
    }
    return parse_proc_drbd(*text);
  }

  sys::CommandRunner& runner_;
  std::string path_;
  std::string proc_drbd_;
};

}  // namespace

std::unique_ptr<StatusSource> make_drbdsetup_source(sys::CommandRunner& runner, std::string path_variable,
                                                    std::string proc_drbd) {
  return std::make_unique<DrbdsetupSource>(runner, std::move(path_variable), std::move(proc_drbd));
}

}  // namespace vmha::drbd
