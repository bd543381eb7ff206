// @ts-check
/**
 * The checks a recover or drill stack runs in the new cluster before it creates its Restore, once per restore (the
 * Job is named for it). Each guards against something a real cluster does that the Restore itself would not report
 * (velero v1.18.1):
 *
 * - Claims left by an earlier, failed restore of this stack. A failed DataDownload deletes only its helper pod and
 *   claim (`pkg/exposer/generic_restore.go` `CleanUp`); the target claim stays, Pending, with a
 *   `velero.io/dynamic-pv-restore` selector, and is never provisioned. The next Restore skips it ("PVC already
 *   exists", `pkg/restore/actions/csi/pvc_action.go`), which existingResourcePolicy `none` reports as a warning
 *   only. Claims that never bound hold no data: they are removed, once their Restore has ended; otherwise the task
 *   stops and names them.
 * - A newer backup that did not complete. `scheduleName` restores the newest *Completed* backup
 *   (`restore_controller.go` `mostRecentCompletedBackup`) and skips PartiallyFailed ones without a word: the task
 *   stops, naming the newer backups, their phases and the age of the one that would be restored, unless accepted.
 * - A named backup that is missing or not Completed: a Restore would end FailedValidation for good, or restore a
 *   PartiallyFailed backup silently.
 * - StorageClasses the restored claims need. The data mover's helper claim takes the target claim's class
 *   (`generic_restore.go` `createRestorePVC`); a class that comes from git does not exist yet (the root Application
 *   waits for the restore), so the helper claim would stay Pending until the item operation times out.
 * - In a drill, volumes restored as they are. A PersistentVolume that was neither snapshotted nor moved and keeps
 *   its data (Retain) is restored as-is (`restore.go` `handleSkippedPVHasRetainPolicy`), still pointing at the
 *   source's storage (static NFS, EFS): the drill quarantines them (components/restore/spec.ts) and lists their
 *   claims here.
 *
 * The result is written to the Job's own annotation (`gitops-dr.io/result`), which Pulumi returns with the Job's
 * outputs once it completed (pulumi-kubernetes `await.go` `Creation`); a failure is the container's termination
 * message, which the Job's await reports (`await/checker/pod/check.go` `containerTerminatedError`).
 */
"use strict";

const { createHash } = require("node:crypto");

const { backupObjects, download, untar } = require("./kube");

/** Every phase a Restore can end in (velero `pkg/apis/velero/v1/restore_types.go`). */
const TERMINAL_RESTORE_PHASES = ["Completed", "PartiallyFailed", "Failed", "FailedValidation"];
/** The label Velero puts on everything it restores (`pkg/restore/restore.go` `addRestoreLabels`). */
const RESTORE_NAME_LABEL = "velero.io/restore-name";
/** The selector label of a claim whose volume a DataDownload provisions (`pkg/util/kube/pvc_pv.go`). */
const DYNAMIC_PV_RESTORE_LABEL = "velero.io/dynamic-pv-restore";
/** The label of what a backup made, its PodVolumeBackups included (`pkg/apis/velero/v1/labels_annotations.go`). */
const BACKUP_NAME_LABEL = "velero.io/backup-name";
/** Restic's old record of a pod's backed-up volumes (velero v1.18.1 `pkg/podvolume/util.go`). */
const POD_SNAPSHOT_ANNOTATION_PREFIX = "snapshot.velero.io/";
/** The label a schedule's backups carry (`pkg/apis/velero/v1/labels_annotations.go`). */
const SCHEDULE_NAME_LABEL = "velero.io/schedule-name";

