// vmha check against a fake node: each kind of drift is a finding that names the resource;
// anything that cannot be looked at is "not checked" (exit 2), never "ready".
#include "support/catch.hpp"
#include "support/memory_files.hpp"
#include "vmha-cli/check.hpp"
#include "vmha-cli/json.hpp"
#include "vmha-cli/status.hpp"
#include "vmha/config_digest.hpp"

using vmha::ErrorKind;
using vmha::admin::CheckOptions;
using vmha::admin::CheckReport;
using vmha::admin::CheckWorld;
using vmha::admin::ClusterView;

namespace {

const std::string kCib = R"(<cib><configuration><resources>
  <primitive id="vm-dns" class="ocf" provider="vmha" type="VirtualDomain">
    <instance_attributes id="a"><nvpair id="a1" name="config" value="/etc/vm/dns.xml"/>
      <nvpair id="a2" name="drbd_resources" value="dns"/></instance_attributes>
  </primitive>
  <group id="g"><primitive id="vm-web" class="ocf" provider="vmha" type="VirtualDomain">
    <instance_attributes id="b"><nvpair id="b1" name="config" value="/etc/vm/web.xml"/></instance_attributes>
    <meta_attributes id="m"><nvpair id="m1" name="target-role" value="Started"/></meta_attributes>
  </primitive></group>
  <primitive id="vm-old" class="ocf" provider="heartbeat" type="VirtualDomain"/>
</resources></configuration>
<status>
  <node_state id="1" uname="node1"><transient_attributes id="1"><instance_attributes id="t1">
    <nvpair id="t1a" name="vmha-config-vm-dns" value="DNS"/>
    <nvpair id="t1b" name="vmha-config-vm-web" value="WEB"/></instance_attributes></transient_attributes>
    <lrm><lrm_resources><lrm_resource id="vm-dns">
      <lrm_rsc_op id="x" operation="start" rc-code="0" last-rc-change="1700000000" exec-time="812"/>
    </lrm_resource></lrm_resources></lrm>
  </node_state>
  <node_state id="2" uname="node2"/>
</status></cib>)";

const std::string kMon = R"(<pacemaker-result><nodes>
  <node name="node1" id="1" online="true" standby="false"/><node name="node2" id="2" online="true" standby="false"/>
</nodes><resources>
  <resource id="vm-dns" resource_agent="ocf:vmha:VirtualDomain" role="Started" active="true" failed="false">
    <node name="node1" id="1" cached="true"/></resource>
  <group id="g"><resource id="vm-web" resource_agent="ocf:vmha:VirtualDomain" role="Started" active="true" failed="false">
    <node name="node1" id="1" cached="true"/></resource></group>
</resources></pacemaker-result>)";

std::string domain(const std::string& name, const std::string& devices, const std::string& extra = {}) {
  return "<domain type='kvm'><name>" + name + "</name><memory unit='MiB'>1024</memory><vcpu>2</vcpu>" +
         "<os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os>" + extra + "<devices>" + devices +
         "</devices></domain>";
}

class FakeHost final : public vmha::virt::HostInspector {
 public:
  vmha::Result<bool> network_active(const std::string& name, const vmha::ocf::Deadline& /*d*/) override {
    if (networks.count(name) == 0) return vmha::fail(ErrorKind::not_found, "Network not found: " + name);
    return networks.at(name);
  }
  vmha::Result<void> offers(const vmha::virt::MachineRequest& m, const vmha::ocf::Deadline& /*d*/) override {
    if (!reachable) return vmha::fail(ErrorKind::unreachable, "cannot connect");
    if (m.machine != machine) return vmha::fail(ErrorKind::invalid, "the machine '" + m.machine + "' is not supported");
    return {};
  }
  vmha::Result<void> runs_cpu(const vmha::virt::MachineRequest& /*m*/, const std::string& cpu,
                              const vmha::ocf::Deadline& /*d*/) override {
    if (cpu.find(cpu_model) == std::string::npos) return vmha::fail(ErrorKind::invalid, "incompatible");
    return {};
  }
  vmha::Result<vmha::virt::HostSize> size(const vmha::ocf::Deadline& /*d*/) override {
    if (!reachable) return vmha::fail(ErrorKind::unreachable, "cannot connect");
    return vmha::virt::HostSize{memory_kib, cpus};
  }
  std::map<std::string, bool> networks{{"lan", true}};
  std::string machine = "pc-q35-7.2";
  std::string cpu_model = "Nehalem";
  std::uint64_t memory_kib = 8ULL << 20U;  // 8 GiB
  unsigned cpus = 4;
  bool reachable = true;
};

