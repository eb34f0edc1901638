#include "vmha/ocf/exit_reason.hpp"

#include <cctype>

namespace vmha::ocf {
namespace {

/// The length of the valid UTF-8 sequence at `at` (1 to 4), or 0 when it is not one.
std::size_t utf8_length(std::string_view text, std::size_t at) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[at + i]); };
  const auto continuation = [&](std::size_t i) { return at + i < text.size() && (byte(i) & 0xC0U) == 0x80U; };
  const unsigned char lead = byte(0);
  if (lead < 0x80U) return 1;
  if (lead >= 0xC2U && lead <= 0xDFU) return continuation(1) ? 2 : 0;
  if (lead >= 0xE0U && lead <= 0xEFU) {
    if (!continuation(1) || !continuation(2)) return 0;
    if (lead == 0xE0U && byte(1) < 0xA0U) return 0;   // overlong
    if (lead == 0xEDU && byte(1) >= 0xA0U) return 0;  // a UTF-16 surrogate
    return 3;
  }
  if (lead >= 0xF0U && lead <= 0xF4U) {
    if (!continuation(1) || !continuation(2) || !continuation(3)) return 0;
    if (lead == 0xF0U && byte(1) < 0x90U) return 0;   // overlong
    if (lead == 0xF4U && byte(1) >= 0x90U) return 0;  // beyond U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace

std::string one_line(std::string_view text, std::size_t max_length) {
  // Valid UTF-8 only (the reason lands in CIB XML): a byte that starts no valid sequence
  // becomes '?'; control characters become spaces.
  std::string out;
  out.reserve(text.size());
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t length = utf8_length(text, at);
    if (length == 0) {
      out.push_back('?');
      ++at;
    } else if (length == 1) {
      out.push_back(std::iscntrl(static_cast<unsigned char>(text[at])) != 0 ? ' ' : text[at]);
      ++at;
    } else {
      out.append(text.substr(at, length));
      at += length;
    }
  }
  const auto first = out.find_first_not_of(' ');
  if (first == std::string::npos) return {};
  out.erase(0, first);
  out.erase(out.find_last_not_of(' ') + 1);
  if (out.size() > max_length) {
    // Cut on a character boundary, never inside a multi-byte sequence.
    std::size_t cut = max_length - 3;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0U) == 0x80U) --cut;
    out.resize(cut);
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
