// An in-memory file system for the agent's unit tests and the simulation: files, directories,
// and scripted faults (a path that hangs, fails to read or to write) on the manual clock.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>

#include "vmha/sys/clock.hpp"
#include "vmha/sys/files.hpp"

namespace vmha::test {

class MemoryFileSystem final : public sys::FileSystem {
 public:
  /// What goes wrong on a path and everything under it.
  struct Fault {
    ErrorKind kind = ErrorKind::other;  ///< timed_out: the call hangs until its deadline
    std::string reason = "Input/output error";
    bool writes_only = false;  ///< reads still work (a read-only or full file system)
  };

  explicit MemoryFileSystem(sys::ManualClock& clock) : clock_(clock) {}

  [[nodiscard]] Result<sys::FileContent> read(const std::string& path, std::size_t limit,
                                              sys::Clock::time_point deadline) override;
  [[nodiscard]] Result<sys::FileInfo> info(const std::string& path, sys::Clock::time_point deadline) override;
  [[nodiscard]] Result<void> replace(const std::string& path, const std::string& content,
                                     sys::Clock::time_point deadline, sys::ReplaceOptions options) override;
  [[nodiscard]] Result<void> rename(const std::string& from, const std::string& to,
                                    sys::Clock::time_point deadline) override;
  [[nodiscard]] Result<void> remove(const std::string& path, sys::Clock::time_point deadline) override;
  [[nodiscard]] Result<std::string> resolve(const std::string& path, sys::Clock::time_point deadline) override;

  // Setting up and looking, outside the agent.
  void write(const std::string& path, std::string content, unsigned mode = 0644);
  /// A FIFO, device or socket: not a regular file.
  void make_special(const std::string& path);
  void make_directory(const std::string& path);
  void erase(const std::string& path);
  /// Removes every file and directory under `prefix` (a reboot emptying /run).
  void erase_under(const std::string& prefix);
  [[nodiscard]] bool exists(const std::string& path) const;
  [[nodiscard]] std::optional<std::string> content(const std::string& path) const;
  [[nodiscard]] std::optional<unsigned> mode(const std::string& path) const;

  void fail(const std::string& prefix, Fault fault) { faults_[prefix] = std::move(fault); }
  void hang(const std::string& prefix) { fail(prefix, Fault{ErrorKind::timed_out, "", false}); }
  void heal(const std::string& prefix) { faults_.erase(prefix); }
  void heal_all() { faults_.clear(); }

  int calls = 0;  ///< every call the agent made

 private:
  struct Node {
    std::string content;
    sys::FileType type = sys::FileType::regular;
    unsigned mode = 0644;
    std::uint64_t inode = 0;
    std::int64_t version = 0;
  };
  std::optional<Error> fault_for(const std::string& path, bool writing, sys::Clock::time_point deadline);
  [[nodiscard]] bool is_directory(const std::string& path) const;
  [[nodiscard]] sys::FileInfo info_of(const Node& node) const;
  void touch(Node& node);

  sys::ManualClock& clock_;
  std::map<std::string, Node> files_;
  std::set<std::string> directories_;
  std::map<std::string, Fault> faults_;
  std::uint64_t next_inode_ = 100;
  std::int64_t tick_ = 0;
};

}  // namespace vmha::test
