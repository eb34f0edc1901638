#include "vmha-cli/json.hpp"

#include <cmath>

#include <fmt/core.h>

namespace vmha::admin {

void JsonWriter::separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back()) out_ += ',';
    first_.back() = false;
  }
}

void JsonWriter::open(char bracket) {
  separate();
  out_ += bracket;
  first_.push_back(true);
}

void JsonWriter::close(char bracket) {
  out_ += bracket;
  if (!first_.empty()) first_.pop_back();
}

void JsonWriter::key(std::string_view name) {
  separate();
  out_ += quoted(name);
  out_ += ':';
  after_key_ = true;
}

void JsonWriter::value(std::string_view text) {
  separate();
  out_ += quoted(text);
}

void JsonWriter::value(long long number) {
  separate();
  out_ += std::to_string(number);
}

void JsonWriter::value(double number) {
  separate();
  out_ += std::isfinite(number) ? fmt::format("{}", number) : std::string("null");
}

void JsonWriter::value(bool flag) {
  separate();
  out_ += flag ? "true" : "false";
}

std::string JsonWriter::quoted(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
        } else {
          out.push_back(c);
        }
    }
  }
  out += '"';
  return out;
}

}  // namespace vmha::admin