/**
 * @typedef {import("./kube").KubeApi} KubeApi
 * @typedef {import("./kube").KubeObject} KubeObject
 * @typedef {object} PreRestoreArgs
 * @property {string} veleroNamespace
 * @property {string} restoreName The Restore about to be created.
 * @property {string} restorePrefix Restores of this stack are named `<restorePrefix><id>`.
 * @property {string} [scheduleName] Restore the newest Completed backup of this schedule...
 * @property {string} [scheduleKey] ...which this config key names (for messages; default sourceScheduleName)
 * @property {Record<string, string>} [namespaceMappings] Where each backed-up namespace is restored to
 * @property {boolean} [restoresPods] false for a restore that never takes pods (the weekly verification): no vessel
 *   can fill a claim
 * @property {boolean} [restoresClaims] false for a restore of Secrets only (the credentials one): it leaves no claims
 *   behind, and must not take the data restore's claims, in flight or a retry's, for its own leftovers
 * @property {string} [backupName] ...or exactly this backup.
 * @property {boolean} [fromReplica] The source location reads the vault's replica, which may lack recent or old backups
 * @property {boolean} acceptOlderBackup
 * @property {boolean} acceptPartiallyFailedBackup
 * @property {Record<string, string>} storageClassMappings old class -> new class
 * @property {string[]} namespaces Restored namespaces; empty: all.
 * @property {boolean} quarantineRetainedVolumes A drill: list volumes restored as-is (they are quarantined).
 *
 * @typedef {object} BackupSummary
 * @property {string} name
 * @property {string} phase
 * @property {string} [startTimestamp]
 *
 * @typedef {object} PreRestoreResult
 * @property {BackupSummary} backup The backup the Restore will restore.
 * @property {BackupSummary[]} newerNotCompleted Newer backups of the schedule that did not complete (accepted).
 * @property {string[]} removedClaims Claims of an earlier restore that never bound, removed.
 * @property {string[]} storageClasses The classes the restored claims need, all present.
 * @property {{ claim: string, volume: string }[]} quarantinedClaims Volumes a drill quarantines, with their claims
 *   (`""` for a volume no backed-up claim uses).
 * @property {string[]} namespaces The namespaces the backup holds claims or Secrets of.
 * @property {string[]} claims The backup's claims, `namespace/name`.
 * @property {VesselPlan} vessels The pods the Restore takes back as vessels (components/restore/vessels.ts).
 * @property {{ claim: string, fate: "snapshot" | "as-is" }[]} withVolumeOnly The backup's claims whose data comes back
 *   only with their PersistentVolume: from a native snapshot, or the volume restored as it is (see `volumeFate`).
 *
 * @typedef {object} VesselPlan
 * @property {{ namespace: string, name: string, initContainers: string[], volumes: KubeObject[], keepsNodeConstraints: boolean }[]} withData
 *   Pods whose volumes hold file-system backup data: their own init containers, the volumes that hold data, and
 *   whether some node of this cluster meets their node constraints.
 * @property {{ namespace: string, name: string }[]} withoutData The other pods of the restored namespaces.
 */

/** A failure the task reports: its message is all `pulumi up` shows, so it says what to do. */
class TaskFailure extends Error {}

/**
 * @param {KubeObject} backup
 * @returns {BackupSummary}
 */
const summary = (backup) => ({
    name: backup.metadata.name,
    phase: backup.status?.phase ?? "",
    startTimestamp: backup.status?.startTimestamp,
});

/**
 * @param {string | undefined} from
 * @param {Date} now
 */
function age(from, now) {
    if (from === undefined) {
        return "of unknown age";
    }
    const hours = Math.max(0, (now.getTime() - Date.parse(from)) / 3600000);
    return hours < 48 ? `${Math.round(hours)} hours old` : `${Math.round(hours / 24)} days old`;
}

/**
 * Claims an earlier restore of this stack left unbound: removed when their Restore has ended, else a failure.
 * @param {KubeApi} api
 * @param {PreRestoreArgs} args
 * @returns {Promise<string[]>} the claims removed
 */
async function removeLeftoverClaims(api, args) {
    const claims = await api.list("/api/v1/persistentvolumeclaims", RESTORE_NAME_LABEL);
    const leftovers = claims.filter((c) => {
        const restore = c.metadata?.labels?.[RESTORE_NAME_LABEL] ?? "";
        return (
            restore !== args.restoreName &&
            restore.startsWith(args.restorePrefix) &&
            c.status?.phase !== "Bound" &&
            c.spec?.selector?.matchLabels?.[DYNAMIC_PV_RESTORE_LABEL] !== undefined
        );
    });
    /** @type {string[]} */
    const removed = [];
    /** @type {string[]} */
    const running = [];
    for (const claim of leftovers) {
        const id = `${claim.metadata.namespace}/${claim.metadata.name}`;
        const restoreName = claim.metadata.labels[RESTORE_NAME_LABEL];
        const restore = await api.get(`/apis/velero.io/v1/namespaces/${args.veleroNamespace}/restores/${restoreName}`);
        const phase = restore?.status?.phase ?? "";
        if (restore !== undefined && !TERMINAL_RESTORE_PHASES.includes(phase)) {
            running.push(`${id} (restore ${restoreName} is ${phase || "New"})`);
            continue;
        }
        await api.remove(
            `/api/v1/namespaces/${claim.metadata.namespace}/persistentvolumeclaims/${claim.metadata.name}`,
        );
        removed.push(`${id} (left Pending by restore ${restoreName})`);
    }
    if (running.length > 0) {
        throw new TaskFailure(
            `Claims of an earlier restore of this stack are still being restored: ${running.join(", ")}. ` +
                `Wait for that restore to end (velero restore get -n ${args.veleroNamespace}), then run pulumi up again.`,
        );
    }
    return removed;
}

