/** What Velero does to a pod it restores, before the resource modifiers (velero v1.18.1 `pkg/restore/actions`). */
import { RESTORE_WAIT, VELERO_INIT_CONTAINERS } from "../../components/restore/vessels";
import { ClusterStore, KubeObject, objectPath } from "./store";
import type { SimulatedBackup } from "./velero";

export { RESTORE_WAIT };

const { fitsSomeNode } = require("../../components/tasks/pre-restore.js") as {
    fitsSomeNode: (pod: KubeObject, nodes: KubeObject[]) => boolean;
};

/**
 * Why the scheduler would never bind a restored pod in the simulated cluster, or undefined: a scheduler other than
 * the default one (one from git is not running before Argo CD syncs), a required pod affinity (no pod carries the
 * app's labels before then), or node constraints no Node of the cluster meets (the NodeAffinity filter, with the
 * same matcher the pre-restore task uses). Velero then waits for the pod's PodVolumeRestores until the pod volume
 * timeout (velero v1.18.1 `pkg/podvolume/restorer.go`: an unscheduled pod is only logged after 10 minutes).
 */
export function unschedulable(pod: KubeObject, nodes: readonly KubeObject[]): string | undefined {
    const spec = (pod.spec ?? {}) as KubeObject;
    if (typeof spec.schedulerName === "string" && spec.schedulerName !== "default-scheduler") {
        return `no scheduler ${spec.schedulerName} runs`;
    }
    if (spec.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution !== undefined) {
        return "its required pod affinity matches no pod";
    }
    const constrained =
        spec.nodeSelector !== undefined ||
        spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution !== undefined;
    if (constrained && !fitsSomeNode(pod, [...nodes])) {
        return "no node meets its node selector or affinity";
    }
    return undefined;
}

/** The annotation the simulation puts on a claim file-system backup data was restored into (nothing real sets it). */
export const SIMULATED_DATA_ANNOTATION = "simulated.gitops-dr/data-restored-by";

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

/**
 * The node agent's part (`pod_volume_restore_controller.go`): for each volume with data of each restored pod, a
 * PodVolumeRestore labelled with the restore; it completes only when the pod's first init container is
 * `restore-wait` mounting that volume (the controller waits for it), the pod can be scheduled ({@link unschedulable};
 * else it stays New and is counted in `timedOut`: Velero's pod volume timeout ends the wait) and the scenario does not
 * fail it. A completed
 * one fills the volume's claim (marked {@link SIMULATED_DATA_ANNOTATION}) and lets the pod end. Returns how many
 * failed, and of those how many pods' restores the timeout ended.
 */
export function restorePodVolumes(
    cluster: ClusterStore,
    failedPodVolumes: readonly string[],
    namespace: string,
    restoreName: string,
    vessels: readonly KubeObject[],
    unschedulablePods: readonly string[] = [],
): { failed: number; timedOut: number } {
    let failed = 0;
    let timedOut = 0;
    const nodes = cluster.all().filter((o) => o.kind === "Node");
    for (const { pod, source, withData } of vessels as { pod: KubeObject; source: string; withData: string[] }[]) {
        const wait = pod.spec?.initContainers?.[0] as KubeObject | undefined;
        const pending = unschedulablePods.includes(`${source}/${String(pod.metadata.name)}`)
            ? "the scenario's nodes do not take it"
            : unschedulable(pod, nodes);
        timedOut += pending !== undefined && withData.length > 0 ? 1 : 0;
        for (const volume of withData) {
            if (pending !== undefined) {
                // Never accepted by a node agent: it stays New until the restore's pod volume timeout.
                failed += 1;
                cluster.put({
                    apiVersion: "velero.io/v1",
                    kind: "PodVolumeRestore",
                    metadata: {
                        name: `${restoreName}-${String(pod.metadata.name)}-${volume}`,
                        namespace,
                        labels: { "velero.io/restore-name": restoreName },
                    },
                    spec: { pod: { namespace: pod.metadata.namespace, name: pod.metadata.name }, volume },
                    status: {},
                });
                continue;
            }
            const mounted =
                wait?.name === RESTORE_WAIT &&
                ((wait.volumeMounts ?? []) as KubeObject[]).some((m) => m.name === volume) &&
                ((pod.spec.volumes ?? []) as KubeObject[]).some((v) => v.name === volume);
            const ok = mounted && !failedPodVolumes.includes(`${source}/${String(pod.metadata.name)}/${volume}`);
            failed += ok ? 0 : 1;
            cluster.put({
                apiVersion: "velero.io/v1",
                kind: "PodVolumeRestore",
                metadata: {
                    name: `${restoreName}-${String(pod.metadata.name)}-${volume}`,
                    namespace,
                    labels: { "velero.io/restore-name": restoreName },
                },
                spec: { pod: { namespace: pod.metadata.namespace, name: pod.metadata.name }, volume },
                status: { phase: ok ? "Completed" : "Failed" },
            });
            const claimName = ((pod.spec.volumes ?? []) as KubeObject[]).find((v) => v.name === volume)
                ?.persistentVolumeClaim?.claimName as string | undefined;
            const claimPath = `/api/v1/namespaces/${String(pod.metadata.namespace)}/persistentvolumeclaims/${claimName}`;
            const claim = cluster.all().find((c) => objectPath(c) === claimPath);
            if (ok && claim !== undefined) {
                cluster.put({
                    ...claim,
                    metadata: {
                        ...claim.metadata,
                        annotations: {
                            ...(claim.metadata.annotations ?? {}),
                            [SIMULATED_DATA_ANNOTATION]: restoreName,
                        },
                    },
                });
            }
        }
        const path = objectPath(pod);
        const live = cluster.all().find((p) => objectPath(p) === path);
        if (live !== undefined && live.metadata.labels?.["velero.io/restore-name"] === restoreName) {
            cluster.put({ ...live, status: { phase: failed > 0 ? "Pending" : "Succeeded" } });
        }
    }
    return { failed, timedOut };
}

