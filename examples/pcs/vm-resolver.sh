#!/bin/sh
# The primary recursive DNS resolver as a live-migratable VM (pcs syntax).
# Pass "-f cib.xml" as the first argument to work on a CIB file instead of the live cluster.
# pcs copies the agent's advertised operation timeouts (start/stop 90s, monitor 30s every
# 10s, migrate_to 120s, migrate_from 60s) into the resource.
set -eu
pcs "$@" resource create vm-resolver ocf:vmha:VirtualDomain \
    config=/etc/libvirt/qemu/resolver.xml hypervisor=qemu:///system migration_transport=ssh \
    meta allow-migrate=true
