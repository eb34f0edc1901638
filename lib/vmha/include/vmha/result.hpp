// The one project-wide error type and Result<T> alias.
//
// Errors are values: every fallible function returns Result<T>. An error says what happened
// (its kind) and why, in one line fit for `ocf-exit-reason:`; it holds no exit code. Each agent
// turns an error into the OCF status of the action it failed, in one table of its own.
#pragma once

#include <string>
#include <utility>

#include <tl/expected.hpp>

namespace vmha {

/// What went wrong, independent of the layer that noticed it.
enum class ErrorKind {
  other,          ///< anything not listed below
  not_found,      ///< the object asked for does not exist (domain, file, network)
  unreachable,    ///< a daemon or peer could not be reached
  denied,         ///< permission or authentication refused
  invalid,        ///< the request is not valid now (the object's state), or not supported
  timed_out,      ///< the deadline passed before an answer came
  not_installed,  ///< a program, file or facility this node needs is missing or unusable here
  misconfigured,  ///< a parameter or meta attribute is wrong, and would be on every node
  malformed,      ///< a document the agent was given (the domain XML) does not parse or is refused
  unsupported,    ///< the action is not one the agent implements
};

/// The kind's name, for logs and tests: "not_found".
[[nodiscard]] constexpr const char* name(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::other: return "other";
    case ErrorKind::not_found: return "not_found";
    case ErrorKind::unreachable: return "unreachable";
    case ErrorKind::denied: return "denied";
    case ErrorKind::invalid: return "invalid";
    case ErrorKind::timed_out: return "timed_out";
    case ErrorKind::not_installed: return "not_installed";
    case ErrorKind::misconfigured: return "misconfigured";
    case ErrorKind::malformed: return "malformed";
    case ErrorKind::unsupported: return "unsupported";
  }
  return "?";
}

struct Error {
  ErrorKind kind = ErrorKind::other;
  std::string reason;  ///< one line, no trailing newline
  /// The request reached the other side and no answer came back (the deadline passed, or the
  /// connection broke): it may still be carried out. False when it was answered or never sent.
  bool unanswered = false;
};

template <typename T = void>
using Result = tl::expected<T, Error>;

/// Builds the error side of a Result: `return fail(ErrorKind::not_found, "...")`.
[[nodiscard]] inline tl::unexpected<Error> fail(ErrorKind kind, std::string reason) {
  return tl::unexpected<Error>(Error{kind, std::move(reason)});
}

[[nodiscard]] inline tl::unexpected<Error> fail(Error error) {
  return tl::unexpected<Error>(std::move(error));
}

/// The same error with a reason that says more: the kind, and whether the call may still land,
/// stay what they were.
[[nodiscard]] inline Error with_reason(Error error, std::string reason) {
  error.reason = std::move(reason);
  return error;
}

}  // namespace vmha

/// Propagates a failure: when `result` (a Result, or an expression giving one) holds an error,
/// the enclosing function returns that error; otherwise nothing happens.
#define VMHA_TRY(result)                                                                     \
  do {                                                                                       \
    if (auto&& vmha_try_result = (result); !vmha_try_result) {                               \
      return ::vmha::fail(std::forward<decltype(vmha_try_result)>(vmha_try_result).error()); \
    }                                                                                        \
  } while (false)
