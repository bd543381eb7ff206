/**
 * The backup Schedules of a cluster and the volume policy they name. A component of its own, created after the
 * Velero release and, in recover, after the restore's checked end: a new Schedule backs up at its next cron tick
 * (velero `schedule_controller.go` `getNextRunTime`), which could fall in the middle of the restore.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import type { BackupTier } from "../config";
import { AFTER_RESTORE_ANNOTATION } from "../names";
import { BACKUP_KIND_LABEL, credentialsScheduleSpec } from "./credentials";
import type { Velero } from "./index";
import { scheduleSpec } from "./schedule-spec";
import { VOLUME_POLICY_CONFIGMAP, volumePolicy } from "./volume-policy";

export interface VeleroSchedulesArgs {
    /** The Velero installation the Schedules run on. */
    velero: Velero;
    /**
     * A value the Schedules take as an input (an annotation), so they are created only once it is known: in
     * recover, the restore's checked end. Defaults to none (created right after the release).
     */
    gate?: pulumi.Input<string>;
    /** What the Schedules wait for besides the release (the storage preflight). Defaults to nothing. */
    after?: pulumi.Resource[];
    /** The credentials Schedule (components/velero/credentials.ts), with the daily one. Defaults to none. */
    credentials?: BackupTier;
    /** Kubernetes provider of the target cluster. */
    provider: k8s.Provider;
}

/** The volume policy and one Schedule per backup tier; nothing when the cluster takes no backups (a drill). */
export class VeleroSchedules extends pulumi.ComponentResource {
    public readonly schedules: k8s.apiextensions.CustomResource[];
    /** Names of the Schedule objects (`<clusterName>-<tier>`). */
    public readonly scheduleNames: string[];

    /**
     * @param name the Velero component's name: children keep the names they had as its children, and an alias
     * to that parent, so existing stacks move them without a replacement.
     */
    constructor(name: string, args: VeleroSchedulesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("gitops-dr:velero:VeleroSchedules", `${name}-schedules`, {}, { ...opts, providers: [args.provider] });
        const velero = args.velero;
        const child: pulumi.CustomResourceOptions = {
            parent: this,
            provider: args.provider,
            aliases: [{ parent: velero }],
            dependsOn: [velero.release, ...(args.after ?? [])],
        };
        const tiers = velero.tiers;
        this.schedules = [];
        if (tiers.length > 0) {
            const policy = new k8s.core.v1.ConfigMap(
                `${name}-volume-policy`,
                {
                    metadata: { name: VOLUME_POLICY_CONFIGMAP, namespace: velero.namespace },
                    data: {
                        "policy.yaml": velero.valuesInput.apply((i) => volumePolicy(i.fileSystemBackupVolumeTypes)),
                    },
                },
                child,
            );
            for (const tier of tiers) {
                this.schedules.push(
                    new k8s.apiextensions.CustomResource(
                        `${name}-schedule-${tier.key}`,
                        {
                            apiVersion: "velero.io/v1",
                            kind: "Schedule",
                            metadata: {
                                name: tier.name,
                                namespace: velero.namespace,
                                annotations: args.gate === undefined ? {} : { [AFTER_RESTORE_ANNOTATION]: args.gate },
                            },
                            spec: velero.valuesInput.apply((i) => scheduleSpec(tier, i)),
                        },
                        { ...child, dependsOn: [velero.release, policy, ...(args.after ?? [])] },
                    ),
                );
            }
        }
        if (args.credentials !== undefined && tiers.length > 0) {
            const tier = args.credentials;
            this.schedules.push(
                new k8s.apiextensions.CustomResource(
                    `${name}-schedule-credentials`,
                    {
                        apiVersion: "velero.io/v1",
                        kind: "Schedule",
                        metadata: {
                            name: tier.name,
                            namespace: velero.namespace,
                            labels: { [BACKUP_KIND_LABEL]: "credentials" },
                            annotations: args.gate === undefined ? {} : { [AFTER_RESTORE_ANNOTATION]: args.gate },
                        },
                        spec: credentialsScheduleSpec(tier),
                    },
                    { parent: this, provider: args.provider, dependsOn: [velero.release, ...(args.after ?? [])] },
                ),
            );
        }
        this.scheduleNames = [...tiers, ...(args.credentials === undefined ? [] : [args.credentials])].map(
            (t) => t.name,
        );
        this.registerOutputs({ scheduleNames: this.scheduleNames });
    }
}
