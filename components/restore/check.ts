/**
 * Reading a finished restore: the phases it can end in, its status, and the decision whether the rebuild may go
 * on. Pure functions, so tests drive every phase.
 */
import * as pulumi from "@pulumi/pulumi";

/** Every phase a Restore can end in (velero `pkg/apis/velero/v1/restore_types.go`). */
export const TERMINAL_RESTORE_PHASES = ["Completed", "PartiallyFailed", "Failed", "FailedValidation"] as const;
export type TerminalRestorePhase = (typeof TERMINAL_RESTORE_PHASES)[number];

/** The fields of a Restore's status the check reads (`restore_types.go`, `RestoreStatus`). */
export interface RestoreStatus {
    readonly phase?: string;
    readonly errors?: number;
    readonly warnings?: number;
    readonly failureReason?: string;
    readonly validationErrors?: readonly string[];
    readonly startTimestamp?: string;
    readonly completionTimestamp?: string;
    readonly progress?: { readonly itemsRestored?: number; readonly totalItems?: number };
}

/** The result of a finished restore, as the stack reports it. */
export interface RestoreOutcome {
    readonly restoreName: string;
    readonly backupName: string;
    readonly phase: string;
    readonly errors: number;
    readonly warnings: number;
    readonly itemsRestored?: number;
    readonly startTimestamp?: string;
    readonly completionTimestamp?: string;
}

/**
 * When a schedule's backup was taken, from its name: Velero names it `<schedule>-<UTC yyyyMMddHHmmss>`
 * (velero `pkg/apis/velero/v1/schedule_types.go` `TimestampedName`, format "20060102150405"). Undefined for a
 * backup named otherwise.
 */
export function backupTimeFromName(backupName: string): string | undefined {
    const m = /-(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(backupName);
    if (m === null) {
        return undefined;
    }
    const iso = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`;
    return Number.isNaN(Date.parse(iso)) ? undefined : iso;
}

/** The command that explains a restore. */
export const describeCommand = (namespace: string, restoreName: string): string =>
    `velero restore describe ${restoreName} --details -n ${namespace}; velero restore logs ${restoreName} -n ${namespace}`;

/**
 * Decides whether the rebuild may go on after a restore ended: `Completed` always, `PartiallyFailed` only when
 * accepted (a Completed restore's warnings are read by the task after it, components/tasks/post-restore.js). Anything else stops the update with the restore's name, phase, counts and the command to read it.
 * Pure, so tests drive every phase.
 */
export function checkRestore(
    restoreName: string,
    namespace: string,
    backup: { readonly backupName?: string; readonly scheduleName?: string },
    status: RestoreStatus | undefined,
    acceptPartiallyFailed: boolean,
): RestoreOutcome {
    const backupName = backup.backupName;
    const phase = status?.phase ?? "";
    const outcome: RestoreOutcome = {
        restoreName,
        backupName: backupName ?? "",
        phase,
        errors: status?.errors ?? 0,
        warnings: status?.warnings ?? 0,
        itemsRestored: status?.progress?.itemsRestored,
        startTimestamp: status?.startTimestamp,
        completionTimestamp: status?.completionTimestamp,
    };
    if (phase === "Completed" || (phase === "PartiallyFailed" && acceptPartiallyFailed)) {
        return outcome;
    }
    const detail = [
        `errors: ${outcome.errors}`,
        `warnings: ${outcome.warnings}`,
        ...(status?.failureReason ? [`failure reason: ${status.failureReason}`] : []),
        ...(status?.validationErrors?.length ? [`validation errors: ${status.validationErrors.join("; ")}`] : []),
    ].join(", ");
    const why =
        phase === "PartiallyFailed"
            ? "Some PVs, PVCs or Secrets were not restored, so Argo CD was not allowed to sync."
            : phase === "FailedValidation"
              ? "Velero refused the restore before it started (is the backup synced and Completed? is the source location Available?)."
              : phase === ""
                ? "The restore did not report an end."
                : "The restore failed, so Argo CD was not allowed to sync.";
    const accept =
        phase === "PartiallyFailed"
            ? " To go on anyway: `pulumi config set gitops-dr:acceptPartiallyFailedRestore true` and run `pulumi up` again."
            : "";
    // A RunError: the language host prints its message without a stack trace (pulumi sdk/nodejs/cmd/run/run.ts).
    throw new pulumi.RunError(
        `Restore ${restoreName} of ${backupName !== undefined ? `backup ${backupName}` : `the newest Completed backup of schedule ${backup.scheduleName ?? "(none)"}`} ended ${phase === "" ? "with no phase" : phase} (${detail}). ${why} ` +
            `Read: \`${describeCommand(namespace, restoreName)}\`.${accept} ` +
            `To retry, fix the cause and set a new gitops-dr:restoreId (a Restore never runs twice).`,
    );
}
