// Text helpers every layer uses: numbers, booleans and lists as people and tools write them.
// A leaf: it includes nothing of vmha, so the system layer and the OCF layer can both use it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vmha::text {

/// `text` without the spaces and tabs around it.
[[nodiscard]] std::string_view trim(std::string_view text);

/// ASCII lower case.
[[nodiscard]] std::string lower(std::string_view text);

/// ocf_is_true's spellings (yes, true, 1, ja, on, y, any case) → true; their opposites
/// (no, false, 0, nein, off, n) → false; anything else → nullopt, so typos are caught.
[[nodiscard]] std::optional<bool> parse_boolean(std::string_view text);

/// A decimal integer with an optional sign and no trailing text (blanks around it allowed).
[[nodiscard]] std::optional<std::int64_t> parse_integer(std::string_view text);

/// The words of a blank-separated list ("node1 node2", monitor_scripts); blanks are spaces,
/// tabs and newlines.
[[nodiscard]] std::vector<std::string> split_words(std::string_view text);

/// The fields of a `separator`-separated list, empty fields kept ("acpi,agent", PATH).
[[nodiscard]] std::vector<std::string> split_fields(std::string_view text, char separator);

/// The space- or tab-separated words of one line, as views into it.
[[nodiscard]] std::vector<std::string_view> tokens(std::string_view line);

/// The lines of `text`, without their "\n" or "\r\n"; no empty last line for a final newline.
[[nodiscard]] std::vector<std::string_view> lines(std::string_view text);

}  // namespace vmha::text
