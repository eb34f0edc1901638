// The real file access: inline for the agent's records, bounded (in a child) for parameters'
// paths. Both run the same system-call sequences, so each case runs against both.
#include "vmha/sys/files.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "support/catch.hpp"

using vmha::ErrorKind;
using vmha::sys::FileSystem;

namespace {

struct TemporaryDirectory {
  TemporaryDirectory() {
    std::string pattern = (std::filesystem::temp_directory_path() / "vmha-files-XXXXXX").string();
    path = ::mkdtemp(pattern.data());
  }
  TemporaryDirectory(const TemporaryDirectory&) = delete;
  TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;
  ~TemporaryDirectory() { std::filesystem::remove_all(path); }
  std::string path;
};

const auto kSoon = [] { return std::chrono::steady_clock::now() + std::chrono::seconds(5); };

std::unique_ptr<FileSystem> file_system(const std::string& which) {
  if (which == "bounded") return std::make_unique<vmha::sys::BoundedFileSystem>();
  return std::make_unique<vmha::sys::LocalFileSystem>();
}

std::size_t leftovers(const std::string& dir) {
  std::size_t count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().filename().string().find(".vmha-") != std::string::npos) ++count;
  }
  return count;
}

}  // namespace

TEST_CASE("files are replaced whole and read back", "[files]") {
  const auto which = GENERATE(as<std::string>{}, "local", "bounded");
  auto files = file_system(which);
  const TemporaryDirectory dir;
  const std::string file = dir.path + "/a/b/record";
  CAPTURE(which);
  CHECK(files->read(file, 1000, kSoon()).error().kind == ErrorKind::not_found);
  CHECK(files->replace(file, "x", kSoon(), {}).error().kind == ErrorKind::not_found);  // no directory made
  REQUIRE(files->replace(file, "first\n", kSoon(), {.create_parents = true}));
  CHECK(files->read(file, 1000, kSoon())->text == "first\n");
  REQUIRE(files->replace(file, std::string(20000, 'x'), kSoon(), {}));  // more than one read
  CHECK(files->read(file, 20000, kSoon())->text.size() == 20000);
  const auto large = files->read(file, 1000, kSoon());  // over the limit
  REQUIRE_FALSE(large);
  CHECK(large.error().kind == ErrorKind::invalid);
  CHECK(leftovers(dir.path + "/a/b") == 0);
  struct stat created {};
  REQUIRE(::stat(file.c_str(), &created) == 0);
  CHECK((created.st_mode & 07777) == 0600);  // new files: 0600, whatever the umask
  REQUIRE(files->rename(file, file + ".moved", kSoon()));
  CHECK(files->info(file + ".moved", kSoon())->size == 20000);
  REQUIRE(files->remove(file + ".moved", kSoon()));
  CHECK(files->remove(file + ".moved", kSoon()).error().kind == ErrorKind::not_found);
}

TEST_CASE("an unwritable place is reported, not thrown", "[files]") {
  const auto which = GENERATE(as<std::string>{}, "local", "bounded");
  auto files = file_system(which);
  const TemporaryDirectory dir;
  const std::string blocker = dir.path + "/not-a-directory";
  REQUIRE(files->replace(blocker, "x", kSoon(), {}));
  const auto below = files->replace(blocker + "/record", "y", kSoon(), {.create_parents = true});
  REQUIRE_FALSE(below);
  CHECK_FALSE(below.error().reason.empty());
}

TEST_CASE("what is not a regular file is refused without blocking", "[files]") {
  const auto which = GENERATE(as<std::string>{}, "local", "bounded");
  auto files = file_system(which);
  const TemporaryDirectory dir;
  const std::string fifo = dir.path + "/config.xml";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);  // no writer: a blocking open would hang forever
  const auto read = files->read(fifo, 1000, kSoon());
  REQUIRE_FALSE(read);
  CHECK(read.error().kind == ErrorKind::invalid);
  CHECK_THAT(read.error().reason, Catch::Contains("not a regular file"));
  const auto directory = files->read(dir.path, 1000, kSoon());
  REQUIRE_FALSE(directory);
  CHECK(directory.error().kind == ErrorKind::invalid);
  CHECK(files->replace(fifo, "x", kSoon(), {}).error().kind == ErrorKind::invalid);
}