class FakeDrbd final : public vmha::drbd::StatusSource {
 public:
  vmha::Result<std::vector<vmha::drbd::Resource>> resources(const vmha::ocf::Deadline& /*d*/) override {
    ++reads;
    if (error) return vmha::fail(*error);
    return all;
  }
  std::vector<vmha::drbd::Resource> all;
  std::optional<vmha::Error> error;
  int reads = 0;
};

vmha::drbd::Resource drbd_resource(const std::string& name, vmha::drbd::DiskState disk) {
  vmha::drbd::Resource r;
  r.name = name;
  r.role = vmha::drbd::Role::secondary;
  r.volumes.push_back(vmha::drbd::Volume{0, 1, disk, false, std::nullopt});
  vmha::drbd::Peer peer;
  peer.name = "node1";
  peer.connection = vmha::drbd::ConnectionState::connected;
  peer.role = vmha::drbd::Role::primary;
  r.peers.push_back(peer);
  return r;
}

/// node2, standing by for vm-dns and vm-web, which run on node1.
struct Node2 {
  Node2() {
    files.write(dns_xml, domain("dns", "<interface type='network'><source network='lan'/></interface>"));
    files.write(web_xml,
                domain("web",
                       "<disk type='file' device='disk'><source file='/var/lib/vm/web.qcow2'/>"
                       "<target dev='vda'/></disk><interface type='bridge'><source bridge='br0'/></interface>"));
    files.write("/var/lib/vm/web.qcow2", "qcow2");
    drbd.all.push_back(drbd_resource("dns", vmha::drbd::DiskState::uptodate));
    auto parsed = vmha::admin::read_cluster(kCib, kMon);
    REQUIRE(parsed);
    view = *parsed;
    publish("node1", "vm-dns", dns_xml);
    publish("node1", "vm-web", web_xml);
  }
  void publish(const std::string& node, const std::string& vm, const std::string& path) {
    auto text = files.read(path, 1U << 20U, clock.now() + std::chrono::seconds(1));
    REQUIRE(text);
    view.attributes[node][vmha::config_digest_attribute(vm)] = vmha::config_digest(text->text);
  }
  CheckReport check() {
    CheckWorld world{files, drbd, [this](const std::string&) -> vmha::virt::HostInspector& { return host; },
                     [this](const std::string& name) { return bridges.count(name) != 0; }};
    const vmha::ocf::Deadline deadline(clock, clock.now() + std::chrono::seconds(30));
    return vmha::admin::run_check(view, options, world, deadline);
  }
  [[nodiscard]] static bool names(const CheckReport& report, const std::string& subject, const std::string& check,
                                  const std::string& words) {
    for (const auto& f : report.findings) {
      if (f.subject == subject && f.check == check && f.problem.find(words) != std::string::npos) return true;
    }
    return false;
  }

  vmha::sys::ManualClock clock;
  vmha::test::MemoryFileSystem files{clock};
  FakeHost host;
  FakeDrbd drbd;
  std::set<std::string> bridges{"br0"};
  ClusterView view;
  CheckOptions options{"node2", 1024, 1.0};
  const std::string dns_xml = "/etc/vm/dns.xml";
  const std::string web_xml = "/etc/vm/web.xml";
};

}  // namespace

