// hung-fs: a pass-through FUSE file system that can be told to stop answering.
//
//   hung-fs MOUNTPOINT BACKING_DIR PIDFILE
//
// Why: tests must show that the agent stays within its deadline when a config file lives on a hung
// network or cluster file system, and when a child sits in uninterruptible sleep (D) on one.
//
// - Mounts a view of BACKING_DIR at MOUNTPOINT (run as root; allow_other). Every stat, open, read
//   and directory listing reaches this daemon: no attribute, entry or page caching. A file unlinked
//   while open becomes BACKING_DIR/.fuse_hiddenNNN until closed (libfuse's default, as NFS does).
// - Once the mount answers, writes its pid to PIDFILE (temporary file and rename) and prints the
//   one line "hung-fs: ready" on stdout. Errors go to stderr.
// - SIGUSR1 hangs it: each request read from /dev/fuse from then on waits in the daemon, so the
//   kernel has sent it. SIGUSR2 answers again: the waiting requests go on, new ones are answered.
// - SIGTERM or SIGINT answers the waiting requests, unmounts and exits 0.
// - Interrupts never cancel a waiting request (libfuse's "intr" stays off). A process killed while
//   its request waits here is in D state until the daemon answers: fuse's request_wait_answer.
#define FUSE_USE_VERSION 312  // 3.12: the multi-threaded loop's thread limit can be set

#include <dirent.h>
#include <fcntl.h>
#include <fuse.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#include "pid_file.hpp"

namespace {

// fuse_loop_mt adds a worker thread whenever all are busy, up to this many. A hung request holds
// its worker; one beyond the limit would wait in the kernel's queue, unsent, where a fatal signal
// ends its process at once (no D state). libfuse's default is 10.
constexpr unsigned kMaxWorkerThreads = 256;

// Holds requests while the file system is hung.
class RequestGate {
 public:
  void hang() {
    const std::lock_guard lock(mutex_);
    if (!open_for_good_) hung_ = true;
  }

  void answer() {
    {
      const std::lock_guard lock(mutex_);
      hung_ = false;
    }
    released_.notify_all();
  }

  // Shutting down: answer everything, now and later.
  void open_for_good() {
    {
      const std::lock_guard lock(mutex_);
      open_for_good_ = true;
      hung_ = false;
    }
    released_.notify_all();
  }

