/**
 * Velero v1.18.1 as the simulated cluster runs it: backups synced from the bucket, DownloadRequests answered with
 * what the bucket holds, and Restores validated, run and reported the way the restore controller does. Each
 * behaviour follows the source it cites; the point is that the program meets the paths a real recovery takes
 * (a restore that ends with warnings, a newer backup that failed, claims an earlier restore left, a volume a drill
 * must not touch, a resource-modifier ConfigMap Velero refuses), not a healthy cluster only.
 */
import * as zlib from "node:zlib";

import { parse as parseYaml } from "yaml";

import { RestoredResourceList } from "./resource-list";
import { applyModifiers, modifierProblem } from "./modifiers";
import {
    BACKUP_NAME_LABEL,
    POD_VOLUME_TIMEOUT_ANNOTATION,
    podRestoreItemActions,
    podVolumeBackupsOf,
    podVolumeTimeoutMs,
    podVolumesWithData,
    restorePodVolumes,
} from "./pods";
import { dataDownload } from "./data-mover";
import { RESOURCE_OF, inRestoreOrder, secretAction, tokenController } from "./restore-actions";
import { ClusterStore, KubeObject, gzipJson, matchesExpressions, mergePatch, objectPath } from "./store";

/** One backup in the bucket, as Velero syncs it into the cluster (`backup_sync_controller.go`). */
export interface SimulatedBackup {
    readonly name: string;
    /** The Schedule that took it (`velero.io/schedule-name`); none for a backup taken by hand. */
    readonly schedule?: string;
    readonly phase: string;
    readonly startTimestamp: string;
    /** What it holds: the objects of its tarball (`resources/<resource>/...`). */
    readonly contents: readonly KubeObject[];
    /** Its BackupVolumeInfos (`internal/volume/volumes_information.go`): how each volume's data was kept. */
    readonly volumeInfos: readonly KubeObject[];
    /**
     * Its PodVolumeBackups, as the bucket keeps them (`pod_volume_backup_type.go`); by default one Completed, with a
     * snapshot, for each BackupVolumeInfo of the PodVolumeBackup method (see {@link podVolumeBackupsOf}).
     */
    readonly podVolumeBackups?: readonly KubeObject[];
    /** Its spec, the Schedule's template it was taken from (its namespace filter, ...); synced with it. */
    readonly spec?: KubeObject;
}

/** How Velero ends a restore in the scenario, beyond what follows from the backup and the cluster. */
export interface RestoreBehaviour {
    /** The phase Velero reports (its own decision: a failed DataDownload makes it PartiallyFailed). */
    readonly phase?: string;
    /** Warnings of its own besides existing items (namespace -> messages). */
    readonly warnings?: Readonly<Record<string, readonly string[]>>;
    /** Claims whose data did not come back (a failed DataDownload): left Pending, `namespace/name`. */
    readonly unboundClaims?: readonly string[];
    /** Pod volumes whose PodVolumeRestore fails (`namespace/pod/volume`, the pod's namespace in the backup). */
    readonly failedPodVolumes?: readonly string[];
    /**
     * Restored pods no node takes for a reason the simulation does not model (taints, capacity): `namespace/pod`,
     * the pod's namespace in the backup. Their PodVolumeRestores stay New until the pod volume timeout.
     */
    readonly unschedulablePods?: readonly string[];
}

export { applyModifiers, modifierProblem } from "./modifiers";
export {
    BACKUP_NAME_LABEL,
    DEFAULT_POD_VOLUME_TIMEOUT_MS,
    POD_VOLUME_TIMEOUT_ANNOTATION,
    RESTORE_WAIT,
    SIMULATED_DATA_ANNOTATION,
    podRestoreItemActions,
    podVolumeBackupsOf,
    podVolumeTimeoutMs,
    podVolumesWithData,
    unschedulable,
} from "./pods";

