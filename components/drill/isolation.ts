/**
 * What keeps a drill inside its own cluster. A drill syncs prod's git with prod's restored Secrets, so without this an
 * external-dns, a mailer CronJob or a queue consumer in the drill acts on production. After the restore ended and
 * was checked, and before the root Application exists:
 *
 *   admission policies (API server, any CNI) -> isolate task: label + NetworkPolicy in every restored namespace
 *   -> root Application (it takes the task's result as an input)
 *
 * - NetworkPolicies (components/tasks/isolate.js): egress only to the cluster's pods, DNS, the API server and
 *   `gitops-dr:drillEgressAllow`. Enforced only by a CNI that implements them (README, "Run the yearly drill").
 * - `gitops-dr-drill-no-cronjob-runs`: the API server refuses every Job a CronJob owns (the CronJob controller sets
 *   the owner reference, kubernetes `pkg/controller/cronjob/utils.go` `getJobFromTemplate2`). The CronJobs stay as
 *   git says, so Argo CD has nothing to heal: a suspend patch would be reverted by self-heal, an admission policy
 *   is outside what Argo CD manages.
 * - `gitops-dr-drill-egress-guard`: in an isolated namespace, a NetworkPolicy from anyone but the task may not
 *   allow egress outside the cluster (policies add up: one from git allowing 0.0.0.0/0 would undo the isolation).
 * - `gitops-dr-drill-no-host-network`: in an isolated namespace, no pod on the node's network, which no
 *   NetworkPolicy governs.
 *
 * ValidatingAdmissionPolicy is GA since Kubernetes 1.30 (admissionregistration.k8s.io/v1): on an older drill
 * cluster the policies fail to create and the drill stops before Argo CD syncs.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import type { PolicyRule } from "../tasks";
import { TaskJob } from "../tasks";

/** The isolation task's Job, ServiceAccount and Roles. */
export const ISOLATE_JOB = "gitops-dr-drill-isolate";
/** The NetworkPolicy in each isolated namespace (components/tasks/isolate.js). */
export const ISOLATION_POLICY = "gitops-dr-drill-isolation";
/** The label of an isolated namespace (components/tasks/isolate.js). */
export const ISOLATED_LABEL = "gitops-dr.io/drill-isolated";
/** Namespaces the system needs open in every cluster. */
export const SYSTEM_NAMESPACES = ["kube-system", "kube-public", "kube-node-lease"] as const;

/** What the isolate task returns (isolate.js `IsolateResult`). */
export interface IsolateResult {
    readonly namespaces: readonly string[];
    readonly apiServer: readonly string[];
    readonly egressAllow: readonly string[];
}

/** What the drill isolated, for its report. */
export interface DrillIsolationResult extends IsolateResult {
    /** The admission policies in force, by name. */
    readonly admissionPolicies: readonly string[];
}

/**
 * The isolate task's permissions: label namespaces, write NetworkPolicies (the namespaces are known only once the
 * restore ran, so cluster-wide), read the API server's Endpoints; download the restore's resource list.
 */
