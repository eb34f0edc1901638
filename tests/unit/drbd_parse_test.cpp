// vmha::drbd: the state names, and every fixture of tests/fixtures/drbd (events2, status
// --json, /proc/drbd) through its parser; garbage, truncated, huge and empty input.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "VirtualDomain/exit_status.hpp"

#include "fuzz/drbd_status_json.hpp"
#include "support/catch.hpp"
#include "vmha/drbd/parse.hpp"

using vmha::ErrorKind;
using vmha::Result;
using vmha::drbd::ConnectionState;
using vmha::drbd::DiskState;
using vmha::drbd::ReplicationState;
using vmha::drbd::Resource;
using vmha::drbd::Role;

namespace {

std::string read_fixture(const std::string& name) {
  std::ifstream in(std::string(VMHA_FIXTURES_DIR) + "/drbd/" + name, std::ios::binary);
  REQUIRE(in);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Result<std::vector<Resource>> parse_fixture(const std::string& name, const std::string& text) {
  if (name.starts_with("events2-")) return vmha::drbd::parse_events2(text);
  if (name.starts_with("status-")) return vmha::drbd::parse_status_json(text);
  return vmha::drbd::parse_proc_drbd(text);
}

std::string quorum(const std::optional<bool>& value) {
  if (!value) return "";
  return *value ? " quorum:yes" : " quorum:no";
}

// One line for the whole model, so a table row states every field.
std::string describe(const std::vector<Resource>& resources) {
  std::string out;
  for (const auto& resource : resources) {
    if (!out.empty()) out += "; ";
    out += fmt::format("{} {}{}{}", resource.name, to_string(resource.role), resource.suspended ? " suspended" : "",
                       quorum(resource.quorum));
    for (const auto& volume : resource.volumes) {
      out += fmt::format(" [v{} minor:{} {}{}{}]", volume.number, volume.minor ? std::to_string(*volume.minor) : "-",
                         to_string(volume.disk), volume.client ? " client" : "", quorum(volume.quorum));
    }
    for (const auto& peer : resource.peers) {
      out += fmt::format(" <{}#{} {} {}", peer.name, peer.node_id ? std::to_string(*peer.node_id) : "-",
                         to_string(peer.connection), to_string(peer.role));
      for (const auto& volume : peer.volumes) {
        out += fmt::format(" v{}:{}/{}", volume.volume, to_string(volume.disk), to_string(volume.replication));
        if (volume.client) out += " client";
        if (volume.resync_percent) out += fmt::format(" {:.2f}%", *volume.resync_percent);
        if (volume.eta_seconds) out += fmt::format(" eta:{}s", *volume.eta_seconds);
      }
      out += ">";
    }
  }
  return out;
}

const std::vector<std::string> kFixtures{
    "events2-9-secondary.txt",
    "events2-9-drbdtop-syncsource.txt",
    "events2-9-reactor.txt",
    "events2-9-synctarget.txt",
    "events2-9-connecting.txt",
    "events2-9-standalone.txt",
    "events2-9-dual-primary.txt",
    "events2-9-quorum-lost.txt",
    "events2-9-consistent.txt",
    "events2-9-diskless-client.txt",
    "events2-9-multivolume-changes.txt",
    "events2-9-empty.txt",
    "status-9-primary.json",
    "status-9-syncsource.json",
    "status-9-quorum-lost.json",
    "status-9-drift-dual-primary.json",
    "proc-84-mixed.txt",
    "proc-84-states.txt",
    "proc-82-st.txt",
    "proc-9-banner.txt",
};

void check_invalid(const Result<std::vector<Resource>>& parsed, const std::string& needle) {
  REQUIRE_FALSE(parsed);
  CHECK(parsed.error().kind == ErrorKind::invalid);
  CHECK(vmha::agents::exit_status("start", parsed.error()) == vmha::ocf::Status::err_generic);
  CHECK_THAT(parsed.error().reason, Catch::Contains(needle));
  CHECK(parsed.error().reason.find('\n') == std::string::npos);
}

}  // namespace

TEST_CASE("DRBD state names: 8.4 and 9 spellings, any case", "[drbd]") {
  using namespace vmha::drbd;
  CHECK(role_from_string("Primary") == Role::primary);
  CHECK(role_from_string("SECONDARY") == Role::secondary);
  CHECK(role_from_string("Unknown") == Role::unknown);
  CHECK_FALSE(role_from_string("Unconfigured"));
  CHECK(disk_state_from_string("UpToDate") == DiskState::uptodate);
  CHECK(disk_state_from_string("uptodate") == DiskState::uptodate);
  CHECK(disk_state_from_string("Up-To-Date") == DiskState::uptodate);
  CHECK(disk_state_from_string("DUnknown") == DiskState::dunknown);
  CHECK(disk_state_from_string("Detaching") == DiskState::detaching);
  CHECK_FALSE(disk_state_from_string(""));
  CHECK_FALSE(disk_state_from_string("UpToDat"));
  CHECK(connection_state_from_string("Connected") == ConnectionState::connected);
  CHECK(connection_state_from_string("WFConnection") == ConnectionState::connecting);
  CHECK(connection_state_from_string("WFReportParams") == ConnectionState::connecting);
  CHECK(connection_state_from_string("BrokenPipe") == ConnectionState::broken_pipe);
  CHECK(connection_state_from_string("standalone") == ConnectionState::standalone);
  CHECK_FALSE(connection_state_from_string("SyncSource"));  // a replication state
  CHECK(replication_state_from_string("SyncSource") == ReplicationState::syncsource);
  CHECK(replication_state_from_string("StartingSyncS") == ReplicationState::startingsyncsource);
  CHECK(replication_state_from_string("WFBitMapT") == ReplicationState::wfbitmapt);
  CHECK(replication_state_from_string("PausedSyncT") == ReplicationState::pausedsynct);
  CHECK(replication_state_from_string("Connected") == ReplicationState::established);
  CHECK_FALSE(replication_state_from_string("Syncing"));
  CHECK(fmt::format("local disk {}", to_string(DiskState::inconsistent)) == "local disk Inconsistent");
}

TEST_CASE("DRBD state names: to_string reads back", "[drbd]") {
  using namespace vmha::drbd;
  for (const auto role : {Role::primary, Role::secondary, Role::unknown}) {
    CHECK(role_from_string(to_string(role)) == role);
  }
  for (int i = 0; i <= static_cast<int>(DiskState::uptodate); ++i) {
    const auto state = static_cast<DiskState>(i);
    CHECK(disk_state_from_string(to_string(state)) == state);
  }
  for (int i = 0; i <= static_cast<int>(ConnectionState::connected); ++i) {
    const auto state = static_cast<ConnectionState>(i);
    CHECK(connection_state_from_string(to_string(state)) == state);
  }
  for (int i = 0; i <= static_cast<int>(ReplicationState::behind); ++i) {
    const auto state = static_cast<ReplicationState>(i);
    CHECK(replication_state_from_string(to_string(state)) == state);
  }
}

TEST_CASE("DRBD fixtures parse into the expected model", "[drbd]") {
  const auto [file, expected] = GENERATE(table<std::string, std::string>({
      {"events2-9-secondary.txt",
       "r0 Secondary quorum:yes [v0 minor:0 UpToDate quorum:yes] <nodeB#1 Connected Primary v0:UpToDate/Established>"},
      {"events2-9-drbdtop-syncsource.txt",
       "test0 Primary [v0 minor:0 UpToDate] <peer#- Connected Secondary v0:Inconsistent/SyncSource>"},
      {"events2-9-reactor.txt",
       "foo Primary suspended quorum:yes [v1 minor:1 Attaching quorum:yes] "
       "<bar#1 Connected Primary v1:UpToDate/Established client>"},
      {"events2-9-synctarget.txt",
       "vm1 Secondary quorum:yes [v0 minor:1 Inconsistent quorum:yes] "
       "<nodeA#0 Connected Primary v0:UpToDate/SyncTarget 42.17%>"},
      {"events2-9-connecting.txt",
       "r0 Primary quorum:yes [v0 minor:0 UpToDate quorum:yes] <nodeB#1 Connecting Unknown v0:DUnknown/Off>"},
      {"events2-9-standalone.txt",
       "r0 Primary quorum:yes [v0 minor:0 UpToDate quorum:yes] <nodeB#1 StandAlone Unknown v0:DUnknown/Off>"},
      {"events2-9-dual-primary.txt",
       "vm1 Primary quorum:yes [v0 minor:1 UpToDate quorum:yes] <nodeB#1 Connected Primary v0:UpToDate/Established>"},
      {"events2-9-quorum-lost.txt",
       "r0 Secondary quorum:no [v0 minor:0 Outdated quorum:no] <nodeB#1 Connecting Unknown v0:DUnknown/Off> "
       "<nodeC#2 Connecting Unknown v0:DUnknown/Off>"},
      {"events2-9-consistent.txt",
       "r0 Secondary quorum:yes [v0 minor:0 Consistent quorum:yes] <nodeB#1 Connecting Unknown v0:DUnknown/Off>"},
      {"events2-9-diskless-client.txt",
       "r0 Primary quorum:yes [v0 minor:0 Diskless client quorum:yes] "
       "<nodeA#0 Connected Secondary v0:UpToDate/Established>"},
      {"events2-9-multivolume-changes.txt",
       "r0 Secondary quorum:yes [v0 minor:0 UpToDate quorum:yes] [v1 minor:1 UpToDate quorum:yes] "
       "<nodeB#1 Connected Primary v0:UpToDate/Established v1:UpToDate/Established>"},
      {"events2-9-empty.txt", ""},
      {"status-9-primary.json",
       "r0 Primary quorum:yes [v0 minor:0 UpToDate quorum:yes] <nodeB#1 Connected Secondary v0:UpToDate/Established>"},
      {"status-9-syncsource.json",
       "vm1 Primary quorum:yes [v0 minor:1 UpToDate quorum:yes] "
       "<nodeB#1 Connected Secondary v0:Inconsistent/SyncSource 25.00% eta:384s>"},
      {"status-9-quorum-lost.json",
       "r0 Secondary quorum:no [v0 minor:0 Outdated quorum:no] <nodeB#1 Connecting Unknown v0:DUnknown/Off> "
       "<nodeC#2 Connecting Unknown v0:DUnknown/Off>"},
      {"status-9-drift-dual-primary.json",
       "vm1 Primary quorum:yes [v0 minor:1 UpToDate quorum:yes] <nodeB#1 Connected Primary v0:UpToDate/Established>; "
       "web Secondary [v0 minor:2 Diskless client] [v1 minor:3 Diskless client] "
       "<nodeB#1 StandAlone Unknown v0:DUnknown/Off v1:DUnknown/Off>"},
      {"proc-84-mixed.txt",
       "minor-0 Primary [v0 minor:0 UpToDate] <#- Connected Secondary v0:UpToDate/Established>; "
       "minor-1 Primary [v0 minor:1 UpToDate] <#- Connecting Unknown v0:DUnknown/Off>; "
       "minor-2 Primary [v0 minor:2 UpToDate] <#- Connected Secondary v0:Inconsistent/SyncSource 25.00% eta:72s>"},
      {"proc-84-states.txt",
       "minor-0 Primary [v0 minor:0 UpToDate] <#- StandAlone Unknown v0:DUnknown/Off>; "
       "minor-1 Primary [v0 minor:1 UpToDate] <#- Connected Primary v0:UpToDate/Established>; "
       "minor-2 Secondary [v0 minor:2 Inconsistent] <#- Connected Primary v0:UpToDate/SyncTarget 75.00% eta:3723s>; "
       "minor-3 Secondary [v0 minor:3 Outdated] <#- Connecting Unknown v0:DUnknown/Off>; "
       "minor-4 Secondary suspended [v0 minor:4 Diskless] <#- Connected Primary v0:UpToDate/Established>; "
       "minor-5 Secondary [v0 minor:5 Consistent] <#- StandAlone Unknown v0:DUnknown/Off>"},
      {"proc-82-st.txt", "minor-0 Secondary [v0 minor:0 UpToDate] <#- Connected Secondary v0:UpToDate/Established>"},
      {"proc-9-banner.txt", ""},
  }));
  CAPTURE(file);
  const auto parsed = parse_fixture(file, read_fixture(file));
  INFO((parsed ? std::string() : parsed.error().reason));
  REQUIRE(parsed);
  CHECK(describe(*parsed) == expected);
}

TEST_CASE("DRBD model lookups by volume and peer", "[drbd]") {
  const auto parsed = vmha::drbd::parse_status_json(read_fixture("status-9-syncsource.json"));
  REQUIRE(parsed);
  REQUIRE(parsed->size() == 1);
  const Resource& resource = parsed->front();
  REQUIRE(resource.volume(0) != nullptr);
  CHECK(resource.volume(1) == nullptr);
  const auto* peer = resource.peer("nodeB");
  REQUIRE(peer != nullptr);
  CHECK(resource.peer("nodeC") == nullptr);
  const auto* volume = peer->volume(0);
  REQUIRE(volume != nullptr);
  REQUIRE(volume->resync_percent);
  CHECK(*volume->resync_percent == Approx(25.0));
  CHECK(volume->eta_seconds == 384);
  CHECK(peer->volume(1) == nullptr);
}

TEST_CASE("/proc/drbd: minors are named when the name is known", "[drbd]") {
  const auto parsed = vmha::drbd::parse_proc_drbd(read_fixture("proc-84-mixed.txt"), {{1, "vm1"}, {7, "other"}});
  REQUIRE(parsed);
  REQUIRE(parsed->size() == 3);
  CHECK((*parsed)[0].name == "minor-0");
  CHECK((*parsed)[1].name == "vm1");
  CHECK((*parsed)[2].name == "minor-2");
}

TEST_CASE("events2: timestamps, CRLF, blank lines, unknown objects and keys are tolerated", "[drbd]") {
  const auto parsed = vmha::drbd::parse_events2(
      "2026-11-26T17:00:00.000001+00:00 exists resource name:r0 role:Primary suspended:no future-key:42\r\n"
      "\n"
      "exists device name:r0 volume:0 minor:0 disk:UpToDate\n"
      "exists tls name:r0 peer-node-id:1 cipher:something\n"
      "- skipped 12\n"
      "exists -\n"
      "rename resource name:r0 new_name:r1\n"
      "change resource name:r1 role:Secondary");
  REQUIRE(parsed);
  CHECK(describe(*parsed) == "r1 Secondary [v0 minor:0 UpToDate]");
}

TEST_CASE("events2: destroy removes connections, devices and peer devices", "[drbd]") {
  const auto parsed = vmha::drbd::parse_events2(read_fixture("events2-9-quorum-lost.txt") +
                                                "destroy peer-device name:r0 peer-node-id:1 volume:0\n"
                                                "destroy connection name:r0 peer-node-id:2\n"
                                                "create device name:r0 volume:1 minor:1 disk:Attaching\n"
                                                "destroy device name:r0 volume:0\n");
  REQUIRE(parsed);
  CHECK(describe(*parsed) == "r0 Secondary [v1 minor:1 Attaching] <nodeB#1 Connecting Unknown>");
}

TEST_CASE("events2: garbage is refused with the line and field", "[drbd]") {
  const auto [text, needle] = GENERATE(table<std::string, std::string>({
      {"", "events2: no events"},
      {"\n\n  \n", "events2: no events"},
      {"hello world", "line 1: 'hello' is not an events2 action"},
      {std::string("\x01\x02\xff garbage"), "is not an events2 action"},
      {"exists", "line 1: no object"},
      {"2017-03-27T08:28:17.072611-07:00", "a timestamp alone"},
      {"exists resource role:Primary", "resource event without name:"},
      {"exists resource name:r0 role:Boss", "unknown role 'Boss' in role:"},
      {"exists resource name:r0 role:Prim", "unknown role 'Prim'"},  // truncated
      {"exists resource name:r0\nexists resource name:r0 garbage", "line 2: 'garbage' is not key:value"},
      {"exists resource name:r0 :x", "':x' is not key:value"},
      {"exists device name:r0 minor:0 disk:UpToDate", "no volume:"},
      {"exists device name:r0 volume:x", "volume:x is not a number"},
      {"exists device name:r0 volume:-1", "volume:-1 is not a number"},
      {"exists device name:r0 volume:0 disk:Sideways", "unknown disk state 'Sideways'"},
      {"exists device name:r0 volume:0 quorum:maybe", "quorum:maybe is neither yes nor no"},
      {"exists connection name:r0 connection:Connected", "no peer-node-id: or conn-name:"},
      {"exists connection name:r0 peer-node-id:1 connection:Confused", "unknown connection state 'Confused'"},
      {"exists peer-device name:r0 conn-name:b volume:0 replication:Syncing", "unknown replication state"},
      {"exists peer-device name:r0 conn-name:b volume:0 done:abc", "done:abc is not a percentage"},
      {"exists peer-device name:r0 conn-name:b volume:0 done:250", "done:250 is not a percentage"},
  }));
  CAPTURE(text);
  check_invalid(vmha::drbd::parse_events2(text), needle);
}

TEST_CASE("status JSON: garbage is refused with the field", "[drbd]") {
  const auto [text, needle] = GENERATE(table<std::string, std::string>({
      {"", "status JSON: not valid JSON"},
      {"[", "not valid JSON"},
      {"[{\"name\": ", "not valid JSON"},
      {"[] trailing", "not valid JSON"},
      {"# No currently configured DRBD found.", "not valid JSON"},
      {"42", "not an array of resources"},
      {"[42]", "resource #0: not an object"},
      {"[{}]", "resource #0: no \"name\""},
      {R"([{"name":"r0","role":"Boss"}])", "resource r0: \"role\" has an unknown value 'Boss'"},
      {R"([{"name":"r0","role":1}])", "\"role\" is not a string"},
      {R"([{"name":"r0","suspended":"no"}])", "\"suspended\" is not true or false"},
      {R"([{"name":"r0","devices":{}}])", "\"devices\" is not an array"},
      {R"([{"name":"r0","devices":[1]}])", "an element of \"devices\" is not an object"},
      {R"([{"name":"r0","devices":[{"minor":0}]}])", "a device has no \"volume\""},
      {R"([{"name":"r0","devices":[{"volume":-1}]}])", "\"volume\" is out of range"},
      {R"([{"name":"r0","devices":[{"volume":1.5}]}])", "\"volume\" is not an integer"},
      {R"([{"name":"r0","devices":[{"volume":0,"quorum":"yes"}]}])", "volume 0: \"quorum\" is not true or false"},
      {R"([{"name":"r0","devices":[{"volume":0,"disk-state":"Gone"}]}])", "unknown value 'Gone'"},
      {R"([{"name":"r0","connections":[{"name":"b","peer-node-id":"1"}]}])", "\"peer-node-id\" is not an integer"},
      {R"([{"name":"r0","connections":[{"name":"b","connection-state":"Sad"}]}])", "connection b: "},
      {R"([{"name":"r0","connections":[{"name":"b","peer_devices":[{"volume":0,"percent-resync-done":"x"}]}]}])",
       "\"percent-resync-done\" is not a number"},
      {R"([{"name":"r0","connections":[{"name":"b","peer_devices":[{"volume":0,"percent-resync-done":101}]}]}])",
       "not a percentage"},
      {std::string(100, '[') + std::string(100, ']'), "nested deeper than"},
  }));
  CAPTURE(text);
  check_invalid(vmha::drbd::parse_status_json(text), needle);
}

TEST_CASE("status JSON: an empty array is no resources", "[drbd]") {
  const auto parsed = vmha::drbd::parse_status_json("[\n]\n");
  REQUIRE(parsed);
  CHECK(parsed->empty());
}

TEST_CASE("/proc/drbd: garbage is refused with the line and field", "[drbd]") {
  const std::string banner = "version: 8.4.11 (api:1/proto:86-101)\n";
  const std::string minor = " 0: cs:SyncSource ro:Primary/Secondary ds:UpToDate/Inconsistent C r-----\n";
  const auto [text, needle] = GENERATE_COPY(table<std::string, std::string>({
      {"", "/proc/drbd: empty input"},
      {"garbage\n", "line 1: expected the 'version:' banner"},
      {banner + " 0: ro:Primary/Secondary", "line 2: minor 0 has no cs:"},
      {banner + " 0: cs:Bogus ro:Primary/Secondary ds:UpToDate/UpToDate C r-----",
       "minor 0: unknown connection state cs:Bogus"},
      {banner + " 0: cs:Connected ro:Primary ds:UpToDate/UpToDate", "unknown roles ro:Primary"},
      {banner + " 0: cs:Connected ro:Prim", "unknown roles ro:Prim"},  // truncated
      {banner + " 0: cs:Connected ro:Primary/Secondary/Secondary ds:UpToDate/UpToDate", "unknown roles"},
      {banner + " 0: cs:Connected ro:Primary/Secondary", "minor 0 has no ds:"},
      {banner + " 0: cs:Connected ds:UpToDate/UpToDate", "minor 0 has no ro:"},
      {banner + " 0: cs:Connected ro:Primary/Secondary ds:Up/UpToDate", "unknown disk states ds:Up/UpToDate"},
      {banner + minor + "\t[==>....] sync'ed: lots", "line 3: sync'ed: is not followed by a percentage"},
      {banner + minor + "\t[==>....] sync'ed: 12.5", "sync'ed: is not followed by a percentage"},
      {banner + minor + "\tfinish: soon speed: 1 K/sec", "line 3: finish: is not followed by h:mm:ss"},
  }));
  CAPTURE(text);
  check_invalid(vmha::drbd::parse_proc_drbd(text), needle);
}

TEST_CASE("DRBD parsers refuse more than 4 MiB before parsing", "[drbd]") {
  const std::string huge(vmha::drbd::kMaxStateText + 1, ' ');
  check_invalid(vmha::drbd::parse_events2(huge), "events2: 4194305 bytes is more than the limit");
  check_invalid(vmha::drbd::parse_status_json(huge), "status JSON: 4194305 bytes is more than the limit");
  check_invalid(vmha::drbd::parse_proc_drbd(huge), "/proc/drbd: 4194305 bytes is more than the limit");
}

TEST_CASE("DRBD parsers handle many resources within the limit", "[drbd]") {
  std::string events;
  std::string json = "[";
  for (int i = 0; i < 2000; ++i) {
    events += fmt::format("exists resource name:r{} role:Secondary suspended:no\n", i);
    events += fmt::format("exists device name:r{} volume:0 minor:{} disk:UpToDate quorum:yes\n", i, i);
    json += fmt::format("{}{{\"name\":\"r{}\",\"devices\":[{{\"volume\":0,\"minor\":{}}}]}}", i == 0 ? "" : ",", i, i);
  }
  events += "exists -\n";
  json += "]";
  const auto from_events = vmha::drbd::parse_events2(events);
  REQUIRE(from_events);
  CHECK(from_events->size() == 2000);
  CHECK(from_events->back().volumes.at(0).minor == 1999);
  const auto from_json = vmha::drbd::parse_status_json(json);
  REQUIRE(from_json);
  CHECK(from_json->size() == 2000);
}

TEST_CASE("DRBD parsers never crash on truncated fixtures", "[drbd]") {
  for (const auto& file : kFixtures) {
    CAPTURE(file);
    const std::string text = read_fixture(file);
    for (std::size_t length = 0; length < text.size(); ++length) {
      const auto parsed = parse_fixture(file, text.substr(0, length));
      if (!parsed) {
        CHECK(parsed.error().kind == ErrorKind::invalid);
        CHECK_FALSE(parsed.error().reason.empty());
      }
    }
  }
}

TEST_CASE("DRBD parsers never crash on corrupted fixtures", "[drbd]") {
  const std::string junk("\0\xff:/ \n{[\"%", 10);
  for (const auto& file : kFixtures) {
    CAPTURE(file);
    const std::string text = read_fixture(file);
    for (std::size_t at = 0; at < text.size(); at += 7) {
      std::string corrupted = text;
      corrupted[at] = junk[at % junk.size()];
      const auto parsed = parse_fixture(file, corrupted);
      if (!parsed) CHECK(parsed.error().kind == ErrorKind::invalid);
    }
  }
}