/** The image the simulated Velero server runs (restore-wait takes it). */
export const SIMULATED_SERVER_IMAGE = "docker.io/velero/velero:v1.18.1";

/** The label a schedule's backups carry. */
const SCHEDULE_NAME_LABEL = "velero.io/schedule-name";
/** Resources Velero never restores (`restore_controller.go` `nonRestorableResources`). */
export const NON_RESTORABLE_RESOURCES = [
    "nodes",
    "events",
    "events.events.k8s.io",
    "backups.velero.io",
    "restores.velero.io",
    "resticrepositories.velero.io",
    "csinodes.storage.k8s.io",
    "volumeattachments.storage.k8s.io",
    "backuprepositories.velero.io",
];

/** The tar archive Velero writes (`resources/<resource>/namespaces/<ns>/<name>.json`, `cluster/` when not namespaced). */
export function tarOf(objects: readonly KubeObject[]): Buffer {
    const blocks: Buffer[] = [];
    for (const o of objects) {
        const resource = RESOURCE_OF[String(o.kind)] ?? `${String(o.kind).toLowerCase()}s`;
        const where = o.metadata.namespace === undefined ? "cluster" : `namespaces/${String(o.metadata.namespace)}`;
        const name = `resources/${resource}/${where}/${String(o.metadata.name)}.json`;
        const data = Buffer.from(JSON.stringify(o));
        const header = Buffer.alloc(512);
        header.write(name, 0, 100, "utf8");
        header.write("0000644\0", 100);
        header.write(`${data.length.toString(8).padStart(11, "0")}\0`, 124);
        header.write("0", 156);
        header.write("ustar\0", 257);
        blocks.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
    }
    blocks.push(Buffer.alloc(1024));
    return Buffer.concat(blocks);
}

/** Velero in the simulated cluster. */
export class SimulatedVelero {
    private readonly results = new Map<string, KubeObject>();
    /** Each restore's resource list (`pkg/restore/request.go` `RestoredResourceList`): GVK -> `ns/name(action)`. */
    private readonly resourceLists = new Map<string, Record<string, string[]>>();

    /** The backups synced into the cluster so far, by name: what a Restore can name (`restore_controller.go`). */
    private readonly synced = new Map<string, SimulatedBackup>();

    /**
     * `store` undefined: only the pure questions (which items a spec restores), no cluster to act on.
     * `bucketBackups`: what the buckets that do not hold `backups` hold instead (ClusterScenario.bucketBackups).
     */
    constructor(
        private readonly store: ClusterStore | undefined,
        private readonly defaultBackups: readonly SimulatedBackup[],
        private readonly behaviour: RestoreBehaviour = {},
        private readonly bucketBackups: Readonly<Record<string, readonly SimulatedBackup[]>> = {},
    ) {
        store?.onCreate.push((path, o) => this.answerDownload(path, o));
    }

    /** What Velero can restore: the backups synced from its locations, or, before any sync, the default ones. */
    private get backups(): readonly SimulatedBackup[] {
        return this.synced.size > 0 ? [...this.synced.values()] : this.defaultBackups;
    }

    private get cluster(): ClusterStore {
        if (this.store === undefined) {
            throw new Error("this SimulatedVelero has no cluster");
        }
        return this.store;
    }

    /**
     * A restore whose status a test scripted: Velero still fills in the backup it took, and leaves results in the
     * bucket, one warning line per warning the status counts. Returns the Restore as it is then.
     */
    scripted(restore: KubeObject): KubeObject {
        const spec = { ...(restore.spec ?? {}) };
        // A Restore that failed validation may not have got that far (`validateAndComplete` returns early).
        if (
            spec.backupName === undefined &&
            spec.scheduleName !== undefined &&
            restore.status?.phase !== "FailedValidation"
        ) {
            const chosen = [...this.backups]
                .filter((b) => b.schedule === spec.scheduleName)
                .sort((a, b) => Date.parse(b.startTimestamp) - Date.parse(a.startTimestamp))
                .find((b) => b.phase === "Completed");
            spec.backupName = chosen?.name;
        }
        this.recordResults(restore);
        this.resourceLists.set(String(restore.metadata?.name), {});
        return { ...restore, spec };
    }

