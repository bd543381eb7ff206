/**
 * How Velero v1.18.1 keeps each claim's data in a scheduled backup, as BackupVolumeInfos records it
 * (`internal/volume/volumes_information.go`): the volume policy's first matching rule decides between file-system
 * backup and a snapshot (`internal/volumehelper`), then each path succeeds, fails or skips the way the backup code
 * does. This is where the simulated source cluster's backups come from when a test needs a claim without data:
 * a hostPath volume, a file-system backup volume no running pod mounts, a PodVolumeBackup that failed, a CSI
 * volume without a VolumeSnapshotClass, a snapshot that was not moved into the vault.
 */
import { DATA_BYTES_PER_CLAIM, backupContents, defaultScheduleTemplate, scheduledBackupName } from "./scenario";
import type { KubeObject } from "./store";
import type { SimulatedBackup } from "./velero";

/** What decides each volume's fate in a backup. */
export interface BackupVolumeSettings {
    /** Volume types the policy sends to file-system backup (components/velero/volume-policy.ts). */
    readonly fileSystemBackupVolumeTypes: readonly string[];
    /** `snapshotMoveData` of the Schedule's template: true with volumeDataMode dataMover. */
    readonly snapshotMoveData: boolean;
    /** CSI drivers that have a VolumeSnapshotClass Velero can resolve. */
    readonly snapshotClassDrivers: readonly string[];
    /** PodVolumeBackups that fail (`namespace/pod/volume`). */
    readonly failedPodVolumes?: readonly string[];
}

/**
 * A PV's type as the volume policy names it (`internal/resourcepolicies/volume_types_conditions.go`
 * `getVolumeTypeFromPV`: the field of the PV's source that is set).
 */
export function volumeTypeOf(pv: KubeObject): string {
    const source = Object.keys(pv.spec ?? {}).find((k) =>
        ["csi", "local", "hostPath", "nfs", "awsElasticBlockStore", "iscsi", "fc", "rbd", "cephfs"].includes(k),
    );
    return source ?? "unknown";
}

/** The running pod of the backup that mounts a claim, and the pod volume's name (`pkg/podvolume/backupper.go`). */
function mountingPod(pods: readonly KubeObject[], namespace: string, claim: string): [KubeObject, string] | undefined {
    for (const pod of pods) {
        if (pod.metadata.namespace !== namespace || pod.status?.phase !== "Running") {
            continue;
        }
        const volume = ((pod.spec?.volumes ?? []) as KubeObject[]).find(
            (v) => v.persistentVolumeClaim?.claimName === claim,
        );
        const mounted = ((pod.spec?.containers ?? []) as KubeObject[]).some((c) =>
            ((c.volumeMounts ?? []) as KubeObject[]).some((m) => m.name === volume?.name),
        );
        if (volume !== undefined && mounted) {
            return [pod, String(volume.name)];
        }
    }
    return undefined;
}

/**
 * Each backed-up claim's BackupVolumeInfos entry, the backup's warnings and its phase. A claim whose CSI snapshot
 * failed (no VolumeSnapshotClass Velero would select: the CSI PVC action's error, `pkg/backup/actions/csi/
 * pvc_action.go` `createVolumeSnapshot`) has no entry and is itself dropped from the backup's contents: an action's
 * error ends the item before it is written (`pkg/backup/item_backupper.go` `backupItemInternal`, v1.18.1), and the
 * backup ends PartiallyFailed. Its PV, backed up on its own, stays, its `claimRef` naming the missing claim.
 */
