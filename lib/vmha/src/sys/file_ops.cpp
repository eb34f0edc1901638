#include "file_ops.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

// These functions may run in a child that shares this process's memory and stack guard but
// not its sanitizer state: they call the kernel directly and are not instrumented.
#if defined(__clang__) || defined(__GNUC__)
#define VMHA_RAW __attribute__((no_sanitize("address", "undefined")))
#else
#define VMHA_RAW
#endif

namespace vmha::sys::detail {
namespace {

constexpr std::size_t kPathMax = PATH_MAX;

VMHA_RAW long call(long number, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0) {
  return syscall(number, a, b, c, d, e);
}

VMHA_RAW long addr(const void* pointer) {
  return reinterpret_cast<long>(pointer);
}

/// Records a failed step; false, so that `return failed(...)` reads naturally.
VMHA_RAW bool failed(FileJob& job, FileStep step, int error) {
  job.failed = step;
  job.error = error;
  return false;
}

VMHA_RAW std::size_t length_of(const char* text) {
  std::size_t n = 0;
  while (text[n] != '\0') ++n;
  return n;
}

/// Copies `text` to `out` (capacity `room`), NUL-terminated; false when it does not fit.
VMHA_RAW bool copy(char* out, std::size_t room, const char* text, std::size_t n) {
  if (n + 1 > room) return false;
  for (std::size_t i = 0; i < n; ++i) out[i] = text[i];
  out[n] = '\0';
  return true;
}

VMHA_RAW int open_at(int dir, const char* path, int flags, unsigned mode = 0) {
  return static_cast<int>(call(SYS_openat, dir, addr(path), flags, static_cast<long>(mode)));
}

VMHA_RAW void close_fd(int fd) {
  if (fd >= 0) call(SYS_close, fd);
}

VMHA_RAW bool stat_at(int dir, const char* path, struct stat& out, int flags) {
  return call(SYS_newfstatat, dir, addr(path), addr(&out), flags) == 0;
}

VMHA_RAW bool write_all(int fd, const char* data, std::size_t length) {
  std::size_t done = 0;
  while (done < length) {
    const long n = call(SYS_write, fd, addr(data + done), static_cast<long>(length - done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

/// "/proc/self/fd/<fd>": the caller's own descriptor, as a path.
VMHA_RAW void descriptor_path(int fd, char (&out)[64]) {
  const char* prefix = "/proc/self/fd/";
  std::size_t at = length_of(prefix);
  copy(out, sizeof out, prefix, at);
  char digits[16];
  std::size_t count = 0;
  auto value = static_cast<unsigned>(fd);
  do {
    digits[count++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0 && count < sizeof digits);
  while (count > 0) out[at++] = digits[--count];
  out[at] = '\0';
}

/// The real path of an open descriptor, from /proc/self/fd (the caller's own table).
VMHA_RAW bool path_of(int fd, char* out, std::size_t room, FileJob& job) {
  char link[64];
  descriptor_path(fd, link);
  const long n = call(SYS_readlinkat, AT_FDCWD, addr(link), addr(out), static_cast<long>(room - 1));
  if (n < 0) return failed(job, FileStep::resolve, errno);
  if (static_cast<std::size_t>(n) >= room - 1) return failed(job, FileStep::resolve, ENAMETOOLONG);
  out[n] = '\0';
  return true;
}

/// Opens `path` for reading only if it is a regular file: looked at through an O_PATH
/// descriptor first, since merely opening a FIFO blocks and opening a device can act (a
/// watchdog arms, a tape rewinds). The open descriptor, or -1 with the step failed.
VMHA_RAW int open_regular(FileJob& job, const char* path) {
  const int handle = open_at(AT_FDCWD, path, O_PATH | O_CLOEXEC);
  if (handle < 0) {
    const int error = errno;
    // A link to nothing is no proof the file is missing: its file system may not be mounted.
    struct stat link {};
    if (error == ENOENT && stat_at(AT_FDCWD, path, link, AT_SYMLINK_NOFOLLOW) && S_ISLNK(link.st_mode)) {
      failed(job, FileStep::dangling, ENOENT);
    } else {
      failed(job, FileStep::open, error);
    }
    return -1;
  }
  if (call(SYS_fstat, handle, addr(&job.info)) != 0) {
    const int error = errno;
    close_fd(handle);
    failed(job, FileStep::stat, error);
    return -1;
  }
  if (!S_ISREG(job.info.st_mode)) {
    close_fd(handle);
    failed(job, FileStep::not_regular, EINVAL);
    return -1;
  }
  // The very file looked at, reopened for reading through its descriptor.
  char self[64];
  descriptor_path(handle, self);
  const int fd = open_at(AT_FDCWD, self, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  const int error = errno;
  close_fd(handle);
  if (fd < 0) failed(job, FileStep::reopen, error);
  return fd;
}

VMHA_RAW bool do_read(FileJob& job) {
  const int fd = open_regular(job, job.path);
  if (fd < 0) return false;
  bool ok = true;
  job.length = 0;
  while (ok) {
    if (job.length == job.capacity) {
      ok = failed(job, FileStep::too_large, EFBIG);
      break;
    }
    const long n = call(SYS_read, fd, addr(job.buffer + job.length), static_cast<long>(job.capacity - job.length));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ok = failed(job, FileStep::read, errno);
    } else if (n == 0) {
      break;
    } else {
      job.length += static_cast<std::size_t>(n);
    }
  }
  if (ok && job.length + 1 > job.capacity) ok = failed(job, FileStep::too_large, EFBIG);
  close_fd(fd);
  return ok;
}

VMHA_RAW bool do_resolve(FileJob& job) {
  const int fd = open_at(AT_FDCWD, job.path, O_PATH | O_CLOEXEC);
  if (fd < 0) return failed(job, FileStep::open, errno);
  const bool ok = path_of(fd, job.resolved, sizeof job.resolved, job);
  close_fd(fd);
  return ok;
}

/// mkdir -p of the directory `path` (scratch is overwritten).
VMHA_RAW bool make_directories(FileJob& job, const char* path) {
  const std::size_t n = length_of(path);
  if (!copy(job.scratch, sizeof job.scratch, path, n)) return failed(job, FileStep::directory, ENAMETOOLONG);
  for (std::size_t i = 1; i <= n; ++i) {
    if (job.scratch[i] != '/' && job.scratch[i] != '\0') continue;
    const char keep = job.scratch[i];
    job.scratch[i] = '\0';
    if (call(SYS_mkdirat, AT_FDCWD, addr(job.scratch), 0755) != 0 && errno != EEXIST) {
      return failed(job, FileStep::directory, errno);
    }
    job.scratch[i] = keep;
  }
  return true;
}

/// Copies one extended attribute (ACL, SELinux label) of the old file to the new one.
VMHA_RAW bool copy_attribute(FileJob& job, const char* name, int to) {
  const long n = call(SYS_getxattr, addr(job.resolved), addr(name), addr(job.label), sizeof job.label);
  if (n < 0) {
    if (errno == ENODATA || errno == ENOTSUP || errno == ENOENT) return true;  // nothing to keep
    return failed(job, FileStep::label, errno);
  }
  if (call(SYS_fsetxattr, to, addr(name), addr(job.label), n, 0) != 0) return failed(job, FileStep::label, errno);
  return true;
}

VMHA_RAW bool do_replace(FileJob& job) {
  // Where the file really is: a symbolic link is replaced through, not by a regular file.
  struct stat old {};
  bool existed = false;
  const int probe = open_at(AT_FDCWD, job.path, O_PATH | O_CLOEXEC);
  if (probe >= 0) {
    const bool resolved = path_of(probe, job.resolved, sizeof job.resolved, job);
    const bool stated = call(SYS_fstat, probe, addr(&old)) == 0;
    const int stat_error = errno;
    close_fd(probe);
    if (!resolved) return false;
    if (!stated) return failed(job, FileStep::stat, stat_error);
    if (!S_ISREG(old.st_mode)) return failed(job, FileStep::not_regular, EINVAL);
    existed = true;
  } else if (errno == ENOENT) {
    // A link to nothing (its target on a file system not mounted) is not replaced by a file.
    struct stat link {};
    if (stat_at(AT_FDCWD, job.path, link, AT_SYMLINK_NOFOLLOW) && S_ISLNK(link.st_mode)) {
      return failed(job, FileStep::dangling, ENOENT);
    }
    if (!copy(job.resolved, sizeof job.resolved, job.path, length_of(job.path))) {
      return failed(job, FileStep::open, ENAMETOOLONG);
    }
  } else {
    return failed(job, FileStep::open, errno);
  }

  // The directory and the base name.
  const std::size_t n = length_of(job.resolved);
  std::size_t slash = n;
  while (slash > 0 && job.resolved[slash - 1] != '/') --slash;
  char directory[kPathMax];
  if (slash == 0) {
    directory[0] = '.';
    directory[1] = '\0';
  } else if (!copy(directory, sizeof directory, job.resolved, slash == 1 ? 1 : slash - 1)) {
    return failed(job, FileStep::directory, ENAMETOOLONG);
  }
  const char* base = job.resolved + slash;
  int dir = open_at(AT_FDCWD, directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0 && errno == ENOENT && job.create_parents) {
    if (!make_directories(job, directory)) return false;
    dir = open_at(AT_FDCWD, directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  }
  if (dir < 0) return failed(job, FileStep::directory, errno);

  // The temporary file: <base>.vmha-<random>, created, never opened through a link.
  const std::size_t base_length = length_of(base);
  const char* tag = ".vmha-";
  const std::size_t tag_length = length_of(tag);
  const std::size_t suffix_length = length_of(job.other);
  char temporary[kPathMax];
  if (base_length + tag_length + suffix_length + 1 > sizeof temporary) {
    close_fd(dir);
    return failed(job, FileStep::create, ENAMETOOLONG);
  }
  copy(temporary, sizeof temporary, base, base_length);
  copy(temporary + base_length, sizeof temporary - base_length, tag, tag_length);
  copy(temporary + base_length + tag_length, sizeof temporary - base_length - tag_length, job.other, suffix_length);
  const unsigned mode = existed ? (old.st_mode & 07777U) : job.new_mode;
  const int fd = open_at(dir, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) {
    const int error = errno;
    close_fd(dir);
    return failed(job, FileStep::create, error);
  }
  bool ok = write_all(fd, job.content, job.content_length) || failed(job, FileStep::write, errno);
  if (ok && existed) {
    // Owner first: chown clears set-id bits, which the mode then restores.
    if (call(SYS_fchown, fd, static_cast<long>(old.st_uid), static_cast<long>(old.st_gid)) != 0 ||
        call(SYS_fchmod, fd, static_cast<long>(old.st_mode & 07777U)) != 0) {
      ok = failed(job, FileStep::owner, errno);
    }
    ok = ok && copy_attribute(job, "system.posix_acl_access", fd) && copy_attribute(job, "security.selinux", fd);
  } else if (ok && call(SYS_fchmod, fd, static_cast<long>(mode)) != 0) {  // the umask does not apply
    ok = failed(job, FileStep::owner, errno);
  }
  ok = ok && (call(SYS_fsync, fd) == 0 || failed(job, FileStep::sync, errno));
  if (call(SYS_close, fd) != 0 && ok) ok = failed(job, FileStep::write, errno);
  ok = ok && (call(SYS_renameat2, dir, addr(temporary), dir, addr(base), 0) == 0 || failed(job, FileStep::move, errno));
  if (!ok) {
    const int error = job.error;
    call(SYS_unlinkat, dir, addr(temporary), 0);
    job.error = error;
  } else if (call(SYS_fsync, dir) != 0) {
    ok = failed(job, FileStep::sync, errno);
  }
  close_fd(dir);
  return ok;
}

/// fsync of the directory holding `path`, so a rename or removal survives a power cut.
VMHA_RAW bool sync_directory_of(FileJob& job, const char* path) {
  const std::size_t n = length_of(path);
  std::size_t slash = n;
  while (slash > 0 && path[slash - 1] != '/') --slash;
  if (slash == 0) {
    job.scratch[0] = '.';
    job.scratch[1] = '\0';
  } else if (!copy(job.scratch, sizeof job.scratch, path, slash == 1 ? 1 : slash - 1)) {
    return failed(job, FileStep::directory, ENAMETOOLONG);
  }
  const int dir = open_at(AT_FDCWD, job.scratch, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return failed(job, FileStep::directory, errno);
  const bool ok = call(SYS_fsync, dir) == 0 || failed(job, FileStep::sync, errno);
  close_fd(dir);
  return ok;
}

}  // namespace

VMHA_RAW void run(FileJob& job) noexcept {
  job.error = 0;
  job.failed = FileStep::none;
  switch (job.op) {
    case FileOp::read: do_read(job); break;
    case FileOp::info:
      if (!stat_at(AT_FDCWD, job.path, job.info, 0)) failed(job, FileStep::stat, errno);
      break;
    case FileOp::replace: do_replace(job); break;
    case FileOp::rename:
      if (call(SYS_renameat2, AT_FDCWD, addr(job.path), AT_FDCWD, addr(job.other), 0) != 0) {
        failed(job, FileStep::move, errno);
      } else {
        sync_directory_of(job, job.other);
      }
      break;
    case FileOp::remove:
      if (call(SYS_unlinkat, AT_FDCWD, addr(job.path), 0) != 0) failed(job, FileStep::remove, errno);
      break;
    case FileOp::resolve: do_resolve(job); break;
  }
}

}  // namespace vmha::sys::detail
