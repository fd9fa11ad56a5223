# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""CLI: ``python -m tests.cluster {build,up,down,destroy,status,grant,restart-kwok} [--dir DIR] [--node NAME ...]``.

``grant --namespace NS`` does what the README asks of a cluster admin: create NS and bind the operator in it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from .cluster import LAB_NODES, OPERATOR_USER, STORAGE_CLASSES, Cluster, ClusterError, build


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.cluster", description=__doc__)
    parser.add_argument("action", choices=["build", "up", "down", "destroy", "status", "grant", "restart-kwok",
                                           "node-credentials"])
    parser.add_argument("--namespace", action="append", default=[], help="grant: namespace (repeat)")
    parser.add_argument("--dir", default=os.environ.get("YELLOW_CLUSTER_DIR", "/tmp/yellow-cluster"),
                        help="state directory (default $YELLOW_CLUSTER_DIR or /tmp/yellow-cluster)")
    parser.add_argument("--node", action="append", help=f"node name (repeat; default {', '.join(LAB_NODES)})")
    parser.add_argument("--node-address", help="up: an address of this machine real nodes reach the API server at")
    parser.add_argument("--out", help="node-credentials: directory for kubelet/kube-proxy kubeconfigs and ca.crt")
    parser.add_argument("--storage-class", action="append",
                        help=f"StorageClass with pre-created volumes (repeat; default {', '.join(STORAGE_CLASSES)})")
    args = parser.parse_args(argv)
    try:
        if args.action == "build":
            print(build())
            return 0
        if args.action == "node-credentials":
            cluster = Cluster(args.dir)
            for node in args.node or []:
                cluster.write_node_credentials(node, os.path.join(args.out, node))
            return 0
        # --node-address without --node: real nodes only (no KWOK node unless named).
        nodes = args.node if args.node is not None else ([] if args.node_address else LAB_NODES)
        cluster = Cluster(args.dir, nodes=nodes, storage_classes=args.storage_class or STORAGE_CLASSES,
                          node_address=args.node_address)
        if args.action == "up":
            cluster.up()
            print(cluster.describe())
            print(f"source {cluster.dir / 'env'}   # admin: {cluster.admin_kubeconfig}; "
                  f"operator: {cluster.operator_kubeconfig}")
        elif args.action == "grant":
            for namespace in args.namespace:
                cluster.create_namespace(namespace)
                print(f"namespace {namespace}: operator {OPERATOR_USER} granted")
        elif args.action == "restart-kwok":
            cluster.restart_kwok()
        elif args.action == "down":
            cluster.down()
        elif args.action == "destroy":
            cluster.destroy()
        else:
            print(json.dumps({"running": cluster.running(), **cluster.state}, indent=1, sort_keys=True))
            return 0 if cluster.running() else 3
    except ClusterError as exc:
        print(f"tests.cluster: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
