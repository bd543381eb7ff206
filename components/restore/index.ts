/**
 * The restore of a recover or drill stack (or of a few namespaces into a protected cluster): the lost cluster's
 * PVs, PVCs and Secrets, with their volume data, brought back by one `velero.io/v1 Restore` after the backups are
 * visible, between two checks that run in the cluster (components/tasks):
 *
 *   pre-restore task (leftover claims, the backup to restore, StorageClasses, volumes a drill must not restore)
 *   -> Restore, awaited until it ended, its phase checked
 *   -> post-restore task (every warning named, every restored claim bound)
 *
 * and only then may anything that depends on it (the root Application, a recovered cluster's Schedules) start.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import type { RestoreSettings } from "../config";
import { liveField } from "../kube";
import { gitopsDrKey } from "../names";
import { BACKUP_KIND_LABEL } from "../velero/credentials";
import { TaskJob } from "../tasks";
import { WAIT_FOR, phaseIn } from "../wait";
import { RestoreOutcome, RestoreStatus, TERMINAL_RESTORE_PHASES, backupTimeFromName, checkRestore } from "./check";
import {
    MODIFIERS_CONFIGMAP,
    MODIFIERS_KEY,
    SEALED_SECRETS_RULE,
    modifiersDocument,
    quarantineRules,
} from "./modifiers";
import { imageReference, mirrorImage } from "../mirrors";
import { VELERO_IMAGE } from "../versions";
import { credentialsRestoreSpec, restoreAnnotations, restoreSpec } from "./spec";
import { DataMovement, POST_RESTORE_RULES, PRE_RESTORE_RULES, PostRestoreResult, PreRestoreResult } from "./tasks";
import { vesselRules } from "./vessels";

export * from "./check";
export * from "./modifiers";
export * from "./spec";
export * from "./tasks";
export * from "./vessels";

/** Annotation of the Restore: the backup the pre-restore checks chose (the Restore waits for them through it). */
export const CHECKED_BACKUP_ANNOTATION = gitopsDrKey("checked-backup");

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
    /** Restores of this stack are named `<restorePrefix><id>`: the pre-restore task clears what they left. */
    restorePrefix: string;
    /**
     * What is restored: the persistent data of the source's daily Schedule (PVs, PVCs, Secrets, ServiceAccounts),
     * or the secrets of its credentials Schedule (components/velero/credentials.ts). Defaults to `data`.
     */
    kind?: "data" | "credentials";
    /** credentials: a drill's restore, without prod's cluster and write credentials. Defaults to `false`. */
    drillCredentials?: boolean;
    /**
     * A drill: volumes the restore would bring back as they are (still pointing at the source's storage) are
     * quarantined and listed. Defaults to `false`.
     */
    quarantineRetainedVolumes?: boolean;
    /**
     * The source location reads the vault's replica (`sourceReplica`): a backup missing from it is explained as one
     * replication has not copied. Defaults to `false`.
     */
    fromReplica?: boolean;
    /** How long each task may run, in minutes. Defaults to the backup-check timeout. */
    taskTimeoutMinutes?: number;
    /** Registry the tasks' image is pulled from (components/mirrors.ts). Defaults to none: Docker Hub. */
    imageRegistry?: string;
    /** What the Restore must also wait for (a component's own dependsOn does not reach its children). */
    after?: pulumi.Resource[];
    /** data: files kopia writes at once per restored volume. Defaults to Velero's: the node's CPU count. */
    parallelFilesDownload?: number;
    /** What usually causes warnings in this kind of restore, for the message that names them. Defaults to none. */
    warningsHint?: string;
    /** Kubernetes provider of the target cluster. */
    provider: k8s.Provider;
}

/** What a checked restore reports: Velero's outcome and what the tasks around it found. */
export interface CheckedRestore extends RestoreOutcome {
    /** Newer backups of the schedule that did not complete, when an older one was restored on purpose. */
    readonly newerNotCompleted: readonly string[];
    /** Claims an earlier restore of this stack left unbound, removed before this one. */
    readonly removedClaims: readonly string[];
    /** Claims a drill left without data on purpose: their volumes point at the source's live storage. */
    readonly quarantinedClaims: readonly string[];
    /** The volumes a drill quarantined (neither snapshotted nor moved, kept with Retain). */
    readonly quarantinedVolumes: readonly string[];
    /** Warnings of the restore, accepted (gitops-dr:acceptRestoreWarnings); empty otherwise. */
    readonly acceptedWarnings: readonly string[];
    /** Items an earlier attempt of this stack restored (a retry), kept as they were: claims Bound. */
    readonly retriedItems: readonly string[];
    /** Claims that got their file-system backup data through a vessel (vessels.ts). */
    readonly filledClaims: readonly string[];
    /** What the restore's DataDownloads report: volumes, bytes, first start and last end. */
    readonly dataMovement: DataMovement;
}