TEST_CASE("a replaced file keeps its mode and owner, and a link is replaced through", "[files]") {
  const auto which = GENERATE(as<std::string>{}, "local", "bounded");
  auto files = file_system(which);
  const TemporaryDirectory dir;
  const std::string real = dir.path + "/real.xml";
  const std::string link = dir.path + "/vm1.xml";
  std::ofstream(real) << "<domain/>";
  REQUIRE(::chmod(real.c_str(), 0600) == 0);
  const bool root = ::geteuid() == 0;
  if (root) REQUIRE(::chown(real.c_str(), 65534, 65534) == 0);  // nobody: the owner is kept, not root's
  std::filesystem::create_symlink("real.xml", link);
  REQUIRE(files->replace(link, "<domain>new</domain>", kSoon(), {}));
  CHECK(std::filesystem::is_symlink(link));  // the link stays a link
  struct stat after {};
  REQUIRE(::stat(real.c_str(), &after) == 0);
  CHECK((after.st_mode & 07777) == 0600);  // passwords in a config stay private
  if (root) CHECK(after.st_uid == 65534);
  CHECK(files->read(link, 1000, kSoon())->text == "<domain>new</domain>");
  CHECK(leftovers(dir.path) == 0);
}

TEST_CASE("a link planted where a temporary file could go is never written through", "[files]") {
  const TemporaryDirectory dir;
  vmha::sys::LocalFileSystem files;
  const std::string victim = dir.path + "/victim";
  std::ofstream(victim) << "precious";
  // The old writer used <path>.vmha-new; a link there made root truncate its target.
  std::filesystem::create_symlink(victim, dir.path + "/record.vmha-new");
  REQUIRE(files.replace(dir.path + "/record", "data", kSoon(), {}));
  std::ifstream in(victim);
  std::string text;
  std::getline(in, text);
  CHECK(text == "precious");
}

TEST_CASE("concurrent writers each leave a whole file and no temporary behind", "[files]") {
  const TemporaryDirectory dir;
  const std::string file = dir.path + "/record";
  const std::string a(50000, 'a');
  const std::string b(70000, 'b');
  auto write_many = [&file](const std::string& content) {
    vmha::sys::LocalFileSystem files;
    for (int i = 0; i < 200; ++i) {
      // Alternating content, so both writers really write every time.
      REQUIRE(files.replace(file, i % 2 == 0 ? content : content.substr(1), kSoon(), {}));
    }
  };
  std::thread first(write_many, a);
  std::thread second(write_many, b);
  first.join();
  second.join();
  vmha::sys::LocalFileSystem files;
  const auto text = files.read(file, 100000, kSoon())->text;
  const bool whole = text == a || text == a.substr(1) || text == b || text == b.substr(1);
  CHECK(whole);
  CHECK(leftovers(dir.path) == 0);
}

TEST_CASE("a symbolic link to nothing is neither replaced by a file nor taken for a missing one", "[files]") {
  const auto which = GENERATE(as<std::string>{}, "local", "bounded");
  auto files = file_system(which);
  const TemporaryDirectory dir;
  const std::string link = dir.path + "/vm1.xml";
  std::filesystem::create_symlink("/nonexistent/shared/vm1.xml", link);  // the shared mount is down
  const auto replaced = files->replace(link, "<domain/>", kSoon(), {});
  REQUIRE_FALSE(replaced);
  CHECK_THAT(replaced.error().reason, Catch::Contains("symbolic link to nothing"));
  CHECK(std::filesystem::is_symlink(link));
  const auto read = files->read(link, 1000, kSoon());  // nor is it taken for a missing file
  REQUIRE_FALSE(read);
  CHECK(read.error().kind == ErrorKind::other);
}

TEST_CASE("a device is refused without being opened for reading", "[files]") {
  const auto which = GENERATE(as<std::string>{}, "local", "bounded");
  auto files = file_system(which);
  const auto read = files->read("/dev/null", 1000, kSoon());
  REQUIRE_FALSE(read);
  CHECK(read.error().kind == ErrorKind::invalid);
}