    /** The results of a restore whose status a test scripted: one warning line per warning it counts. */
    recordResults(restore: KubeObject): void {
        const count = Number(restore.status?.warnings ?? 0);
        const ns = String(restore.spec?.includedNamespaces?.[0] ?? "");
        this.results.set(String(restore.metadata?.name), {
            warnings: {
                namespaces:
                    count > 0
                        ? { [ns]: Array.from({ length: count }, (_, i) => `warning ${i + 1} of the scripted restore`) }
                        : {},
            },
            errors: {},
        });
    }

    /**
     * The backups of a location's bucket synced into Velero's namespace once the location is Available
     * (`backup_sync_controller.go`: every backup whose metadata the bucket holds). `bucket` undefined, or a bucket
     * the scenario does not name: the default backups.
     */
    sync(namespace: string, bucket?: string): void {
        const held = (bucket === undefined ? undefined : this.bucketBackups[bucket]) ?? this.defaultBackups;
        for (const b of held) {
            this.synced.set(b.name, b);
            this.cluster.put({
                apiVersion: "velero.io/v1",
                kind: "Backup",
                metadata: {
                    name: b.name,
                    namespace,
                    labels: b.schedule === undefined ? {} : { [SCHEDULE_NAME_LABEL]: b.schedule },
                },
                ...(b.spec === undefined ? {} : { spec: b.spec }),
                status: { phase: b.phase, startTimestamp: b.startTimestamp },
            });
            // The sync controller brings a backup's PodVolumeBackups along (`backup_sync_controller.go`).
            podVolumeBackupsOf(b, namespace).forEach((p) => this.cluster.put(p));
        }
    }

    /** `pkg/controller/download_request_controller.go`: a presigned URL to the object the target names. */
    private answerDownload(path: string, request: KubeObject): void {
        if (request.kind !== "DownloadRequest") {
            return;
        }
        const { kind, name } = request.spec.target as { kind: string; name: string };
        const url = `https://vault.s3.simulated/${kind}/${name}?X-Amz-Signature=simulated`;
        const backup = this.backups.find((b) => b.name === name);
        const serve: Record<string, (() => Buffer) | undefined> = {
            BackupContents: backup && (() => gzipBuffer(tarOf(backup.contents))),
            BackupVolumeInfos: backup && (() => gzipJson(backup.volumeInfos)),
            RestoreResults: this.results.has(name) ? () => gzipJson(this.results.get(name)) : undefined,
            RestoreResourceList: this.resourceLists.has(name)
                ? () => gzipJson(this.resourceLists.get(name))
                : undefined,
        };
        const answer = serve[kind];
        if (answer !== undefined) {
            this.cluster.downloads.set(url, answer);
            this.cluster.setStatus(path, { phase: "Processed", downloadURL: url });
        }
    }

