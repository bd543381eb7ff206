/**
 * The check after each backup that every backed-up claim has data: a CronJob in Velero's namespace whose Job runs
 * the backup-check task (components/tasks/backup-check.js) with its own ServiceAccount and only what the task does,
 * an admission policy that narrows its deletes to its markers (Kubernetes >= 1.30), and with the Prometheus operator a PrometheusRule (alerts.ts) that names each claim without data.
 *
 * Why an hourly CronJob rather than one a fixed delay after each Schedule: how long a backup takes is not known
 * (the data mover's uploads, file-system backups of large volumes), so a fixed delay either checks a backup still
 * running or waits longer than needed, and each tier would need its own shifted cron. Each run looks at the newest
 * ended backup of every Schedule (a few downloads of backup metadata, no restore), so a backup is checked within a
 * period of its end and the failure holds for as long as that backup is the newest; a backup the last run passed
 * is not downloaded again (backup-check.js), which keeps an hourly run within its memory limit.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import type { BackupCheckSettings } from "../config";
import { PolicyRule, mutableRule, cronTaskJobTemplate, taskScripts } from "../tasks";
import { backupCheckAlertRules } from "./alerts";

/** The CronJob, its ServiceAccount, Role and scripts ConfigMap. */
export const BACKUP_CHECK_CRONJOB = "gitops-dr-backup-check";
/** The last run's record (backup-check.js). */
export const BACKUP_CHECK_RECORD = "gitops-dr-backup-check-last-run";
/** Marker ConfigMaps of claims without data are named `<prefix>.<namespace>.<claim>` (backup-check.js). */
export const NO_DATA_MARKER_PREFIX = "gitops-dr-no-data";
/** The label of a marker ConfigMap (backup-check.js `MARKER_LABEL`). */
export const NO_DATA_MARKER_LABEL = "gitops-dr.io/claim-without-data";

/**
 * The task's permissions, all in Velero's namespace: list Backups, download their metadata (DownloadRequests),
 * its markers and record (ConfigMaps: RBAC cannot narrow create, list, patch or delete by name prefix or label, so
 * {@link markersOnlyPolicy} narrows the deletes to markers and the patches to markers and the record), its own Job's
 * result. Nothing cluster-wide.
 */
export const BACKUP_CHECK_RULES: readonly PolicyRule[] = [
    { apiGroups: ["velero.io"], resources: ["backups"], verbs: ["list"] },
    { apiGroups: ["velero.io"], resources: ["downloadrequests"], verbs: ["create", "get", "delete"] },
    // patch: a marker whose reason changed keeps its object, so kube_configmap_created keeps its first time.
    { apiGroups: [""], resources: ["configmaps"], verbs: ["create", "list", "patch", "delete"] },
    { apiGroups: [""], resources: ["configmaps"], verbs: ["get"], resourceNames: [BACKUP_CHECK_RECORD] },
    // Its own Job's result (runner.js); a CronJob's Jobs have generated names.
    { apiGroups: ["batch"], resources: ["jobs"], verbs: ["patch"] },
];

/**
 * The admission policy that lets the task delete only its markers, and change only its markers and its record:
 * Velero's namespace also holds the volume policy and the node agent's configuration, which the task's Role could
 * otherwise delete or change. Pure.
 */
export function markersOnlyPolicy(namespace: string): {
    policy: k8s.types.input.admissionregistration.v1.ValidatingAdmissionPolicySpec;
    binding: k8s.types.input.admissionregistration.v1.ValidatingAdmissionPolicyBindingSpec;
} {
    return {
        policy: {
            failurePolicy: "Fail",
            matchConstraints: {
                resourceRules: [
                    {
                        apiGroups: [""],
                        apiVersions: ["v1"],
                        operations: ["DELETE", "UPDATE"],
                        resources: ["configmaps"],
                    },
                ],
            },
            matchConditions: [
                {
                    name: "the-backup-check-task",
                    expression: `request.userInfo.username == 'system:serviceaccount:${namespace}:${BACKUP_CHECK_CRONJOB}'`,
                },
            ],
            validations: [
                {
                    expression: `oldObject.metadata.name.startsWith('${NO_DATA_MARKER_PREFIX}.') || (request.operation == 'UPDATE' && oldObject.metadata.name == '${BACKUP_CHECK_RECORD}')`,
                    message:
                        "The backup check deletes and changes only its own markers of claims without data, and changes its record.",
                    reason: "Forbidden",
                },
            ],
        },
        binding: { policyName: BACKUP_CHECK_CRONJOB, validationActions: ["Deny"] },
    };
}

