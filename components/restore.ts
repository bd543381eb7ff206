/**
 * The restore of a recover or drill stack: the lost cluster's PVs, PVCs and Secrets, with their volume data,
 * brought back by one `velero.io/v1 Restore` after the backups are visible, and checked before anything that
 * depends on it (the root Application, a recovered cluster's Schedules) may start.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import { RESTORE_TIMEOUT_MARGIN_MINUTES, RestoreSettings } from "./config";
import { BACKED_UP_RESOURCES, NOT_HELM_RELEASE_SECRETS } from "./velero";
import { WAIT_FOR, phaseIn } from "./wait";

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
 * accepted. Anything else stops the update with the restore's name, phase, counts and the command to read it.
 * Pure, so tests drive every phase.
 */
export function checkRestore(
    restoreName: string,
    namespace: string,
    backup: { readonly backupName?: string; readonly scheduleName?: string },
    status: RestoreStatus | undefined,
    acceptPartiallyFailed: boolean,
    failOnWarnings = false,
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
    const skipped = phase === "Completed" && failOnWarnings && outcome.warnings > 0;
    if ((phase === "Completed" && !skipped) || ((phase === "PartiallyFailed" || skipped) && acceptPartiallyFailed)) {
        return outcome;
    }
    if (skipped) {
        // existingResourcePolicy none skips what exists with a warning (velero pkg/restore/restore.go): in a live
        // namespace that is typically a StatefulSet's claim, recreated empty before the restore.
        throw new pulumi.RunError(
            `Restore ${restoreName} ended Completed with ${outcome.warnings} warning${outcome.warnings === 1 ? "" : "s"}: items that already existed were not restored (existingResourcePolicy none), e.g. claims a StatefulSet recreated empty. ` +
                `Read: \`${describeCommand(namespace, restoreName)}\`. Then suspend the app's sync in Argo CD, scale it to 0, delete its empty claims, and restore with a new gitops-dr:restoreId (README, "Recover one namespace").`,
        );
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

/**
 * Whether a backup chosen by name may be restored: Completed, or PartiallyFailed when accepted. Throws, naming
 * the backup, its phase and the command to read it. Pure.
 */
export function checkChosenBackup(
    backupName: string,
    namespace: string,
    phase: string | undefined,
    acceptPartiallyFailed: boolean,
): void {
    if (phase === "Completed" || (phase === "PartiallyFailed" && acceptPartiallyFailed)) {
        return;
    }
    const why =
        phase === "PartiallyFailed"
            ? "Some of its items failed to back up. To restore it anyway: `pulumi config set gitops-dr:acceptPartiallyFailedBackup true`."
            : phase === undefined || phase === ""
              ? "It has no phase: is it still being synced from the bucket?"
              : "Only a Completed backup (or an accepted PartiallyFailed one) is restored.";
    throw new pulumi.RunError(
        `Backup ${backupName} is ${phase === undefined || phase === "" ? "not ready" : phase}. ${why} Read: \`velero backup describe ${backupName} --details -n ${namespace}\`. No Restore was created.`,
    );
}

/** The Restore's spec (fields from ../shared/reference/velero-1.18-crds/restores.yaml). */
export function restoreSpec(settings: RestoreSettings, source: { scheduleName: string }): Record<string, unknown> {
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
        includedResources: [...BACKED_UP_RESOURCES],
        includeClusterResources: true,
        labelSelector: NOT_HELM_RELEASE_SECRETS,
        restorePVs: true,
        // Never overwrite what exists: a live object always wins over the backup's copy.
        existingResourcePolicy: "none",
        itemOperationTimeout: `${settings.restoreTimeoutMinutes - RESTORE_TIMEOUT_MARGIN_MINUTES}m`,
    };
}

export interface VeleroRestoreArgs {
    /** Name of the Restore object: unique per recovery or drill. */
    restoreName: string;
    /** Velero's namespace. */
    namespace: string;
    /** How to restore. */
    settings: RestoreSettings;
    /** The lost cluster's daily Schedule (used when no backup is named). */
    sourceScheduleName: string;
    /**
     * recover, drill: the sync barrier, the `source` location Available and synced. Absent for a namespace
     * restore in protect, whose location has been syncing all along.
     */
    syncBarrier?: pulumi.Resource;
    /**
     * An output of the sync barrier that is only known once it synced (its `status.lastSyncedTime`): the named
     * backup's read takes it, so that a preview (where it is unknown) skips the read instead of failing on a
     * Backup that a new cluster has not synced yet (read steps run in previews; an unknown id skips them).
     */
    syncedAt?: pulumi.Input<string>;
    /** What the Restore must also wait for (a component's own dependsOn does not reach its children). */
    after?: pulumi.Resource[];
    /** Treat warnings as a failure (a namespace restore: items that already existed were not restored). */
    failOnWarnings?: boolean;
    /** Kubernetes provider of the target cluster. */
    provider: k8s.Provider;
}

/**
 * One Velero restore with its wait and its check. `outcome` resolves only when the restore ended in a phase
 * the stack accepts; it rejects (stopping `pulumi up`) otherwise.
 */
export class VeleroRestore extends pulumi.ComponentResource {
    public readonly restore: k8s.apiextensions.CustomResource;
    /** The checked result; what depends on the restore takes an input from it. */
    public readonly outcome: pulumi.Output<RestoreOutcome>;
    /** When the restored backup was taken, from its name; undefined when its name does not carry it. */
    public readonly backupStartTimestamp: pulumi.Output<string | undefined>;

    constructor(name: string, args: VeleroRestoreArgs, opts?: pulumi.ComponentResourceOptions) {
        super("gitops-dr:restore:VeleroRestore", name, {}, opts);
        const child = { parent: this, provider: args.provider };
        const settings = args.settings;

        let dependsOn: pulumi.Resource[] = [
            ...(args.syncBarrier === undefined ? [] : [args.syncBarrier]),
            ...(args.after ?? []),
        ];
        if (Object.keys(settings.storageClassMappings).length > 0) {
            // Velero's change-storage-class restore item action reads this ConfigMap (velero docs,
            // restore-reference.md "Changing PV/PVC Storage Classes").
            const mapping = new k8s.core.v1.ConfigMap(
                `${name}-storage-classes`,
                {
                    metadata: {
                        name: "change-storage-class-config",
                        namespace: args.namespace,
                        labels: {
                            "velero.io/plugin-config": "",
                            "velero.io/change-storage-class": "RestoreItemAction",
                        },
                    },
                    data: { ...settings.storageClassMappings },
                },
                { ...child, dependsOn },
            );
            dependsOn = [...dependsOn, mapping];
        }

        // A named backup is read and checked before the Restore exists: Velero would restore a PartiallyFailed one
        // without a word, and a missing one would end the Restore in FailedValidation for good.
        let spec: pulumi.Input<Record<string, unknown>> = restoreSpec(settings, {
            scheduleName: args.sourceScheduleName,
        });
        if (settings.backupName !== undefined) {
            const chosen = new k8s.apiextensions.CustomResource(
                `${name}-chosen-backup`,
                {
                    apiVersion: "velero.io/v1",
                    kind: "Backup",
                    status: undefined,
                },
                {
                    ...child,
                    id: pulumi.output(args.syncedAt ?? "").apply(() => `${args.namespace}/${settings.backupName}`),
                    dependsOn,
                },
            );
            const chosenStatus = (chosen as unknown as { status: pulumi.Output<{ phase?: string } | undefined> })
                .status;
            spec = chosenStatus.apply((status) => {
                checkChosenBackup(
                    settings.backupName!,
                    args.namespace,
                    status?.phase,
                    settings.acceptPartiallyFailedBackup,
                );
                return restoreSpec(settings, { scheduleName: args.sourceScheduleName });
            });
        }

        this.restore = new k8s.apiextensions.CustomResource(
            `${name}-restore`,
            {
                apiVersion: "velero.io/v1",
                kind: "Restore",
                metadata: {
                    name: args.restoreName,
                    namespace: args.namespace,
                    // Ends at any terminal phase: waitFor has no failure condition, so the phase is checked below.
                    annotations: { [WAIT_FOR]: phaseIn(TERMINAL_RESTORE_PHASES) },
                },
                spec,
                // A TypeScript CustomResource exposes only the keys its args name (pulumi-kubernetes #1836).
                status: undefined,
            },
            {
                ...child,
                dependsOn,
                customTimeouts: {
                    create: `${settings.restoreTimeoutMinutes}m`,
                    update: `${settings.restoreTimeoutMinutes}m`,
                },
                // Velero acts only on a new Restore (restore_controller.go `Reconcile` skips any phase but ""/New):
                // an updated spec would restore nothing while the old terminal phase satisfied the wait. A changed
                // spec replaces the Restore instead; the old one goes first, since the new one has the same name.
                replaceOnChanges: ["spec"],
                deleteBeforeReplace: true,
            },
        );

        const live = this.restore as unknown as {
            spec: pulumi.Output<{ backupName?: string; scheduleName?: string }>;
            status: pulumi.Output<RestoreStatus | undefined>;
        };
        this.outcome = pulumi.all([live.spec, live.status]).apply(([spec, status]) =>
            // Velero fills spec.backupName with the backup it chose for a scheduleName restore.
            checkRestore(
                args.restoreName,
                args.namespace,
                { backupName: spec.backupName ?? settings.backupName, scheduleName: spec.scheduleName },
                status,
                settings.acceptPartiallyFailedRestore,
                args.failOnWarnings ?? false,
            ),
        );

        // The restored backup's time, for the data's age (RPO), from its name: a read of the Backup would run on
        // every later `pulumi up` and fail once the backup expired and left the cluster.
        this.backupStartTimestamp = this.outcome.apply((o) => backupTimeFromName(o.backupName));

        this.registerOutputs({ outcome: this.outcome, backupStartTimestamp: this.backupStartTimestamp });
    }
}
