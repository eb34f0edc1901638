// The one project-wide error type and Result<T> alias.
//
// Errors are values: every fallible function returns Result<T>. The error carries the OCF
// status the failure maps to by default and a one-line reason fit for `ocf-exit-reason:`;
// the action layer may re-map the status, since the right code depends on the action.
#pragma once

#include <string>
#include <utility>

#include <tl/expected.hpp>

#include "vmha/ocf/status.hpp"

namespace vmha {

/// What went wrong, independent of the layer that noticed it.
enum class ErrorKind {
  other,        ///< anything not listed below
  not_found,    ///< the object asked for does not exist (domain, file, program)
  unreachable,  ///< a daemon or peer could not be reached
  denied,       ///< permission or authentication refused
  invalid,      ///< the request or its input is malformed or not allowed now
  timed_out,    ///< the deadline passed before an answer came
};

struct Error {
  ocf::Status status = ocf::Status::err_generic;
  std::string reason;  ///< one line, no trailing newline
  ErrorKind kind = ErrorKind::other;
  /// The request reached the other side and no answer came back (the deadline passed, or the
  /// connection broke): it may still be carried out. False when it was answered or never sent.
  bool unanswered = false;
};

template <typename T = void>
using Result = tl::expected<T, Error>;

/// Builds the error side of a Result: `return fail(Status::err_configured, "...")`.
[[nodiscard]] inline tl::unexpected<Error> fail(ocf::Status status, std::string reason,
                                                ErrorKind kind = ErrorKind::other) {
  return tl::unexpected<Error>(Error{status, std::move(reason), kind});
}

[[nodiscard]] inline tl::unexpected<Error> fail(Error error) {
  return tl::unexpected<Error>(std::move(error));
}

}  // namespace vmha
