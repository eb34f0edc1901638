#include "vmha/ocf/values.hpp"
#include "support/catch.hpp"

using vmha::ocf::parse_boolean;
using vmha::ocf::parse_duration;
using vmha::ocf::parse_integer;
using vmha::ocf::parse_milliseconds;
using vmha::sys::Millis;

TEST_CASE("booleans accept ocf_is_true's spellings and their opposites", "[values]") {
  const auto [text, expected] = GENERATE(table<std::string, std::optional<bool>>({
      {"yes", true},      {"true", true},      {"1", true},
      {"YES", true},      {"TRUE", true},      {"True", true},
      {"ja", true},       {"on", true},        {"ON", true},
      {" true ", true},   {"y", true},         {"no", false},
      {"false", false},   {"0", false},        {"NO", false},
      {"False", false},   {"nein", false},     {"off", false},
      {"OFF", false},     {"n", false},        {"maybe", std::nullopt},
      {"", std::nullopt}, {"2", std::nullopt}, {"truee", std::nullopt},
  }));
  CAPTURE(text);
  CHECK(parse_boolean(text) == expected);
}

TEST_CASE("integers are whole decimal numbers", "[values]") {
  const auto [text, expected] = GENERATE(table<std::string, std::optional<std::int64_t>>({
      {"0", 0},
      {"42", 42},
      {"-7", -7},
      {"+5", 5},
      {" 12 ", 12},
      {"9223372036854775807", INT64_MAX},
      {"", std::nullopt},
      {"12a", std::nullopt},
      {"1.5", std::nullopt},
      {"0x10", std::nullopt},
      {"99999999999999999999", std::nullopt},
      {"-", std::nullopt},
  }));
  CAPTURE(text);
  CHECK(parse_integer(text) == expected);
}

TEST_CASE("durations use Pacemaker's units, bare numbers being seconds", "[values]") {
  const auto [text, ms] = GENERATE(table<std::string, std::optional<long>>({
      {"90", 90'000},
      {"90s", 90'000},
      {"90sec", 90'000},
      {"500ms", 500},
      {"500msec", 500},
      {"2min", 120'000},
      {"2m", 120'000},
      {"1h", 3'600'000},
      {"1hr", 3'600'000},
      {"1d", 86'400'000},
      {"1500us", 1},
      {"0", 0},
      {" 5s ", 5'000},
      {"10 s", 10'000},
      {"5S", 5'000},
      {"", std::nullopt},
      {"s", std::nullopt},
      {"-5s", std::nullopt},
      {"5 parsecs", std::nullopt},
      {"1.5s", std::nullopt},
      {"99999999999999999d", std::nullopt},
  }));
  CAPTURE(text);
  const auto parsed = parse_duration(text);
  REQUIRE(parsed.has_value() == ms.has_value());
  if (ms) CHECK(parsed->count() == *ms);
}

TEST_CASE("CRM_meta times are bare milliseconds", "[values]") {
  CHECK(parse_milliseconds("20000") == Millis{20'000});
  CHECK(parse_milliseconds("0") == Millis{0});
  CHECK_FALSE(parse_milliseconds("20s").has_value());
  CHECK_FALSE(parse_milliseconds("-1").has_value());
  CHECK_FALSE(parse_milliseconds("").has_value());
}

TEST_CASE("lists split into words and fields", "[values]") {
  using Words = std::vector<std::string>;
  const auto [text, words, comma_fields] = GENERATE(table<std::string, Words, Words>({
      {"", {}, {}},
      {"a", {"a"}, {"a"}},
      {"  node1\tnode2\n node3 ", {"node1", "node2", "node3"}, {"  node1\tnode2\n node3 "}},
      {"acpi,agent", {"acpi,agent"}, {"acpi", "agent"}},
      {"a,,b,", {"a,,b,"}, {"a", "", "b", ""}},
      {" \t\n", {}, {" \t\n"}},
  }));
  CAPTURE(text);
  CHECK(vmha::ocf::split_words(text) == words);
  CHECK(vmha::ocf::split_fields(text, ',') == comma_fields);
}