  void wait_while_hung() {
    std::unique_lock lock(mutex_);
    released_.wait(lock, [this] { return !hung_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable released_;
  bool hung_ = false;
  bool open_for_good_ = false;
};

struct HungFs {
  int backing_fd = -1;  // O_PATH descriptor of BACKING_DIR, opened before the mount covers it
  std::string pid_file;
  RequestGate gate;
  bool pid_file_failed = false;
  std::atomic<bool> loop_ended = false;
};

HungFs& hung_fs() {
  return *static_cast<HungFs*>(fuse_get_context()->private_data);
}

// Each request waits here while the file system is hung, then returns the file system.
HungFs& admit_request() {
  HungFs& fs = hung_fs();
  fs.gate.wait_while_hung();
  return fs;
}

// libfuse hands absolute paths ("/", "/a/b"); the *at calls want them relative to backing_fd.
const char* relative(const char* path) {
  while (*path == '/') ++path;
  return *path == '\0' ? "." : path;
}

int result(int rc) {
  return rc < 0 ? -errno : 0;
}
int result(ssize_t rc) {
  return rc < 0 ? -errno : static_cast<int>(rc);
}

int file_fd(const fuse_file_info* fi) {
  return static_cast<int>(fi->fh);
}
DIR* dir_handle(const fuse_file_info* fi) {
  return reinterpret_cast<DIR*>(static_cast<std::uintptr_t>(fi->fh));
}

// --- pid file and start-up

bool write_pid_file(const std::string& path) {
  return vmha::lab::write_pid_file(path, std::to_string(getpid()) + "\n");
}

// Runs in a worker when the kernel's INIT request arrives: the mount answers from now on.
void* hung_fs_init(fuse_conn_info*, fuse_config* cfg) {
  cfg->entry_timeout = 0;
  cfg->attr_timeout = 0;
  cfg->negative_timeout = 0;
  cfg->direct_io = 1;  // no page cache: every read() is a request
  cfg->intr = 0;       // an interrupt must not cancel a waiting request
  cfg->use_ino = 1;
  cfg->nullpath_ok = 1;  // calls on an open file use its descriptor, not its path
  HungFs& fs = hung_fs();
  if (write_pid_file(fs.pid_file)) {
    std::fputs("hung-fs: ready\n", stdout);
    std::fflush(stdout);
  } else {
    std::fprintf(stderr, "hung-fs: cannot write pid file %s: %s\n", fs.pid_file.c_str(), std::strerror(errno));
    fs.pid_file_failed = true;
    kill(getpid(), SIGTERM);  // to the signal thread: shut down
  }
  return &fs;
}

// --- attributes and names

int hung_fs_getattr(const char* path, struct stat* st, fuse_file_info* fi) {
  HungFs& fs = admit_request();
  if (fi != nullptr) return result(fstat(file_fd(fi), st));
  return result(fstatat(fs.backing_fd, relative(path), st, AT_SYMLINK_NOFOLLOW));
}

int hung_fs_access(const char* path, int mask) {
  HungFs& fs = admit_request();
  return result(faccessat(fs.backing_fd, relative(path), mask, 0));
}

int hung_fs_readlink(const char* path, char* buffer, size_t size) {
  HungFs& fs = admit_request();
  if (size == 0) return -EINVAL;
  const ssize_t length = readlinkat(fs.backing_fd, relative(path), buffer, size - 1);
  if (length < 0) return -errno;
  buffer[length] = '\0';
  return 0;
}

int hung_fs_mkdir(const char* path, mode_t mode) {
  HungFs& fs = admit_request();
  return result(mkdirat(fs.backing_fd, relative(path), mode));
}

int hung_fs_unlink(const char* path) {
  HungFs& fs = admit_request();
  return result(unlinkat(fs.backing_fd, relative(path), 0));
}

int hung_fs_rmdir(const char* path) {
  HungFs& fs = admit_request();
  return result(unlinkat(fs.backing_fd, relative(path), AT_REMOVEDIR));
}

int hung_fs_symlink(const char* target, const char* path) {
  HungFs& fs = admit_request();
  return result(symlinkat(target, fs.backing_fd, relative(path)));
}

int hung_fs_link(const char* from, const char* to) {
  HungFs& fs = admit_request();
  return result(linkat(fs.backing_fd, relative(from), fs.backing_fd, relative(to), 0));
}

int hung_fs_rename(const char* from, const char* to, unsigned int flags) {
  HungFs& fs = admit_request();
  if (flags != 0) return -EINVAL;  // RENAME_NOREPLACE, RENAME_EXCHANGE: not passed through
  return result(renameat(fs.backing_fd, relative(from), fs.backing_fd, relative(to)));
}

int hung_fs_chmod(const char* path, mode_t mode, fuse_file_info* fi) {
  HungFs& fs = admit_request();
  if (fi != nullptr) return result(fchmod(file_fd(fi), mode));
  return result(fchmodat(fs.backing_fd, relative(path), mode, AT_SYMLINK_NOFOLLOW));
}

int hung_fs_chown(const char* path, uid_t uid, gid_t gid, fuse_file_info* fi) {
  HungFs& fs = admit_request();
  if (fi != nullptr) return result(fchown(file_fd(fi), uid, gid));
  return result(fchownat(fs.backing_fd, relative(path), uid, gid, AT_SYMLINK_NOFOLLOW));
}

int hung_fs_truncate(const char* path, off_t size, fuse_file_info* fi) {
  HungFs& fs = admit_request();
  if (fi != nullptr) return result(ftruncate(file_fd(fi), size));
  const int fd = openat(fs.backing_fd, relative(path), O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return -errno;
  const int rc = result(ftruncate(fd, size));
  close(fd);
  return rc;
}

int hung_fs_utimens(const char* path, const struct timespec times[2], fuse_file_info* fi) {
  HungFs& fs = admit_request();
  if (fi != nullptr) return result(futimens(file_fd(fi), times));
  return result(utimensat(fs.backing_fd, relative(path), times, AT_SYMLINK_NOFOLLOW));
}

int hung_fs_statfs(const char*, struct statvfs* st) {
  HungFs& fs = admit_request();
  return result(fstatvfs(fs.backing_fd, st));
}

// --- files

int hung_fs_open(const char* path, fuse_file_info* fi) {
  HungFs& fs = admit_request();
  const int fd = openat(fs.backing_fd, relative(path), fi->flags | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return -errno;
  fi->fh = static_cast<std::uint64_t>(fd);
  return 0;
}

int hung_fs_create(const char* path, mode_t mode, fuse_file_info* fi) {
  HungFs& fs = admit_request();
  const int fd = openat(fs.backing_fd, relative(path), fi->flags | O_CREAT | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return -errno;
  fi->fh = static_cast<std::uint64_t>(fd);
  return 0;
}

int hung_fs_read(const char*, char* buffer, size_t size, off_t offset, fuse_file_info* fi) {
  admit_request();
  return result(pread(file_fd(fi), buffer, size, offset));
}

int hung_fs_write(const char*, const char* buffer, size_t size, off_t offset, fuse_file_info* fi) {
  admit_request();
  return result(pwrite(file_fd(fi), buffer, size, offset));
}

// close(2) of each descriptor: a hung file system blocks it too.
int hung_fs_flush(const char*, fuse_file_info*) {
  admit_request();
  return 0;
}

int hung_fs_fsync(const char*, int datasync, fuse_file_info* fi) {
  admit_request();
  return result(datasync != 0 ? fdatasync(file_fd(fi)) : fsync(file_fd(fi)));
}

int hung_fs_release(const char*, fuse_file_info* fi) {
  admit_request();
  return result(close(file_fd(fi)));
}

// --- directories

int hung_fs_opendir(const char* path, fuse_file_info* fi) {
  HungFs& fs = admit_request();
  const int fd = openat(fs.backing_fd, relative(path), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return -errno;
  DIR* dir = fdopendir(fd);
  if (dir == nullptr) {
    const int error = errno;
    close(fd);
    return -error;
  }
  fi->fh = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(dir));
  return 0;
}

// Starts at the kernel's offset each time (a telldir() cookie), so every READDIR is a request.
int hung_fs_readdir(const char*, void* buffer, fuse_fill_dir_t fill, off_t offset, fuse_file_info* fi,
                    fuse_readdir_flags) {
  admit_request();
  DIR* dir = dir_handle(fi);
  seekdir(dir, offset);
  errno = 0;
  while (const dirent* entry = readdir(dir)) {
    struct stat st {};
    st.st_ino = entry->d_ino;
    st.st_mode = static_cast<mode_t>(DTTOIF(entry->d_type));
    if (fill(buffer, entry->d_name, &st, telldir(dir), static_cast<fuse_fill_dir_flags>(0)) != 0) return 0;
  }
  return -errno;
}

int hung_fs_fsyncdir(const char*, int datasync, fuse_file_info* fi) {
  admit_request();
  const int fd = dirfd(dir_handle(fi));
  return result(datasync != 0 ? fdatasync(fd) : fsync(fd));
}

int hung_fs_releasedir(const char*, fuse_file_info* fi) {
  admit_request();
  return result(closedir(dir_handle(fi)));
}

// --- extended attributes: there are no *at calls for them, so they go through the /proc link
// of an O_PATH descriptor (as libfuse's passthrough_ll does).

template <typename XattrCall>
int on_proc_link(const char* path, XattrCall call) {
  HungFs& fs = admit_request();
  const int fd = openat(fs.backing_fd, relative(path), O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return -errno;
  const std::string proc_link = "/proc/self/fd/" + std::to_string(fd);
  const int rc = result(call(proc_link.c_str()));
  close(fd);
  return rc;
}

int hung_fs_getxattr(const char* path, const char* name, char* value, size_t size) {
  return on_proc_link(path, [&](const char* link) { return getxattr(link, name, value, size); });
}

int hung_fs_listxattr(const char* path, char* list, size_t size) {
  return on_proc_link(path, [&](const char* link) { return listxattr(link, list, size); });
}

int hung_fs_setxattr(const char* path, const char* name, const char* value, size_t size, int flags) {
  return on_proc_link(path, [&](const char* link) { return setxattr(link, name, value, size, flags); });
}

int hung_fs_removexattr(const char* path, const char* name) {
  return on_proc_link(path, [&](const char* link) { return removexattr(link, name); });
}

fuse_operations hung_fs_operations() {
  fuse_operations ops{};
  ops.init = hung_fs_init;
  ops.getattr = hung_fs_getattr;
  ops.access = hung_fs_access;
  ops.readlink = hung_fs_readlink;
  ops.mkdir = hung_fs_mkdir;
  ops.unlink = hung_fs_unlink;
  ops.rmdir = hung_fs_rmdir;
  ops.symlink = hung_fs_symlink;
  ops.link = hung_fs_link;
  ops.rename = hung_fs_rename;
  ops.chmod = hung_fs_chmod;
  ops.chown = hung_fs_chown;
  ops.truncate = hung_fs_truncate;
  ops.utimens = hung_fs_utimens;
  ops.statfs = hung_fs_statfs;
  ops.open = hung_fs_open;
  ops.create = hung_fs_create;
  ops.read = hung_fs_read;
  ops.write = hung_fs_write;
  ops.flush = hung_fs_flush;
  ops.fsync = hung_fs_fsync;
  ops.release = hung_fs_release;
  ops.opendir = hung_fs_opendir;
  ops.readdir = hung_fs_readdir;
  ops.fsyncdir = hung_fs_fsyncdir;
  ops.releasedir = hung_fs_releasedir;
  ops.getxattr = hung_fs_getxattr;
  ops.listxattr = hung_fs_listxattr;
  ops.setxattr = hung_fs_setxattr;
  ops.removexattr = hung_fs_removexattr;
  return ops;
}

// --- signals, mount and loop

sigset_t control_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (const int sig : {SIGUSR1, SIGUSR2, SIGTERM, SIGINT}) sigaddset(&set, sig);
  return set;
}

// fuse_exit only sets a flag. A worker reads it after its next read from /dev/fuse, and drops the
// request it has just read, unanswered. So the request that ends the loop is one nobody waits for:
// the mount's root is opened (answered: nothing is held any more), fuse_exit is called, and the
// close sends RELEASEDIR in the background. A thread of this process that waited for a dropped
// request would wait for ever, and so would the process, even after SIGKILL.
void end_loop(fuse* session, const std::string& mountpoint) {
  const int root = open(mountpoint.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  fuse_exit(session);
  if (root >= 0) close(root);
}

// The only thread that takes the control signals (every thread blocks them; this one sigwaits), so
// nothing runs in a signal handler. On SIGTERM or SIGINT it answers everything, ends the loop and
// returns.
void control_by_signals(HungFs& fs, fuse* session, const std::string& mountpoint) {
  const sigset_t signals = control_signals();
  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGUSR1) {
      fs.gate.hang();
    } else if (sig == SIGUSR2) {
      fs.gate.answer();
    } else {
      fs.gate.open_for_good();
      if (!fs.loop_ended) end_loop(session, mountpoint);
      return;
    }
  }
}

// fuse_unmount leaves the mount alone once the connection is severed (echo 1 >
// /sys/fs/fuse/connections/N/abort): it would answer ENOTCONN from then on. Called after
// fuse_destroy, so nothing of this process can still hold a request.
void unmount_if_severed(const std::string& mountpoint) {
  struct stat st {};
  if (stat(mountpoint.c_str(), &st) != 0 && errno == ENOTCONN) umount2(mountpoint.c_str(), MNT_DETACH);
}

fuse* new_session(HungFs& fs) {
  fuse_args args = FUSE_ARGS_INIT(0, nullptr);
  for (const char* arg : {"hung-fs", "-o", "allow_other,fsname=hung-fs,subtype=hung-fs"}) {
    if (fuse_opt_add_arg(&args, arg) != 0) return nullptr;
  }
  const fuse_operations ops = hung_fs_operations();
  fuse* session = fuse_new(&args, &ops, sizeof(ops), &fs);
  fuse_opt_free_args(&args);
  return session;
}

int run_loop(fuse* session) {
  fuse_loop_config* config = fuse_loop_cfg_create();
  if (config == nullptr) return ENOMEM;
  fuse_loop_cfg_set_max_threads(config, kMaxWorkerThreads);
  const int rc = fuse_loop_mt(session, config);
  fuse_loop_cfg_destroy(config);
  return rc;
}

int usage() {
  std::fprintf(stderr, "usage: hung-fs MOUNTPOINT BACKING_DIR PIDFILE\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) return usage();
  const std::string mountpoint = argv[1];
  HungFs fs;
  fs.pid_file = argv[3];
  fs.backing_fd = open(argv[2], O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fs.backing_fd < 0) {
    std::fprintf(stderr, "hung-fs: cannot open backing dir %s: %s\n", argv[2], std::strerror(errno));
    return 1;
  }

  // Blocked before any thread starts, so that every thread (libfuse's workers too) inherits it.
  const sigset_t signals = control_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  fuse* session = new_session(fs);
  if (session == nullptr) {
    std::fprintf(stderr, "hung-fs: cannot set up the FUSE session\n");
    return 1;
  }
  if (fuse_mount(session, mountpoint.c_str()) != 0) {
    std::fprintf(stderr, "hung-fs: cannot mount on %s\n", mountpoint.c_str());
    fuse_destroy(session);
    return 1;
  }

  std::thread control([&] { control_by_signals(fs, session, mountpoint); });
  const int loop_rc = run_loop(session);
  // The loop also ends when the mount goes away without a signal (umount, fusermount3 -u); the
  // control thread then still waits for one.
  fs.loop_ended = true;
  pthread_kill(control.native_handle(), SIGTERM);
  control.join();

  fuse_unmount(session);
  fuse_destroy(session);
  unmount_if_severed(mountpoint);
  close(fs.backing_fd);
  if (loop_rc != 0)
    std::fprintf(stderr, "hung-fs: FUSE loop failed: %s\n", std::strerror(loop_rc < 0 ? -loop_rc : loop_rc));
  return loop_rc == 0 && !fs.pid_file_failed ? 0 : 1;
}
