# Where Pacemaker looks for agents: resource-agents' pkg-config file says, else /usr/lib/ocf.
# Never derived from CMAKE_INSTALL_LIBDIR: Pacemaker's search path is compiled in.
find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_get_variable(_ocf_root resource-agents ocfrootdir)
endif()
if(NOT _ocf_root)
  set(_ocf_root "/usr/lib/ocf")
endif()
set(VMHA_OCF_ROOT "${_ocf_root}" CACHE PATH "OCF root directory (agents go to <root>/resource.d/vmha)")
set(VMHA_OCF_PROVIDER "vmha" CACHE STRING "OCF provider name")
set(VMHA_AGENT_DIR "${VMHA_OCF_ROOT}/resource.d/${VMHA_OCF_PROVIDER}")
