/** The Restore's spec. */
import { RESTORE_TIMEOUT_MARGIN_MINUTES, RestoreSettings } from "../config";
import { BACKED_UP_RESOURCES, DATA_SELECTOR } from "../velero";
import { credentialSelectors } from "../velero/credentials";

/**
 * The Restore annotation that bounds its pod volume restores, the file-system backup data vessels carry (velero
 * v1.18.1 `pkg/apis/velero/v1/labels_annotations.go` `PodVolumeOperationTimeoutAnnotation`).
 */
export const POD_VOLUME_TIMEOUT_ANNOTATION = "velero.io/pod-volume-timeout";

/**
 * The data Restore's annotations for Velero: its pod volume timeout. Without it the server's `--fs-backup-timeout`
 * applies (4h, `pkg/cmd/server/config/config.go`), whatever `restoreTimeoutMinutes` says: a big file-system backup
 * volume would be cut off at 4h even with a longer wait configured. Velero reads it as a Go duration when the
 * restore starts and bounds, from then, the whole wait for the pods' PodVolumeRestores (`pkg/restore/restore.go`
 * `Restore`; `pkg/podvolume/restorer.go` `RestorePodVolumes`: "timed out waiting for all PodVolumeRestores to
 * complete", a Velero-level error, so the Restore ends PartiallyFailed). A vessel that is never scheduled is only
 * logged after 10 minutes (`restorer.go`), so this timeout is also what ends a stuck one. It is the same bound as
 * `itemOperationTimeout` (the data mover's), so the Restore ends, failed loudly, a margin before Pulumi stops waiting.
 */
export function restoreAnnotations(settings: Pick<RestoreSettings, "restoreTimeoutMinutes">): Record<string, string> {
    return { [POD_VOLUME_TIMEOUT_ANNOTATION]: `${settings.restoreTimeoutMinutes - RESTORE_TIMEOUT_MARGIN_MINUTES}m` };
}

/** The Restore's spec (fields from ../shared/reference/velero-1.18-crds/restores.yaml). */
export function restoreSpec(
    settings: RestoreSettings,
    source: { scheduleName: string },
    /** A resource-modifier ConfigMap in the Restore's namespace (modifiers.ts). Defaults to none. */
    resourceModifier?: string,
    /**
     * Take the backup's pods too, as vessels for file-system backup data (vessels.ts; the modifiers must make them
     * inert). Defaults to `false`.
     */
    withPods = false,
    /** Files kopia writes at once per restored volume. Defaults to Velero's: the node's CPU count. */
    parallelFilesDownload?: number,
): Record<string, unknown> {
    return {
        // scheduleName: Velero takes the newest Completed backup carrying that velero.io/schedule-name label
        // (restore_controller.go, mostRecentCompletedBackup). The name is the lost cluster's own Schedule
        // (<clusterName>-daily), so a recovered cluster's new backups can never match it.
        ...(settings.backupName !== undefined
            ? { backupName: settings.backupName }
            : { scheduleName: source.scheduleName }),
        includedNamespaces: settings.namespaces.length > 0 ? [...settings.namespaces] : ["*"],
        ...(Object.keys(settings.namespaceMappings).length > 0
            ? { namespaceMapping: { ...settings.namespaceMappings } }
            : {}),
        includedResources: withPods ? [...BACKED_UP_RESOURCES, "pods"] : [...BACKED_UP_RESOURCES],
        // All namespaces: every PV of the backup. Some namespaces: left unset, so that only the PVs of the restored
        // claims come back (their PVC action returns them as additional items). `true` would restore every PV of the
        // backup, other namespaces' too (velero v1.18.1 pkg/restore/restore.go, the cluster-scoped checks of
        // `getOrderedResourceCollection`): into a live cluster, warnings for volumes that exist.
        ...(settings.namespaces.length === 0 ? { includeClusterResources: true } : {}),
        labelSelector: DATA_SELECTOR,
        restorePVs: true,
        // Never overwrite what exists: a live object always wins over the backup's copy.
        existingResourcePolicy: "none",
        itemOperationTimeout: `${settings.restoreTimeoutMinutes - RESTORE_TIMEOUT_MARGIN_MINUTES}m`,
        ...(resourceModifier === undefined ? {} : { resourceModifier: { kind: "configmap", name: resourceModifier } }),
        // Copied into each DataDownload's dataMoverConfig (velero v1.18.1 pkg/restore/actions/csi/pvc_action.go
        // `newDataDownload`), which kopia's restore takes as its parallelism (pkg/uploader/kopia/snapshot.go).
        ...(parallelFilesDownload === undefined ? {} : { uploaderConfig: { parallelFilesDownload } }),
    };
}

/**
 * The spec of the Restore of a source's credentials Schedule (components/velero/credentials.ts): its Secrets, in
 * every namespace, by the same selectors as the backup; a drill leaves Argo CD's cluster credentials out.
 */
export function credentialsRestoreSpec(
    settings: RestoreSettings,
    scheduleName: string,
    forDrill: boolean,
    resourceModifier: string,
): Record<string, unknown> {
    return {
        scheduleName,
        includedNamespaces: ["*"],
        includedResources: ["secrets"],
        includeClusterResources: false,
        orLabelSelectors: credentialSelectors(forDrill),
        existingResourcePolicy: "none",
        itemOperationTimeout: `${settings.restoreTimeoutMinutes - RESTORE_TIMEOUT_MARGIN_MINUTES}m`,
        resourceModifier: { kind: "configmap", name: resourceModifier },
    };
}

/**
 * The spec of a verification Restore (components/verify), without the backup and namespaces its task fills in:
 * what a data restore takes, without PersistentVolumes. A claim's data then comes back only through the data mover,
 * into a volume provisioned for the scratch claim; a PV restored as it is (native snapshot, static NFS/EFS) would
 * name live storage, which a restore into the running cluster must never do.
 */
export function verificationRestoreSpec(restoreTimeoutMinutes: number): Record<string, unknown> {
    return {
        includedResources: BACKED_UP_RESOURCES.filter((r) => r !== "persistentvolumes"),
        labelSelector: DATA_SELECTOR,
        restorePVs: true,
        existingResourcePolicy: "none",
        itemOperationTimeout: `${restoreTimeoutMinutes - RESTORE_TIMEOUT_MARGIN_MINUTES}m`,
    };
}
