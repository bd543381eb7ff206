/** What Velero does to a pod it restores, before the resource modifiers (velero v1.18.1 `pkg/restore/actions`). */
import { RESTORE_WAIT, VELERO_INIT_CONTAINERS } from "../../components/restore/vessels";
import type { KubeObject } from "./store";

export { RESTORE_WAIT };

/**
 * The restore item actions Velero runs on a pod (velero v1.18.1): `PodAction` (`pkg/restore/actions/pod_action.go`:
 * no node, no priority, no service-account token volumes) and `PodVolumeRestoreAction` (`pod_volume_restore_action.go`:
 * any earlier `restore-wait` removed, a new one put first, mounting each volume that has a PodVolumeBackup at
 * `/restores/<volume>`, running the server's image with the container security context of the pod's first
 * container). `backedUpVolumes` are the pod's volumes with file-system backup data.
 */
export function podRestoreItemActions(
    pod: KubeObject,
    backedUpVolumes: readonly string[],
    restoreUid: string,
    serverImage: string,
): KubeObject {
    const o = JSON.parse(JSON.stringify(pod)) as KubeObject;
    const spec = o.spec as Record<string, unknown> & {
        volumes?: { name: string }[];
        containers?: { volumeMounts?: { name: string }[]; securityContext?: unknown }[];
        initContainers?: { name: string; volumeMounts?: { name: string }[] }[];
        serviceAccountName?: string;
    };
    spec.nodeName = "";
    delete spec.priority;
    const tokenPrefix = `${spec.serviceAccountName ?? ""}-token-`;
    spec.volumes = (spec.volumes ?? []).filter((v) => !v.name.startsWith(tokenPrefix));
    for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
        if (c.volumeMounts !== undefined) {
            c.volumeMounts = c.volumeMounts.filter((m) => !m.name.startsWith(tokenPrefix));
        }
    }
    const own = (spec.initContainers ?? []).filter(
        (c) => !(VELERO_INIT_CONTAINERS as readonly string[]).includes(c.name),
    );
    if (backedUpVolumes.length === 0) {
        spec.initContainers = own;
        return o;
    }
    const restoreWait = {
        name: RESTORE_WAIT,
        image: serverImage,
        command: ["/velero-restore-helper"],
        args: [restoreUid],
        env: [
            { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
            { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
        ],
        resources: {
            requests: { cpu: "100m", memory: "128Mi" },
            limits: { cpu: "100m", memory: "128Mi" },
        },
        securityContext: spec.containers?.[0]?.securityContext ?? {
            allowPrivilegeEscalation: false,
            capabilities: { drop: ["ALL"] },
            seccompProfile: { type: "RuntimeDefault" },
            runAsUser: 1000, // restoreHelperUID
            runAsNonRoot: true,
        },
        volumeMounts: backedUpVolumes.map((v) => ({ name: v, mountPath: `/restores/${v}` })),
    };
    spec.initContainers = [restoreWait, ...own];
    return o;
}