TEST_CASE("vmha check reads the vmha VM resources, where they run and the published digests", "[check]") {
  auto view = vmha::admin::read_cluster(kCib, kMon);
  REQUIRE(view);
  REQUIRE(view->resources.size() == 2);  // not the heartbeat one
  CHECK(view->resources[0].id == "vm-dns");
  CHECK(view->resources[0].param("drbd_resources") == "dns");
  CHECK(view->resources[1].id == "vm-web");  // inside a group
  CHECK(view->resources[1].active_on == std::vector<std::string>{"node1"});
  CHECK(view->attribute("node1", "vmha-config-vm-web") == "WEB");
  REQUIRE(view->nodes.size() == 2);
  CHECK(view->nodes[1].online);
  REQUIRE(view->history.size() == 1);
  CHECK(view->history[0].exec_ms == 812);
  CHECK_FALSE(vmha::admin::read_cluster("<cib", kMon));
}

TEST_CASE("vmha check: a healthy standby node is ready", "[check]") {
  Node2 n;
  const auto report = n.check();
  CAPTURE(vmha::admin::render_text(report));
  CHECK(report.findings.empty());
  CHECK(report.exit_code() == 0);
  CHECK(report.capacity.need_kib == 2048 * 1024);
  CHECK(n.drbd.reads == 1);
  CHECK_THAT(vmha::admin::render_text(report), Catch::StartsWith("vmha check on node2: READY (2 resources"));
}

TEST_CASE("vmha check: each kind of drift is a problem that names the resource", "[check]") {
  Node2 n;
  const std::string kind =
      GENERATE("config missing", "config differs", "config invalid", "disk missing", "drbd outdated", "drbd missing",
               "drbd not installed", "network missing", "network inactive", "bridge missing", "machine not offered",
               "cpu not offered", "memory short", "vcpus short");
  std::string subject = "vm-web";
  std::string check;
  std::string words;
  if (kind == "config missing") {
    n.files.erase(n.web_xml);
    check = "config", words = "config /etc/vm/web.xml is missing on this node";
  } else if (kind == "config differs") {
    n.files.write(n.web_xml, domain("web", "") + "\n");
    check = "drift", words = "differs from the copy on node1, where it runs";
  } else if (kind == "config invalid") {
    n.files.write(n.web_xml, "<domain>");
    check = "config", words = "is not a valid domain XML here";
  } else if (kind == "disk missing") {
    n.files.erase("/var/lib/vm/web.qcow2");
    check = "disk", words = "disk /var/lib/vm/web.qcow2 (vda) is missing on this node";
  } else if (kind == "drbd outdated") {
    n.drbd.all[0] = drbd_resource("dns", vmha::drbd::DiskState::outdated);
    subject = "vm-dns", check = "drbd", words = "Outdated";
  } else if (kind == "drbd missing") {
    n.drbd.all.clear();
    subject = "vm-dns", check = "drbd", words = "DRBD dns";
  } else if (kind == "drbd not installed") {
    n.drbd.error = vmha::Error{ErrorKind::not_found, "no drbdsetup"};
    subject = "vm-dns", check = "drbd", words = "DRBD is not installed on this node";
  } else if (kind == "network missing") {
    n.host.networks.clear();
    subject = "vm-dns", check = "network", words = "libvirt network lan does not exist on this node";
  } else if (kind == "network inactive") {
    n.host.networks["lan"] = false;
    subject = "vm-dns", check = "network", words = "libvirt network lan is not active";
  } else if (kind == "bridge missing") {
    n.bridges.clear();
    check = "bridge", words = "bridge br0 does not exist on this node";
  } else if (kind == "machine not offered") {
    n.host.machine = "pc-q35-5.2";
    check = "machine", words = "does not offer kvm x86_64 machine 'pc-q35-7.2'";
  } else if (kind == "cpu not offered") {
    n.files.write(n.web_xml, domain("web", "", "<cpu mode='custom'><model>Icelake-Server</model></cpu>"));
    n.publish("node1", "vm-web", n.web_xml);
    check = "cpu", words = "guest CPU model Icelake-Server is not offered by this host";
  } else if (kind == "memory short") {
    n.host.memory_kib = 2ULL << 20U;  // 2 GiB: 2 GiB of VMs + 1 GiB reserve do not fit
    subject = "capacity", check = "memory", words = "memory short: 2 VMs need 2048 MiB";
  } else if (kind == "vcpus short") {
    n.host.cpus = 3;
    subject = "capacity", check = "vcpus", words = "vCPUs short: 2 VMs have 4 vCPUs, but this node has 3 CPUs";
  }
  const auto report = n.check();
  CAPTURE(kind, vmha::admin::render_text(report));
  CHECK(report.exit_code() == 1);
  CHECK(Node2::names(report, subject, check, words));
  CHECK_THAT(vmha::admin::render_text(report), Catch::Contains("NOT READY"));
}