    /**
     * Runs a Restore (`restore_controller.go` `validateAndComplete`, `runValidatedRestore`; `pkg/restore/restore.go`):
     * returns its live spec and status and leaves what it restored in the cluster.
     */
    restore(restore: KubeObject, at: { start: string; end: string }): { spec: KubeObject; status: KubeObject } {
        const namespace = String(restore.metadata.namespace);
        const spec: KubeObject = {
            ...restore.spec,
            excludedResources: [...((restore.spec.excludedResources ?? []) as string[]), ...NON_RESTORABLE_RESOURCES],
        };
        const invalid = (error: string) => ({
            spec,
            status: { phase: "FailedValidation", validationErrors: [error] },
        });
        if (Boolean(spec.backupName) === Boolean(spec.scheduleName)) {
            return invalid("Either a backup or schedule must be specified as a source for the restore, but not both");
        }
        let backup: SimulatedBackup | undefined;
        if (spec.scheduleName !== undefined) {
            backup = [...this.backups]
                .filter((b) => b.schedule === spec.scheduleName)
                .sort((a, b) => Date.parse(b.startTimestamp) - Date.parse(a.startTimestamp))
                .find((b) => b.phase === "Completed");
            if (backup === undefined) {
                return invalid("No completed backups found for schedule");
            }
            spec.backupName = backup.name;
        } else {
            backup = this.backups.find((b) => b.name === spec.backupName);
            if (backup === undefined) {
                return invalid(`Error retrieving backup: backup.velero.io "${String(spec.backupName)}" not found`);
            }
            // "Fill in the ScheduleName so it's easier to consume for metrics."
            if (backup.schedule !== undefined) {
                spec.scheduleName = backup.schedule;
            }
        }
        let rules: KubeObject[] = [];
        if (spec.resourceModifier !== undefined) {
            const cmName = `${namespace}/${String(spec.resourceModifier.name)}`;
            const cm = this.cluster
                .all()
                .find((o) => o.kind === "ConfigMap" && `${o.metadata.namespace}/${o.metadata.name}` === cmName);
            const problem = modifierProblem(cm, cmName);
            if (problem !== undefined) {
                return invalid(problem);
            }
            rules = (parseYaml(Object.values(cm!.data as Record<string, string>)[0]) as KubeObject)
                .resourceModifierRules as KubeObject[];
        }

        const warnings: Record<string, string[]> = {};
        const warn = (ns: string, message: string) => (warnings[ns] = [...(warnings[ns] ?? []), message]);
        const clusterWarnings: string[] = [];
        const errors: Record<string, string[]> = {};
        const vessels: KubeObject[] = [];
        const unmapped = Object.fromEntries(
            Object.entries((spec.namespaceMapping ?? {}) as Record<string, string>).map(([from, to]) => [to, from]),
        );
        let restored = 0;
        const list = new RestoredResourceList();
        const downloads: KubeObject[] = [];
        const items = this.restoredItems(spec, backup);
        // The volumes this restore brings back (or provisions for): Velero decides a claim's binding while restoring
        // its PV (`restore.go`: `pvsToProvision`), so a restore without PVs leaves a claim that was not moved by the
        // data mover naming its old volume, Pending.
        const restoredVolumes = new Set(
            items.filter((o) => o.kind === "PersistentVolume").map((o) => String(o.metadata.name)),
        );
        for (const backedUp of inRestoreOrder(items)) {
            if (backedUp.kind === "PersistentVolume" && !SimulatedVelero.restoredAsIs(backedUp, backup)) {
                continue;
            }
            const item = secretAction(backedUp, this.cluster.all());
            if (item === undefined) {
                continue;
            }
            const resource = RESOURCE_OF[String(item.kind)] ?? "";
            list.ensureNamespace(this.cluster, item.metadata.namespace as string | undefined);
            let o: KubeObject;
            if (item.kind === "Pod") {
                // PodAction asks for the pod's PriorityClass as an additional item, which no backup holds: restore.go
                // warns with the archive's stat error, at cluster level (pkg/restore/actions/pod_action.go).
                if (typeof item.spec?.priorityClassName === "string" && item.spec.priorityClassName !== "") {
                    clusterWarnings.push(
                        `stat /tmp/123456789/resources/priorityclasses.scheduling.k8s.io/cluster/${item.spec.priorityClassName}.json: no such file or directory`,
                    );
                }
                // `isCompleted`: a pod that ended is not restored.
                if (["Succeeded", "Failed"].includes(String(item.status?.phase))) {
                    continue;
                }
                // Item actions, then modifiers, on the pod in its backed-up namespace; then the namespace mapping.
                const target = String(item.metadata.namespace);
                const source = unmapped[target] ?? target;
                // The backup's PodVolumeBackups in the cluster (`restore_controller.go` lists them by label).
                const pvbs = this.cluster
                    .all()
                    .filter(
                        (o) =>
                            o.kind === "PodVolumeBackup" &&
                            o.metadata.namespace === namespace &&
                            o.metadata.labels?.[BACKUP_NAME_LABEL] === backup.name,
                    );
                const withData = podVolumesWithData(item, source, pvbs);
                const acted = podRestoreItemActions(
                    { ...item, metadata: { ...item.metadata, namespace: source } },
                    withData,
                    String(restore.metadata.name),
                    SIMULATED_SERVER_IMAGE,
                );
                const itemErrors: string[] = [];
                o = applyModifiers(acted, resource, rules, itemErrors);
                itemErrors.forEach((e) => (errors[target] = [...(errors[target] ?? []), e]));
                o = { ...o, metadata: { ...o.metadata, namespace: target }, status: { phase: "Pending" } };
                vessels.push({ pod: o, source, withData });
            } else {
                o = applyModifiers(item, resource, rules);
            }
            o = mergePatch(o, {
                metadata: {
                    labels: { "velero.io/restore-name": restore.metadata.name, "velero.io/backup-name": backup.name },
                },
            }) as KubeObject;
            const path = objectPath(o);
            const existing = path === undefined ? undefined : this.cluster.all().find((e) => objectPath(e) === path);
            if (existing !== undefined && sameAsBackedUp(existing, o)) {
                // "Restore of ... skipped: it already exists in the cluster and is the same as the backed up version"
                list.add(o, "skipped");
                continue;
            }
            if (existing !== undefined) {
                // existingResourcePolicy none: the live object is kept; a differing one is a warning
                // (`restore.go` "could not restore, ... already exists").
                warn(
                    String(o.metadata.namespace ?? ""),
                    `could not restore, ${String(o.kind)} "${String(o.metadata.name)}" already exists. Warning: the in-cluster version is different than the backed-up version`,
                );
                list.add(o, "skipped");
                continue;
            }
            if (o.kind === "PersistentVolumeClaim") {
                const id = `${String(o.metadata.namespace)}/${String(o.metadata.name)}`;
                const moved = backup.volumeInfos.find((v) => v.pvName === o.spec?.volumeName && v.snapshotDataMoved);
                const unbound =
                    o.metadata.labels?.["gitops-dr.io/quarantined"] === "true" ||
                    (this.behaviour.unboundClaims ?? []).includes(id);
                const orphaned =
                    moved === undefined &&
                    typeof o.spec?.volumeName === "string" &&
                    !restoredVolumes.has(o.spec.volumeName);
                if (orphaned) {
                    // Its old volume is not restored: it waits for a PV of that name that never binds to it.
                    o.status = { phase: "Pending" };
                    restored++;
                    list.add(o, "created");
                    this.cluster.put(o);
                    continue;
                }
                o.status = { phase: unbound ? "Pending" : "Bound" };
                const volume = backup.contents.find(
                    (v) => v.kind === "PersistentVolume" && v.metadata.name === o.spec?.volumeName,
                );
                if (!unbound && (volume === undefined || !SimulatedVelero.restoredAsIs(volume, backup))) {
                    // A volume provisioned anew: the claim binds to it (pv_controller sets volumeName and its annotations).
                    o.spec = { ...o.spec, volumeName: `pvc-restored-${String(o.metadata.name)}` };
                    o.metadata = {
                        ...o.metadata,
                        annotations: { ...(o.metadata.annotations ?? {}), "pv.kubernetes.io/bind-completed": "yes" },
                    };
                }
                if (unbound) {
                    // The claim a failed DataDownload leaves (`generic_restore.go` CleanUp keeps it).
                    o.spec = { ...o.spec, selector: { matchLabels: { "velero.io/dynamic-pv-restore": "simulated" } } };
                }
                if (moved !== undefined && o.metadata.labels?.["gitops-dr.io/quarantined"] !== "true") {
                    downloads.push(dataDownload(restore, o, moved, unbound, at, downloads.length));
                }
            }
            restored++;
            list.add(o, "created");
            const kept = tokenController(o, this.cluster.all());
            if (path !== undefined && kept !== undefined) {
                this.cluster.put(kept);
            }
        }
        const { failed: failedVolumes, timedOut } = restorePodVolumes(
            this.cluster,
            this.behaviour.failedPodVolumes ?? [],
            namespace,
            String(restore.metadata.name),
            vessels,
            this.behaviour.unschedulablePods ?? [],
        );
        // A pod whose PodVolumeRestores never end keeps the restore waiting until the pod volume timeout: the
        // Restore's `velero.io/pod-volume-timeout` annotation, else the server's `--fs-backup-timeout` (4h)
        // (velero v1.18.1 `pkg/restore/restore.go`, `pkg/podvolume/restorer.go` `RestorePodVolumes`).
        // Velero reports them at its own level, not a namespace's (`restore.go`: "not ideal to be adding these to
        // Velero-level errors").
        let end = at.end;
        const veleroErrors: string[] = [];
        if (timedOut > 0) {
            const timeout = podVolumeTimeoutMs(restore.metadata.annotations?.[POD_VOLUME_TIMEOUT_ANNOTATION]);
            end = new Date(Date.parse(at.start) + timeout).toISOString();
            veleroErrors.push(
                ...Array.from({ length: timedOut }, () => "timed out waiting for all PodVolumeRestores to complete"),
            );
        }
        for (const [ns, messages] of Object.entries(this.behaviour.warnings ?? {})) {
            messages.forEach((m) => warn(ns, m));
        }
        downloads.forEach((d) => this.cluster.put(d));
        const failedDownloads = downloads.filter((d) => d.status.phase === "Failed").length;
        const count = Object.values(warnings).reduce((n, ms) => n + ms.length, 0) + clusterWarnings.length;
        const errorCount = Object.values(errors).reduce((n, ms) => n + ms.length, 0) + failedVolumes;
        this.results.set(String(restore.metadata.name), {
            warnings: { cluster: clusterWarnings, namespaces: warnings },
            errors: { namespaces: errors, ...(veleroErrors.length > 0 ? { velero: veleroErrors } : {}) },
        });
        this.resourceLists.set(String(restore.metadata.name), list.entries);
        return {
            spec,
            status: {
                phase: this.behaviour.phase ?? (errorCount > 0 ? "PartiallyFailed" : "Completed"),
                errors: errorCount,
                warnings: count,
                startTimestamp: at.start,
                completionTimestamp: end,
                progress: { itemsRestored: restored, totalItems: restored },
                // The DataDownloads are the restore's asynchronous item operations (`restore_controller.go`).
                ...(downloads.length > 0
                    ? {
                          restoreItemOperationsAttempted: downloads.length,
                          restoreItemOperationsCompleted: downloads.length - failedDownloads,
                          restoreItemOperationsFailed: failedDownloads,
                      }
                    : {}),
            },
        };
    }

