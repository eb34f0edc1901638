// A small JSON writer for `--json` output: objects, arrays, strings, numbers and booleans,
// with commas placed by nesting level. Strings are escaped per RFC 8259.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vmha::admin {

class JsonWriter {
 public:
  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }
  /// The key of the next value in an object.
  void key(std::string_view name);
  void value(std::string_view text);
  void value(const char* text) { value(std::string_view(text)); }
  void value(long long number);
  void value(int number) { value(static_cast<long long>(number)); }
  void value(double number);
  void value(bool flag);
  template <typename T>
  void field(std::string_view name, const T& v) {
    key(name);
    value(v);
  }
  [[nodiscard]] const std::string& text() const { return out_; }

 private:
  void open(char bracket);
  void close(char bracket);
  void separate();
  static std::string quoted(std::string_view text);

  std::string out_;
  std::vector<bool> first_;  ///< per open level: nothing written in it yet
  bool after_key_ = false;
};

}  // namespace vmha::admin
