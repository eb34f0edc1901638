// File operations as raw system calls on memory the caller owns, so the same code runs inline
// or in a child sharing this process's memory (files.cpp): no allocation, no exceptions, no
// libc wrapper that a sanitizer intercepts. A job's outcome is its fields, read after the run.
#pragma once

#include <sys/stat.h>

#include <climits>
#include <cstddef>

namespace vmha::sys::detail {

enum class FileOp { read, info, replace, rename, remove, resolve };

/// The step that failed, for the reason text.
enum class FileStep {
  none,
  open,
  not_regular,
  too_large,
  read,
  stat,
  directory,
  create,
  write,
  owner,
  label,
  sync,
  move,
  remove,
  resolve,
  dangling,  ///< a symbolic link to nothing (its target on a file system not mounted, say)
  reopen,    ///< the file looked at could not be opened through /proc/self/fd
  helper,    ///< the helper process died before it finished
};

struct FileJob {
  FileOp op = FileOp::info;
  const char* path = nullptr;
  const char* other = nullptr;  ///< rename: the new name; replace: a random suffix for the temporary file
  // read: `buffer` holds up to `capacity` bytes; more than capacity - 1 is "too large".
  char* buffer = nullptr;
  std::size_t capacity = 0;
  std::size_t length = 0;
  // replace
  const char* content = nullptr;
  std::size_t content_length = 0;
  bool create_parents = false;
  unsigned new_mode = 0600;
  // outcome
  struct stat info {};
  int error = 0;  ///< errno of the failed step, 0 on success
  FileStep failed = FileStep::none;
  // Left uninitialised (each is written before it is read): a job is set up on every bounded
  // file access, a monitor's among them.
  char resolved[PATH_MAX];  ///< resolve: the result; replace: the file really replaced
  char scratch[PATH_MAX + 64];
  char label[4096];  ///< an extended attribute being copied
};

/// Runs the job; its outcome is in job.error / job.failed and the result fields.
void run(FileJob& job) noexcept;

}  // namespace vmha::sys::detail