export interface BackupCheckArgs {
    /** Velero's namespace. */
    namespace: string;
    settings: BackupCheckSettings;
    /** volumeDataMode nativeSnapshots: a snapshot not moved into the vault is the data (EBS snapshots). */
    snapshotsSuffice: boolean;
    /** The cluster's Schedules whose backups hold claims (not the credentials one). */
    scheduleNames: readonly string[];
    /** Create a PrometheusRule with the alerts. */
    prometheusOperator: boolean;
    /** Extra labels on the PrometheusRule. */
    monitoringLabels: Readonly<Record<string, string>>;
    /** Registry the Node image is pulled from. Defaults to none: Docker Hub. */
    imageRegistry?: string;
    /** What the CronJob waits for (Velero's release, its Schedules). */
    after: pulumi.Resource[];
    provider: k8s.Provider;
}

/** The backup check's CronJob and what it needs. */
export class BackupCheck extends pulumi.ComponentResource {
    public readonly cronJob: k8s.batch.v1.CronJob;

    constructor(name: string, args: BackupCheckArgs, opts?: pulumi.ComponentResourceOptions) {
        super("gitops-dr:verify:BackupCheck", name, {}, opts);
        const child = { parent: this, provider: args.provider, dependsOn: args.after };
        const namespace = args.namespace;
        const scripts = new k8s.core.v1.ConfigMap(
            `${name}-scripts`,
            { metadata: { name: `${BACKUP_CHECK_CRONJOB}-scripts`, namespace }, data: taskScripts() },
            child,
        );
        const account = new k8s.core.v1.ServiceAccount(
            `${name}-sa`,
            { metadata: { name: BACKUP_CHECK_CRONJOB, namespace } },
            child,
        );
        const role = new k8s.rbac.v1.Role(
            `${name}-role`,
            { metadata: { name: BACKUP_CHECK_CRONJOB, namespace }, rules: BACKUP_CHECK_RULES.map(mutableRule) },
            child,
        );
        const roleBinding = new k8s.rbac.v1.RoleBinding(
            `${name}-role`,
            {
                metadata: { name: BACKUP_CHECK_CRONJOB, namespace },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
                subjects: [{ kind: "ServiceAccount", name: BACKUP_CHECK_CRONJOB, namespace }],
            },
            child,
        );
        const guard = markersOnlyPolicy(namespace);
        const policy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
            `${name}-markers-only`,
            { metadata: { name: BACKUP_CHECK_CRONJOB }, spec: guard.policy },
            child,
        );
        const binding = new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
            `${name}-markers-only`,
            { metadata: { name: BACKUP_CHECK_CRONJOB }, spec: { ...guard.binding, policyName: policy.metadata.name } },
            child,
        );
        const taskArgs = {
            veleroNamespace: namespace,
            schedules: [...args.scheduleNames],
            markerPrefix: NO_DATA_MARKER_PREFIX,
            resultConfigMap: BACKUP_CHECK_RECORD,
            snapshotsSuffice: args.snapshotsSuffice,
        };
        this.cronJob = new k8s.batch.v1.CronJob(
            `${name}-cronjob`,
            {
                metadata: { name: BACKUP_CHECK_CRONJOB, namespace },
                spec: {
                    schedule: args.settings.schedule,
                    timeZone: "Etc/UTC",
                    concurrencyPolicy: "Forbid",
                    startingDeadlineSeconds: 600,
                    successfulJobsHistoryLimit: 1,
                    failedJobsHistoryLimit: 2,
                    jobTemplate: cronTaskJobTemplate("backup-check", taskArgs, {
                        serviceAccountName: account.metadata.name,
                        scriptsConfigMap: scripts.metadata.name,
                        namespace,
                        // Two downloads per Schedule, each given up after 2 minutes (kube.js `download`).
                        activeDeadlineSeconds: 1800,
                        imageRegistry: args.imageRegistry,
                    }),
                },
            },
            { ...child, dependsOn: [roleBinding, binding, scripts, ...args.after] },
        );
        if (args.prometheusOperator) {
            new k8s.apiextensions.CustomResource(
                `${name}-alerts`,
                {
                    apiVersion: "monitoring.coreos.com/v1",
                    kind: "PrometheusRule",
                    metadata: { name: BACKUP_CHECK_CRONJOB, namespace, labels: { ...args.monitoringLabels } },
                    spec: {
                        groups: [
                            {
                                name: "gitops-dr-backup-check",
                                rules: backupCheckAlertRules({
                                    namespace,
                                    cronJob: BACKUP_CHECK_CRONJOB,
                                    configMap: BACKUP_CHECK_RECORD,
                                    markerPrefix: NO_DATA_MARKER_PREFIX,
                                    periodSeconds: args.settings.periodSeconds,
                                }),
                            },
                        ],
                    },
                },
                child,
            );
        }
        this.registerOutputs({ cronJob: this.cronJob.metadata.name });
    }
}
