#include "vmha/ocf/command_line.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "vmha/ocf/exit_reason.hpp"
#include "vmha/ocf/status.hpp"

namespace vmha::ocf {

namespace {

/// The actions and parameters of the meta-data, and where the manual is.
std::string reference(std::string_view agent, const Metadata& metadata) {
  std::string text = "\nActions (default timeout; interval):\n";
  for (const auto& action : metadata.actions) {
    text += fmt::format("  {:<14} {}{}\n", action.name, duration_text(action.timeout),
                        action.interval ? fmt::format("; every {}", duration_text(*action.interval)) : std::string());
  }
  text += "\nParameters (OCF_RESKEY_<name>):\n";
  for (const auto& param : metadata.params) {
    std::string facts{content_type(param.type)};
    if (param.default_value) facts += fmt::format(", default '{}'", *param.default_value);
    if (param.required) facts += ", required";
    if (param.reloadable) facts += ", reloadable";
    text += fmt::format("  {:<32} {}\n", param.name, facts);
  }
  text += fmt::format("\nWhat each parameter does: man 7 ocf_vmha_{}\n", agent);
  return text;
}

}  // namespace

CommandLine read_flags_with_cli11(const std::vector<std::string>& args, std::string_view agent,
                                  const Metadata& metadata, std::FILE* out, std::FILE* err) {
  const std::string_view version = metadata.version;
  CLI::App app{fmt::format("{}: an OCF resource agent of vmha. Pacemaker runs it as '{} <action>', with its "
                           "parameters in OCF_RESKEY_* variables; '{} usage' lists the actions.",
                           agent, agent, agent),
               std::string(agent)};
  app.allow_extras();  // the contract: ignore everything after the action
  app.footer(reference(agent, metadata));
  app.set_version_flag("--version", fmt::format("{} (vmha) {}", agent, version));
  CommandLine cli;
  app.add_option("action", cli.action, "the OCF action: start, stop, monitor, meta-data, ...");
  std::vector<const char*> argv;
  argv.reserve(args.size());
  for (const auto& arg : args) argv.push_back(arg.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), out);
    cli.exit_now = 0;
  } catch (const CLI::CallForVersion&) {
    std::fputs(app.version().c_str(), out);
    std::fputc('\n', out);
    cli.exit_now = 0;
  } catch (const CLI::ParseError& error) {
    write_exit_reason(err, fmt::format("bad command line: {}", error.what()));
    cli.exit_now = exit_code(Status::err_unimplemented);
  }
  return cli;
}

}  // namespace vmha::ocf
