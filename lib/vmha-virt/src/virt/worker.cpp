#include "worker.hpp"

namespace vmha::virt::detail {
namespace {

// How long a closing worker may take before it is left behind.
constexpr std::chrono::milliseconds kCloseWait{500};

}  // namespace

Worker::Worker(std::string uri) : shared_(std::make_shared<Shared>()) {
  shared_->uri = std::move(uri);
  finished_ = shared_->finished.get_future();
  thread_ = std::thread([shared = shared_] { serve(shared); });
}

Worker::~Worker() {
  {
    const std::lock_guard lock(shared_->mutex);
    shared_->stopping = true;
  }
  shared_->wake.notify_one();
  if (!wedged_ && finished_.wait_for(kCloseWait) == std::future_status::ready) {
    thread_.join();
  } else {
    thread_.detach();  // stuck in libvirt: the process ends without it
  }
}

void Worker::post(std::function<void()> task) {
  {
    const std::lock_guard lock(shared_->mutex);
    shared_->tasks.push_back(std::move(task));
  }
  shared_->wake.notify_one();
}

void Worker::serve(const std::shared_ptr<Shared>& shared) {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(shared->mutex);
      shared->wake.wait(lock, [&] { return shared->stopping || !shared->tasks.empty(); });
      if (shared->tasks.empty()) break;
      task = std::move(shared->tasks.front());
      shared->tasks.pop_front();
    }
    task();
  }
  shared->connection.reset();
  shared->finished.set_value();
}

Result<virConnectPtr> Worker::connection(Shared& shared) {
  if (shared.connection) return shared.connection.get();
  const char* uri = shared.uri.empty() ? nullptr : shared.uri.c_str();
  Connection opened(virConnectOpen(uri));
  if (!opened) {
    Error error =
        last_error(fmt::format("cannot connect to {}", shared.uri.empty() ? "libvirt's default URI" : shared.uri));
    if (error.kind != ErrorKind::denied) error.kind = ErrorKind::unreachable;
    return fail(std::move(error));
  }
  // Keepalive needs the event loop; a driver without it (test:///) is fine too.
  (void)virConnectSetKeepAlive(opened.get(), kKeepAliveInterval, kKeepAliveCount);
  shared.connection = std::move(opened);
  return shared.connection.get();
}

}  // namespace vmha::virt::detail
