#include "vmha-cli/cluster.hpp"

#include <algorithm>
#include <functional>

#include <fmt/core.h>

#include "vmha/text.hpp"
#include "vmha/xml/document.hpp"

namespace vmha::admin {
namespace {

constexpr std::size_t kMaxCib = std::size_t{64} << 20U;

/// Every element named `name` under `node`, at any depth.
void descendants(xmlNodePtr node, std::string_view name, std::vector<xmlNodePtr>& out) {
  for (xmlNodePtr child : xml::children(node)) {
    if (xml::is_named(child, name)) out.push_back(child);
    descendants(child, name, out);
  }
}
std::vector<xmlNodePtr> descendants(xmlNodePtr node, std::string_view name) {
  std::vector<xmlNodePtr> out;
  descendants(node, name, out);
  return out;
}

/// The nvpairs of a set's first rule-less instance; later sets do not override earlier ones.
void read_pairs(xmlNodePtr owner, std::string_view set, std::map<std::string, std::string>& out) {
  for (xmlNodePtr attributes : xml::children(owner, set)) {
    if (xml::child(attributes, "rule") != nullptr) continue;
    for (xmlNodePtr pair : xml::children(attributes, "nvpair")) {
      const auto name = xml::attribute(pair, "name");
      if (name && out.count(*name) == 0) out[*name] = xml::attribute(pair, "value").value_or("");
    }
  }
}

long long number(xmlNodePtr node, std::string_view name) {
  return text::parse_integer(xml::attribute(node, name).value_or("")).value_or(0);
}

}  // namespace

std::string VmResource::param(const std::string& name, const std::string& fallback) const {
  const auto it = params.find(name);
  return it == params.end() ? fallback : it->second;
}

std::string ClusterView::attribute(const std::string& node, const std::string& name) const {
  const auto found = attributes.find(node);
  if (found == attributes.end()) return {};
  const auto it = found->second.find(name);
  return it == found->second.end() ? std::string() : it->second;
}

Result<ClusterView> read_cluster(const std::string& cib_xml, const std::string& crm_mon_xml) {
  auto cib = xml::Document::parse(cib_xml, "the CIB", {.max_bytes = kMaxCib, .allow_doctype = false});
  if (!cib) return fail(ErrorKind::malformed, cib.error().reason);
  auto mon = xml::Document::parse(crm_mon_xml, "crm_mon's XML", {.max_bytes = kMaxCib, .allow_doctype = false});
  if (!mon) return fail(ErrorKind::malformed, mon.error().reason);
  if (!xml::is_named(cib->root(), "cib")) return fail(ErrorKind::malformed, "the CIB has no <cib> root");

  ClusterView view;
  xmlNodePtr configuration = xml::child(cib->root(), "configuration");
  for (xmlNodePtr primitive : descendants(xml::child(configuration, "resources"), "primitive")) {
    if (xml::attribute(primitive, "class").value_or("") != "ocf" ||
        xml::attribute(primitive, "provider").value_or("") != "vmha" ||
        xml::attribute(primitive, "type").value_or("") != "VirtualDomain") {
      continue;
    }
    VmResource vm;
    vm.id = xml::attribute(primitive, "id").value_or("");
    read_pairs(primitive, "instance_attributes", vm.params);
    // target-role: the primitive's own, else its group's or clone's, else rsc_defaults.
    std::map<std::string, std::string> meta;
    for (xmlNodePtr node = primitive; node != nullptr && !xml::is_named(node, "resources"); node = node->parent) {
      read_pairs(node, "meta_attributes", meta);
    }
    read_pairs(xml::child(configuration, "rsc_defaults"), "meta_attributes", meta);
    vm.wanted = text::lower(meta["target-role"]) != "stopped";
    view.resources.push_back(std::move(vm));
  }

  for (xmlNodePtr state : xml::children(xml::child(cib->root(), "status"), "node_state")) {
    const std::string node = xml::attribute(state, "uname").value_or("");
    for (xmlNodePtr transient : xml::children(state, "transient_attributes")) {
      read_pairs(transient, "instance_attributes", view.attributes[node]);
    }
    for (xmlNodePtr history : descendants(state, "lrm_resource")) {
      const std::string id = xml::attribute(history, "id").value_or("");
      const bool ours = std::any_of(view.resources.begin(), view.resources.end(),
                                    [&id](const VmResource& vm) { return vm.id == id; });
      if (!ours) continue;
      for (xmlNodePtr op : xml::children(history, "lrm_rsc_op")) {
        OperationRecord record;
        record.resource = id;
        record.node = node;
        record.operation = xml::attribute(op, "operation").value_or("");
        record.rc = static_cast<int>(number(op, "rc-code"));
        record.changed = number(op, "last-rc-change");
        record.exec_ms = number(op, "exec-time");
        record.exit_reason = xml::attribute(op, "exit-reason").value_or("");
        view.history.push_back(std::move(record));
      }
    }
  }

  for (xmlNodePtr node : descendants(mon->root(), "node")) {
    // crm_mon's <nodes><node name=… online=…>; the <node> under a <resource> has no "online".
    if (!xml::attribute(node, "online")) continue;
    view.nodes.push_back(ClusterNode{xml::attribute(node, "name").value_or(""),
                                     xml::attribute(node, "online").value_or("") == "true",
                                     xml::attribute(node, "standby").value_or("") == "true"});
  }
  for (xmlNodePtr resource : descendants(mon->root(), "resource")) {
    std::string id = xml::attribute(resource, "id").value_or("");
    id = id.substr(0, id.find(':'));  // a clone's instance: "vm:0"
    auto vm = std::find_if(view.resources.begin(), view.resources.end(),
                           [&id](const VmResource& candidate) { return candidate.id == id; });
    if (vm == view.resources.end()) continue;
    // A clone shows one <resource> per instance: started if any is, failed if any is.
    const std::string role = xml::attribute(resource, "role").value_or("");
    if (vm->role.empty() || role == "Started") vm->role = role;
    vm->failed = vm->failed || xml::attribute(resource, "failed").value_or("") == "true";
    for (xmlNodePtr on : xml::children(resource, "node")) {
      const auto name = xml::attribute(on, "name");
      if (name && std::find(vm->active_on.begin(), vm->active_on.end(), *name) == vm->active_on.end()) {
        vm->active_on.push_back(*name);
      }
    }
  }
  return view;
}

}  // namespace vmha::admin
