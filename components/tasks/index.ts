/**
 * A task in the cluster: one of the scripts of this folder run once by a Job, with its own service account and
 * only the permissions it needs, awaited by `pulumi up`. Its result comes back on the Job's `gitops-dr.io/result`
 * annotation; its failure is the Job's, with the task's message (runner.js).
 *
 * Why a Job: what these tasks look at (backups Velero synced, claims an earlier restore left, StorageClasses) exists
 * only in the new cluster, at apply time, and must be looked at once per restore. A read in the program would run
 * on every later `pulumi up` and in every preview; a Job runs when its inputs change (a new restore id).
 */
import * as fs from "node:fs";
import * as path from "node:path";

import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import { liveField } from "../kube";
import { imageReference, mirrorImage } from "../mirrors";
import { NODE_IMAGE } from "../versions";
import { RESULT_ANNOTATION } from "./labels";

/** The scripts every task Job mounts (this folder's JavaScript, Node built-ins only). */
export const TASK_SCRIPTS = [
    "runner.js",
    "kube.js",
    "labels.js",
    "pre-restore.js",
    "post-restore.js",
    "isolate.js",
    "verify.js",
    "backup-check.js",
    "storage-preflight.js",
] as const;
/** Where the scripts are mounted in the task's container. */
export const TASK_SCRIPTS_DIR = "/gitops-dr";
export { QUARANTINED_LABEL, RESULT_ANNOTATION, VESSEL_LABEL } from "./labels";

/** One RBAC rule. */
export interface PolicyRule {
    readonly apiGroups: readonly string[];
    readonly resources: readonly string[];
    readonly verbs: readonly string[];
    readonly resourceNames?: readonly string[];
}

export interface TaskJobArgs {
    /** The task (runner.js `TASKS`). */
    task: "pre-restore" | "post-restore" | "isolate" | "verify" | "backup-check" | "storage-preflight";
    /** Name of the Job, its ServiceAccount, Roles and scripts ConfigMap. */
    jobName: string;
    /** Namespace the Job runs in. */
    namespace: pulumi.Input<string>;
    /** The task's arguments (TASK_ARGS). A change runs the task again. */
    args: pulumi.Input<Record<string, unknown>>;
    /** Cluster-wide permissions. Defaults to none. */
    clusterRules?: readonly PolicyRule[];
    /** Permissions in the Job's namespace, besides writing its own result. Defaults to none. */
    namespaceRules?: readonly PolicyRule[];
    /** How long the task may run. */
    timeoutMinutes: number;
    /** Registry the Node image is pulled from (components/mirrors.ts). Defaults to none: Docker Hub. */
    imageRegistry?: string;
    /** What the Job waits for (a component's own dependsOn does not reach its children). */
    after?: pulumi.Input<pulumi.Resource>[];
    /** Kubernetes provider of the target cluster. */
    provider: k8s.Provider;
}

/** A rule as the Kubernetes SDK types it (mutable arrays). */
export const mutableRule = (r: PolicyRule) => ({
    apiGroups: [...r.apiGroups],
    resources: [...r.resources],
    verbs: [...r.verbs],
    ...(r.resourceNames === undefined ? {} : { resourceNames: [...r.resourceNames] }),
});

/**
 * The container of a task's pod: `node runner.js <task>` in the pinned Node image, the scripts mounted from the
 * ConfigMap volume `scripts`, the arguments as JSON in TASK_ARGS, Pod Security "restricted". `jobName`: how the task
 * learns its own Job (a fixed name, or for a CronJob's Job the `batch.kubernetes.io/job-name` label).
 */
export function taskContainer(
    task: TaskJobArgs["task"],
    args: pulumi.Input<Record<string, unknown>>,
    jobName: k8s.types.input.core.v1.EnvVar,
    namespace: pulumi.Input<string>,
    opts: { imageRegistry?: string },
): k8s.types.input.core.v1.Container {
    return {
        name: task,
        image: imageReference(mirrorImage(NODE_IMAGE, opts.imageRegistry)),
        command: ["node", `${TASK_SCRIPTS_DIR}/runner.js`, task],
        env: [
            { name: "TASK_ARGS", value: pulumi.output(args).apply((a) => JSON.stringify(a)) },
            jobName,
            { name: "JOB_NAMESPACE", value: namespace },
        ],
        volumeMounts: [{ name: "scripts", mountPath: TASK_SCRIPTS_DIR, readOnly: true }],
        // The task's message, or the end of its log, is what `pulumi up` shows.
        terminationMessagePolicy: "FallbackToLogsOnError",
        resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } },
        // Pod Security "restricted", which Velero's namespace may enforce.
        securityContext: {
            runAsNonRoot: true,
            runAsUser: 1000,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
            seccompProfile: { type: "RuntimeDefault" },
        },
    };
}

/**
 * The job template of a CronJob that runs `task`: one pod, never retried (a failed run is the signal the alerts
 * read), which learns its Job's name from the label the CronJob controller sets, with the task scripts mounted.
 */
