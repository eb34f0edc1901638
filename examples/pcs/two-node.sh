#!/bin/sh
# The company's two-node cluster (pcs syntax): fencing, and the five critical VMs as
# live-migratable ocf:vmha:VirtualDomain resources on DRBD, deployment A of docs/drbd.md
# (a promotable ocf:linbit:drbd clone with promoted-max=2: both nodes Primary).
# The same configuration as examples/crm/two-node.crm; its header lists what must be in
# place first (two_node Corosync, node names, the DRBD .res files, the domain XMLs).
# Pass "-f cib.xml" as the first arguments to work on a CIB file instead of the live cluster.
#
# One DRBD resource per VM, not one shared by all: each VM fails over, migrates, resyncs and
# can be taken out of service on its own, and vmha's guard reads exactly the VM's own
# resource (drbd_resources). The cost is one clone (two small monitor calls) per VM.
set -eu

pcs "$@" property set stonith-enabled=true
# Keep a running VM where it is; without it Pacemaker moves VMs back to spread them out.
pcs "$@" resource defaults update resource-stickiness=100

# == Fencing: one IPMI device per node ==
# PLACEHOLDERS: 192.0.2.x (a documentation network), CHANGE-ME. Put in each node's BMC
# address and an IPMI account that may power-cycle it. Test each device before going live:
#   pcs stonith fence node2        (from node1, and the other way round)
# pcmk_delay_base on node1's device: in a split both nodes want to fence each other;
# node1's fencing waits 5 s, so node1 shoots first and survives.
pcs "$@" stonith create fence-node1 fence_ipmilan \
    ip=192.0.2.101 username=CHANGE-ME password=CHANGE-ME lanplus=1 \
    pcmk_host_list=node1 pcmk_delay_base=5s op monitor interval=60s timeout=20s
pcs "$@" stonith create fence-node2 fence_ipmilan \
    ip=192.0.2.102 username=CHANGE-ME password=CHANGE-ME lanplus=1 \
    pcmk_host_list=node2 op monitor interval=60s timeout=20s
# A node does not run the device that fences it.
pcs "$@" constraint location fence-node1 avoids node1
pcs "$@" constraint location fence-node2 avoids node2

# == The VMs, each with its DRBD resource ==
# Per VM: the DRBD resource as a promotable clone promoted on both nodes (live migration
# needs the target Primary; pcs names the clone drbd-<vm>-clone), the VM colocated with a
# Promoted instance and started after the promotion (and stopped before a demotion), and
# drbd_allow_two_primaries=true, without which vmha refuses every start while the peer is
# Primary, i.e. always.
# vm-resolver: recursive DNS; vm-radius1, vm-radius2: RADIUS; vm-web: web server;
# vm-telephony: PBX.
for vm in vm-resolver vm-radius1 vm-radius2 vm-web vm-telephony; do
  pcs "$@" resource create "drbd-$vm" ocf:linbit:drbd drbd_resource="$vm" \
      op start timeout=240s interval=0s stop timeout=100s interval=0s \
         promote timeout=90s interval=0s demote timeout=90s interval=0s \
         notify timeout=90s interval=0s \
         monitor interval=20s role=Unpromoted timeout=20s \
         monitor interval=10s role=Promoted timeout=20s \
      promotable promoted-max=2 promoted-node-max=1 clone-max=2 clone-node-max=1 notify=true
  pcs "$@" resource create "$vm" ocf:vmha:VirtualDomain \
      config="/etc/libvirt/qemu/$vm.xml" hypervisor=qemu:///system migration_transport=ssh \
      drbd_resources="$vm" drbd_allow_two_primaries=true \
      op start timeout=90s interval=0s stop timeout=90s interval=0s \
         monitor timeout=30s interval=10s \
         migrate_to timeout=120s interval=0s migrate_from timeout=60s interval=0s \
      meta allow-migrate=true
  pcs "$@" constraint colocation add "$vm" with Promoted "drbd-$vm-clone" INFINITY
  pcs "$@" constraint order promote "drbd-$vm-clone" "then" start "$vm"
done

# == The two RADIUS servers back each other up: keep them on different nodes ==
# A finite score, not -INFINITY: with one node left both must run there. When the other
# node comes back, Pacemaker live-migrates one of them over again (-1000 outweighs
# stickiness 100).
pcs "$@" constraint colocation add vm-radius2 with vm-radius1 -- -1000
