/**
 * The weekly proof of a protected cluster's backups: a CronJob in Velero's namespace whose Job runs the verify task
 * (components/tasks/verify.js) with the restore tasks' code, its own ServiceAccount and only what the task does, an
 * admission policy that narrows what RBAC cannot (deletes only in scratch namespaces), and with the Prometheus
 * operator a PrometheusRule (alerts.ts).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import type { VerifySettings } from "../config";
import { verificationRestoreSpec } from "../restore";
import { PolicyRule, mutableRule, cronTaskJobTemplate, taskScripts } from "../tasks";
import { verificationAlertGroup, verificationAlertRules } from "./alerts";

export * from "./alerts";
export * from "./backup-check";

/** The CronJob, its ServiceAccount, Roles, scripts ConfigMap and admission policy. */
export const VERIFY_CRONJOB = "gitops-dr-verify";
/** The last run's record (verify.js `writeRecord`). */
export const VERIFY_RECORD = "gitops-dr-verify-last-run";
/**
 * The ConfigMap that exists while some namespaces cannot be proven by the verification (verify.js
 * `markNotVerifiable`): its creation time is what GitopsDrBackupNamespacesNotVerifiable reads.
 */
export const VERIFY_NOT_VERIFIABLE = "gitops-dr-verify-not-verifiable";
/** Verification Restores are named `<prefix><UTC time>`. */
export const VERIFY_RESTORE_PREFIX = "gitops-dr-verify-";
/** The label of a scratch namespace (verify.js `SCRATCH_LABEL`). */
export const SCRATCH_LABEL = "gitops-dr.io/verify-scratch";
/** Scratch namespaces are named `<prefix><source namespace>` (verify.js `scratchName`). */
export const SCRATCH_PREFIX = "gdr-verify-";
/** How many verification Restores stay for `velero restore describe`. */
export const KEEP_RESTORES = 2;

/**
 * The verify task's permissions. Velero's namespace: Restores (create, read, remove old verification ones), backups
 * and DownloadRequests (the pre- and post-restore tasks), its record, its own Job's result. Cluster-wide, because the
 * scratch namespaces and their claims are made at run time: namespaces (create, list, delete: the admission policy
 * allows deleting only scratch ones), claims (the restore tasks list them; delete only in scratch namespaces),
 * volumes and StorageClasses read.
 */
export const VERIFY_RULES: { readonly clusterRules: PolicyRule[]; readonly namespaceRules: PolicyRule[] } = {
    clusterRules: [
        { apiGroups: [""], resources: ["namespaces"], verbs: ["create", "list", "delete"] },
        { apiGroups: [""], resources: ["persistentvolumeclaims"], verbs: ["get", "list", "delete"] },
        { apiGroups: [""], resources: ["persistentvolumes"], verbs: ["get"] },
        { apiGroups: ["storage.k8s.io"], resources: ["storageclasses"], verbs: ["get"] },
    ],
    namespaceRules: [
        { apiGroups: ["velero.io"], resources: ["restores"], verbs: ["create", "get", "list", "delete"] },
        { apiGroups: ["velero.io"], resources: ["backups"], verbs: ["get", "list"] },
        // Which namespaces hold file-system backup data (pre-restore.js `volumesWithData`).
        { apiGroups: ["velero.io"], resources: ["podvolumebackups"], verbs: ["list"] },
        { apiGroups: ["velero.io"], resources: ["downloadrequests"], verbs: ["create", "get", "delete"] },
        // The post-restore checks sum the restore's DataDownloads (post-restore.js `dataMovementOf`).
        { apiGroups: ["velero.io"], resources: ["datadownloads"], verbs: ["list"] },
        { apiGroups: [""], resources: ["configmaps"], verbs: ["create"] },
        { apiGroups: [""], resources: ["configmaps"], verbs: ["get", "patch"], resourceNames: [VERIFY_RECORD] },
        {
            apiGroups: [""],
            resources: ["configmaps"],
            verbs: ["get", "patch", "delete"],
            resourceNames: [VERIFY_NOT_VERIFIABLE],
        },
        // Its own Job's result (runner.js); a CronJob's Jobs have generated names.
        { apiGroups: ["batch"], resources: ["jobs"], verbs: ["patch"] },
    ],
};

/** The admission policy that narrows the task's deletes to scratch namespaces. Pure. */
export function scratchOnlyPolicy(veleroNamespace: string): {
    policy: k8s.types.input.admissionregistration.v1.ValidatingAdmissionPolicySpec;
    binding: k8s.types.input.admissionregistration.v1.ValidatingAdmissionPolicyBindingSpec;
} {
    const scratch = `has(oldObject.metadata.labels) && '${SCRATCH_LABEL}' in oldObject.metadata.labels`;
    return {
        policy: {
            failurePolicy: "Fail",
            matchConstraints: {
                resourceRules: [
                    {
                        apiGroups: [""],
                        apiVersions: ["v1"],
                        operations: ["DELETE"],
                        resources: ["namespaces", "persistentvolumeclaims"],
                    },
                ],
            },
            matchConditions: [
                {
                    name: "the-verify-task",
                    expression: `request.userInfo.username == 'system:serviceaccount:${veleroNamespace}:${VERIFY_CRONJOB}'`,
                },
            ],
            // A namespace must carry the scratch label; a claim must be in a namespace named as scratch ones are.
            validations: [
                {
                    expression: `request.resource.resource == 'namespaces' ? (${scratch}) : oldObject.metadata.namespace.startsWith('${SCRATCH_PREFIX}')`,
                    message: "The backup verification deletes only its own scratch namespaces and their claims.",
                    reason: "Forbidden",
                },
            ],
        },
        binding: { policyName: VERIFY_CRONJOB, validationActions: ["Deny"] },
    };
}