    /** The backup's items a Restore's spec takes, namespaces mapped (`restore.go` include/exclude, label selector). */
    restoredItems(spec: KubeObject, backup: SimulatedBackup): KubeObject[] {
        const included = (spec.includedNamespaces ?? ["*"]) as string[];
        const everything = included.includes("*");
        const resources = (spec.includedResources ?? []) as string[];
        const excluded = (spec.excludedResources ?? []) as string[];
        const mapping = (spec.namespaceMapping ?? {}) as Record<string, string>;
        const selector = spec.labelSelector as { matchExpressions?: KubeObject[] } | undefined;
        const or = spec.orLabelSelectors as KubeObject[] | undefined;
        const selected = (o: KubeObject) => {
            const resource = RESOURCE_OF[String(o.kind)] ?? "";
            const labels = (o.metadata.labels ?? {}) as Record<string, string>;
            return (
                (resources.length === 0 || resources.includes(resource)) &&
                !excluded.includes(resource) &&
                (or === undefined
                    ? matchesExpressions(labels, selector)
                    : or.some((s) => matchesExpressions(labels, s)))
            );
        };
        const namespaced = backup.contents.filter(
            (o) =>
                o.metadata.namespace !== undefined && (everything || included.includes(String(o.metadata.namespace))),
        );
        // Cluster-scoped items (`getOrderedResourceCollection`): all of them when includeClusterResources is true or
        // every namespace is restored; none when it is false; else only the PVs of restored claims (the PVC action's
        // additional items).
        const claimed = new Set(
            namespaced.filter((o) => o.kind === "PersistentVolumeClaim").map((c) => String(c.spec?.volumeName)),
        );
        const cluster = backup.contents.filter(
            (o) =>
                o.metadata.namespace === undefined &&
                spec.includeClusterResources !== false &&
                (spec.includeClusterResources === true ||
                    everything ||
                    (o.kind === "PersistentVolume" && claimed.has(String(o.metadata.name)))),
        );
        return [...cluster, ...namespaced].filter(selected).map((o) => {
            const ns = o.metadata.namespace as string | undefined;
            return ns !== undefined && mapping[ns] !== undefined
                ? { ...o, metadata: { ...o.metadata, namespace: mapping[ns] } }
                : o;
        });
    }

