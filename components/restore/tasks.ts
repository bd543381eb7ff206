/**
 * The tasks around a restore (components/tasks/pre-restore.js, post-restore.js): their results as TypeScript sees
 * them and the permissions each needs, nothing more.
 */
import type { PolicyRule } from "../tasks";
import type { VesselPlan } from "./vessels";

/** A backup as the pre-restore task reports it. */
export interface BackupSummary {
    readonly name: string;
    readonly phase: string;
    readonly startTimestamp?: string;
}

/** What the pre-restore task returns (pre-restore.js `PreRestoreResult`). */
export interface PreRestoreResult {
    readonly backup: BackupSummary;
    readonly newerNotCompleted: readonly BackupSummary[];
    readonly removedClaims: readonly string[];
    readonly storageClasses: readonly string[];
    readonly quarantinedClaims: readonly { readonly claim: string; readonly volume: string }[];
    /** The namespaces the backup holds claims or Secrets of. */
    readonly namespaces: readonly string[];
    /** The backup's claims, `namespace/name`. */
    readonly claims: readonly string[];
    /** The pods the Restore takes back as vessels for file-system backup data. */
    readonly vessels: VesselPlan;
    /** The claims whose data comes back only with their PersistentVolume (a native snapshot, or as it is). */
    readonly withVolumeOnly: readonly { readonly claim: string; readonly fate: "snapshot" | "as-is" }[];
}

/** What the post-restore task returns (post-restore.js `PostRestoreResult`). */
export interface PostRestoreResult {
    readonly warnings: readonly string[];
    /** Items an earlier attempt of this stack restored, kept as they are (claims Bound). */
    readonly retried: readonly string[];
    readonly claims: number;
    readonly quarantinedClaims: readonly string[];
    /** Claims file-system backup data was restored into, through a vessel. */
    readonly filledClaims: readonly string[];
    /** Vessels deleted once the restore ended. */
    readonly removedVessels: readonly string[];
    /** What the restore's DataDownloads report (post-restore.js `DataMovement`). */
    readonly dataMovement: DataMovement;
}

/** What a restore's DataDownloads report: counts, bytes (`status.progress`), first start and last end. */
export interface DataMovement {
    readonly volumes: number;
    readonly completed: number;
    readonly failed: number;
    readonly totalBytes: number;
    readonly bytesDone: number;
    readonly startTimestamp?: string;
    readonly completionTimestamp?: string;
}

/** Reading what Velero keeps in the bucket: a DownloadRequest, created, read and deleted by the task. */
const DOWNLOADS: PolicyRule = {
    apiGroups: ["velero.io"],
    resources: ["downloadrequests"],
    verbs: ["create", "get", "delete"],
};

/**
 * The pre-restore task: read backups and restores, download a backup's contents; list claims and delete those an
 * earlier restore left unbound (Kubernetes RBAC cannot narrow a delete by label: the task deletes only Pending claims
 * labelled by an ended restore of this stack); read StorageClasses; list nodes and the backup's PodVolumeBackups.
 */
export const PRE_RESTORE_RULES: { readonly clusterRules: PolicyRule[]; readonly namespaceRules: PolicyRule[] } = {
    clusterRules: [
        { apiGroups: [""], resources: ["persistentvolumeclaims"], verbs: ["list", "delete"] },
        { apiGroups: ["storage.k8s.io"], resources: ["storageclasses"], verbs: ["get"] },
        // Whether a vessel keeps its node constraints: some node must meet them (pre-restore.js `fitsSomeNode`).
        { apiGroups: [""], resources: ["nodes"], verbs: ["list"] },
    ],
    namespaceRules: [
        { apiGroups: ["velero.io"], resources: ["backups"], verbs: ["get", "list"] },
        { apiGroups: ["velero.io"], resources: ["restores"], verbs: ["get"] },
        // Which pods' volumes get file-system backup data (pre-restore.js `volumesWithData`).
        { apiGroups: ["velero.io"], resources: ["podvolumebackups"], verbs: ["list"] },
        DOWNLOADS,
    ],
};

/**
 * The post-restore task: read its Restore, download the restore's results; list claims, and read the claims and
 * volumes a warning names (an earlier attempt's); list the restore's DataDownloads for their progress; read its
 * PodVolumeRestores and delete its vessels (Kubernetes RBAC cannot narrow a delete by label: the task deletes only
 * pods labelled as this restore's vessels).
 */
export const POST_RESTORE_RULES: { readonly clusterRules: PolicyRule[]; readonly namespaceRules: PolicyRule[] } = {
    clusterRules: [
        { apiGroups: [""], resources: ["persistentvolumeclaims"], verbs: ["get", "list"] },
        { apiGroups: [""], resources: ["persistentvolumes"], verbs: ["get"] },
        { apiGroups: [""], resources: ["pods"], verbs: ["list", "delete"] },
    ],
    namespaceRules: [
        { apiGroups: ["velero.io"], resources: ["restores"], verbs: ["get"] },
        { apiGroups: ["velero.io"], resources: ["podvolumerestores"], verbs: ["list"] },
        { apiGroups: ["velero.io"], resources: ["datadownloads"], verbs: ["list"] },
        DOWNLOADS,
    ],
};