export interface BackupVerificationArgs {
    /** Velero's namespace. */
    namespace: pulumi.Input<string>;
    veleroNamespace: string;
    settings: VerifySettings;
    /** The cluster's daily Schedule. */
    scheduleName: pulumi.Input<string>;
    /** Namespaces never verified (Velero's, Argo CD's, the system's). */
    excludedNamespaces: readonly string[];
    /** How long one run may take, in minutes. */
    timeoutMinutes: number;
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

/** The verification CronJob and what it needs. */
export class BackupVerification extends pulumi.ComponentResource {
    public readonly cronJob: k8s.batch.v1.CronJob;

    constructor(name: string, args: BackupVerificationArgs, opts?: pulumi.ComponentResourceOptions) {
        super("gitops-dr:verify:BackupVerification", name, {}, opts);
        const child = { parent: this, provider: args.provider };
        const namespace = args.namespace;
        const subjects = [{ kind: "ServiceAccount", name: VERIFY_CRONJOB, namespace }];

        const scripts = new k8s.core.v1.ConfigMap(
            `${name}-scripts`,
            { metadata: { name: `${VERIFY_CRONJOB}-scripts`, namespace }, data: taskScripts() },
            { ...child, dependsOn: args.after },
        );
        const account = new k8s.core.v1.ServiceAccount(
            `${name}-sa`,
            { metadata: { name: VERIFY_CRONJOB, namespace } },
            { ...child, dependsOn: args.after },
        );
        const role = new k8s.rbac.v1.Role(
            `${name}-role`,
            { metadata: { name: VERIFY_CRONJOB, namespace }, rules: VERIFY_RULES.namespaceRules.map(mutableRule) },
            { ...child, dependsOn: args.after },
        );
        const roleBinding = new k8s.rbac.v1.RoleBinding(
            `${name}-role`,
            {
                metadata: { name: VERIFY_CRONJOB, namespace },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
                subjects,
            },
            child,
        );
        const clusterRole = new k8s.rbac.v1.ClusterRole(
            `${name}-cluster-role`,
            { metadata: { name: VERIFY_CRONJOB }, rules: VERIFY_RULES.clusterRules.map(mutableRule) },
            child,
        );
        const clusterRoleBinding = new k8s.rbac.v1.ClusterRoleBinding(
            `${name}-cluster-role`,
            {
                metadata: { name: VERIFY_CRONJOB },
                roleRef: {
                    apiGroup: "rbac.authorization.k8s.io",
                    kind: "ClusterRole",
                    name: clusterRole.metadata.name,
                },
                subjects,
            },
            child,
        );
        const guard = scratchOnlyPolicy(args.veleroNamespace);
        const policy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
            `${name}-scratch-only`,
            { metadata: { name: VERIFY_CRONJOB }, spec: guard.policy },
            child,
        );
        const binding = new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
            `${name}-scratch-only`,
            { metadata: { name: VERIFY_CRONJOB }, spec: { ...guard.binding, policyName: policy.metadata.name } },
            child,
        );

        const s = args.settings;
        const taskArgs = pulumi.output(args.scheduleName).apply((scheduleName) => ({
            veleroNamespace: args.veleroNamespace,
            scheduleName,
            restorePrefix: VERIFY_RESTORE_PREFIX,
            spec: verificationRestoreSpec(args.timeoutMinutes),
            namespacesPerRun: s.namespacesPerRun,
            maxClaims: s.maxClaims,
            periodSeconds: s.periodSeconds,
            excludedNamespaces: [...args.excludedNamespaces],
            // The Job's deadline kills the pod: the restore gives up half an hour before, so the cleanup still runs.
            restoreTimeoutMinutes: args.timeoutMinutes - 30,
            keepRestores: KEEP_RESTORES,
            resultConfigMap: VERIFY_RECORD,
            notVerifiableConfigMap: VERIFY_NOT_VERIFIABLE,
        }));
        this.cronJob = new k8s.batch.v1.CronJob(
            `${name}-cronjob`,
            {
                metadata: { name: VERIFY_CRONJOB, namespace },
                spec: {
                    schedule: s.schedule,
                    timeZone: "Etc/UTC",
                    // One run at a time; a run that could not start within an hour waits for the next period.
                    concurrencyPolicy: "Forbid",
                    startingDeadlineSeconds: 3600,
                    successfulJobsHistoryLimit: 1,
                    failedJobsHistoryLimit: 2,
                    jobTemplate: cronTaskJobTemplate("verify", taskArgs, {
                        serviceAccountName: account.metadata.name,
                        scriptsConfigMap: scripts.metadata.name,
                        namespace,
                        activeDeadlineSeconds: args.timeoutMinutes * 60,
                        imageRegistry: args.imageRegistry,
                    }),
                },
            },
            { ...child, dependsOn: [roleBinding, clusterRoleBinding, binding, ...args.after] },
        );

        if (args.prometheusOperator) {
            new k8s.apiextensions.CustomResource(
                `${name}-alerts`,
                {
                    apiVersion: "monitoring.coreos.com/v1",
                    kind: "PrometheusRule",
                    metadata: { name: VERIFY_CRONJOB, namespace, labels: { ...args.monitoringLabels } },
                    spec: {
                        groups: [
                            verificationAlertGroup(
                                verificationAlertRules({
                                    namespace: args.veleroNamespace,
                                    cronJob: VERIFY_CRONJOB,
                                    configMap: VERIFY_RECORD,
                                    notVerifiableConfigMap: VERIFY_NOT_VERIFIABLE,
                                    periodSeconds: s.periodSeconds,
                                }),
                            ),
                        ],
                    },
                },
                { ...child, dependsOn: args.after },
            );
        }
        this.registerOutputs({ cronJob: this.cronJob.metadata.name });
    }
}