    /**
     * Whether a backed-up PV is restored as an object (`restore.go` `restoreItem`, the PersistentVolumes case): one
     * whose data was snapshotted, moved or backed up through its pod, or whose reclaim policy is Delete, is not: its
     * claim is provisioned anew. Only a volume kept neither way, with Retain, is restored as it is.
     */
    static restoredAsIs(volume: KubeObject, backup: SimulatedBackup): boolean {
        const info = backup.volumeInfos.find((v) => v.pvName === volume.metadata.name);
        const method = String(info?.backupMethod ?? "");
        return (
            method === "NativeSnapshot" ||
            (method === "" && (volume.spec?.persistentVolumeReclaimPolicy ?? "Delete") !== "Delete")
        );
    }
}

/**
 * Whether an object in the cluster is the backed-up item as Velero compares them (`restore.go`: both through
 * `resetMetadataAndStatus`, the restore labels copied over, then `equality.Semantic.DeepEqual`): only name,
 * namespace, labels and annotations of the metadata count, and not the status.
 */
export function sameAsBackedUp(live: KubeObject, item: KubeObject): boolean {
    const strip = (o: KubeObject) => {
        const labels = { ...(o.metadata?.labels ?? {}) };
        delete labels["velero.io/restore-name"];
        delete labels["velero.io/backup-name"];
        const rest = { ...o };
        delete rest.status;
        return canonical({
            ...rest,
            metadata: {
                name: o.metadata?.name,
                namespace: o.metadata?.namespace,
                labels,
                annotations: o.metadata?.annotations ?? {},
            },
        });
    };
    return strip(live) === strip(item);
}

/** JSON with every object's keys sorted, for comparing. */
function canonical(v: unknown): string {
    if (Array.isArray(v)) {
        return `[${v.map(canonical).join(",")}]`;
    }
    if (v !== null && typeof v === "object") {
        return `{${Object.keys(v)
            .sort()
            .filter((k) => (v as KubeObject)[k] !== undefined)
            .map((k) => `${JSON.stringify(k)}:${canonical((v as KubeObject)[k])}`)
            .join(",")}}`;
    }
    return JSON.stringify(v);
}

function gzipBuffer(data: Buffer): Buffer {
    return zlib.gzipSync(data);
}
