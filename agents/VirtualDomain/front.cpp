#include "VirtualDomain/front.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/core.h>

#include "vmha/ocf/exit_reason.hpp"
#include "vmha/virt/qemu_processes.hpp"
#include "vmha/virt/wire.hpp"

namespace vmha::agents {
namespace {

/// The longest the front waits for the config's stat before leaving the monitor to the full agent.
constexpr std::chrono::milliseconds kConfigLookTime{2'000};

/// Passes calls to the wire client and notes any answer it did not expect, so the monitor's
/// verdict can be discarded in favour of the full agent's.
class Watched final : public virt::Hypervisor {
 public:
  explicit Watched(std::unique_ptr<virt::Hypervisor> inner) : inner_(std::move(inner)) {}
  bool unsure = false;

  Result<std::optional<virt::StateInfo>> state(const virt::DomainRef& d, const ocf::Deadline& t) override {
    return note(inner_->state(d, t));
  }
  Result<virt::DomainFacts> facts(const virt::DomainRef& d, const ocf::Deadline& t) override {
    return note(inner_->facts(d, t));
  }
  Result<void> create(const std::string& x, const ocf::Deadline& t) override { return note(inner_->create(x, t)); }
  Result<void> define(const std::string& x, const ocf::Deadline& t) override { return note(inner_->define(x, t)); }
  Result<void> start(const virt::DomainRef& d, const ocf::Deadline& t) override { return note(inner_->start(d, t)); }
  Result<void> shutdown(const virt::DomainRef& d, unsigned m, const ocf::Deadline& t) override {
    return note(inner_->shutdown(d, m, t));
  }
  Result<void> destroy(const virt::DomainRef& d, const ocf::Deadline& t) override {
    return note(inner_->destroy(d, t));
  }
  Result<void> save(const virt::DomainRef& d, const std::string& p, const ocf::Deadline& t) override {
    return note(inner_->save(d, p, t));
  }
  Result<void> restore(const std::string& p, const ocf::Deadline& t) override { return note(inner_->restore(p, t)); }
  Result<std::string> definition(const virt::DomainRef& d, const ocf::Deadline& t) override {
    return note(inner_->definition(d, t));
  }
  Result<void> ensure_network(const std::string& n, const ocf::Deadline& t) override {
    return note(inner_->ensure_network(n, t));
  }
  Result<void> ensure_pool(const std::string& n, const ocf::Deadline& t) override {
    return note(inner_->ensure_pool(n, t));
  }
  Result<virt::MigrationReport> migrate(const virt::DomainRef& d, const virt::MigrationRequest& r,
                                        const ocf::Deadline& t, virt::MigrationWatcher& w) override {
    return note(inner_->migrate(d, r, t, w));
  }
  Result<std::string> uri(const ocf::Deadline& t) override { return note(inner_->uri(t)); }
  Result<void> label(const virt::DomainRef& d, const std::string& r, const ocf::Deadline& t) override {
    return note(inner_->label(d, r, t));
  }
  Result<std::vector<virt::DomainRef>> labelled(const std::string& r, const ocf::Deadline& t) override {
    return note(inner_->labelled(r, t));
  }

 private:
  template <typename T>
  T note(T result) {
    // Only a daemon that answered, or one that hangs, is a daemon the front is sure of: one it
    // cannot reach may be elsewhere (libvirt's client knows more sockets), so the full agent asks.
    if (!result && result.error().kind != ErrorKind::not_found && result.error().kind != ErrorKind::timed_out) {
      unsure = true;
    }
    return result;
  }
  std::unique_ptr<virt::Hypervisor> inner_;
};

/// Replaces this process with the full agent; returns only when that cannot be done.
Result<ocf::Status> hand_over(const ocf::Request& request, const ocf::Services& services) {
  const std::string program = full_agent_path();
  const auto started_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(request.started.time_since_epoch());
  std::vector<std::string> env_strings;
  for (const auto& [name, value] : services.env.all()) {
    if (name != "VMHA_AGENT_STARTED_NS") env_strings.push_back(fmt::format("{}={}", name, value));
  }
  env_strings.push_back(fmt::format("VMHA_AGENT_STARTED_NS={}", started_ns.count()));
  std::vector<char*> envp;
  envp.reserve(env_strings.size() + 1);
  for (auto& entry : env_strings) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::string action = request.call.action;
  std::string argv0 = program;
  char* argv[] = {argv0.data(), action.data(), nullptr};
  std::fflush(stdout);
  std::fflush(stderr);
  ::execve(program.c_str(), argv, envp.data());
  return fail(ocf::Status::err_installed, fmt::format("cannot run {}: {}", program, std::strerror(errno)),
              ErrorKind::not_found);
}

/// A person's command line (--help, --version, flags): the full agent answers it.
ocf::CommandLine flags_to_full_agent(const std::vector<std::string>& args, std::string_view /*agent*/,
                                     std::string_view /*version*/, std::FILE* /*out*/, std::FILE* err) {
  const std::string program = full_agent_path();
  std::vector<std::string> copy = args.empty() ? std::vector<std::string>{program} : args;
  copy.front() = program;
  std::vector<char*> argv;
  argv.reserve(copy.size() + 1);
  for (auto& arg : copy) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::fflush(stdout);
  std::fflush(stderr);
  ::execv(program.c_str(), argv.data());
  ocf::write_exit_reason(err, fmt::format("cannot run {}: {}", program, std::strerror(errno)));
  return ocf::CommandLine{{}, ocf::exit_code(ocf::Status::err_installed)};
}

class FrontAgent final : public ocf::Agent {
 public:
  explicit FrontAgent(const ocf::Services& services) : services_(services) {}
  Result<ocf::Status> perform(const ocf::Request& request) override {
    const std::string& action = request.call.action;
    if (action == "monitor" || action == "status") {
      if (auto answered = fast_monitor(request, services_)) return *answered;
    }
    return hand_over(request, services_);
  }

 private:
  const ocf::Services& services_;
};

}  // namespace

std::string effective_uri(const Settings& settings, const sys::Environment& env) {
  if (!settings.hypervisor.empty()) return settings.hypervisor;
  return env.non_empty("LIBVIRT_DEFAULT_URI").value_or("");
}

std::string full_agent_path() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const auto sibling = self.parent_path() / "VirtualDomain-full";
    if (::access(sibling.c_str(), X_OK) == 0) return sibling.string();
  }
  return VMHA_LIBEXEC_DIR "/VirtualDomain-full";
}

