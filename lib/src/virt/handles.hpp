// Move-only owners of libvirt's C handles (private to the libvirt implementation).
#pragma once

#include <memory>

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

using Connection = std::unique_ptr<virConnect, ConnectionClose>;
using Domain = std::unique_ptr<virDomain, DomainFree>;
using Network = std::unique_ptr<virNetwork, NetworkFree>;
using Pool = std::unique_ptr<virStoragePool, PoolFree>;

}  // namespace vmha::virt::detail
