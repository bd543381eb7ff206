/** The drill's report, from the restore's status and the verification's end. */
import type { CheckedRestore, DataMovement } from "../restore";
import type { DrillIsolationResult } from "./isolation";
import type { VerifyStep } from "./steps";

/** The drill's report, from the restore's and the backup's status and the Job's end. */
export interface DrillReport {
    readonly restoreName: string;
    readonly backupName: string;
    readonly restorePhase: string;
    readonly itemsRestored?: number;
    /** The Restore's own start to end (`status.startTimestamp`, `completionTimestamp`), its data included. */
    readonly restoreDuration?: string;
    /**
     * What the restore's DataDownloads report (`status.progress`): the measured side of `npm run plan`'s
     * recovery-time estimate. Absent when no volume data was moved (native snapshots, a Secrets-only restore).
     */
    readonly dataMovement?: DataMovementReport;
    /** The data's age when the restore started: the RPO this drill shows. */
    readonly dataAgeAtRestore?: string;
    /** From the start of `pulumi up` to the restore's end. */
    readonly timeToRestore?: string;
    /** From the start of `pulumi up` to the verification's end: the RTO this drill shows. */
    readonly timeToVerified?: string;
    readonly checksPassed: readonly string[];
    /**
     * Claims the drill left without data on purpose: their volumes were neither snapshotted nor moved and point at
     * the source's live storage, so the drill quarantined them (components/restore/modifiers.ts).
     */
    readonly claimsWithoutData: readonly string[];
    /** The volumes behind them, and any other such volume of the backup, quarantined. */
    readonly volumesQuarantined: readonly string[];
    /** Newer backups that did not complete, when the drill restored an older one on purpose (acceptOlderBackup). */
    readonly newerBackupsNotCompleted: readonly string[];
    /** Claims an earlier failed attempt left, removed before this restore. */
    readonly leftoverClaimsRemoved: readonly string[];
    /** The restore's warnings, when accepted (acceptRestoreWarnings). */
    readonly acceptedWarnings: readonly string[];
    /** What kept the drill from acting on production (components/drill/isolation.ts). */
    readonly isolation?: {
        /** Namespaces whose pods may reach only the cluster, DNS, the API server and `egressAllowed`. */
        readonly namespaces: readonly string[];
        readonly egressAllowed: readonly string[];
        readonly apiServer: readonly string[];
        /** Admission policies in force: CronJobs' Jobs refused, no egress-opening NetworkPolicy, no host network. */
        readonly admissionPolicies: readonly string[];
        /** What a NetworkPolicy cannot promise by itself. */
        readonly enforcedBy: string;
    };
}

/** The DataDownloads of a restore, summed. */
export interface DataMovementReport {
    /** Claims whose data was moved (one DataDownload each), how many completed and how many failed. */
    readonly volumes: number;
    readonly completed: number;
    readonly failed: number;
    readonly totalBytes: number;
    readonly bytesDone: number;
    /** From the first DataDownload's start to the last one's end. */
    readonly duration?: string;
    /** `bytesDone` over that time, MiB/s: compare with the estimate's `--throughput-mib`. */
    readonly throughputMiB?: number;
}

const milliseconds = (from?: string, to?: string): number | undefined => {
    if (from === undefined || to === undefined) {
        return undefined;
    }
    const ms = Date.parse(to) - Date.parse(from);
    return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
};

const duration = (from?: string, to?: string): string | undefined => {
    const ms = milliseconds(from, to);
    if (ms === undefined) {
        return undefined;
    }
    const minutes = Math.round(ms / 60000);
    return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
};

/** The DataDownloads' summary as the report shows it; undefined when the restore moved no data. */
export function dataMovementReport(d: DataMovement | undefined): DataMovementReport | undefined {
    if (d === undefined || d.volumes === 0) {
        return undefined;
    }
    const ms = milliseconds(d.startTimestamp, d.completionTimestamp);
    return {
        volumes: d.volumes,
        completed: d.completed,
        failed: d.failed,
        totalBytes: d.totalBytes,
        bytesDone: d.bytesDone,
        duration: duration(d.startTimestamp, d.completionTimestamp),
        throughputMiB:
            ms === undefined || ms === 0 ? undefined : Math.round((d.bytesDone / 2 ** 20 / (ms / 1000)) * 10) / 10,
    };
}

/** Builds the report. Pure. */
export function drillReport(input: {
    readonly outcome: CheckedRestore;
    readonly backupStartTimestamp?: string;
    readonly updateStartedAt: string;
    readonly verifiedAt?: string;
    readonly steps: readonly VerifyStep[];
    readonly isolation?: DrillIsolationResult;
}): DrillReport {
    const isolation = input.isolation;
    return {
        restoreName: input.outcome.restoreName,
        backupName: input.outcome.backupName,
        restorePhase: input.outcome.phase,
        itemsRestored: input.outcome.itemsRestored,
        restoreDuration: duration(input.outcome.startTimestamp, input.outcome.completionTimestamp),
        dataMovement: dataMovementReport(input.outcome.dataMovement),
        dataAgeAtRestore: duration(input.backupStartTimestamp, input.outcome.startTimestamp),
        timeToRestore: duration(input.updateStartedAt, input.outcome.completionTimestamp),
        timeToVerified: duration(input.updateStartedAt, input.verifiedAt),
        checksPassed: input.verifiedAt === undefined ? [] : input.steps.map((s) => s.name),
        claimsWithoutData: input.outcome.quarantinedClaims,
        volumesQuarantined: input.outcome.quarantinedVolumes,
        newerBackupsNotCompleted: input.outcome.newerNotCompleted,
        leftoverClaimsRemoved: input.outcome.removedClaims,
        acceptedWarnings: input.outcome.acceptedWarnings,
        ...(isolation === undefined
            ? {}
            : {
                  isolation: {
                      namespaces: isolation.namespaces,
                      egressAllowed: isolation.egressAllow,
                      apiServer: isolation.apiServer,
                      admissionPolicies: isolation.admissionPolicies,
                      enforcedBy:
                          "the cluster's CNI: NetworkPolicies hold only where it enforces them (Calico, Cilium, k3s's kube-router controller; not flannel alone); the admission policies hold on any cluster",
                  },
              }),
    };
}
