// File access behind one interface: the agent's own records on a local tmpfs, and paths from
// parameters, which may sit on a network or cluster file system that stops answering.
//
// Both run the same system-call sequences (file_ops.hpp). The bounded implementation runs
// each call in a child sharing this process's memory and abandons it at the deadline, so a
// hung NFS, OCFS2 or FUSE mount costs a budgeted wait, never the action. No iostreams: their
// first use builds the C++ locale, a measurable part of a monitor that takes a few ms.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "vmha/result.hpp"
#include "vmha/sys/clock.hpp"

namespace vmha::sys {

enum class FileType { regular, directory, other };

/// What stat(2) says of a file, as much as vmha uses.
struct FileInfo {
  FileType type = FileType::other;
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::uint64_t size = 0;
  std::int64_t modified_ns = 0;
  std::int64_t changed_ns = 0;
  unsigned mode = 0;  ///< permission bits
  unsigned uid = 0;
  unsigned gid = 0;

  /// One version of a file: device, inode, size, modification and change times.
  [[nodiscard]] std::string version() const;
};

/// A file's text and the facts of the very descriptor it was read from.
struct FileContent {
  std::string text;
  FileInfo info;
};

struct ReplaceOptions {
  bool create_parents = false;  ///< make missing parent directories (the agent's own state only)
  unsigned new_mode = 0600;     ///< the mode of a file that did not exist; an existing one keeps its own
};

/// Every call fails with an Error whose kind says what happened:
///   not_found  the path (or a directory on it) does not exist
///   denied     permission refused
///   invalid    not a regular file where one is needed, or larger than the limit
///   timed_out  the file system did not answer before the deadline
///   other      anything else (EIO, ENOSPC, EROFS, …), with strerror in the reason
class FileSystem {
 public:
  virtual ~FileSystem() = default;
  /// The whole regular file (FIFOs, devices and directories are refused without blocking),
  /// at most `limit` bytes.
  [[nodiscard]] virtual Result<FileContent> read(const std::string& path, std::size_t limit,
                                                 Clock::time_point deadline) = 0;
  /// stat(2), following symbolic links.
  [[nodiscard]] virtual Result<FileInfo> info(const std::string& path, Clock::time_point deadline) = 0;
  /// Replaces the file atomically where it really is (a symbolic link is followed): a unique
  /// temporary file next to it (O_EXCL, no link followed), the old file's owner, mode, ACL and
  /// SELinux label, fsync, rename, fsync of the directory. Unchanged content is not rewritten.
  [[nodiscard]] virtual Result<void> replace(const std::string& path, const std::string& content,
                                             Clock::time_point deadline, ReplaceOptions options = {}) = 0;
  /// rename(2) within one file system, made durable (fsync of the directory).
  [[nodiscard]] virtual Result<void> rename(const std::string& from, const std::string& to,
                                            Clock::time_point deadline) = 0;
  [[nodiscard]] virtual Result<void> remove(const std::string& path, Clock::time_point deadline) = 0;
  /// The path with every symbolic link resolved (the file must exist).
  [[nodiscard]] virtual Result<std::string> resolve(const std::string& path, Clock::time_point deadline) = 0;
};

/// Plain system calls in this process; the deadline is not watched. For local tmpfs state
/// (HA_RSCTMP, /run/libvirt, /proc) only.
class LocalFileSystem final : public FileSystem {
 public:
  [[nodiscard]] Result<FileContent> read(const std::string& path, std::size_t limit,
                                         Clock::time_point deadline) override;
  [[nodiscard]] Result<FileInfo> info(const std::string& path, Clock::time_point deadline) override;
  [[nodiscard]] Result<void> replace(const std::string& path, const std::string& content, Clock::time_point deadline,
                                     ReplaceOptions options) override;
  [[nodiscard]] Result<void> rename(const std::string& from, const std::string& to,
                                    Clock::time_point deadline) override;
  [[nodiscard]] Result<void> remove(const std::string& path, Clock::time_point deadline) override;
  [[nodiscard]] Result<std::string> resolve(const std::string& path, Clock::time_point deadline) override;
};

/// Each call in a child process sharing this one's memory (clone(CLONE_VM), ~40 µs), waited
/// for until the deadline (steady clock). A child stuck in the file system is SIGKILLed and
/// left behind with its memory: it dies when the file system answers.
class BoundedFileSystem final : public FileSystem {
 public:
  [[nodiscard]] Result<FileContent> read(const std::string& path, std::size_t limit,
                                         Clock::time_point deadline) override;
  [[nodiscard]] Result<FileInfo> info(const std::string& path, Clock::time_point deadline) override;
  [[nodiscard]] Result<void> replace(const std::string& path, const std::string& content, Clock::time_point deadline,
                                     ReplaceOptions options) override;
  [[nodiscard]] Result<void> rename(const std::string& from, const std::string& to,
                                    Clock::time_point deadline) override;
  [[nodiscard]] Result<void> remove(const std::string& path, Clock::time_point deadline) override;
  [[nodiscard]] Result<std::string> resolve(const std::string& path, Clock::time_point deadline) override;
};

/// A local file read inline, at most `limit` bytes (the shorthand of LocalFileSystem::read).
[[nodiscard]] Result<std::string> read_file(const std::string& path, std::size_t limit = 16U << 20U);

}  // namespace vmha::sys