export const ISOLATE_RULES: { readonly clusterRules: PolicyRule[]; readonly namespaceRules: PolicyRule[] } = {
    clusterRules: [
        { apiGroups: [""], resources: ["namespaces"], verbs: ["patch"] },
        { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"], verbs: ["get", "create", "patch"] },
        { apiGroups: [""], resources: ["endpoints"], verbs: ["get"], resourceNames: ["kubernetes"] },
    ],
    namespaceRules: [{ apiGroups: ["velero.io"], resources: ["downloadrequests"], verbs: ["create", "get", "delete"] }],
};

/** One ValidatingAdmissionPolicy and its binding, as plain specs (tests read them). */
export interface AdmissionPolicySpec {
    readonly name: string;
    readonly policy: k8s.types.input.admissionregistration.v1.ValidatingAdmissionPolicySpec;
    readonly binding: k8s.types.input.admissionregistration.v1.ValidatingAdmissionPolicyBindingSpec;
}

const FIX = "This is a gitops-dr drill cluster (README, Run the yearly drill)";

/** The drill's admission policies. Pure. */
export function admissionPolicies(args: {
    veleroNamespace: string;
    keepOpen: readonly string[];
    egressAllow: readonly string[];
}): AdmissionPolicySpec[] {
    // Exactly the CIDRs allowed (validated, so no quote to escape); CEL's cidr library would need Kubernetes 1.31.
    const allowed = `[${args.egressAllow.map((c) => `'${c}'`).join(", ")}]`;
    const isolated = { matchLabels: { [ISOLATED_LABEL]: "true" } };
    const rule = (group: string, resource: string, operations: string[]) => ({
        apiGroups: [group],
        apiVersions: ["v1"],
        operations,
        resources: [resource],
    });
    const bind = (name: string, namespaceSelector: object) => ({
        policyName: name,
        validationActions: ["Deny"],
        matchResources: { namespaceSelector },
    });
    return [
        {
            name: "gitops-dr-drill-no-cronjob-runs",
            policy: {
                failurePolicy: "Fail",
                matchConstraints: { resourceRules: [rule("batch", "jobs", ["CREATE"])] },
                validations: [
                    {
                        expression:
                            "!has(object.metadata.ownerReferences) || !object.metadata.ownerReferences.exists(r, r.kind == 'CronJob')",
                        message: `CronJobs do not run in a drill: ${FIX}.`,
                        reason: "Forbidden",
                    },
                ],
            },
            // Every namespace but the system's, Velero's and Argo CD's: also those Argo CD creates after the restore.
            binding: bind("gitops-dr-drill-no-cronjob-runs", {
                matchExpressions: [
                    { key: "kubernetes.io/metadata.name", operator: "NotIn", values: [...args.keepOpen] },
                ],
            }),
        },
        {
            name: "gitops-dr-drill-egress-guard",
            policy: {
                failurePolicy: "Fail",
                matchConstraints: {
                    resourceRules: [rule("networking.k8s.io", "networkpolicies", ["CREATE", "UPDATE"])],
                },
                // The isolate task writes the one policy that may name addresses outside the cluster.
                matchConditions: [
                    {
                        name: "not-the-isolate-task",
                        expression: `request.userInfo.username != 'system:serviceaccount:${args.veleroNamespace}:${ISOLATE_JOB}'`,
                    },
                ],
                validations: [
                    {
                        // A rule without `to` allows every destination; an ipBlock names addresses outside the pods.
                        expression: `!has(object.spec.egress) || object.spec.egress.all(e, has(e.to) && size(e.to) > 0 && e.to.all(p, !has(p.ipBlock) || p.ipBlock.cidr in ${allowed}))`,
                        message: `In a drill, a NetworkPolicy may allow egress only to pods (namespaceSelector, podSelector) and to CIDRs gitops-dr:drillEgressAllow lists exactly: ${FIX}.`,
                        reason: "Forbidden",
                    },
                ],
            },
            binding: bind("gitops-dr-drill-egress-guard", isolated),
        },
        {
            name: "gitops-dr-drill-no-host-network",
            policy: {
                failurePolicy: "Fail",
                matchConstraints: { resourceRules: [rule("", "pods", ["CREATE"])] },
                validations: [
                    {
                        expression: "!has(object.spec.hostNetwork) || !object.spec.hostNetwork",
                        message: `In a drill, pods of an isolated namespace do not use the node's network, which no NetworkPolicy governs: ${FIX}.`,
                        reason: "Forbidden",
                    },
                ],
            },
            binding: bind("gitops-dr-drill-no-host-network", isolated),
        },
    ];
}

export interface DrillIsolationArgs {
    /** Velero's namespace: the task runs there. */
    veleroNamespace: string;
    /** Argo CD's namespace, never isolated: Argo CD must reach git. */
    argoCdNamespace: string;
    /** The drill's data Restore, ended and checked: the task takes it as an input, so it runs after it. */
    restoreName: pulumi.Input<string>;
    /** CIDRs outside the cluster the drill's pods may reach (validated: components/config/drill.ts). */
    egressAllow: readonly string[];
    /** How long the task may run. */
    timeoutMinutes: number;
    /** Registry the tasks' image is pulled from (components/mirrors.ts). Defaults to none: Docker Hub. */
    imageRegistry?: string;
    provider: k8s.Provider;
}

/** The drill's isolation: admission policies, then the isolate task. */
export class DrillIsolation extends pulumi.ComponentResource {
    /** What was isolated; the root Application takes it as an input. */
    public readonly result: pulumi.Output<DrillIsolationResult>;

    constructor(name: string, args: DrillIsolationArgs, opts?: pulumi.ComponentResourceOptions) {
        super("gitops-dr:drill:DrillIsolation", name, {}, opts);
        const child = { parent: this, provider: args.provider };
        const keepOpen = [...SYSTEM_NAMESPACES, args.veleroNamespace, args.argoCdNamespace];

        const specs = admissionPolicies({
            veleroNamespace: args.veleroNamespace,
            keepOpen,
            egressAllow: args.egressAllow,
        });
        const admission: pulumi.Resource[] = [];
        for (const s of specs) {
            const policy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
                `${name}-${s.name}`,
                { metadata: { name: s.name }, spec: s.policy },
                child,
            );
            admission.push(
                policy,
                new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
                    `${name}-${s.name}`,
                    { metadata: { name: s.name }, spec: { ...s.binding, policyName: policy.metadata.name } },
                    child,
                ),
            );
        }

        const task = new TaskJob<IsolateResult>(
            `${name}-task`,
            {
                task: "isolate",
                jobName: ISOLATE_JOB,
                namespace: args.veleroNamespace,
                args: pulumi.output(args.restoreName).apply((restoreName) => ({
                    veleroNamespace: args.veleroNamespace,
                    restoreName,
                    egressAllow: [...args.egressAllow],
                    keepOpen,
                })),
                ...ISOLATE_RULES,
                timeoutMinutes: args.timeoutMinutes,
                imageRegistry: args.imageRegistry,
                // The policies hold before any namespace is labelled.
                after: admission,
                provider: args.provider,
            },
            { parent: this },
        );
        this.result = task.result.apply((r) => ({ ...r, admissionPolicies: specs.map((s) => s.name) }));
        this.registerOutputs({ result: this.result });
    }
}
