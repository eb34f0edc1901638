// A process whose main thread exits while another thread runs on: /proc then shows the
// thread-group leader as a zombie (state Z), which is what a QEMU looks like when its main
// thread has ended but an I/O thread is stuck on hung storage. Its arguments are only there to
// be read from /proc/<pid>/cmdline (e.g. "-uuid <uuid>"). It lives until killed.
#include <pthread.h>
#include <unistd.h>

namespace {

void* wait_forever(void* /*unused*/) {
  for (;;) pause();
  return nullptr;
}

}  // namespace

int main() {
  pthread_t thread{};
  if (pthread_create(&thread, nullptr, wait_forever, nullptr) != 0) return 1;
  pthread_exit(nullptr);  // the leader ends; the process lives on in `thread`
}
