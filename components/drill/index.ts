/**
 * The drill's proof that a rebuild works: after Argo CD's root Application exists, a read-only Job waits for
 * every Application to be Synced and Healthy, for every claim the restore created to be Bound, and runs the
 * per-app checks from config. A failed step fails the Job, and so `pulumi up`, with the step's error as the
 * Job's termination message. The report (backup used, data age, durations) is computed from the Restore's and
 * the Backup's status, since a read-only Job cannot hand data back.
 */
import * as k8s from "@pulumi/kubernetes";
import * as kx from "@pulumi/kubernetesx";
import * as pulumi from "@pulumi/pulumi";

import type { DrillCheck } from "../config";
import { liveField } from "../kube";
import { imageReference, mirrorImage } from "../mirrors";
import { AFTER_RESTORE_ANNOTATION, ROOT_APP_ANNOTATION } from "../names";
import { KUBECTL_IMAGE } from "../versions";
import { VERIFY_NAME, VerifyStep, verifySteps } from "./steps";

export * from "./isolation";
export * from "./report";
export * from "./steps";

export interface DrillVerificationArgs {
    /** Namespace the Job runs in (Velero's). */
    namespace: string;
    argoCdNamespace: string;
    /** The root Application's name; the Job takes it as an input from the Application, so it runs after it. */
    rootAppName: pulumi.Input<string>;
    /** The Restore's name, whose claims must be Bound. */
    restoreName: pulumi.Input<string>;
    checks: readonly DrillCheck[];
    timeoutMinutes: number;
    /** Registry the kubectl image is pulled from (components/mirrors.ts). Defaults to none: registry.k8s.io. */
    imageRegistry?: string;
    provider: k8s.Provider;
}

/** The verification Job and its read-only identity. */
export class DrillVerification extends pulumi.ComponentResource {
    public readonly job: kx.Job;
    public readonly steps: pulumi.Output<VerifyStep[]>;
    /** When the Job completed (it only completes when every step passed). */
    public readonly completedAt: pulumi.Output<string | undefined>;

    constructor(name: string, args: DrillVerificationArgs, opts?: pulumi.ComponentResourceOptions) {
        super("gitops-dr:drill:DrillVerification", name, {}, opts);
        const child = { parent: this, provider: args.provider };

        // In Velero's namespace, which exists once the restore ran: the checked restore is an input, so nothing of
        // the verification is created before it.
        const account = new k8s.core.v1.ServiceAccount(
            `${name}-sa`,
            {
                metadata: {
                    name: VERIFY_NAME,
                    namespace: args.namespace,
                    annotations: { [AFTER_RESTORE_ANNOTATION]: args.restoreName },
                },
            },
            child,
        );
        // Read only: get, list and watch what the steps look at; `kubectl exec` also resolves a workload to a pod.
        const role = new k8s.rbac.v1.ClusterRole(
            `${name}-read`,
            {
                metadata: { name: VERIFY_NAME },
                rules: [
                    { apiGroups: ["argoproj.io"], resources: ["applications"], verbs: ["get", "list", "watch"] },
                    { apiGroups: [""], resources: ["persistentvolumeclaims", "pods"], verbs: ["get", "list", "watch"] },
                    {
                        apiGroups: ["apps"],
                        resources: ["deployments", "statefulsets", "daemonsets", "replicasets"],
                        verbs: ["get", "list"],
                    },
                    { apiGroups: ["batch"], resources: ["jobs"], verbs: ["get", "list"] },
                ],
            },
            child,
        );
        const binding = new k8s.rbac.v1.ClusterRoleBinding(
            `${name}-read`,
            {
                metadata: { name: VERIFY_NAME },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role.metadata.name },
                subjects: [{ kind: "ServiceAccount", name: account.metadata.name, namespace: args.namespace }],
            },
            child,
        );
        const grants: pulumi.Resource[] = [binding];
        // `create` on pods/exec only in the namespaces whose checks run a command.
        // Those namespaces exist only once the restore created them (Velero creates a restored item's namespace):
        // the Roles take the checked restore's name as an input, so they are not created before it (a create in a
        // missing namespace fails the update after a minute of retries, pulumi-kubernetes await.go `Creation`).
        for (const ns of [...new Set(args.checks.map((c) => c.namespace))]) {
            const afterRestore = {
                name: VERIFY_NAME,
                namespace: ns,
                annotations: { [AFTER_RESTORE_ANNOTATION]: args.restoreName },
            };
            const execRole = new k8s.rbac.v1.Role(
                `${name}-exec-${ns}`,
                {
                    metadata: afterRestore,
                    // `create` is what the SPDY exec needs; kubectl >= 1.30 first tries WebSockets, a GET authorized
                    // as `get` (KEP-4006), and falls back on a 403: both, so the check does not depend on the fallback.
                    rules: [{ apiGroups: [""], resources: ["pods/exec"], verbs: ["create", "get"] }],
                },
                child,
            );
            grants.push(
                new k8s.rbac.v1.RoleBinding(
                    `${name}-exec-${ns}`,
                    {
                        metadata: afterRestore,
                        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: execRole.metadata.name },
                        subjects: [{ kind: "ServiceAccount", name: account.metadata.name, namespace: args.namespace }],
                    },
                    child,
                ),
            );
        }

        const timeoutSeconds = args.timeoutMinutes * 60;
        this.steps = pulumi.all([args.rootAppName, args.restoreName]).apply(([rootAppName, restoreName]) =>
            verifySteps({
                argoCdNamespace: args.argoCdNamespace,
                rootAppName,
                restoreName,
                checks: args.checks,
                timeoutSeconds,
            }),
        );
        const image = imageReference(mirrorImage(KUBECTL_IMAGE, args.imageRegistry));
        const container = (step: VerifyStep) => ({
            name: step.name,
            image,
            args: [...step.args],
            // kubectl's error becomes the Job's termination message (at most 4 KiB), which `pulumi up` shows.
            terminationMessagePolicy: "FallbackToLogsOnError",
            securityContext: {
                runAsNonRoot: true,
                runAsUser: 65532,
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ["ALL"] },
                seccompProfile: { type: "RuntimeDefault" },
            },
        });
        // Init containers run one after the other and stop at the first failure: the steps in order.
        const pod = new kx.PodBuilder({
            serviceAccountName: account.metadata.name,
            // kx leaves restartPolicy unset, which the API server refuses for a Job.
            restartPolicy: "Never",
            initContainers: this.steps.apply((steps) => steps.map(container)),
            containers: [
                container({ name: "report", args: ["get", "applications", "-n", args.argoCdNamespace, "-o", "wide"] }),
            ],
        });
        this.job = new kx.Job(
            `${name}-job`,
            {
                metadata: {
                    name: VERIFY_NAME,
                    namespace: args.namespace,
                    annotations: { [ROOT_APP_ANNOTATION]: args.rootAppName },
                },
                spec: pod.asJobSpec({ backoffLimit: 0, activeDeadlineSeconds: timeoutSeconds }),
            },
            {
                ...child,
                dependsOn: grants,
                // Pulumi waits for a Job to complete or fail; wait longer than its own deadline.
                customTimeouts: { create: `${args.timeoutMinutes + 5}m`, update: `${args.timeoutMinutes + 5}m` },
                // A new drill (a new restore) runs a new Job.
                replaceOnChanges: ["*"],
                deleteBeforeReplace: true,
            },
        );
        this.completedAt = liveField<{ completionTime?: string }>(this.job, "status").apply((s) => s?.completionTime);
        this.registerOutputs({ steps: this.steps, completedAt: this.completedAt });
    }
}