/**
 * One Velero restore with its checks. `outcome` resolves only when the restore ended in a phase the stack accepts
 * and the checks after it passed; it rejects (stopping `pulumi up`) otherwise.
 */
export class VeleroRestore extends pulumi.ComponentResource {
    public readonly restore: k8s.apiextensions.CustomResource;
    /** The checked result; what depends on the restore takes an input from it. */
    public readonly outcome: pulumi.Output<CheckedRestore>;
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

        const namespace = args.namespace;
        const kind = args.kind ?? "data";
        const jobSuffix = kind === "credentials" ? "-credentials" : "";
        const taskTimeout = args.taskTimeoutMinutes ?? settings.backupCheckTimeoutMinutes;
        const check = new TaskJob<PreRestoreResult>(
            `${name}-check`,
            {
                task: "pre-restore",
                jobName: `gitops-dr-pre-restore${jobSuffix}`,
                namespace,
                args: {
                    veleroNamespace: namespace,
                    restoreName: args.restoreName,
                    restorePrefix: args.restorePrefix,
                    ...(settings.backupName !== undefined && kind === "data"
                        ? { backupName: settings.backupName }
                        : { scheduleName: args.sourceScheduleName }),
                    scheduleKey: kind === "data" ? "sourceScheduleName" : "sourceCredentialsScheduleName",
                    restoresClaims: kind === "data",
                    acceptOlderBackup: settings.acceptOlderBackup,
                    acceptPartiallyFailedBackup: settings.acceptPartiallyFailedBackup,
                    storageClassMappings: kind === "data" ? { ...settings.storageClassMappings } : {},
                    namespaces: kind === "data" ? [...settings.namespaces] : [],
                    namespaceMappings: kind === "data" ? { ...settings.namespaceMappings } : {},
                    quarantineRetainedVolumes: args.quarantineRetainedVolumes ?? false,
                    // Only when set: an unchanged Job spec for every stack that reads the vault.
                    ...(args.fromReplica === true ? { fromReplica: true } : {}),
                },
                ...PRE_RESTORE_RULES,
                timeoutMinutes: taskTimeout,
                imageRegistry: args.imageRegistry,
                after: dependsOn,
                provider: args.provider,
            },
            { parent: this },
        );
        dependsOn = [...dependsOn, check];

        // Every restore names its resource modifiers: restored Secrets may be taken over by Sealed Secrets
        // (Argo CD's credentials too, when a SealedSecret makes them); a drill's data restore also quarantines the
        // volumes that still point at the source's storage, and pods come back only when some hold file-system
        // backup data, and then only as vessels. One ConfigMap per Restore: their rules differ.
        const modifiersName = kind === "data" ? MODIFIERS_CONFIGMAP : `${MODIFIERS_CONFIGMAP}-credentials`;
        // Vessels run the image restore-wait runs, the Velero server's (pod_volume_restore_action.go).
        const veleroImage = imageReference(mirrorImage(VELERO_IMAGE, args.imageRegistry));
        const modifiers = new k8s.core.v1.ConfigMap(
            `${name}-modifiers`,
            {
                metadata: { name: modifiersName, namespace },
                data: {
                    [MODIFIERS_KEY]: check.result.apply((r) =>
                        modifiersDocument([
                            SEALED_SECRETS_RULE,
                            ...(kind === "data" && args.quarantineRetainedVolumes === true
                                ? quarantineRules(r.quarantinedClaims)
                                : []),
                            ...(kind === "data" && r.vessels.withData.length > 0
                                ? vesselRules(r.vessels, veleroImage)
                                : []),
                        ]),
                    ),
                },
            },
            { ...child, dependsOn },
        );
        dependsOn = [...dependsOn, modifiers];
        let spec: Record<string, unknown>;
        if (kind === "data") {
            const fixed = restoreSpec(
                settings,
                { scheduleName: args.sourceScheduleName },
                modifiersName,
                false,
                args.parallelFilesDownload,
            );
            // Only the resources depend on what the checks found, so the rest of the spec is known at preview.
            spec = {
                ...fixed,
                includedResources: check.result.apply(
                    (r) =>
                        restoreSpec(
                            settings,
                            { scheduleName: args.sourceScheduleName },
                            modifiersName,
                            r.vessels.withData.length > 0,
                        ).includedResources,
                ),
            };
        } else {
            spec = credentialsRestoreSpec(
                settings,
                args.sourceScheduleName,
                args.drillCredentials ?? false,
                modifiersName,
            );
        }