TEST_CASE("vmha check: what cannot be looked at is 'not checked' (exit 2), never ready", "[check]") {
  Node2 n;
  const std::string kind =
      GENERATE("libvirt down", "config hangs", "no digest where it runs", "drbd unreadable", "not a member");
  if (kind == "libvirt down") n.host.reachable = false;
  if (kind == "config hangs") n.files.hang(n.web_xml);
  if (kind == "no digest where it runs") n.view.attributes.clear();
  if (kind == "drbd unreadable") n.drbd.error = vmha::Error{ErrorKind::timed_out, "drbdsetup did not answer"};
  if (kind == "not a member") n.options.node = "node9";
  const auto report = n.check();
  CAPTURE(kind, vmha::admin::render_text(report));
  CHECK(report.exit_code() == 2);
  CHECK_THAT(vmha::admin::render_text(report), Catch::Contains("COULD NOT CHECK"));
}

TEST_CASE(
    "vmha check: a VM stopped on purpose is checked but not counted for capacity; a resource running "
    "here is not compared with itself",
    "[check]") {
  Node2 n;
  n.view.resources[1].wanted = false;
  n.view.resources[0].active_on = {"node2"};  // and DRBD is Primary here, the peer Secondary
  n.drbd.all[0].role = vmha::drbd::Role::primary;
  n.drbd.all[0].peers[0].role = vmha::drbd::Role::secondary;
  n.view.attributes["node1"].erase("vmha-config-vm-dns");  // node1 no longer has it
  const auto report = n.check();
  CHECK(report.exit_code() == 0);
  CHECK(report.capacity.vms == 1);
}

TEST_CASE("vmha check --json is one object with the findings", "[check]") {
  Node2 n;
  n.bridges.clear();
  const std::string json = vmha::admin::render_json(n.check());
  CHECK_THAT(json, Catch::StartsWith(R"({"node":"node2","ready":false,"status":"not-ready","exit_code":1,)"));
  CHECK_THAT(
      json,
      Catch::Contains(
          R"({"id":"vm-web","findings":[{"check":"bridge","problem":"bridge br0 does not exist on this node","checked":true}],"ok":false})"));
}

TEST_CASE("the JSON writer escapes strings and places commas", "[check]") {
  vmha::admin::JsonWriter json;
  json.begin_object();
  json.field("a", "q\"\\\n\x01");
  json.key("b");
  json.begin_array();
  json.value(1);
  json.value(true);
  json.begin_object();
  json.end_object();
  json.end_array();
  json.end_object();
  CHECK(json.text() == R"({"a":"q\"\\\n\u0001","b":[1,true,{}]})");
}

