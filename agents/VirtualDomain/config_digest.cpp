// The config's digest as a transient node attribute (vmha-config-<resource>) for `vmha check`:
// published at start, migrate_from and probes, and when the full agent reads a new version of
// the file — never by a recurring monitor of an unchanged config.
#include "vmha/config_digest.hpp"

#include <fmt/core.h>

#include "VirtualDomain/job.hpp"

namespace vmha::agents {
namespace {

constexpr std::size_t kMaxConfig = 1U << 20U;
constexpr sys::Millis kPublishTime{2'000};

}  // namespace

void publish_config_digest(Job& job) {
  const auto& env = job.services.env;
  // Only under Pacemaker (which names the node): ocf-tester and people have no attribute daemon.
  const auto node = env.non_empty("OCF_RESKEY_CRM_meta_on_node");
  const auto resource = env.non_empty("OCF_RESOURCE_INSTANCE");
  if (!node || !resource) return;
  // Unusable here (missing, unreadable, a hung file system): the action already tried to read it,
  // and a second read would only spend its budget again. Nothing to publish.
  if (job.target.config_state != ConfigState::usable) return;
  std::string text = job.target.config_text;  // empty on the monitor's fast path, which only looked
  if (text.empty()) {
    auto read = job.services.files.read(job.settings.config, kMaxConfig, job.query_deadline().at());
    if (!read) {
      job.log().debug("config digest not published: {}", read.error().reason);
      return;
    }
    text = std::move(read->text);
  }
  const std::string key = resource->substr(0, resource->find(':'));  // a clone instance's suffix
  const sys::Command command(
      {"attrd_updater", "--name", config_digest_attribute(key), "--update", config_digest(text), "--node", *node});
  auto done = job.services.runner.run(command, job.deadline().within(kPublishTime).at());
  if (!done || done->exit_code != 0) {
    job.log().warning("cannot publish the config digest for vmha check: {}",
                      done ? fmt::format("attrd_updater exit status {}", done->exit_code) : done.error().reason);
  }
}

}  // namespace vmha::agents