/**
 * The backup the Restore will restore, checked; the newer ones that did not complete.
 * @param {KubeApi} api
 * @param {PreRestoreArgs} args
 * @returns {Promise<{ backup: BackupSummary, newerNotCompleted: BackupSummary[] }>}
 */
async function chooseBackup(api, args) {
    const ns = args.veleroNamespace;
    const describe = `velero backup describe <name> --details -n ${ns}`;
    // README, "When the vault's region is down": replication is asynchronous and never copies what was written
    // before it was switched on.
    const replica = args.fromReplica
        ? "The location reads the vault's replica, which holds only what replication has copied: not a backup taken minutes ago, nor one written before replication was on; restore an older one it has with gitops-dr:restoreBackupName. If it lists none at all, delete markers may hide them (replicated from the vault): README, \"When the vault's region is down\". "
        : "";
    if (args.backupName !== undefined) {
        const backup = await api.get(`/apis/velero.io/v1/namespaces/${ns}/backups/${args.backupName}`);
        const phase = backup?.status?.phase ?? "";
        if (backup === undefined) {
            throw new TaskFailure(
                `Backup ${args.backupName} is not in the cluster: Velero has not synced it from the bucket (is it under the source prefix? did it expire?). ` +
                    replica +
                    `List what is there: velero backup get -n ${ns}. No Restore was created.`,
            );
        }
        if (phase === "Completed" || (phase === "PartiallyFailed" && args.acceptPartiallyFailedBackup)) {
            return { backup: summary(backup), newerNotCompleted: [] };
        }
        const why =
            phase === "PartiallyFailed"
                ? "Some of its items failed to back up. To restore it anyway: `pulumi config set gitops-dr:acceptPartiallyFailedBackup true`."
                : "Only a Completed backup (or an accepted PartiallyFailed one) is restored.";
        throw new TaskFailure(
            `Backup ${args.backupName} is ${phase || "not ready"}. ${why} Read: \`${describe.replace("<name>", args.backupName)}\`. No Restore was created.`,
        );
    }
    const schedule = args.scheduleName ?? "";
    const backups = (
        await api.list(`/apis/velero.io/v1/namespaces/${ns}/backups`, `${SCHEDULE_NAME_LABEL}=${schedule}`)
    )
        .map(summary)
        // Newest first, as Velero orders them (`mostRecentCompletedBackup`: by status.startTimestamp).
        .sort((a, b) => Date.parse(b.startTimestamp ?? "0") - Date.parse(a.startTimestamp ?? "0"));
    const newest = backups.findIndex((b) => b.phase === "Completed");
    if (newest < 0) {
        throw new TaskFailure(
            `No Completed backup of schedule ${schedule} is in the cluster (${backups.length} backup${backups.length === 1 ? "" : "s"} of it: ` +
                `${backups.map((b) => `${b.name} ${b.phase || "no phase"}`).join(", ") || "none"}). ` +
                `Is gitops-dr:${args.scheduleKey ?? "sourceScheduleName"} the lost cluster's schedule, and is the source location's prefix right? ` +
                replica +
                `List: velero backup get -n ${ns}. ` +
                (args.scheduleKey === "sourceCredentialsScheduleName" && backups.length === 0
                    ? "A source that takes no credentials backups (a protect stack from before they existed): `pulumi config set gitops-dr:restoreCredentials false`. "
                    : "") +
                "No Restore was created.",
        );
    }
    const chosen = backups[newest];
    const newer = backups.slice(0, newest);
    if (newer.length > 0 && !args.acceptOlderBackup) {
        throw new TaskFailure(
            `The newest backup of schedule ${schedule} that Velero would restore, ${chosen.name}, is ${age(chosen.startTimestamp, api.now())}; ` +
                `${newer.length} newer backup${newer.length === 1 ? " did" : "s did"} not complete: ${newer.map((b) => `${b.name} (${b.phase || "no phase"})`).join(", ")}. ` +
                `Read why: \`${describe.replace("<name>", newer[0].name)}\` (a claim on a CSI driver without a VolumeSnapshotClass makes every backup PartiallyFailed). ` +
                `To restore ${chosen.name} anyway: \`pulumi config set gitops-dr:acceptOlderBackup true\`; to restore a newer one as it is: \`pulumi config set gitops-dr:restoreBackupName <name>\` with acceptPartiallyFailedBackup. No Restore was created.`,
        );
    }
    return { backup: chosen, newerNotCompleted: newer };
}

