/** The resource policy every backup follows (velero `internal/resourcepolicies`). */

/** The resource-policy ConfigMap every Schedule names. */
export const VOLUME_POLICY_CONFIGMAP = "gitops-dr-volume-policy";

/**
 * The volume policy every backup follows: snapshot every volume, never file-system backup. A pod's
 * `backup.velero.io/backup-volumes` opt-in would otherwise make Velero skip its PV's snapshot in favour of a
 * file-system backup (velero `internal/volumehelper/volume_policy_helper.go` `ShouldPerformSnapshot`) that
 * restores only into a pod Velero restores, and ours never restore pods: the data would not come back. A
 * matching volume policy is checked first, before the opt-in annotations, in both `ShouldPerformSnapshot` and
 * `ShouldPerformFSBackup`. `capacity: "0,"` matches every volume (`parseCapacity`, `isInRange`: no upper bound).
 * The ConfigMap must hold exactly one key (`getResourcePoliciesFromConfig`), version v1.
 */
export function volumePolicy(): string {
    return [
        "version: v1",
        "volumePolicies:",
        "  - conditions:",
        '      capacity: "0,"',
        "    action:",
        "      type: snapshot",
        "",
    ].join("\n");
}
