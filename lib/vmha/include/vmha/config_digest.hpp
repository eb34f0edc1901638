// A domain XML's fingerprint, which the agent publishes as a transient node attribute so that
// `vmha check` on another node can tell whether its copy of the config is the same.
#pragma once

#include <string>
#include <string_view>

namespace vmha {

/// "fnv1a64:" and 16 hex digits over the file's bytes: a drift detector, not a signature.
[[nodiscard]] std::string config_digest(std::string_view text);

/// The node attribute that holds a resource's config digest on each node: vmha-config-<id>.
[[nodiscard]] std::string config_digest_attribute(std::string_view resource);

}  // namespace vmha
