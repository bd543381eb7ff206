/** The resource policy every backup follows (velero `internal/resourcepolicies`). */

/** The resource-policy ConfigMap every Schedule names. */
export const VOLUME_POLICY_CONFIGMAP = "gitops-dr-volume-policy";

/**
 * The PersistentVolume types a volume policy can name (velero v1.18.1 `internal/resourcepolicies/
 * volume_types_conditions.go`, `SupportedVolume` as `getVolumeTypeFromPV` returns it). Velero does not validate
 * `volumeTypes` (`validate` returns nil): a misspelt type silently matches nothing, so gitops-dr checks the names.
 * `hostPath` is left out on purpose: file-system backup skips hostPath volumes with a warning and never backs them
 * up (`pkg/podvolume/backupper.go` `isHostPathVolume`). The pod-only types (configMap, emptyDir, projected, ...) are
 * left out too: they are never a claim's volume.
 */
export const FILE_SYSTEM_BACKUP_VOLUME_TYPES = [
    "awsElasticBlockStore",
    "azureDisk",
    "azureFile",
    "cephfs",
    "cinder",
    "csi",
    "fc",
    "flexVolume",
    "flocker",
    "gcePersistentDisk",
    "glusterfs",
    "iscsi",
    "local",
    "nfs",
    "photonPersistentDisk",
    "portworxVolume",
    "quobyte",
    "rbd",
    "scaleIO",
    "storageOS",
    "vsphereVolume",
] as const;

/** A volume type file-system backup can take. */
export type FileSystemBackupVolumeType = (typeof FILE_SYSTEM_BACKUP_VOLUME_TYPES)[number];

/**
 * The volume types that go to file-system backup by default: what cannot be snapshotted on a small cluster. k3s's
 * `local-path` provisioner creates `local` volumes (k3s #9872, since April 2024), NFS provisioners `nfs` ones.
 */
export const DEFAULT_FILE_SYSTEM_BACKUP_VOLUME_TYPES: readonly FileSystemBackupVolumeType[] = ["local", "nfs"];

/**
 * The volume policy every backup follows. Rules are checked in order and the first match decides, before any pod
 * annotation (velero `internal/volumehelper/volume_policy_helper.go`, `ShouldPerformSnapshot` and
 * `ShouldPerformFSBackup`):
 *
 * 1. volumes of the `fileSystemBackupVolumeTypes` (when any) take file-system backup: kopia through the node agent,
 *    read from the running pod that mounts the claim. The same rule makes their PersistentVolume skip the snapshot
 *    (`ShouldPerformSnapshot` returns false for a non-snapshot action). It also matches a pod's inline volume of
 *    such a type (an NFS share mounted without a claim): `volumeTypes` reads pod volumes as well
 *    (`getVolumeTypeFromVolume`), so such a share is copied too.
 * 2. every other volume is snapshotted, never file-system backed up. A pod's `backup.velero.io/backup-volumes`
 *    opt-in would otherwise make Velero skip its PV's snapshot in favour of a file-system backup. `capacity: "0,"`
 *    matches every volume (`parseCapacity`, `isInRange`: no upper bound).
 *
 * The ConfigMap must hold exactly one key (`getResourcePoliciesFromConfig`), version v1.
 */
export function volumePolicy(fileSystemBackupVolumeTypes: readonly FileSystemBackupVolumeType[] = []): string {
    const fsBackup =
        fileSystemBackupVolumeTypes.length > 0
            ? [
                  "  - conditions:",
                  `      volumeTypes: [${fileSystemBackupVolumeTypes.join(", ")}]`,
                  "    action:",
                  "      type: fs-backup",
              ]
            : [];
    return [
        "version: v1",
        "volumePolicies:",
        ...fsBackup,
        "  - conditions:",
        '      capacity: "0,"',
        "    action:",
        "      type: snapshot",
        "",
    ].join("\n");
}