/**
 * Whether the restore takes a namespace.
 * @param {PreRestoreArgs} args
 * @param {string} namespace
 */
const restores = (args, namespace) => args.namespaces.length === 0 || args.namespaces.includes(namespace);

/**
 * Whether Velero restores a backed-up PV as it is, rather than provisioning a new volume for its claim
 * (velero v1.18.1 `pkg/restore/restore.go` `restoreItem`, the PersistentVolumes case): a volume whose data was
 * snapshotted natively comes back from its snapshot; one moved by the data mover or backed up through its pod, or
 * kept with no data and a Delete policy, is provisioned anew; one kept with no data and another policy is restored
 * as it is (`handleSkippedPVHasRetainPolicy`), still pointing at the source's storage.
 * @param {KubeObject} volume
 * @param {Map<string, KubeObject>} infos BackupVolumeInfos by PV name
 * @returns {"as-is" | "snapshot" | "provisioned"}
 */
function volumeFate(volume, infos) {
    const method = infos.get(volume.metadata.name)?.backupMethod ?? "";
    if (method === "NativeSnapshot") {
        return "snapshot";
    }
    if (method !== "") {
        return "provisioned";
    }
    return (volume.spec?.persistentVolumeReclaimPolicy ?? "Delete") === "Delete" ? "provisioned" : "as-is";
}

/**
 * The StorageClasses the restore needs: those of the claims whose volume is provisioned anew (the data mover's
 * helper claim takes the target claim's class, `pkg/exposer/generic_restore.go` `createRestorePVC`); a volume
 * restored as it is, or from a native snapshot, needs no class object. A failure names those the cluster lacks.
 * @param {KubeApi} api
 * @param {PreRestoreArgs} args
 * @param {Map<string, KubeObject>} claims the backup's claims
 * @param {Map<string, KubeObject>} volumes the backup's PVs
 * @param {Map<string, KubeObject>} infos BackupVolumeInfos by PV name
 * @returns {Promise<string[]>}
 */
async function checkStorageClasses(api, args, claims, volumes, infos) {
    /** @type {Map<string, string[]>} */
    const needed = new Map();
    for (const [id, claim] of claims) {
        const from = claim.spec?.storageClassName;
        const volume = volumes.get(claim.spec?.volumeName ?? "");
        if (
            typeof from !== "string" ||
            from === "" ||
            !restores(args, id.split("/")[0]) ||
            (volume !== undefined && volumeFate(volume, infos) !== "provisioned")
        ) {
            continue;
        }
        const to = args.storageClassMappings[from] ?? from;
        needed.set(to, [...(needed.get(to) ?? []), id]);
    }
    /** @type {string[]} */
    const missing = [];
    for (const [name, users] of needed) {
        if ((await api.get(`/apis/storage.k8s.io/v1/storageclasses/${name}`)) === undefined) {
            missing.push(`${name} (${users.length} claim${users.length === 1 ? "" : "s"}, e.g. ${users[0]})`);
        }
    }
    if (missing.length > 0) {
        throw new TaskFailure(
            `The restored claims need StorageClasses this cluster does not have: ${missing.join(", ")}. ` +
                "Classes that come from git are created only after the restore, so install them first (or the storage driver that brings them), " +
                "or map each to a class that exists: `pulumi config set --path 'gitops-dr:storageClassMappings[0]' <old>=<new>`. Then run pulumi up again. No Restore was created.",
        );
    }
    return [...needed.keys()].sort();
}

