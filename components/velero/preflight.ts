/**
 * The protect stack's preflight of its StorageClasses (components/tasks/storage-preflight.js): a task Job that names
 * each class whose volumes would get no data in the backups and fails `pulumi up` unless the class is accepted in
 * `gitops-dr:storageClassesWithoutData`. The Schedules wait for it: no backup is taken that would silently leave
 * claims empty.
 *
 * It runs at the first `pulumi up` and again whenever its inputs change (the volume types of file-system backup, the
 * data mode, the snapshot classes the program makes, the accepted classes): a task Job runs when its arguments change
 * (components/tasks/index.ts). A class added later is caught by the hourly backup check once it holds a claim
 * (components/verify/backup-check.ts).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import type { StoragePreflightSettings, VolumeDataMode } from "../config";
import { PolicyRule, TaskJob } from "../tasks";

/** The Job, its ServiceAccount and Roles. */
export const STORAGE_PREFLIGHT_JOB = "gitops-dr-storage-preflight";

/** What the preflight reads, cluster-wide: classes, CSI drivers, snapshot classes, volumes. Nothing else. */
export const STORAGE_PREFLIGHT_RULES: readonly PolicyRule[] = [
    { apiGroups: ["storage.k8s.io"], resources: ["storageclasses", "csidrivers"], verbs: ["list"] },
    { apiGroups: ["snapshot.storage.k8s.io"], resources: ["volumesnapshotclasses"], verbs: ["list"] },
    { apiGroups: [""], resources: ["persistentvolumes"], verbs: ["list"] },
];

/** One class's verdict (storage-preflight.js `ClassVerdict`). */
export interface StorageClassVerdict {
    readonly name: string;
    readonly provisioner: string;
    readonly volumeTypes: readonly string[];
    readonly dataPath?: string;
    readonly problem?: string;
}

/** The preflight's result: every class, the accepted ones without data, the ones that cannot be judged yet. */
export interface StoragePreflightResult {
    readonly classes: readonly StorageClassVerdict[];
    readonly acknowledged: readonly string[];
    readonly undetermined: readonly string[];
}

export interface StoragePreflightArgs {
    /** Velero's namespace, where the Job runs. */
    namespace: pulumi.Input<string>;
    settings: StoragePreflightSettings;
    fileSystemBackupVolumeTypes: readonly string[];
    volumeDataMode: VolumeDataMode;
    /** Drivers the program creates a VolumeSnapshotClass for (volumeSnapshotClassDrivers). */
    snapshotClassDrivers: readonly string[];
    /** Registry the Node image is pulled from. Defaults to none: Docker Hub. */
    imageRegistry?: string;
    provider: k8s.Provider;
}

/** The preflight Job; `result` is known once it passed. */
export function storagePreflight(
    name: string,
    args: StoragePreflightArgs,
    opts: pulumi.ComponentResourceOptions,
): TaskJob<StoragePreflightResult> {
    return new TaskJob<StoragePreflightResult>(
        name,
        {
            task: "storage-preflight",
            jobName: STORAGE_PREFLIGHT_JOB,
            namespace: args.namespace,
            args: {
                fileSystemBackupVolumeTypes: [...args.fileSystemBackupVolumeTypes],
                volumeDataMode: args.volumeDataMode,
                snapshotClassDrivers: [...args.snapshotClassDrivers],
                acknowledged: [...args.settings.acknowledged],
            },
            clusterRules: STORAGE_PREFLIGHT_RULES,
            timeoutMinutes: 5,
            imageRegistry: args.imageRegistry,
            provider: args.provider,
        },
        opts,
    );
}