        this.restore = new k8s.apiextensions.CustomResource(
            `${name}-restore`,
            {
                apiVersion: "velero.io/v1",
                kind: "Restore",
                metadata: {
                    name: args.restoreName,
                    namespace: args.namespace,
                    // Labelled like its Schedule, so `velero restore get -l` tells the two restores apart; the
                    // data Restore stays unlabelled, as stacks from before the credentials Restore created it.
                    ...(kind === "credentials" ? { labels: { [BACKUP_KIND_LABEL]: "credentials" } } : {}),
                    annotations: {
                        // Ends at any terminal phase: waitFor has no failure condition, so the phase is checked below.
                        [WAIT_FOR]: phaseIn(TERMINAL_RESTORE_PHASES),
                        // An input from the checks: the Restore exists only once they passed.
                        [CHECKED_BACKUP_ANNOTATION]: check.result.apply((r) => r.backup.name),
                        // The data Restore's vessels carry file-system backup data; the credentials one takes no pods.
                        ...(kind === "data" ? restoreAnnotations(settings) : {}),
                    },
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
                // Fields the program derives from its own constants, not from config: a newer gitops-dr that adds
                // or changes them must not replace, and so run again, a Restore that ended long ago. A change the
                // operator makes (namespaces, mappings, the backup) still replaces it; a new restoreId always does.
                ignoreChanges: [
                    "spec.resourceModifier",
                    "spec.includedResources",
                    "spec.includeClusterResources",
                    "spec.uploaderConfig",
                    "spec.orLabelSelectors",
                ],
            },
        );

        const liveSpec = liveField<{ backupName?: string; scheduleName?: string }>(this.restore, "spec");
        const liveStatus = liveField<RestoreStatus>(this.restore, "status");
        const ended = pulumi.all([liveSpec, liveStatus]).apply(([spec, status]) =>
            // Velero fills spec.backupName with the backup it chose for a scheduleName restore.
            checkRestore(
                args.restoreName,
                namespace,
                { backupName: spec?.backupName ?? settings.backupName, scheduleName: spec?.scheduleName },
                status,
                settings.acceptPartiallyFailedRestore,
            ),
        );
        const report = new TaskJob<PostRestoreResult>(
            `${name}-report`,
            {
                task: "post-restore",
                jobName: `gitops-dr-post-restore${jobSuffix}`,
                namespace,
                // Takes the checked end as an input: it runs only after a restore the stack accepts.
                args: pulumi.all([ended, check.result]).apply(([o, before]) => ({
                    veleroNamespace: namespace,
                    restoreName: o.restoreName,
                    restorePrefix: args.restorePrefix,
                    expectedBackup: before.backup.name,
                    acceptWarnings: settings.acceptRestoreWarnings,
                    hint: args.warningsHint ?? "",
                    // Where each vessel is restored to: Velero maps namespaces after the modifiers.
                    vessels: before.vessels.withData.map((v) => ({
                        namespace: settings.namespaceMappings[v.namespace] ?? v.namespace,
                        name: v.name,
                        volumes: v.volumes.map((vol) => ({
                            volume: String(vol.name),
                            claim: String((vol.persistentVolumeClaim as { claimName?: string } | undefined)?.claimName),
                        })),
                    })),
                })),
                ...POST_RESTORE_RULES,
                timeoutMinutes: taskTimeout,
                imageRegistry: args.imageRegistry,
                after: [this.restore],
                provider: args.provider,
            },
            { parent: this },
        );
        this.outcome = pulumi.all([ended, check.result, report.result]).apply(([o, before, after]) => ({
            ...o,
            newerNotCompleted: before.newerNotCompleted.map((b) => `${b.name} (${b.phase || "no phase"})`),
            removedClaims: before.removedClaims,
            quarantinedClaims: after.quarantinedClaims,
            quarantinedVolumes: before.quarantinedClaims.map((q) => q.volume),
            acceptedWarnings: after.warnings,
            retriedItems: after.retried,
            filledClaims: after.filledClaims,
            dataMovement: after.dataMovement,
        }));

        // The restored backup's time, for the data's age (RPO), from its name: a read of the Backup would run on
        // every later `pulumi up` and fail once the backup expired and left the cluster.
        this.backupStartTimestamp = this.outcome.apply((o) => backupTimeFromName(o.backupName));

        this.registerOutputs({ outcome: this.outcome, backupStartTimestamp: this.backupStartTimestamp });
    }
}