/**
 * Volumes the restore would bring back as they are, and their claims in the backup (a volume of no backed-up
 * claim has none). With every namespace restored, every PV of the backup comes back (`includeClusterResources`);
 * with some, only the restored claims' volumes.
 * @param {Map<string, KubeObject>} claims
 * @param {Map<string, KubeObject>} volumes
 * @param {Map<string, KubeObject>} infos
 * @param {PreRestoreArgs} args
 */
function retainedVolumes(claims, volumes, infos, args) {
    /** @type {Map<string, string>} volume -> claim */
    const claimOf = new Map();
    for (const [id, claim] of claims) {
        if (restores(args, id.split("/")[0]) && claim.spec?.volumeName) {
            claimOf.set(claim.spec.volumeName, id);
        }
    }
    /** @type {{ claim: string, volume: string }[]} */
    const found = [];
    for (const volume of volumes.values()) {
        const name = volume.metadata.name;
        const restored = args.namespaces.length === 0 || claimOf.has(name);
        if (restored && volumeFate(volume, infos) === "as-is") {
            found.push({ claim: claimOf.get(name) ?? "", volume: name });
        }
    }
    return found.sort((a, b) => a.volume.localeCompare(b.volume));
}

/**
 * Whether a node meets one node selector term: every expression on its labels, every field on its name (kubernetes
 * `k8s.io/component-helpers/scheduling/corev1/nodeaffinity`; a term with neither matches no node).
 * @param {KubeObject} node
 * @param {KubeObject} term
 */
function meetsTerm(node, term) {
    const expressions = term?.matchExpressions ?? [];
    const fields = term?.matchFields ?? [];
    if (expressions.length === 0 && fields.length === 0) {
        return false;
    }
    /** @type {(values: Record<string, string>, r: KubeObject) => boolean} */
    const meets = (values, r) => {
        const has = Object.prototype.hasOwnProperty.call(values, r.key);
        const value = values[r.key];
        const wanted = /** @type {string[]} */ (r.values ?? []);
        switch (r.operator) {
            case "In":
                return has && wanted.includes(value);
            case "NotIn":
                return !has || !wanted.includes(value);
            case "Exists":
                return has;
            case "DoesNotExist":
                return !has;
            case "Gt":
                return has && Number.parseInt(value, 10) > Number.parseInt(wanted[0], 10);
            case "Lt":
                return has && Number.parseInt(value, 10) < Number.parseInt(wanted[0], 10);
            default:
                return false;
        }
    };
    const labels = node.metadata?.labels ?? {};
    return (
        expressions.every((/** @type {KubeObject} */ r) => meets(labels, r)) &&
        fields.every((/** @type {KubeObject} */ r) => meets({ "metadata.name": node.metadata?.name }, r))
    );
}

/**
 * Whether some node carries what a pod's `nodeSelector` and required node affinity ask for (the scheduler's
 * NodeAffinity filter; taints are left to the pod's tolerations, which vessels keep).
 * @param {KubeObject} pod
 * @param {KubeObject[]} nodes
 */
function fitsSomeNode(pod, nodes) {
    const selector = /** @type {Record<string, string>} */ (pod.spec?.nodeSelector ?? {});
    const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
    return nodes.some(
        (n) =>
            Object.entries(selector).every(([k, v]) => n.metadata?.labels?.[k] === v) &&
            (terms === undefined || terms.some((/** @type {KubeObject} */ t) => meetsTerm(n, t))),
    );
}

/** Init containers Velero removes from a restored pod before it adds its own (components/restore/vessels.ts). */
const VELERO_INIT_CONTAINERS = ["restore-wait", "restic-wait"];

/**
 * A name as Velero puts it in a label value (velero v1.18.1 `pkg/label/label.go` `GetValidName`): as it is up to 63
 * characters, else its first 57 and the first 6 hex digits of its SHA-256.
 * @param {string} name
 */
function labelValue(name) {
    return name.length <= 63 ? name : name.slice(0, 57) + createHash("sha256").update(name).digest("hex").slice(0, 6);
}

/**
 * The backup's PodVolumeBackups, as the restore controller lists them: in Velero's namespace, labelled with the
 * backup's name (`restore_controller.go` `runValidatedRestore`; the sync controller brings them from the bucket into
 * a new cluster, `backup_sync_controller.go`).
 * @param {KubeApi} api
 * @param {PreRestoreArgs} args
 * @param {string} backupName
 */
