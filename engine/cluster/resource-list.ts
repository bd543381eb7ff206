/**
 * A restore's resource list as Velero v1.18.1 uploads it to the bucket (`pkg/restore/request.go`
 * `RestoredResourceList`, `restore_controller.go` `putRestoredResourceList`): `apiVersion/Kind` -> sorted
 * `namespace/name(action)` entries, `name(action)` for cluster-scoped items; read back with a `RestoreResourceList`
 * DownloadRequest (`velero restore describe --details`).
 */
import type { ClusterStore, KubeObject } from "./store";

export class RestoredResourceList {
    readonly entries: Record<string, string[]> = {};

    /** Lists an item with what the restore did to it (`ItemRestoreResultCreated`, `...Skipped`). */
    add(o: KubeObject, action: "created" | "skipped"): void {
        const key = `${String(o.apiVersion)}/${String(o.kind)}`;
        const ns = o.metadata.namespace as string | undefined;
        const entry = `${ns === undefined ? "" : `${ns}/`}${String(o.metadata.name)}(${action})`;
        this.entries[key] = [...(this.entries[key] ?? []), entry].sort();
    }

    /**
     * `restore.go` `restoreItem` -> `kube.EnsureNamespaceExistsAndIsReady`: the (remapped) namespace of a namespaced
     * item is created bare when missing (`getNamespace`, no Namespace in the backup) and listed as created.
     */
    ensureNamespace(store: ClusterStore, name: string | undefined): void {
        if (name !== undefined && !store.all().some((e) => e.kind === "Namespace" && e.metadata.name === name)) {
            const ns = { apiVersion: "v1", kind: "Namespace", metadata: { name } };
            store.put(ns);
            this.add(ns, "created");
        }
    }
}
