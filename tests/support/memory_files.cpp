#include "support/memory_files.hpp"

#include <fmt/core.h>

namespace vmha::test {
namespace {

bool under(const std::string& path, const std::string& prefix) {
  return path == prefix || (path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0 &&
                            (prefix.back() == '/' || path[prefix.size()] == '/'));
}

std::string parent_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

Error error(ErrorKind kind, std::string reason) {
  return Error{kind, std::move(reason)};
}

}  // namespace

std::optional<Error> MemoryFileSystem::fault_for(const std::string& path, bool writing,
                                                 sys::Clock::time_point deadline) {
  ++calls;
  for (const auto& [prefix, fault] : faults_) {
    if (!under(path, prefix) || (fault.writes_only && !writing)) continue;
    if (fault.kind == ErrorKind::timed_out) {
      clock_.sleep_until(deadline);
      return error(ErrorKind::timed_out, fmt::format("{}: the file system did not answer in time", path));
    }
    return error(fault.kind, fmt::format("{}: {}", path, fault.reason));
  }
  return std::nullopt;
}

bool MemoryFileSystem::is_directory(const std::string& path) const {
  if (path == "/" || directories_.count(path) != 0) return true;
  const auto it = files_.lower_bound(path + "/");
  return it != files_.end() && under(it->first, path);
}

sys::FileInfo MemoryFileSystem::info_of(const Node& node) const {
  sys::FileInfo info;
  info.type = node.type;
  info.device = 1;
  info.inode = node.inode;
  info.size = node.content.size();
  info.modified_ns = node.version;
  info.changed_ns = node.version;
  info.mode = node.mode;
  return info;
}

void MemoryFileSystem::touch(Node& node) {
  node.inode = ++next_inode_;
  node.version = ++tick_;
}

Result<sys::FileContent> MemoryFileSystem::read(const std::string& path, std::size_t limit,
                                                sys::Clock::time_point deadline) {
  if (auto failed = fault_for(path, false, deadline)) return vmha::fail(*failed);
  const auto it = files_.find(path);
  if (it == files_.end()) {
    if (is_directory(path)) return vmha::fail(error(ErrorKind::invalid, path + " is not a regular file"));
    return vmha::fail(error(ErrorKind::not_found, path + " does not exist"));
  }
  if (it->second.type != sys::FileType::regular) {
    return vmha::fail(error(ErrorKind::invalid, path + " is not a regular file"));
  }
  if (it->second.content.size() > limit) {
    return vmha::fail(error(ErrorKind::invalid, fmt::format("{} is larger than {} bytes", path, limit)));
  }
  return sys::FileContent{it->second.content, info_of(it->second)};
}

Result<sys::FileInfo> MemoryFileSystem::info(const std::string& path, sys::Clock::time_point deadline) {
  if (auto failed = fault_for(path, false, deadline)) return vmha::fail(*failed);
  const auto it = files_.find(path);
  if (it != files_.end()) return info_of(it->second);
  if (is_directory(path)) {
    sys::FileInfo info;
    info.type = sys::FileType::directory;
    return info;
  }
  return vmha::fail(error(ErrorKind::not_found, path + " does not exist"));
}

Result<void> MemoryFileSystem::replace(const std::string& path, const std::string& content,
                                       sys::Clock::time_point deadline, sys::ReplaceOptions options) {
  if (auto failed = fault_for(path, true, deadline)) return vmha::fail(*failed);
  const auto it = files_.find(path);
  if (it != files_.end()) {
    if (it->second.type != sys::FileType::regular) {
      return vmha::fail(error(ErrorKind::invalid, path + " is not a regular file"));
    }
    if (it->second.content != content) {
      it->second.content = content;
      touch(it->second);
    }
    return {};
  }
  const std::string parent = parent_of(path);
  if (!is_directory(parent)) {
    if (!options.create_parents || files_.count(parent) != 0) {
      return vmha::fail(error(ErrorKind::not_found, "cannot open its directory " + parent));
    }
    make_directory(parent);
  }
  Node& node = files_[path];
  node.content = content;
  node.mode = options.new_mode;
  touch(node);
  return {};
}

Result<void> MemoryFileSystem::rename(const std::string& from, const std::string& to, sys::Clock::time_point deadline) {
  if (auto failed = fault_for(from, true, deadline)) return vmha::fail(*failed);
  if (auto failed = fault_for(to, true, deadline)) return vmha::fail(*failed);
  const auto it = files_.find(from);
  if (it == files_.end()) return vmha::fail(error(ErrorKind::not_found, from + " does not exist"));
  if (!is_directory(parent_of(to))) return vmha::fail(error(ErrorKind::not_found, parent_of(to) + " is missing"));
  Node moved = it->second;
  files_.erase(it);
  files_[to] = moved;
  return {};
}

Result<void> MemoryFileSystem::remove(const std::string& path, sys::Clock::time_point deadline) {
  if (auto failed = fault_for(path, true, deadline)) return vmha::fail(*failed);
  if (files_.erase(path) == 0) return vmha::fail(error(ErrorKind::not_found, path + " does not exist"));
  return {};
}

Result<std::string> MemoryFileSystem::resolve(const std::string& path, sys::Clock::time_point deadline) {
  if (auto failed = fault_for(path, false, deadline)) return vmha::fail(*failed);
  if (files_.count(path) == 0 && !is_directory(path)) {
    return vmha::fail(error(ErrorKind::not_found, path + " does not exist"));
  }
  return path;
}

void MemoryFileSystem::write(const std::string& path, std::string content, unsigned mode) {
  make_directory(parent_of(path));
  Node& node = files_[path];
  node.content = std::move(content);
  node.type = sys::FileType::regular;
  node.mode = mode;
  touch(node);
}

void MemoryFileSystem::make_special(const std::string& path) {
  make_directory(parent_of(path));
  Node& node = files_[path];
  node.content.clear();
  node.type = sys::FileType::other;
  touch(node);
}

void MemoryFileSystem::make_directory(const std::string& path) {
  for (std::string at = path; at != "/" && at != "." && directories_.insert(at).second;) at = parent_of(at);
}

void MemoryFileSystem::erase(const std::string& path) {
  files_.erase(path);
}

void MemoryFileSystem::erase_under(const std::string& prefix) {
  for (auto it = files_.begin(); it != files_.end();) {
    it = under(it->first, prefix) ? files_.erase(it) : std::next(it);
  }
}

bool MemoryFileSystem::exists(const std::string& path) const {
  return files_.count(path) != 0 || directories_.count(path) != 0;
}

std::optional<std::string> MemoryFileSystem::content(const std::string& path) const {
  const auto it = files_.find(path);
  if (it == files_.end()) return std::nullopt;
  return it->second.content;
}

std::optional<unsigned> MemoryFileSystem::mode(const std::string& path) const {
  const auto it = files_.find(path);
  if (it == files_.end()) return std::nullopt;
  return it->second.mode;
}

}  // namespace vmha::test
