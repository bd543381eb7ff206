/**
 * The catalogue's keys of a restore, a drill and the weekly verification (components/config/restore.ts, drill.ts
 * and verify.ts parse them), spread into `CONFIG_KEYS` (keys.ts) where they belong in the README's inputs table.
 */
import type { ConfigKeySpec } from "./keys";

export const RESTORE_KEYS = {
    restoreId: {
        type: "string",
        group: "restore",
        description:
            "Short id of this recovery, drill or namespace restore (e.g. 2026-11-25), part of the Restore's name <clusterName>-<restoreId>. Required in recover and drill, and in protect with restoreNamespaces; change it to restore again.",
    },
    restoreBackupName: {
        type: "string",
        group: "restore",
        description:
            "Restore exactly this backup (velero backup get); checked to exist and be Completed before the Restore is made. Unset: the newest Completed backup of the source's daily schedule (protect: the cluster's own).",
    },
    acceptPartiallyFailedBackup: {
        type: "boolean",
        group: "restore",
        description: "Allow restoreBackupName to name a PartiallyFailed backup. Defaults to false.",
    },
    acceptPartiallyFailedRestore: {
        type: "boolean",
        group: "restore",
        description:
            "Go on after a PartiallyFailed restore instead of stopping (a warning on every run). Defaults to false.",
    },
    acceptOlderBackup: {
        type: "boolean",
        group: "restore",
        description:
            "Restore the newest Completed backup of the source schedule even though newer backups of it did not complete (PartiallyFailed, Failed). Without it the run stops before the Restore and names them. A per-run decision: remove it after the restore. Defaults to false.",
    },
    acceptRestoreWarnings: {
        type: "boolean",
        group: "restore",
        description:
            "Let Argo CD sync after a restore that ended Completed with warnings (items skipped because they already existed, claims left without data). Without it the run stops and names the count and the command to read them. Defaults to false.",
    },
    restoreNamespaces: {
        type: "array",
        group: "restore",
        description:
            'recover, drill: restore only these namespaces\' PVCs and Secrets (and their PVs); unset: every namespace in the backup. protect: restore these namespaces from a backup into the running cluster, never overwriting what exists (README, "Recover one namespace").',
    },
    restoreNamespaceMappings: {
        type: "array",
        group: "restore",
        description:
            '"old=new" namespaces: restore a namespace\'s claims and Secrets into another one (e.g. to compare data before switching). Each old namespace must be restored (restoreNamespaces or every namespace).',
    },
    storageClassMappings: {
        type: "array",
        group: "restore",
        description:
            '"old=new" StorageClass names for volumes whose class does not exist in the new cluster (Velero\'s change-storage-class ConfigMap).',
    },
    backupCheckTimeoutMinutes: {
        type: "integer",
        group: "restore",
        description: "How long to wait for the source location to sync and the backup to appear. Defaults to 20.",
    },
    restoreParallelFiles: {
        type: "integer",
        group: "restore",
        default: 8,
        description: "Files kopia writes at once per restored volume (Restore uploaderConfig.parallelFilesDownload).",
    },
    restoreTimeoutMinutes: {
        type: "integer",
        group: "restore",
        description:
            "How long to wait for the restore to end. Defaults to 300. Velero's own bounds are set 60 minutes shorter, so that the Restore ends (failed, loudly) before Pulumi stops waiting: itemOperationTimeout for the data mover, and the velero.io/pod-volume-timeout annotation for file-system backup data (otherwise the server's 4h). Raise it for a large volume.",
    },
    // --- drill ---
    drillChecks: {
        type: "array",
        group: "drill",
        modes: ["drill"],
        description:
            'drill: per-app checks run after Argo CD synced, each "<namespace>/<kind>/<name> <command> [args...]" run with kubectl exec in that workload\'s pod, e.g. "shop/deploy/postgres pg_isready -U shop". Exit 0 passes.',
    },
    drillVerifyTimeoutMinutes: {
        type: "integer",
        group: "drill",
        modes: ["drill"],
        description:
            "drill: how long the verification may wait for every Application to be Synced and Healthy and every restored claim to be Bound. Defaults to 30.",
    },
    drillEgressAllow: {
        type: "array",
        group: "drill",
        modes: ["drill"],
        description:
            'drill: CIDRs outside the cluster the restored namespaces\' pods may reach (e.g. "10.20.0.0/16" for a drill-only database). Everything else outside the cluster is denied (NetworkPolicies), except DNS and the API server. Defaults to none.',
    },
    // --- verification (protect) ---
    verifySchedule: {
        type: "string",
        group: "verify",
        modes: ["protect"],
        description:
            'protect: cron (UTC) of the backup verification, which restores the newest daily backup into scratch namespaces, checks it and removes them. At most daily; "off" switches it off. Defaults to "0 4 * * 0" (Sundays 04:00).',
    },
    verifyNamespacesPerRun: {
        type: "integer",
        group: "verify",
        modes: ["protect"],
        description:
            "protect: how many of the backup's namespaces one verification restores (1-50), in a rotation: every namespace is proven within ceil(namespaces / this) runs. Defaults to 3.",
    },
    verifyMaxClaims: {
        type: "integer",
        group: "verify",
        modes: ["protect"],
        description:
            "protect: at most this many claims restored per verification (1-200), which bounds its cost; a namespace with more is reported, never verified. Defaults to 10.",
    },
    backupCheckSchedule: {
        type: "string",
        group: "verify",
        modes: ["protect", "recover"],
        description:
            'protect, recover: cron (UTC) of the check that every claim of each Schedule\'s newest backup has its data in the vault (read from the backup\'s BackupVolumeInfos; no restore). At least daily; "off" switches it off. Defaults to "30 * * * *" (hourly): a backup is checked within an hour of its end, however long it took.',
    },
    // --- monitoring ---
} as const satisfies Record<string, ConfigKeySpec>;