/** The label on everything a backup made, its PodVolumeBackups included (`labels_annotations.go`). */
export const BACKUP_NAME_LABEL = "velero.io/backup-name";

/**
 * A backup's PodVolumeBackups: the scenario's, or one per file-system backup volume its BackupVolumeInfos record
 * (a skipped one has none), Completed with a snapshot ID. The backup's name is short enough to be its own label
 * value (`pkg/label/label.go` `GetValidName` shortens only names over 63 characters).
 */
export function podVolumeBackupsOf(backup: SimulatedBackup, namespace = "velero"): KubeObject[] {
    return (
        backup.podVolumeBackups ??
        backup.volumeInfos
            .filter((v) => v.backupMethod === "PodVolumeBackup" && v.skipped !== true && v.pvbInfo)
            .map((v) => ({
                apiVersion: "velero.io/v1",
                kind: "PodVolumeBackup",
                metadata: {
                    name: `${backup.name}-${String(v.pvbInfo.podName)}-${String(v.pvbInfo.volumeName)}`,
                    namespace,
                    labels: { [BACKUP_NAME_LABEL]: backup.name },
                },
                spec: {
                    pod: { kind: "Pod", namespace: v.pvbInfo.podNamespace, name: v.pvbInfo.podName },
                    volume: v.pvbInfo.volumeName,
                    uploaderType: "kopia",
                },
                status: { phase: "Completed", snapshotID: `snapshot-${String(v.pvName)}` },
            }))
    ).map((p) => ({ ...p, metadata: { ...p.metadata, namespace } }));
}

/**
 * The volumes of a backed-up pod Velero restores file-system backup data into (velero v1.18.1
 * `pkg/podvolume/util.go` `getVolumeBackupInfoForPod`): those of its PodVolumeBackups (matched by the pod's name and
 * namespace in the backup) that have a snapshot ID, whatever their phase, and whose volume is not projected or
 * downward API; when none, those its `snapshot.velero.io/<volume>` annotations name (restic's old way).
 */
export function podVolumesWithData(pod: KubeObject, sourceNamespace: string, pvbs: readonly KubeObject[]): string[] {
    const volumes = (pod.spec?.volumes ?? []) as KubeObject[];
    const restorable = (name: string) => {
        const v = volumes.find((x) => x.name === name);
        return v?.projected === undefined && v?.downwardAPI === undefined;
    };
    const fromBackups = pvbs
        .filter(
            (p) =>
                p.spec?.pod?.name === pod.metadata.name &&
                p.spec?.pod?.namespace === sourceNamespace &&
                typeof p.status?.snapshotID === "string" &&
                p.status.snapshotID !== "" &&
                restorable(String(p.spec?.volume)),
        )
        .map((p) => String(p.spec.volume));
    if (fromBackups.length > 0) {
        return [...new Set(fromBackups)];
    }
    return Object.keys((pod.metadata.annotations ?? {}) as Record<string, string>)
        .filter((k) => k.startsWith("snapshot.velero.io/"))
        .map((k) => k.slice("snapshot.velero.io/".length));
}

/** The Restore or Backup annotation that bounds its pod volume operations (`labels_annotations.go`). */
export const POD_VOLUME_TIMEOUT_ANNOTATION = "velero.io/pod-volume-timeout";
/** The server's `--fs-backup-timeout` default (`pkg/cmd/server/config/config.go`). */
export const DEFAULT_POD_VOLUME_TIMEOUT_MS = 240 * 60_000;

/**
 * The pod volume timeout a Restore gets: its annotation parsed as a Go duration (the forms gitops-dr writes: `h`,
 * `m`, `s`), else, or when it does not parse (Velero logs an error and uses the server's), the server default.
 */
export function podVolumeTimeoutMs(annotation: unknown): number {
    const m = typeof annotation === "string" ? /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(annotation) : null;
    if (m === null || annotation === "") {
        return DEFAULT_POD_VOLUME_TIMEOUT_MS;
    }
    return ((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 1000;
}
