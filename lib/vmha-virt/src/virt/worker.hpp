// One libvirt connection served by one thread; callers wait with a deadline.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <fmt/core.h>

#include "errors.hpp"
#include "handles.hpp"
#include "vmha/ocf/deadline.hpp"

namespace vmha::virt::detail {

// Keepalive on every connection: a ping after 2 s of silence, the connection closed after 3
// unanswered ones, so a hung peer surfaces as an error instead of a call that never returns.
constexpr int kKeepAliveInterval = 2;
constexpr unsigned kKeepAliveCount = 3;

class Worker {
 public:
  explicit Worker(std::string uri);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  /// Closes the connection; a worker stuck in a call is left behind, not waited for.
  ~Worker();

  /// Runs `body` with the (lazily opened) connection on the worker thread and waits for it
  /// until `deadline`. After a timeout the worker is wedged: it takes no further calls.
  template <typename T>
  [[nodiscard]] Result<T> call(std::string_view what, const ocf::Deadline& deadline,
                               std::function<Result<T>(virConnectPtr)> body);

  /// Queues `body` and returns at once; the caller waits on the future with its own
  /// deadline and calls mark_wedged() if it gives up on it.
  template <typename T>
  [[nodiscard]] std::future<Result<T>> submit(std::function<Result<T>(virConnectPtr)> body);

  [[nodiscard]] bool wedged() const { return wedged_; }
  void mark_wedged() { wedged_ = true; }

 private:
  struct Shared {
    std::string uri;
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<std::function<void()>> tasks;
    bool stopping = false;
    Connection connection;  ///< touched only on the worker thread
    std::promise<void> finished;
  };
  static void serve(const std::shared_ptr<Shared>& shared);
  /// Opens the connection if needed; on the worker thread only.
  static Result<virConnectPtr> connection(Shared& shared);
  void post(std::function<void()> task);

  std::shared_ptr<Shared> shared_;
  std::future<void> finished_;
  std::thread thread_;
  bool wedged_ = false;
};

template <typename T>
Result<T> Worker::call(std::string_view what, const ocf::Deadline& deadline,
                       std::function<Result<T>(virConnectPtr)> body) {
  if (wedged_) return fail(ErrorKind::timed_out, fmt::format("{}: libvirt is not answering", what));
  if (deadline.expired()) {  // nothing was asked, so the connection stays usable
    return fail(ErrorKind::timed_out, fmt::format("{}: no time left", what));
  }
  auto future = submit<T>(std::move(body));
  if (future.wait_until(deadline.at()) != std::future_status::ready) {
    wedged_ = true;
    Error late{ErrorKind::timed_out, fmt::format("{}: libvirt did not answer in time", what)};
    late.unanswered = true;  // queued or under way in libvirtd: it may still happen
    return fail(std::move(late));
  }
  return future.get();
}

template <typename T>
std::future<Result<T>> Worker::submit(std::function<Result<T>(virConnectPtr)> body) {
  auto answer = std::make_shared<std::promise<Result<T>>>();
  auto future = answer->get_future();
  post([shared = shared_, answer, body = std::move(body)] {
    auto connection = Worker::connection(*shared);
    answer->set_value(connection ? body(*connection) : Result<T>(fail(connection.error())));
  });
  return future;
}

}  // namespace vmha::virt::detail