function podVolumeBackups(api, args, backupName) {
    return api.list(
        `/apis/velero.io/v1/namespaces/${args.veleroNamespace}/podvolumebackups`,
        `${BACKUP_NAME_LABEL}=${labelValue(backupName)}`,
    );
}

/**
 * The volumes of a backed-up pod Velero restores file-system backup data into, so the ones whose claims a vessel
 * fills (velero v1.18.1 `pkg/podvolume/util.go` `getVolumeBackupInfoForPod`, which `PodVolumeRestoreAction` and the
 * restorer both use): its PodVolumeBackups, matched by the pod's name and namespace in the backup, that have a
 * snapshot ID (Velero does not look at their phase; an empty volume or a failed one has none), except a projected or
 * downward API volume; when there are none, the volumes its `snapshot.velero.io/<volume>` annotations name.
 * BackupVolumeInfos is not what Velero reads here, so it is not what decides.
 * @param {KubeObject} pod
 * @param {string} namespace the pod's namespace in the backup
 * @param {KubeObject[]} pvbs
 * @returns {Set<string>}
 */
function volumesWithData(pod, namespace, pvbs) {
    const volumes = /** @type {KubeObject[]} */ (pod.spec?.volumes ?? []);
    /** @type {(name: string) => boolean} */
    const restorable = (name) => {
        const v = volumes.find((x) => x.name === name);
        return v?.projected === undefined && v?.downwardAPI === undefined;
    };
    const fromBackups = pvbs
        .filter(
            (p) =>
                p.spec?.pod?.name === pod.metadata?.name &&
                p.spec?.pod?.namespace === namespace &&
                typeof p.status?.snapshotID === "string" &&
                p.status.snapshotID !== "" &&
                restorable(p.spec?.volume),
        )
        .map((p) => String(p.spec.volume));
    if (fromBackups.length > 0) {
        return new Set(fromBackups);
    }
    return new Set(
        Object.keys(pod.metadata?.annotations ?? {})
            .filter((k) => k.startsWith(POD_SNAPSHOT_ANNOTATION_PREFIX))
            .map((k) => k.slice(POD_SNAPSHOT_ANNOTATION_PREFIX.length)),
    );
}

/**
 * The pods the Restore would take back, from the backup: those of the restored namespaces that Velero restores
 * (not completed ones: `restore.go` `isCompleted`), split by whether Velero restores file-system backup data into
 * one of their volumes ({@link volumesWithData}).
 * @param {Map<string, KubeObject>} pods the backup's pods
 * A pod with data keeps its node constraints when some node of this cluster meets them ({@link fitsSomeNode}).
 * @param {KubeObject[]} pvbs the backup's PodVolumeBackups
 * @param {PreRestoreArgs} args
 * @param {KubeObject[]} nodes this cluster's nodes
 * @returns {VesselPlan}
 */
function vesselPlan(pods, pvbs, args, nodes) {
    /** @type {VesselPlan} */
    const plan = { withData: [], withoutData: [] };
    for (const [id, pod] of [...pods].sort(([a], [b]) => a.localeCompare(b))) {
        const [namespace, name] = id.split("/");
        const phase = pod.status?.phase;
        if (!restores(args, namespace) || phase === "Succeeded" || phase === "Failed") {
            continue;
        }
        const volumes = volumesWithData(pod, namespace, pvbs);
        if (volumes.size === 0) {
            plan.withoutData.push({ namespace, name });
            continue;
        }
        plan.withData.push({
            namespace,
            name,
            keepsNodeConstraints: fitsSomeNode(pod, nodes),
            initContainers: (pod.spec?.initContainers ?? [])
                .map((/** @type {KubeObject} */ c) => c.name)
                .filter((/** @type {string} */ n) => !VELERO_INIT_CONTAINERS.includes(n)),
            // A share the pod mounts directly (an inline `nfs` volume) is live storage, not a claim the restore
            // made: the node agent would write the backup over it (kopia's restore overwrites, velero v1.18.1
            // pkg/uploader/kopia/snapshot.go). It becomes an emptyDir of the same name, which restore-wait still
            // finds, so that data goes nowhere.
            volumes: (pod.spec?.volumes ?? [])
                .filter((/** @type {KubeObject} */ v) => volumes.has(v.name))
                .map((/** @type {KubeObject} */ v) =>
                    v.persistentVolumeClaim === undefined ? { name: v.name, emptyDir: {} } : v,
                ),
        });
    }
    return plan;
}