std::optional<Result<ocf::Status>> fast_monitor(const ocf::Request& request, const ocf::Services& services) {
  const auto settings = read_settings(request.params, SettingsScope::monitor);
  if (!settings) return Result<ocf::Status>(tl::unexpected(settings.error()));
  const std::string uri = effective_uri(*settings, services.env);
  auto daemon = virt::local_daemon(uri);
  if (!daemon) return std::nullopt;
  auto records =
      Records::from_environment(services.state_files, services.env, request.call.resource, request.deadline.at());
  const auto identity = records.config_identity(settings->config);
  if (!identity) return std::nullopt;
  // The config's version, bounded: on a hung file system the full agent decides from the records.
  const auto now = services.files.info(settings->config, request.deadline.within(kConfigLookTime).at());
  if (!now || now->version() != identity->version) return std::nullopt;
  Target target;
  target.config_state = ConfigState::usable;
  target.ref = identity->domain;
  add_recorded_names(target, records, settings->config);
  Watched hypervisor(virt::make_wire_hypervisor(daemon->socket));
  virt::ProcQemuProcesses processes(std::move(*daemon));
  Job job{request, services, *settings, hypervisor, &processes, records, std::move(target), nullptr};
  auto status = monitor(job);
  if (hypervisor.unsure) {
    services.log.debug("monitor fast path unsure ({}): handing over", status ? "no error" : status.error().reason);
    return std::nullopt;
  }
  return status;
}

ocf::AgentDefinition virtual_domain_front() {
  return ocf::AgentDefinition{"VirtualDomain", VirtualDomain_metadata, &VirtualDomain_metadata_table(),
                              [](const ocf::Services& services) { return std::make_unique<FrontAgent>(services); },
                              &flags_to_full_agent};
}

}  // namespace vmha::agents
