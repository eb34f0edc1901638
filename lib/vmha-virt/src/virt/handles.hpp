// Move-only owners of libvirt's C handles (private to the libvirt implementation).
#pragma once

#include <memory>
#include <string>
#include <utility>

#include <libvirt/libvirt.h>

namespace vmha::virt::detail {

struct ConnectionClose {
  void operator()(virConnectPtr handle) const noexcept { virConnectClose(handle); }
};
struct DomainFree {
  void operator()(virDomainPtr handle) const noexcept { virDomainFree(handle); }
};
struct NetworkFree {
  void operator()(virNetworkPtr handle) const noexcept { virNetworkFree(handle); }
};
struct PoolFree {
  void operator()(virStoragePoolPtr handle) const noexcept { virStoragePoolFree(handle); }
};

/// A virTypedParameter list built with virTypedParamsAdd*.
class TypedParams {
 public:
  TypedParams() = default;
  TypedParams(const TypedParams&) = delete;
  TypedParams& operator=(const TypedParams&) = delete;
  TypedParams(TypedParams&& other) noexcept
      : params_(std::exchange(other.params_, nullptr)),
        count_(std::exchange(other.count_, 0)),
        capacity_(std::exchange(other.capacity_, 0)) {}
  TypedParams& operator=(TypedParams&&) = delete;
  ~TypedParams() { virTypedParamsFree(params_, count_); }

  bool add(const char* name, const std::string& value) {
    return virTypedParamsAddString(&params_, &count_, &capacity_, name, value.c_str()) == 0;
  }
  bool add(const char* name, unsigned long long value) {
    return virTypedParamsAddULLong(&params_, &count_, &capacity_, name, value) == 0;
  }
  bool add(const char* name, int value) {
    return virTypedParamsAddInt(&params_, &count_, &capacity_, name, value) == 0;
  }
  [[nodiscard]] virTypedParameterPtr get() const { return params_; }
  [[nodiscard]] int size() const { return count_; }

 private:
  virTypedParameterPtr params_ = nullptr;
  int count_ = 0;
  int capacity_ = 0;
};

using Connection = std::unique_ptr<virConnect, ConnectionClose>;
using Domain = std::unique_ptr<virDomain, DomainFree>;
using Network = std::unique_ptr<virNetwork, NetworkFree>;
using Pool = std::unique_ptr<virStoragePool, PoolFree>;

}  // namespace vmha::virt::detail
