#include "vmha/sys/files.hpp"

#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>
#include <thread>

#include <fmt/core.h>

#include "file_ops.hpp"
#include "vmha/sys/unique_fd.hpp"

namespace vmha::sys {
namespace {

using detail::FileJob;
using detail::FileOp;
using detail::FileStep;

std::string_view step_name(FileStep step) {
  switch (step) {
    case FileStep::none: return "";
    case FileStep::open: return "cannot open";
    case FileStep::not_regular: return "is not a regular file";
    case FileStep::too_large: return "is too large";
    case FileStep::read: return "cannot read";
    case FileStep::stat: return "cannot stat";
    case FileStep::directory: return "cannot open its directory";
    case FileStep::create: return "cannot create the temporary file for";
    case FileStep::write: return "cannot write";
    case FileStep::owner: return "cannot keep the owner and mode of";
    case FileStep::label: return "cannot keep the ACL or SELinux label of";
    case FileStep::sync: return "cannot sync";
    case FileStep::move: return "cannot rename";
    case FileStep::remove: return "cannot remove";
    case FileStep::resolve: return "cannot resolve";
    case FileStep::dangling: return "is a symbolic link to nothing:";
    case FileStep::reopen: return "cannot reopen (is /proc mounted?)";
    case FileStep::helper: return "the helper process died while working on";
  }
  return "cannot access";
}

ErrorKind kind_of(const FileJob& job) {
  if (job.failed == FileStep::not_regular || job.failed == FileStep::too_large) return ErrorKind::invalid;
  // Neither proves anything is missing: a link whose file system is not mounted, no /proc.
  if (job.failed == FileStep::dangling || job.failed == FileStep::reopen || job.failed == FileStep::helper) {
    return ErrorKind::other;
  }
  switch (job.error) {
    case ENOENT:
    case ENOTDIR: return ErrorKind::not_found;
    case EACCES:
    case EPERM: return ErrorKind::denied;
    default: return ErrorKind::other;
  }
}

Error error_of(const FileJob& job, const std::string& path) {
  std::string reason;
  if (job.failed == FileStep::not_regular) {
    reason = fmt::format("{} is not a regular file", path);
  } else if (job.failed == FileStep::too_large) {
    reason = fmt::format("{} is larger than {} bytes", path, job.capacity == 0 ? 0 : job.capacity - 1);
  } else if (job.failed == FileStep::open && job.error == ENOENT) {
    reason = fmt::format("{} does not exist", path);
  } else if (job.failed == FileStep::dangling) {
    reason = fmt::format("{} is a symbolic link to nothing (is its file system mounted?)", path);
  } else {
    reason = fmt::format("{} {}: {}", step_name(job.failed), path, std::strerror(job.error));
  }
  return Error{kind_of(job), std::move(reason)};
}

FileInfo info_of(const struct stat& st) {
  FileInfo info;
  info.type = S_ISREG(st.st_mode) ? FileType::regular : S_ISDIR(st.st_mode) ? FileType::directory : FileType::other;
  info.device = st.st_dev;
  info.inode = st.st_ino;
  info.size = static_cast<std::uint64_t>(st.st_size);
  info.modified_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  info.changed_ns = static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec;
  info.mode = st.st_mode & 07777U;
  info.uid = st.st_uid;
  info.gid = st.st_gid;
  return info;
}

/// A random name part, so concurrent writers never share a temporary file.
std::string random_suffix() {
  std::array<unsigned char, 6> bytes{};
  if (getrandom(bytes.data(), bytes.size(), GRND_NONBLOCK) != static_cast<ssize_t>(bytes.size())) {
    const auto seed = static_cast<unsigned long long>(getpid()) ^
                      static_cast<unsigned long long>(std::chrono::steady_clock::now().time_since_epoch().count());
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<unsigned char>(seed >> (8 * i));
  }
  std::string out;
  for (const unsigned char b : bytes) out += fmt::format("{:02x}", b);
  return out;
}

/// One job and the memory it writes to. A job abandoned in a stuck child is leaked, since the
/// child may still write to it.
struct JobMemory {
  FileJob job;
  std::unique_ptr<char[]> buffer;
  std::string path;
  std::string other;
  std::string content;
};

/// How a job is carried out: inline, or in a child bounded by the deadline.
using Runner = bool (*)(JobMemory& memory, Clock::time_point deadline);

bool run_inline(JobMemory& memory, Clock::time_point /*deadline*/) {
  detail::run(memory.job);
  return true;
}

constexpr std::size_t kChildStack = std::size_t{128} * 1024U;
std::atomic<void*> spare_stack{nullptr};

int child_main(void* argument) {
  // Nothing of the agent's stays open in a child that may hang: its table is its own copy.
  syscall(SYS_close_range, 0U, ~0U, 0U);
  detail::run(*static_cast<FileJob*>(argument));
  return 0;
}

/// Waits for the child without a pidfd (a kernel that does not know CLONE_PIDFD): short polls.
bool wait_without_pidfd(pid_t pid, Clock::time_point deadline, int& status) {
  for (;;) {
    if (waitpid(pid, &status, WNOHANG | __WALL) == pid) return true;
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(pid, SIGKILL);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

/// Runs the job in a clone(CLONE_VM) child and waits for it until the deadline. False when
/// the child had to be abandoned: it is SIGKILLed, and its stack and job stay allocated.
bool run_in_child(JobMemory& memory, Clock::time_point deadline) {
  // One stack serves every child in turn; a stack an abandoned child still runs on is never
  // handed out again.
  void* stack = spare_stack.exchange(nullptr);
  if (stack == nullptr) {
    stack = mmap(nullptr, kChildStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  }
  if (stack == MAP_FAILED) {
    memory.job.error = errno;
    memory.job.failed = FileStep::open;
    return true;
  }
  int pidfd = -1;
  const pid_t pid =
      clone(child_main, static_cast<char*>(stack) + kChildStack, CLONE_VM | CLONE_PIDFD | SIGCHLD, &memory.job, &pidfd);
  if (pid < 0) {
    const int error = errno;
    munmap(stack, kChildStack);
    if (error == EINVAL) {  // clone(CLONE_VM) without a thread is refused under valgrind
      detail::run(memory.job);
      return true;
    }
    memory.job.error = error;
    memory.job.failed = FileStep::open;
    return true;
  }
  int status = 0;
  const UniqueFd owned_pidfd(pidfd);
  if (pidfd < 0) {
    if (!wait_without_pidfd(pid, deadline, status)) return false;
  } else {
    for (;;) {
      const auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now()).count();
      pollfd one{pidfd, POLLIN, 0};
      const int ready = left <= 0 ? 0 : poll(&one, 1, static_cast<int>(std::min<long long>(left, INT_MAX)));
      if (ready > 0) break;
      if (ready < 0) continue;  // EINTR (the child may also have written errno: any -1 is retried)
      syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
      return false;
    }
    while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR) {
    }
  }
  if (void* unused = nullptr; !spare_stack.compare_exchange_strong(unused, stack)) munmap(stack, kChildStack);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {  // killed half-way: nothing it did counts
    memory.job.failed = FileStep::helper;
    memory.job.error = EINTR;
  }
  return true;
}

Error timed_out(std::string_view what, const std::string& path) {
  return Error{ErrorKind::timed_out, fmt::format("{} {}: the file system did not answer in time", what, path)};
}

/// Runs `memory`'s job with `runner`; an abandoned job's memory is released to the child.
bool carry_out(std::unique_ptr<JobMemory>& memory, Runner runner, Clock::time_point deadline) {
  if (runner(*memory, deadline)) return true;
  (void)memory.release();  // still in use by a stuck child
  return false;
}

std::unique_ptr<JobMemory> make_job(FileOp op, const std::string& path) {
  std::unique_ptr<JobMemory> memory(new JobMemory);  // default-initialised: no 12 KB memset
  memory->path = path;
  memory->job.op = op;
  memory->job.path = memory->path.c_str();
  return memory;
}

Result<FileContent> read_with(Runner runner, const std::string& path, std::size_t limit, Clock::time_point deadline) {
  auto memory = make_job(FileOp::read, path);
  memory->buffer = std::make_unique_for_overwrite<char[]>(limit + 1);
  memory->job.buffer = memory->buffer.get();
  memory->job.capacity = limit + 1;
  if (!carry_out(memory, runner, deadline)) return fail(timed_out("reading", path));
  if (memory->job.failed != FileStep::none) return fail(error_of(memory->job, path));
  return FileContent{std::string(memory->buffer.get(), memory->job.length), info_of(memory->job.info)};
}

Result<FileInfo> info_with(Runner runner, const std::string& path, Clock::time_point deadline) {
  auto memory = make_job(FileOp::info, path);
  if (!carry_out(memory, runner, deadline)) return fail(timed_out("looking at", path));
  if (memory->job.failed != FileStep::none) return fail(error_of(memory->job, path));
  return info_of(memory->job.info);
}

Result<void> replace_with(Runner runner, const std::string& path, const std::string& content,
                          Clock::time_point deadline, ReplaceOptions options) {
  if (auto current = read_with(runner, path, content.size(), deadline); current && current->text == content) {
    return {};
  } else if (!current && current.error().kind == ErrorKind::timed_out) {
    return fail(current.error());
  }
  auto memory = make_job(FileOp::replace, path);
  memory->other = random_suffix();
  memory->content = content;
  memory->job.other = memory->other.c_str();
  memory->job.content = memory->content.data();
  memory->job.content_length = memory->content.size();
  memory->job.create_parents = options.create_parents;
  memory->job.new_mode = options.new_mode;
  if (!carry_out(memory, runner, deadline)) return fail(timed_out("replacing", path));
  if (memory->job.failed != FileStep::none) return fail(error_of(memory->job, path));
  return {};
}

Result<void> rename_with(Runner runner, const std::string& from, const std::string& to, Clock::time_point deadline) {
  auto memory = make_job(FileOp::rename, from);
  memory->other = to;
  memory->job.other = memory->other.c_str();
  if (!carry_out(memory, runner, deadline)) return fail(timed_out("renaming", from));
  if (memory->job.failed != FileStep::none) return fail(error_of(memory->job, from));
  return {};
}

Result<void> remove_with(Runner runner, const std::string& path, Clock::time_point deadline) {
  auto memory = make_job(FileOp::remove, path);
  if (!carry_out(memory, runner, deadline)) return fail(timed_out("removing", path));
  if (memory->job.failed != FileStep::none) return fail(error_of(memory->job, path));
  return {};
}

Result<std::string> resolve_with(Runner runner, const std::string& path, Clock::time_point deadline) {
  auto memory = make_job(FileOp::resolve, path);
  if (!carry_out(memory, runner, deadline)) return fail(timed_out("resolving", path));
  if (memory->job.failed != FileStep::none) return fail(error_of(memory->job, path));
  return std::string(memory->job.resolved);
}

}  // namespace

std::string FileInfo::version() const {
  return fmt::format("{} {} {} {} {}", device, inode, size, modified_ns, changed_ns);
}

Result<FileContent> LocalFileSystem::read(const std::string& path, std::size_t limit, Clock::time_point deadline) {
  return read_with(run_inline, path, limit, deadline);
}
Result<FileInfo> LocalFileSystem::info(const std::string& path, Clock::time_point deadline) {
  return info_with(run_inline, path, deadline);
}
Result<void> LocalFileSystem::replace(const std::string& path, const std::string& content, Clock::time_point deadline,
                                      ReplaceOptions options) {
  return replace_with(run_inline, path, content, deadline, options);
}
Result<void> LocalFileSystem::rename(const std::string& from, const std::string& to, Clock::time_point deadline) {
  return rename_with(run_inline, from, to, deadline);
}
Result<void> LocalFileSystem::remove(const std::string& path, Clock::time_point deadline) {
  return remove_with(run_inline, path, deadline);
}
Result<std::string> LocalFileSystem::resolve(const std::string& path, Clock::time_point deadline) {
  return resolve_with(run_inline, path, deadline);
}

Result<FileContent> BoundedFileSystem::read(const std::string& path, std::size_t limit, Clock::time_point deadline) {
  return read_with(run_in_child, path, limit, deadline);
}
Result<FileInfo> BoundedFileSystem::info(const std::string& path, Clock::time_point deadline) {
  return info_with(run_in_child, path, deadline);
}
Result<void> BoundedFileSystem::replace(const std::string& path, const std::string& content, Clock::time_point deadline,
                                        ReplaceOptions options) {
  return replace_with(run_in_child, path, content, deadline, options);
}
Result<void> BoundedFileSystem::rename(const std::string& from, const std::string& to, Clock::time_point deadline) {
  return rename_with(run_in_child, from, to, deadline);
}
Result<void> BoundedFileSystem::remove(const std::string& path, Clock::time_point deadline) {
  return remove_with(run_in_child, path, deadline);
}
Result<std::string> BoundedFileSystem::resolve(const std::string& path, Clock::time_point deadline) {
  return resolve_with(run_in_child, path, deadline);
}

Result<std::string> read_file(const std::string& path, std::size_t limit) {
  auto content = read_with(run_inline, path, limit, Clock::time_point::max());
  VMHA_TRY(content);
  return std::move(content->text);
}

}  // namespace vmha::sys
