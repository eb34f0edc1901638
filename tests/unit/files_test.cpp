#include "vmha/sys/files.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "support/catch.hpp"

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

}  // namespace

TEST_CASE("files are replaced whole and read back", "[files]") {
  const TemporaryDirectory dir;
  const std::string file = dir.path + "/a/b/record";
  CHECK_FALSE(vmha::sys::read_file(file).has_value());
  REQUIRE(vmha::sys::replace_file(file, "first\n"));  // creates the missing directories
  CHECK(vmha::sys::read_file(file) == "first\n");
  REQUIRE(vmha::sys::replace_file(file, std::string(20000, 'x')));  // more than one read
  CHECK(vmha::sys::read_file(file)->size() == 20000);
  CHECK_FALSE(vmha::sys::read_file(file, 1000).has_value());  // over the limit
  CHECK_FALSE(std::filesystem::exists(file + ".vmha-new"));
}

TEST_CASE("an unwritable place is reported, not thrown", "[files]") {
  const TemporaryDirectory dir;
  const std::string blocker = dir.path + "/not-a-directory";
  REQUIRE(vmha::sys::replace_file(blocker, "x"));
  CHECK_FALSE(vmha::sys::replace_file(blocker + "/record", "y"));
}