export function cronTaskJobTemplate(
    task: TaskJobArgs["task"],
    args: pulumi.Input<Record<string, unknown>>,
    opts: {
        readonly serviceAccountName: pulumi.Input<string>;
        readonly scriptsConfigMap: pulumi.Input<string>;
        readonly namespace: pulumi.Input<string>;
        readonly activeDeadlineSeconds: number;
        readonly imageRegistry?: string;
    },
): k8s.types.input.batch.v1.JobTemplateSpec {
    const jobName = {
        name: "JOB_NAME",
        valueFrom: { fieldRef: { fieldPath: "metadata.labels['batch.kubernetes.io/job-name']" } },
    };
    return {
        spec: {
            backoffLimit: 0,
            activeDeadlineSeconds: opts.activeDeadlineSeconds,
            template: {
                spec: {
                    serviceAccountName: opts.serviceAccountName,
                    restartPolicy: "Never",
                    containers: [
                        taskContainer(task, args, jobName, opts.namespace, { imageRegistry: opts.imageRegistry }),
                    ],
                    volumes: [{ name: "scripts", configMap: { name: opts.scriptsConfigMap } }],
                },
            },
        },
    };
}

/** The scripts, read from this folder when the program runs. */
export function taskScripts(): Record<string, string> {
    return Object.fromEntries(TASK_SCRIPTS.map((f) => [f, fs.readFileSync(path.join(__dirname, f), "utf8")]));
}

/** One task run: its Job and what it returned. */
export class TaskJob<T> extends pulumi.ComponentResource {
    public readonly job: k8s.batch.v1.Job;
    /** The task's result, once the Job completed (it only completes when the task succeeded). */
    public readonly result: pulumi.Output<T>;

    constructor(name: string, args: TaskJobArgs, opts?: pulumi.ComponentResourceOptions) {
        super("gitops-dr:tasks:TaskJob", name, {}, opts);
        const child = { parent: this, provider: args.provider, dependsOn: args.after ?? [] };
        const jobName = args.jobName;
        const namespace = args.namespace;

        const scripts = new k8s.core.v1.ConfigMap(
            `${name}-scripts`,
            { metadata: { name: `${jobName}-scripts`, namespace }, data: taskScripts() },
            child,
        );
        const account = new k8s.core.v1.ServiceAccount(`${name}-sa`, { metadata: { name: jobName, namespace } }, child);
        const subjects = [{ kind: "ServiceAccount", name: jobName, namespace }];
        const role = new k8s.rbac.v1.Role(
            `${name}-role`,
            {
                metadata: { name: jobName, namespace },
                rules: [
                    // Its own result, and nothing else of Jobs.
                    { apiGroups: ["batch"], resources: ["jobs"], verbs: ["patch"], resourceNames: [jobName] },
                    ...(args.namespaceRules ?? []).map(mutableRule),
                ],
            },
            child,
        );
        const grants: pulumi.Resource[] = [
            new k8s.rbac.v1.RoleBinding(
                `${name}-role`,
                {
                    metadata: { name: jobName, namespace },
                    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
                    subjects,
                },
                child,
            ),
        ];
        if ((args.clusterRules ?? []).length > 0) {
            const clusterRole = new k8s.rbac.v1.ClusterRole(
                `${name}-cluster-role`,
                { metadata: { name: jobName }, rules: (args.clusterRules ?? []).map(mutableRule) },
                child,
            );
            grants.push(
                new k8s.rbac.v1.ClusterRoleBinding(
                    `${name}-cluster-role`,
                    {
                        metadata: { name: jobName },
                        roleRef: {
                            apiGroup: "rbac.authorization.k8s.io",
                            kind: "ClusterRole",
                            name: clusterRole.metadata.name,
                        },
                        subjects,
                    },
                    child,
                ),
            );
        }

        const timeoutSeconds = args.timeoutMinutes * 60;
        this.job = new k8s.batch.v1.Job(
            `${name}-job`,
            {
                metadata: { name: jobName, namespace },
                spec: {
                    backoffLimit: 0,
                    activeDeadlineSeconds: timeoutSeconds,
                    template: {
                        spec: {
                            serviceAccountName: account.metadata.name,
                            restartPolicy: "Never",
                            containers: [
                                taskContainer(args.task, args.args, { name: "JOB_NAME", value: jobName }, namespace, {
                                    imageRegistry: args.imageRegistry,
                                }),
                            ],
                            volumes: [{ name: "scripts", configMap: { name: scripts.metadata.name } }],
                        },
                    },
                },
            },
            {
                ...child,
                dependsOn: [...grants, scripts],
                // Pulumi waits for a Job to complete or fail; wait longer than its own deadline.
                customTimeouts: { create: `${args.timeoutMinutes + 5}m`, update: `${args.timeoutMinutes + 5}m` },
                // New arguments (a new restore) run the task again; the old Job goes first (same name).
                replaceOnChanges: ["*"],
                deleteBeforeReplace: true,
            },
        );
        // The Job's status is unknown in a preview (the dry-run object has none), so the result is too; after the
        // update it is the live Job, its annotation written by the task before it completed.
        this.result = pulumi
            .all([this.job.metadata, liveField<{ succeeded?: number }>(this.job, "status")])
            .apply(([metadata, status]) => {
                const raw = metadata?.annotations?.[RESULT_ANNOTATION];
                if (raw === undefined || (status?.succeeded ?? 0) < 1) {
                    // A RunError prints without a stack trace (pulumi sdk/nodejs/cmd/run/run.ts).
                    throw new pulumi.RunError(
                        `Job ${jobName} ended without a result: the task did not complete or did not write its ${RESULT_ANNOTATION} annotation. Read: kubectl logs job/${jobName}`,
                    );
                }
                return JSON.parse(raw) as T;
            });
        this.registerOutputs({ result: this.result });
    }
}