TEST_CASE("vmha check: target-role Stopped on a group or in rsc_defaults counts; clone instances are one resource",
          "[check]") {
  std::string cib = kCib;
  cib.replace(
      cib.find(R"(<group id="g">)"), 14,
      R"(<group id="g"><meta_attributes id="gm"><nvpair id="gm1" name="target-role" value="Stopped"/></meta_attributes>)");
  // The primitive's own Started wins over its group's Stopped.
  auto view = vmha::admin::read_cluster(cib, kMon);
  REQUIRE(view);
  CHECK(view->resources[1].wanted);
  cib.replace(cib.find(R"(<nvpair id="m1" name="target-role" value="Started"/>)"), 51, "");
  view = vmha::admin::read_cluster(cib, kMon);
  REQUIRE(view);
  CHECK_FALSE(view->resources[1].wanted);
  CHECK(view->resources[0].wanted);
  std::string defaults = kCib;
  defaults.replace(
      defaults.find("</resources>"), 12,
      R"(</resources><rsc_defaults><meta_attributes id="d"><nvpair id="d1" name="target-role" value="stopped"/></meta_attributes></rsc_defaults>)");
  view = vmha::admin::read_cluster(defaults, kMon);
  REQUIRE(view);
  CHECK_FALSE(view->resources[0].wanted);
  CHECK(view->resources[1].wanted);  // its own Started
  std::string mon = kMon;
  mon.replace(mon.find(R"(<resource id="vm-dns")"), 21, R"(<resource id="vm-dns:1")");
  view = vmha::admin::read_cluster(kCib, mon);
  REQUIRE(view);
  CHECK(view->resources[0].active_on == std::vector<std::string>{"node1"});
}

TEST_CASE("the JSON writer replaces bytes that are not UTF-8", "[check]") {
  vmha::admin::JsonWriter json;
  json.value(std::string_view("caf\xc3\xa9 \xff \xe2\x82"));
  CHECK(json.text() == "\"caf\xc3\xa9 \\ufffd \\ufffd\\ufffd\"");
}

namespace {

class FakeReader final : public vmha::virt::DomainReader {
 public:
  vmha::Result<std::optional<vmha::virt::StateInfo>> state(const vmha::virt::DomainRef& ref,
                                                           const vmha::ocf::Deadline& /*d*/) override {
    if (ref.name == "web") return std::optional<vmha::virt::StateInfo>{{vmha::virt::DomainState::running, 1}};
    return std::optional<vmha::virt::StateInfo>{};
  }
  vmha::Result<vmha::virt::DomainFacts> facts(const vmha::virt::DomainRef& /*ref*/,
                                              const vmha::ocf::Deadline& /*d*/) override {
    return vmha::fail(ErrorKind::other, "not needed");
  }
};

}  // namespace

TEST_CASE("vmha status: where each VM runs, libvirt here, DRBD found from the disks, the last start", "[check]") {
  Node2 n;
  n.files.write(n.web_xml, domain("web", "<disk type='block'><source dev='/dev/drbd7'/><target dev='vda'/></disk>"));
  auto web = drbd_resource("web", vmha::drbd::DiskState::uptodate);
  web.volumes[0].minor = 7;
  n.drbd.all.push_back(web);
  n.view.resources[1].active_on = {"node2"};
  FakeReader reader;
  vmha::admin::StatusWorld world{n.files, n.drbd,
                                 [&reader](const std::string&) -> vmha::virt::DomainReader& { return reader; },
                                 [](const std::string&) { return std::string("answered 3 s ago"); }};
  const vmha::ocf::Deadline deadline(n.clock, n.clock.now() + std::chrono::seconds(30));
  const auto report = vmha::admin::read_status(n.view, "node2", world, deadline);
  const std::string text = vmha::admin::render_text(report);
  CAPTURE(text);
  REQUIRE(report.vms.size() == 2);
  CHECK(report.vms[0].libvirt == "not here");
  CHECK(report.vms[0].guest_agent == "recorded on node1 (run vmha status there)");
  CHECK(report.vms[0].drbd == std::vector<std::string>{"dns: node2 Secondary/UpToDate, node1 Primary"});
  CHECK_THAT(report.vms[0].last_start, Catch::StartsWith("started on node1 at "));
  CHECK(report.vms[1].libvirt == "running (booted)");
  CHECK(report.vms[1].guest_agent == "answered 3 s ago");
  CHECK(report.vms[1].drbd == std::vector<std::string>{"web: node2 Secondary/UpToDate, node1 Primary"});
  CHECK_THAT(vmha::admin::render_json(report), Catch::Contains(R"("id":"vm-web","role":"Started")"));
}
