// libxml2 documents, owned by one move-only type, parsed with hardened options.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <libxml/tree.h>

#include "vmha/result.hpp"

namespace vmha::xml {

struct DocFree {
  void operator()(xmlDocPtr doc) const noexcept { xmlFreeDoc(doc); }
};

struct ParseLimits {
  std::size_t max_bytes = 1U << 20U;  ///< larger input is refused before parsing
  bool allow_doctype = false;         ///< documents with a DTD (internal or external) refused
};

class Document {
 public:
  /// Parses `text` without network access, entity substitution, DTD loading or error output.
  [[nodiscard]] static Result<Document> parse(std::string_view text, std::string_view what, ParseLimits limits = {});
  /// As much of a malformed document as libxml2's recovery mode makes of it (same hardening);
  /// nullopt when not even a root element comes out.
  [[nodiscard]] static std::optional<Document> parse_tolerantly(std::string_view text, ParseLimits limits = {});

  [[nodiscard]] xmlNodePtr root() const { return xmlDocGetRootElement(doc_.get()); }
  [[nodiscard]] xmlDocPtr get() const { return doc_.get(); }

 private:
  explicit Document(xmlDocPtr doc) : doc_(doc) {}
  std::unique_ptr<xmlDoc, DocFree> doc_;
};

/// Element children of `node` named `name` (all element children when name is empty).
[[nodiscard]] std::vector<xmlNodePtr> children(xmlNodePtr node, std::string_view name = {});
/// The first element child named `name`, or nullptr.
[[nodiscard]] xmlNodePtr child(xmlNodePtr node, std::string_view name);
[[nodiscard]] std::optional<std::string> attribute(xmlNodePtr node, std::string_view name);
/// The text content of `node`, or "" for nullptr.
[[nodiscard]] std::string text(xmlNodePtr node);
[[nodiscard]] bool is_named(xmlNodePtr node, std::string_view name);

}  // namespace vmha::xml
