#include "vmha/ocf/exit_reason.hpp"

#include <cctype>

namespace vmha::ocf {

std::string one_line(std::string_view text, std::size_t max_length) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    out.push_back(std::iscntrl(static_cast<unsigned char>(c)) != 0 ? ' ' : c);
  }
  const auto first = out.find_first_not_of(' ');
  if (first == std::string::npos) return {};
  out.erase(0, first);
  out.erase(out.find_last_not_of(' ') + 1);
  if (out.size() > max_length) {
    out.resize(max_length - 3);
    out += "...";
  }
  return out;
}

void write_exit_reason(std::FILE* err, std::string_view reason, std::string_view prefix) {
  const std::string line = std::string(prefix) + one_line(reason) + "\n";
  std::fflush(err);
  std::fwrite(line.data(), 1, line.size(), err);
  std::fflush(err);
}

}  // namespace vmha::ocf
