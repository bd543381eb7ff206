/** The spec of a backup Schedule (fields from ../shared/reference/velero-1.18-crds/schedules.yaml). */
import type { BackupTier } from "../config";
import { BACKED_UP_RESOURCES, SYSTEM_NAMESPACES, VERIFY_SCRATCH_NAMESPACES, WRITE_LOCATION } from "./names";
import type { VeleroValuesInput } from "./values";
import { SEALING_KEY_LABEL } from "./credentials";
import { VOLUME_POLICY_CONFIGMAP } from "./volume-policy";

/** Namespaces every data schedule excludes; the verification's scratch namespaces last. */
export function excludedNamespaces(
    input: Pick<VeleroValuesInput, "namespace" | "argoCdNamespace" | "excludedNamespaces">,
): string[] {
    return [
        ...new Set([
            ...SYSTEM_NAMESPACES,
            input.namespace,
            input.argoCdNamespace,
            ...input.excludedNamespaces,
            VERIFY_SCRATCH_NAMESPACES,
        ]),
    ];
}

/**
 * What the data backups and their restores leave out by label. Helm release Secrets (`owner: helm`, one per
 * release revision) are not persistent data: they describe what Argo CD and Pulumi install again. Sealed Secrets'
 * sealing keys belong to the credentials backup alone (components/velero/credentials.ts): a controller outside the
 * excluded namespaces would otherwise have its key in both, restored twice with different annotations (the data
 * Restore marks Secrets for Sealed Secrets to take over), and the second Restore would warn "already exists".
 * `NotIn` and `DoesNotExist` match every object without the label (Kubernetes label selector semantics), so PVs,
 * PVCs and other Secrets are unaffected.
 */
export const DATA_SELECTOR = {
    matchExpressions: [
        { key: "owner", operator: "NotIn", values: ["helm"] },
        { key: SEALING_KEY_LABEL, operator: "DoesNotExist" },
    ],
} as const;

/** Whether backups include pods: for their hooks (consistentBackups) or for file-system backup. */
export function withPods(input: Pick<VeleroValuesInput, "consistentBackups" | "fileSystemBackupVolumeTypes">): boolean {
    return input.consistentBackups === true || (input.fileSystemBackupVolumeTypes ?? []).length > 0;
}

/**
 * The spec of one tier's `velero.io/v1 Schedule` (fields from ../shared/reference/velero-1.18-crds/schedules.yaml).
 * Schedules are Pulumi resources rather than chart values so that a recovered cluster's schedules can wait for
 * its restore to end (a new Schedule backs up at its next cron tick, velero `schedule_controller.go`
 * `getNextRunTime`, which could fall in the middle of a restore).
 */
export function scheduleSpec(
    tier: BackupTier,
    input: Pick<
        VeleroValuesInput,
        | "namespace"
        | "argoCdNamespace"
        | "excludedNamespaces"
        | "volumeDataMode"
        | "consistentBackups"
        | "fileSystemBackupVolumeTypes"
        | "dataPath"
    >,
): Record<string, unknown> {
    return {
        schedule: tier.cron,
        useOwnerReferencesInBackup: false,
        template: {
            ttl: tier.ttl,
            storageLocation: WRITE_LOCATION,
            // Pods make the backup consistent: Velero runs a pod's backup hooks only when the backup includes the
            // pod (velero docs "Backup Hooks"; pkg/backup/item_backupper.go), freezing or flushing the app
            // around its volumes' snapshots. File-system backup needs them whatever consistentBackups says: it reads
            // a volume through a running pod that mounts it and only when the backup includes that pod
            // (pkg/podvolume/backupper.go). Restores take pods only as inert vessels for that data
            // (components/restore/vessels.ts).
            includedResources: withPods(input) ? [...BACKED_UP_RESOURCES, "pods"] : [...BACKED_UP_RESOURCES],
            // PersistentVolumes are cluster-scoped; includedResources keeps every other cluster kind out.
            includeClusterResources: true,
            excludedNamespaces: excludedNamespaces(input),
            labelSelector: DATA_SELECTOR,
            snapshotVolumes: true,
            // With the data mover the snapshot's data is copied by kopia into the locked bucket. Limiting the
            // backup to PVs, PVCs and Secrets does not stop that: the CSI PVC action creates the DataUpload
            // itself and marks it must-include (velero pkg/backup/actions/csi/pvc_action.go, Execute;
            // pkg/backup/item_backupper.go, itemInclusionChecks).
            snapshotMoveData: input.volumeDataMode === "dataMover",
            defaultVolumesToFsBackup: false,
            resourcePolicy: { kind: "configmap", name: VOLUME_POLICY_CONFIGMAP },
            ...(input.volumeDataMode === "nativeSnapshots" ? { volumeSnapshotLocations: ["default"] } : {}),
            // Files kopia reads at once per volume; unset, the node's CPU count (README "Recovery time"). The
            // data mover gets it through each DataUpload's dataMoverConfig (velero v1.18.1
            // pkg/backup/actions/csi/pvc_action.go); a file-system backup reads it from the backup too.
            ...(input.dataPath === undefined
                ? {}
                : { uploaderConfig: { parallelFilesUpload: input.dataPath.parallelFilesUpload } }),
        },
    };
}