export function backUpVolumes(
    contents: readonly KubeObject[],
    settings: BackupVolumeSettings,
): { volumeInfos: KubeObject[]; warnings: string[]; errors: string[]; droppedClaims: string[] } {
    const pods = contents.filter((o) => o.kind === "Pod");
    const volumes = new Map(
        contents.filter((o) => o.kind === "PersistentVolume").map((v) => [String(v.metadata.name), v]),
    );
    const volumeInfos: KubeObject[] = [];
    const warnings: string[] = [];
    const errors: string[] = [];
    const droppedClaims: string[] = [];
    const claims = contents.filter((o) => o.kind === "PersistentVolumeClaim" && o.spec?.volumeName);
    claims.forEach((claim, i) => {
        const namespace = String(claim.metadata.namespace);
        const name = String(claim.metadata.name);
        const pv = volumes.get(String(claim.spec.volumeName));
        if (pv === undefined) {
            return;
        }
        const type = volumeTypeOf(pv);
        const base = { pvcName: name, pvcNamespace: namespace, pvName: pv.metadata.name };
        // As `SkippedPV.SerializeSkipReasons` writes it (`pkg/backup/pv_skip_tracker.go`): `<approach>: <reason>;`.
        const skipped = (reason: string) => ({
            ...base,
            snapshotDataMoved: false,
            skipped: true,
            skippedReason: `volumeSnapshot: ${reason};`,
        });
        if (settings.fileSystemBackupVolumeTypes.includes(type)) {
            // The fs-backup rule: ShouldPerformSnapshot is false, so the PV is tracked as skipped
            // (`item_backupper.go` `takePVSnapshot`) until a PodVolumeBackup of a pod mounting it untracks it.
            const mounting = mountingPod(pods, namespace, name);
            if (mounting === undefined) {
                volumeInfos.push(skipped("not satisfy the criteria for VolumePolicy or the legacy snapshot way"));
                return;
            }
            const [pod, volume] = mounting;
            const failed = (settings.failedPodVolumes ?? []).includes(`${namespace}/${pod.metadata.name}/${volume}`);
            if (failed) {
                errors.push(`pod volume backup failed: ${namespace}/${String(pod.metadata.name)}/${volume}`);
            }
            volumeInfos.push({
                ...base,
                backupMethod: "PodVolumeBackup",
                snapshotDataMoved: false,
                skipped: false,
                result: failed ? "failed" : "succeeded",
                pvbInfo: {
                    uploaderType: "kopia",
                    volumeName: volume,
                    podName: pod.metadata.name,
                    podNamespace: namespace,
                    Phase: failed ? "Failed" : "Completed",
                    ...(failed ? {} : { size: (i + 1) * DATA_BYTES_PER_CLAIM }),
                },
            });
            return;
        }
        // The catch-all snapshot rule.
        if (type !== "csi") {
            // A non-CSI volume falls back to a native snapshot, for which no volume snapshotter applies
            // (`item_backupper.go` `takePVSnapshot`); with snapshotMoveData Velero warns twice first.
            if (settings.snapshotMoveData) {
                warnings.push("VolumeSnapshotter plugin doesn't support data movement.");
                warnings.push(
                    "Cannot use CSI data mover to handle PV, because PV doesn't contain CSI in spec. Fall back to Velero native snapshot.",
                );
            }
            volumeInfos.push(skipped("no applicable volumesnapshotter found"));
            return;
        }
        const driver = String(pv.spec.csi.driver);
        if (!settings.snapshotClassDrivers.includes(driver)) {
            errors.push(`failed to get VolumeSnapshotClass for StorageClass ${String(claim.spec.storageClassName)}`);
            droppedClaims.push(`${namespace}/${name}`);
            return;
        }
        volumeInfos.push({
            ...base,
            backupMethod: "CSISnapshot",
            snapshotDataMoved: settings.snapshotMoveData,
            preserveLocalSnapshot: !settings.snapshotMoveData,
            skipped: false,
            result: "succeeded",
            csiSnapshotInfo: { driver, snapshotHandle: `snap-${name}`, vscName: `snapcontent-${name}` },
            ...(settings.snapshotMoveData
                ? {
                      snapshotDataMovementInfo: {
                          dataMover: "velero",
                          uploaderType: "kopia",
                          size: (i + 1) * DATA_BYTES_PER_CLAIM,
                          Phase: "Completed",
                      },
                  }
                : {}),
        });
    });
    return { volumeInfos, warnings, errors, droppedClaims };
}

/**
 * A scheduled backup of `objects` (the source cluster) taken at `at` under `settings`: what the Schedule's template
 * takes, each volume kept as Velero keeps it, PartiallyFailed when an item failed.
 */
export function simulatedBackup(
    schedule: string,
    at: string,
    objects: readonly KubeObject[],
    settings: BackupVolumeSettings,
    template: KubeObject = defaultScheduleTemplate(),
): SimulatedBackup & { readonly warnings: readonly string[] } {
    const contents = backupContents(objects, template);
    const { volumeInfos, warnings, errors, droppedClaims } = backUpVolumes(contents, settings);
    return {
        name: scheduledBackupName(schedule, at),
        schedule,
        phase: errors.length > 0 ? "PartiallyFailed" : "Completed",
        startTimestamp: at,
        spec: template,
        contents: contents.filter(
            (o) =>
                o.kind !== "PersistentVolumeClaim" ||
                !droppedClaims.includes(`${String(o.metadata.namespace)}/${String(o.metadata.name)}`),
        ),
        volumeInfos,
        warnings,
    };
}
