#!/bin/sh
# node-mounts.sh DIR CMD [ARG...]: libvirt-lab's view of a node. Run by
# `unshare --mount --propagation private`: bind-mounts the node directory DIR's etc, run, lib,
# cache and log over /etc/libvirt, /run/libvirt, /var/lib/libvirt, /var/cache/libvirt and
# /var/log/libvirt (the fixed paths of the privileged QEMU driver), and its private passwd and
# group over the host's when it has them, then execs CMD: the node's libvirtd (behind its
# wrapper), or a command of `libvirt-lab exec`. Details: tests/lab/README.md.
set -e
d=$1
shift
mount --bind "$d/etc" /etc/libvirt
mount --bind "$d/run" /run/libvirt
mount --bind "$d/lib" /var/lib/libvirt
mount --bind "$d/cache/" /var/cache/libvirt
mount --bind "$d/log" /var/log/libvirt
if [ -f "$d/passwd" ]; then
  mount --bind "$d/passwd" /etc/passwd
  mount --bind "$d/group" /etc/group
fi
exec "$@"
