#include "vmha/xml/document.hpp"

#include <cstring>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include <fmt/core.h>

namespace vmha::xml {
namespace {

// Libraries never print: libxml2's default handlers write to stderr, which Pacemaker would
// read as agent output. Errors are read back with xmlGetLastError() instead.
void silent_structured(void* /*context*/, xmlErrorPtr /*error*/) {}

void silence_libxml() {
  static const bool once = [] {
    xmlSetStructuredErrorFunc(nullptr, silent_structured);
    return true;
  }();
  (void)once;
}

std::string last_error_text() {
  const xmlError* error = xmlGetLastError();
  if (error == nullptr || error->message == nullptr) return "not well-formed";
  std::string message = error->message;
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return fmt::format("line {}: {}", error->line, message);
}

}  // namespace

// Every failure is ErrorKind::malformed: the text is not an XML document vmha accepts.
Result<Document> Document::parse(std::string_view text, std::string_view what, ParseLimits limits) {
  silence_libxml();
  if (text.size() > limits.max_bytes) {
    return fail(ErrorKind::malformed,
                fmt::format("{}: {} bytes is more than the {} allowed", what, text.size(), limits.max_bytes));
  }
  xmlResetLastError();
  // No XML_PARSE_NOENT (entities stay unexpanded), no DTD loading, no network.
  constexpr int kOptions = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA;
  xmlDocPtr doc = xmlReadMemory(text.data(), static_cast<int>(text.size()), nullptr, nullptr, kOptions);
  if (doc == nullptr) {
    return fail(ErrorKind::malformed, fmt::format("{}: {}", what, last_error_text()));
  }
  Document owned(doc);
  if (!limits.allow_doctype && (doc->intSubset != nullptr || doc->extSubset != nullptr)) {
    return fail(ErrorKind::malformed, fmt::format("{}: a DOCTYPE is not allowed", what));
  }
  if (owned.root() == nullptr) {
    return fail(ErrorKind::malformed, fmt::format("{}: no root element", what));
  }
  return owned;
}

std::optional<Document> Document::parse_tolerantly(std::string_view text, ParseLimits limits) {
  silence_libxml();
  if (text.size() > limits.max_bytes) return std::nullopt;
  xmlResetLastError();
  constexpr int kOptions =
      XML_PARSE_RECOVER | XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA;
  xmlDocPtr doc = xmlReadMemory(text.data(), static_cast<int>(text.size()), nullptr, nullptr, kOptions);
  if (doc == nullptr) return std::nullopt;
  Document owned(doc);
  if (!limits.allow_doctype && (doc->intSubset != nullptr || doc->extSubset != nullptr)) return std::nullopt;
  if (owned.root() == nullptr) return std::nullopt;
  return owned;
}

bool is_named(xmlNodePtr node, std::string_view name) {
  if (node == nullptr || node->type != XML_ELEMENT_NODE) return false;
  const auto* raw = reinterpret_cast<const char*>(node->name);
  return std::string_view(raw) == name;
}

std::vector<xmlNodePtr> children(xmlNodePtr node, std::string_view name) {
  std::vector<xmlNodePtr> out;
  if (node == nullptr) return out;
  for (xmlNodePtr cur = node->children; cur != nullptr; cur = cur->next) {
    if (cur->type == XML_ELEMENT_NODE && (name.empty() || is_named(cur, name))) out.push_back(cur);
  }
  return out;
}

xmlNodePtr child(xmlNodePtr node, std::string_view name) {
  if (node == nullptr) return nullptr;
  for (xmlNodePtr cur = node->children; cur != nullptr; cur = cur->next) {
    if (is_named(cur, name)) return cur;
  }
  return nullptr;
}

std::optional<std::string> attribute(xmlNodePtr node, std::string_view name) {
  if (node == nullptr) return std::nullopt;
  const std::string key(name);
  xmlChar* value = xmlGetProp(node, reinterpret_cast<const xmlChar*>(key.c_str()));
  if (value == nullptr) return std::nullopt;
  std::string out(reinterpret_cast<const char*>(value));
  xmlFree(value);
  return out;
}

std::string text(xmlNodePtr node) {
  if (node == nullptr) return {};
  xmlChar* content = xmlNodeGetContent(node);
  if (content == nullptr) return {};
  std::string out(reinterpret_cast<const char*>(content));
  xmlFree(content);
  return out;
}

}  // namespace vmha::xml
