/**
 * The restore of a recover or drill stack: the lost cluster's PVs, PVCs and Secrets, with their volume data,
 * brought back by one `velero.io/v1 Restore` after the backups are visible, and checked before anything that
 * depends on it (the root Application, a recovered cluster's Schedules) may start.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import type { RestoreSettings } from "../config";
import { liveField } from "../kube";
import { WAIT_FOR, phaseIn } from "../wait";
import {
    RestoreOutcome,
    RestoreStatus,
    TERMINAL_RESTORE_PHASES,
    backupTimeFromName,
    checkChosenBackup,
    checkRestore,
} from "./check";
import { restoreSpec } from "./spec";

export * from "./check";
export * from "./spec";

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
            const chosenStatus = liveField<{ phase?: string }>(chosen, "status");
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

        const liveSpec = liveField<{ backupName?: string; scheduleName?: string }>(this.restore, "spec");
        const liveStatus = liveField<RestoreStatus>(this.restore, "status");
        this.outcome = pulumi.all([liveSpec, liveStatus]).apply(([spec, status]) =>
            // Velero fills spec.backupName with the backup it chose for a scheduleName restore.
            checkRestore(
                args.restoreName,
                args.namespace,
                { backupName: spec?.backupName ?? settings.backupName, scheduleName: spec?.scheduleName },
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