/**
 * Refuses a vessel that would mount a claim that already exists where the restore puts it (a namespace restored
 * into a live one): Velero keeps the live claim ("already exists") but still fills the vessel's volumes, and the
 * node agent would write the backup over live data while the app runs.
 * @param {KubeApi} api
 * @param {VesselPlan} vessels
 * @param {PreRestoreArgs} args
 */
async function refuseLiveClaimsInVessels(api, vessels, args) {
    /** @type {string[]} */
    const live = [];
    for (const pod of vessels.withData) {
        const target = args.namespaceMappings?.[pod.namespace] ?? pod.namespace;
        for (const volume of pod.volumes) {
            const claim = volume.persistentVolumeClaim?.claimName;
            if (
                claim !== undefined &&
                (await api.get(`/api/v1/namespaces/${target}/persistentvolumeclaims/${claim}`))
            ) {
                live.push(`${target}/${claim} (pod ${pod.namespace}/${pod.name})`);
            }
        }
    }
    if (live.length > 0) {
        throw new TaskFailure(
            `The restore would write file-system backup data into claims that already exist: ${live.slice(0, 20).join(", ")}. ` +
                "Velero keeps a live claim but still fills it through the restored pod, over the data in it. " +
                "Delete those claims first if the backup's data is what you want (kubectl delete pvc -n <namespace> <name>), " +
                "or restore into another namespace (gitops-dr:restoreNamespaceMappings). No Restore was created.",
        );
    }
}

/**
 * Runs every check; throws a {@link TaskFailure} with what to do when one fails.
 * @param {KubeApi} api
 * @param {PreRestoreArgs} args
 * @returns {Promise<PreRestoreResult>}
 */
async function preRestore(api, args) {
    const removedClaims = args.restoresClaims === false ? [] : await removeLeftoverClaims(api, args);
    const { backup, newerNotCompleted } = await chooseBackup(api, args);
    const files = untar(await download(api, args.veleroNamespace, "BackupContents", backup.name));
    const claims = backupObjects(files, "persistentvolumeclaims");
    const volumes = backupObjects(files, "persistentvolumes");
    /** @type {KubeObject[]} */
    const volumeInfos =
        JSON.parse((await download(api, args.veleroNamespace, "BackupVolumeInfos", backup.name)).toString("utf8")) ??
        [];
    const infos = new Map(volumeInfos.map((v) => [v.pvName, v]));
    const storageClasses = await checkStorageClasses(api, args, claims, volumes, infos);
    const quarantinedClaims = args.quarantineRetainedVolumes ? retainedVolumes(claims, volumes, infos, args) : [];
    const namespaces = [
        ...new Set([...claims.keys(), ...backupObjects(files, "secrets").keys()].map((k) => k.split("/")[0])),
    ].sort();
    const pods = backupObjects(files, "pods");
    // Nodes matter only to vessels; the weekly verification restores no pods and may not list nodes.
    const nodes = args.restoresPods === false || pods.size === 0 ? [] : await api.list("/api/v1/nodes");
    const pvbs = pods.size === 0 ? [] : await podVolumeBackups(api, args, backup.name);
    const vessels = vesselPlan(pods, pvbs, args, nodes);
    if (args.restoresPods !== false) {
        await refuseLiveClaimsInVessels(api, vessels, args);
    }
    /** @type {{ claim: string, fate: "snapshot" | "as-is" }[]} */
    const withVolumeOnly = [];
    for (const [id, claim] of [...claims].sort(([a], [b]) => a.localeCompare(b))) {
        const volume = volumes.get(claim.spec?.volumeName ?? "");
        const fate = volume === undefined ? "provisioned" : volumeFate(volume, infos);
        if (fate !== "provisioned") {
            withVolumeOnly.push({ claim: id, fate });
        }
    }
    return {
        backup,
        newerNotCompleted,
        removedClaims,
        withVolumeOnly,
        storageClasses,
        quarantinedClaims,
        namespaces,
        claims: [...claims.keys()].sort(),
        vessels,
    };
}

module.exports = {
    TaskFailure,
    preRestore,
    fitsSomeNode,
    labelValue,
    volumesWithData,
    TERMINAL_RESTORE_PHASES,
    RESTORE_NAME_LABEL,
    DYNAMIC_PV_RESTORE_LABEL,
};
