/**
 * `npm run plan -- <stack>`: the ordered plan of a stack, with no cloud, no credentials and no cluster. Runs the
 * program on the offline engine (engine/), derives the steps that matter from the recorded graph, prints
 * them with what each waits for and its timeout between the few manual steps around `pulumi up`, and writes
 * `docs/runbooks/<stack>.md`: the same plan as numbered steps, a Mermaid graph of the order and, for each step,
 * the output to expect and the command that verifies it.
 *
 * The steps are not a list kept by hand: a registered resource is a step when it waits (a Helm release, a
 * `pulumi.com/waitFor` annotation, a Job, custom timeouts) or is a milestone an operator checks (an Argo CD
 * Application, a Velero Schedule, the vault's bucket and its Object Lock), and the order is the recorded
 * dependency relation, in waves. A cluster with 3 namespaces or 3,000 has the same steps.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import type { StackValue } from "../engine";
import { ProgramRun, RegisteredResource, runProgram } from "../engine";
import { ROOT, STACKS, STACK_NAMES, StackSpec, isStackName, stackFileValues, stackRunOptions } from "../engine";

const PROJECT = "gitops-dr";

/** The annotation that makes the Kubernetes provider hold a create until a condition holds (components/wait.ts). */
const WAIT_FOR = "pulumi.com/waitFor";

/** How long the Kubernetes provider waits when a resource sets no custom timeout (DESIGN §1; `await/job.go`). */
export const PROVIDER_DEFAULT_TIMEOUT_MINUTES = 10;

/** Helm's wait when a Release sets no `timeout` (pulumi-kubernetes `provider/pkg/provider/helm_release.go`). */
export const HELM_DEFAULT_TIMEOUT_SECONDS = 300;

export type Mode = "protect" | "recover" | "drill";

/** A command and what it prints when the step went well. */
export interface Check {
    readonly command: string;
    readonly expect: string;
}

/** Why a registered resource is a step of the plan. */
export type StepReason = "helm" | "waitFor" | "job" | "customTimeouts" | "milestone";

/** How long a step may take before `pulumi up` fails it. `minutes` is undefined when nothing waits. */
export interface StepTimeout {
    readonly minutes?: number;
    readonly source: string;
}

/** One step `pulumi up` performs, taken from one registered resource. */
export interface PlanStep {
    /** `4.<n>`: a sub-step of the `pulumi up` manual step. */
    readonly number: string;
    readonly urn: string;
    /** Pulumi type token, e.g. `kubernetes:velero.io/v1:Restore`. */
    readonly type: string;
    /** Pulumi logical name, as `pulumi up` lists it. */
    readonly logicalName: string;
    /** What it is: `velero.io/v1 Restore`, `helm.sh/v3 Release`, `s3 Bucket`. */
    readonly kind: string;
    /** The object's own name (Kubernetes `metadata.name`, the release name, the bucket name). */
    readonly objectName: string;
    readonly namespace?: string;
    readonly reason: StepReason;
    /** What the create waits for, in words; empty when it waits for nothing but the API call. */
    readonly waitsFor: readonly string[];
    readonly timeout: StepTimeout;
    /** URNs of the earlier steps it waits on directly (the transitive reduction of the order). */
    readonly after: readonly string[];
    /** What `pulumi up` shows for it. */
    readonly pulumiShows: string;
    /** How to verify it by hand afterwards. */
    readonly checks: readonly Check[];
}

/** A step the operator performs. */
export interface ManualStep {
    readonly number: string;
    readonly title: string;
    readonly why: string;
    readonly checks: readonly Check[];
    /** The step whose sub-steps are the plan (`pulumi up`). */
    readonly runsPlan: boolean;
}

/** The plan of one stack. */
export interface Plan {
    readonly stack: string;
    readonly mode: Mode;
    readonly file: string;
    readonly clusterName: string;
    /** Registrations the engine recorded (stack, components, providers, resources). */
    readonly resourceCount: number;
    readonly manual: readonly ManualStep[];
    readonly steps: readonly PlanStep[];
}

// ---------------------------------------------------------------------------------------------------------
// Reading registrations

interface ObjectMeta {
    readonly name?: string;
    readonly namespace?: string;
    readonly annotations?: Readonly<Record<string, string>>;
}

const metaOf = (r: RegisteredResource): ObjectMeta => r.inputs.metadata ?? {};
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
const HELM_RELEASE = /^kubernetes:helm\.sh\/v\d+:Release$/;
const JOB = "kubernetes:batch/v1:Job";

/** Types an operator checks even though their create waits for nothing. */
const MILESTONES: ReadonlySet<string> = new Set([
    "kubernetes:argoproj.io/v1alpha1:Application",
    "kubernetes:velero.io/v1:Schedule",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
]);

/** Why a registration is a step, or undefined when it is not one. */
export function stepReason(r: RegisteredResource): StepReason | undefined {
    if (!r.custom || r.type.startsWith("pulumi:")) {
        return undefined;
    }
    if (HELM_RELEASE.test(r.type)) {
        return "helm";
    }
    if (metaOf(r).annotations?.[WAIT_FOR] !== undefined) {
        return "waitFor";
    }
    if (r.type === JOB) {
        return "job";
    }
    if (r.customTimeouts?.create !== undefined) {
        return "customTimeouts";
    }
    return MILESTONES.has(r.type) ? "milestone" : undefined;
}

/** `velero.io/v1 Restore` for `kubernetes:velero.io/v1:Restore`, `s3 Bucket` for `aws:s3/bucket:Bucket`. */
export function kindOf(type: string): string {
    const [pkg, module = "", kind = type] = type.split(":");
    if (pkg === "kubernetes") {
        return `${module.startsWith("core/") ? module.slice("core/".length) : module} ${kind}`;
    }
    return `${module.split("/")[0]} ${kind}`;
}

/** A Go duration (`300m`, `1h30m`, `90s`) in minutes. */
export function durationMinutes(duration: string): number {
    const parts = [...duration.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s)/g)];
    if (parts.length === 0 || parts.map((p) => p[0]).join("") !== duration) {
        throw new Error(`not a Go duration: ${JSON.stringify(duration)}`);
    }
    const unit = { h: 60, m: 1, s: 1 / 60, ms: 1 / 60000 } as const;
    return parts.reduce((sum, p) => sum + Number(p[1]) * unit[p[2] as keyof typeof unit], 0);
}

/** A duration as Go's `time.Duration.String` prints whole seconds (`720h` -> `720h0m0s`): how Velero shows TTLs. */
export function goDurationString(duration: string): string {
    const seconds = Math.round(durationMinutes(duration) * 60);
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = seconds % 60;
    return h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
}

const minutesText = (m: number): string => (Number.isInteger(m) ? `${m}m` : `${m.toFixed(1)}m`);

/** The conditions of a `pulumi.com/waitFor` value: one condition, or a JSON array of them that must all hold. */
export function waitForConditions(value: string): string[] {
    const trimmed = value.trim();
    return trimmed.startsWith("[") ? (JSON.parse(trimmed) as string[]) : [trimmed];
}

/** One waitFor condition in words (forms: pulumi-kubernetes `metadata/overrides.go`, `ReadyCondition`). */
export function describeCondition(condition: string): string {
    const cond = /^condition=([^=]+)(?:=(.*))?$/.exec(condition);
    if (cond !== null) {
        return `condition \`${cond[1]}\` is \`${cond[2] ?? "True"}\``;
    }
    const jsonpath = /^jsonpath=\{(.*)\}(?:=(.*))?$/.exec(condition);
    if (jsonpath === null) {
        return `\`${condition}\``;
    }
    const [, expression, value] = jsonpath;
    if (value !== undefined) {
        return `\`${expression}\` is \`${value}\``;
    }
    // `{.status[?@ == 'A' || @ == 'B']}` holds once a member of .status equals one of the values (RFC 9535).
    const filter = /^(.*)\[\?(.*)\]$/.exec(expression);
    if (filter !== null) {
        const alternatives = filter[2].split("||").map((a) => /^\s*@\s*==\s*'([^']*)'\s*$/.exec(a));
        if (alternatives.every((a) => a !== null)) {
            return `\`${filter[1]}\` holds one of ${alternatives.map((a) => `\`${a[1]}\``).join(", ")}`;
        }
    }
    return `\`${expression}\` is set`;
}

function waitsFor(r: RegisteredResource, reason: StepReason): string[] {
    const annotation = metaOf(r).annotations?.[WAIT_FOR];
    if (annotation !== undefined) {
        return waitForConditions(annotation).map(describeCondition);
    }
    switch (reason) {
        case "helm":
            return r.inputs.skipAwait === true
                ? []
                : [
                      "Helm's wait: the chart's Deployments, StatefulSets and DaemonSets ready",
                      ...(r.inputs.waitForJobs === true ? ["the chart's Jobs complete (`waitForJobs`)"] : []),
                  ];
        case "job":
            // pulumi-kubernetes await/job.go: ready on the Complete condition, fails at once on Failed.
            return ["the Job's `Complete` condition (a `Failed` condition fails the update at once)"];
        case "waitFor":
        case "customTimeouts":
        case "milestone":
            return [];
        default: {
            const unreachable: never = reason;
            throw new Error(`unhandled step reason ${String(unreachable)}`);
        }
    }
}

function timeoutOf(r: RegisteredResource, reason: StepReason, waits: readonly string[]): StepTimeout {
    if (reason === "helm") {
        if (r.inputs.skipAwait === true) {
            return { source: "no wait (`skipAwait`)" };
        }
        // The Release provider hands `timeout` to Helm's install and ignores the create timeout
        // (pulumi-kubernetes helm_release.go, helmCreate: client.Timeout = getTimeoutOrDefault(Timeout)).
        const seconds = typeof r.inputs.timeout === "number" ? r.inputs.timeout : HELM_DEFAULT_TIMEOUT_SECONDS;
        return {
            minutes: seconds / 60,
            source:
                typeof r.inputs.timeout === "number"
                    ? `the release's \`timeout\`, ${seconds} s`
                    : `Helm's default, ${seconds} s`,
        };
    }
    const create = r.customTimeouts?.create;
    if (create !== undefined) {
        return { minutes: durationMinutes(create), source: "`customTimeouts.create`" };
    }
    if (waits.length > 0) {
        return { minutes: PROVIDER_DEFAULT_TIMEOUT_MINUTES, source: "the provider's default" };
    }
    return { source: "no wait" };
}

// ---------------------------------------------------------------------------------------------------------
// The order

/** Every URN a resource waits for, directly or through a chain of dependencies. */
function reachable(run: ProgramRun, r: RegisteredResource): Set<string> {
    const seen = new Set<string>();
    const stack = [...run.directDependencies(r)];
    while (stack.length > 0) {
        const urn = stack.pop()!;
        if (!seen.has(urn)) {
            seen.add(urn);
            const next = run.resources.find((x) => x.urn === urn);
            if (next !== undefined) {
                stack.push(...run.directDependencies(next));
            }
        }
    }
    return seen;
}

/**
 * The resources in an order that respects the dependency relation, in waves (Kahn's algorithm, a wave at a
 * time): a resource comes in the first wave after every resource it waits for. Within a wave the order is by
 * logical name, not by registration: the SDK registers independent resources in whatever order their inputs
 * resolve, which changes with the config (e.g. the number of namespaces). Each resource comes with the
 * earlier ones it waits on directly, in plan order.
 */
export function dependencyOrder(
    run: ProgramRun,
    selected: readonly RegisteredResource[],
): { resource: RegisteredResource; after: string[] }[] {
    const urns = new Set(selected.map((r) => r.urn));
    const reach = new Map(selected.map((r) => [r.urn, reachable(run, r)]));
    const before = new Map(
        selected.map((r) => [r.urn, [...reach.get(r.urn)!].filter((u) => urns.has(u) && u !== r.urn)]),
    );
    const position = new Map<string, number>();
    const ordered: { resource: RegisteredResource; after: string[] }[] = [];
    while (ordered.length < selected.length) {
        const wave = selected
            .filter((r) => !position.has(r.urn) && before.get(r.urn)!.every((u) => position.has(u)))
            .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0));
        if (wave.length === 0) {
            throw new Error(
                `the dependency graph has a cycle among: ${selected
                    .filter((r) => !position.has(r.urn))
                    .map((r) => r.name)
                    .join(", ")}`,
            );
        }
        for (const r of wave) {
            const earlier = before.get(r.urn)!;
            // Only the nearest: an earlier step that another earlier step already waits for is implied.
            const direct = earlier
                .filter((u) => !earlier.some((v) => v !== u && reach.get(v)!.has(u)))
                .sort((u, v) => position.get(u)! - position.get(v)!);
            position.set(r.urn, ordered.length);
            ordered.push({ resource: r, after: direct });
        }
    }
    return ordered;
}

// ---------------------------------------------------------------------------------------------------------
// Verification

interface Target {
    readonly objectName: string;
    readonly namespace?: string;
}

const nsFlag = (t: Target) => (t.namespace === undefined ? "" : ` -n ${t.namespace}`);
const regionFlag = (r: RegisteredResource) =>
    str(r.inputs.region) === undefined ? "" : ` --region ${String(r.inputs.region)}`;
const specOf = (r: RegisteredResource) => (r.inputs.spec ?? {}) as Record<string, unknown>;

type Verifier = (r: RegisteredResource, t: Target) => Check[];

/** Chart-specific checks, on top of the ones every Helm release gets. */
const CHART_CHECKS: Readonly<Record<string, Verifier>> = {
    velero: (r, t) => {
        const tag = str(((r.inputs.values ?? {}) as { image?: { tag?: unknown } }).image?.tag);
        return tag === undefined
            ? []
            : [
                  {
                      command: `velero version${nsFlag(t)}`,
                      expect: `\`Server:\` \`Version: ${tag}\` (the server answers)`,
                  },
              ];
    },
};

/** Checks by resource type; anything else gets the generic `kubectl get` check of its wait conditions. */
const CHECKS: Readonly<Record<string, Verifier>> = {
    "kubernetes:velero.io/v1:BackupStorageLocation": (r, t) => {
        const spec = specOf(r);
        const storage = (spec.objectStorage ?? {}) as { bucket?: string; prefix?: string };
        return [
            {
                command: `velero backup-location get ${t.objectName}${nsFlag(t)}`,
                expect: `PHASE \`Available\`, BUCKET/PREFIX \`${storage.bucket ?? ""}${storage.prefix === undefined ? "" : `/${storage.prefix}`}\`, ACCESS MODE \`${str(spec.accessMode) ?? "ReadWrite"}\``,
            },
            {
                command: `velero backup get${nsFlag(t)}`,
                expect: `the backups found under that prefix, STORAGE LOCATION \`${t.objectName}\`, synced into the cluster`,
            },
        ];
    },
    "kubernetes:velero.io/v1:Restore": (r, t) => {
        const spec = specOf(r);
        const backup =
            str(spec.backupName) ?? `the newest Completed backup of schedule \`${String(spec.scheduleName)}\``;
        return [
            {
                command: `velero restore get ${t.objectName}${nsFlag(t)}`,
                expect: `STATUS \`Completed\`, ERRORS \`0\`, BACKUP ${str(spec.backupName) === undefined ? backup : `\`${backup}\``}`,
            },
            {
                command: `velero restore describe ${t.objectName} --details${nsFlag(t)}`,
                expect: "`Phase:` `Completed` and the restored PersistentVolumes, PersistentVolumeClaims and Secrets; any other phase already stopped `pulumi up` with this command in its message",
            },
        ];
    },
    "kubernetes:velero.io/v1:Schedule": (r, t) => {
        const spec = specOf(r);
        const ttl = str(((spec.template ?? {}) as { ttl?: unknown }).ttl);
        return [
            {
                command: `velero schedule get ${t.objectName}${nsFlag(t)}`,
                expect: `STATUS \`Enabled\`, SCHEDULE \`${String(spec.schedule)}\`${ttl === undefined ? "" : `, BACKUP TTL \`${goDurationString(ttl)}\``}; the first backup runs at the next tick, not at creation`,
            },
        ];
    },
    "kubernetes:argoproj.io/v1alpha1:Application": (_r, t) => [
        {
            command: `kubectl get applications.argoproj.io ${t.objectName}${nsFlag(t)}`,
            expect: "SYNC STATUS `Synced`, HEALTH STATUS `Healthy` once Argo CD has synced what it points at",
        },
    ],
    [JOB]: (r, t) => {
        const completions = typeof specOf(r).completions === "number" ? (specOf(r).completions as number) : 1;
        return [
            {
                command: `kubectl get job ${t.objectName}${nsFlag(t)}`,
                expect: `COMPLETIONS \`${completions}/${completions}\``,
            },
            { command: `kubectl logs job/${t.objectName}${nsFlag(t)}`, expect: "the Job's report" },
        ];
    },
    "aws:s3/bucket:Bucket": (r, t) => [
        {
            command: `aws s3api head-bucket --bucket ${t.objectName}${regionFlag(r)}`,
            expect: "exits 0: the bucket exists and these credentials reach it",
        },
        ...(r.inputs.objectLockEnabled === true
            ? [
                  {
                      command: `aws s3api get-object-lock-configuration --bucket ${t.objectName}${regionFlag(r)}`,
                      expect: '`"ObjectLockEnabled": "Enabled"` (only settable at creation)',
                  },
              ]
            : []),
    ],
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": (r, t) => {
        const retention =
            ((r.inputs.rule ?? {}) as { defaultRetention?: { mode?: string; days?: number; years?: number } })
                .defaultRetention ?? {};
        return [
            {
                command: `aws s3api get-object-lock-configuration --bucket ${t.objectName}${regionFlag(r)}`,
                expect: `\`"Mode": "${retention.mode ?? ""}"\`, \`"${retention.days !== undefined ? "Days" : "Years"}": ${retention.days ?? retention.years ?? ""}\``,
            },
        ];
    },
};

function checksOf(r: RegisteredResource, reason: StepReason, t: Target, waits: readonly string[]): Check[] {
    if (reason === "helm") {
        const chart = str(r.inputs.chart) ?? "";
        const version = str(r.inputs.version);
        return [
            {
                command: `helm list${nsFlag(t)} --filter '^${t.objectName}$'`,
                expect: `STATUS \`deployed\`, CHART \`${chart}${version === undefined ? "" : `-${version}`}\``,
            },
            // Charts label what they render with app.kubernetes.io/instance=<release> (Helm's recommended labels).
            {
                command: `kubectl get deploy,statefulset,daemonset${nsFlag(t)} -l app.kubernetes.io/instance=${t.objectName}`,
                expect: "every READY count full",
            },
            ...(CHART_CHECKS[chart]?.(r, t) ?? []),
        ];
    }
    const specific = CHECKS[r.type];
    if (specific !== undefined) {
        return specific(r, t);
    }
    const resource = r.type.split(":")[2]?.toLowerCase() ?? r.type;
    return [
        {
            command: `kubectl get ${resource} ${t.objectName}${nsFlag(t)} -o yaml`,
            expect: waits.length > 0 ? waits.join("; ") : "the object exists",
        },
    ];
}

function pulumiShows(r: RegisteredResource, timeout: StepTimeout): string {
    const row = `\`+ ${r.type} ${r.name}\``;
    return timeout.minutes === undefined
        ? `${row} \`created\``
        : `${row} \`creating\` while it waits (at most ${minutesText(timeout.minutes)}), then \`created\``;
}

// ---------------------------------------------------------------------------------------------------------
// The plan

/** The steps of a run: every registration that is a step, in dependency order, described. */
export function planSteps(run: ProgramRun): PlanStep[] {
    const selected = run.resources.filter((r) => stepReason(r) !== undefined);
    return dependencyOrder(run, selected).map(({ resource: r, after }, i) => {
        const reason = stepReason(r)!;
        const meta = metaOf(r);
        const target: Target = {
            objectName: str(meta.name) ?? str(r.inputs.name) ?? str(r.inputs.bucket) ?? r.name,
            namespace: str(meta.namespace) ?? (reason === "helm" ? str(r.inputs.namespace) : undefined),
        };
        const waits = waitsFor(r, reason);
        const timeout = timeoutOf(r, reason, waits);
        return {
            number: `${MANUAL_BEFORE + 1}.${i + 1}`,
            urn: r.urn,
            type: r.type,
            logicalName: r.name,
            kind: kindOf(r.type),
            ...target,
            reason,
            waitsFor: waits,
            timeout,
            after,
            pulumiShows: pulumiShows(r, timeout),
            checks: checksOf(r, reason, target, waits),
        };
    });
}

/** Manual steps before `pulumi up`. Fixed per mode: never one per volume, namespace or app. */
const MANUAL_BEFORE = 3;

const configKey = (key: string) => `${PROJECT}:${key}`;
const configValue = (run: ProgramRun, key: string): string | undefined => str(run.config[configKey(key)]);

/** A value as `pulumi config set` takes it on a command line. */
function shellArg(value: string): string {
    return /^[A-Za-z0-9_./:@=,+-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The `pulumi config` commands that turn a copied stack's config into the target file's. */
export function configChanges(from: ReadonlyMap<string, StackValue>, to: ReadonlyMap<string, StackValue>): string[] {
    const commands: string[] = [];
    for (const [key, value] of to) {
        if (JSON.stringify(from.get(key)) === JSON.stringify(value)) {
            continue;
        }
        if (Array.isArray(value)) {
            commands.push(
                ...(from.has(key) ? [`pulumi config rm ${key}`] : []),
                ...value.map((v, i) => `pulumi config set --path '${key}[${i}]' ${shellArg(String(v))}`),
            );
        } else if (value !== null && typeof value === "object") {
            // A secure value comes along with --copy-config-from; it is never retyped.
            continue;
        } else {
            commands.push(`pulumi config set ${key} ${shellArg(String(value))}`);
        }
    }
    for (const key of from.keys()) {
        if (!to.has(key)) {
            commands.push(`pulumi config rm ${key}`);
        }
    }
    return commands;
}

/** What the operator types to set a secret, by key; others get a placeholder. */
function secretCommand(key: string, mode: Mode, sourceStack: string | undefined): Check {
    if (key === "repoPassword") {
        return mode === "protect"
            ? {
                  command: `pulumi config set --secret ${configKey(key)} "$(openssl rand -base64 32)"`,
                  expect: 'nothing; then `pulumi config get gitops-dr:repoPassword` and keep the password outside the cluster and outside AWS (README, "Protect a cluster")',
              }
            : {
                  command: `pulumi config set --secret ${configKey(key)} "<the password of ${sourceStack ?? "the source stack"}>"`,
                  expect: "nothing: a restore cannot read the volume data without the source's password",
              };
    }
    return { command: `pulumi config set --secret ${configKey(key)} "<${key}>"`, expect: "nothing" };
}

/** The manual steps around `pulumi up` for a stack. Their number depends on nothing but the mode. */
export function manualSteps(run: ProgramRun, spec: StackSpec, mode: Mode): ManualStep[] {
    const context = configValue(run, "kubeContext");
    const clusterName = configValue(run, "clusterName") ?? "";
    const sourceStack = configValue(run, "sourceStack");
    const backsUp = mode !== "drill";
    // The CSI snapshot data mover needs a VolumeSnapshotClass Velero can pick to back up (DESIGN §2).
    const movesSnapshotData = run
        .ofType("kubernetes:velero.io/v1:Schedule")
        .some((s) => (specOf(s).template as { snapshotMoveData?: unknown } | undefined)?.snapshotMoveData === true);
    const useContext: Check =
        context === undefined
            ? {
                  command: "kubectl config current-context",
                  expect: `the context of ${clusterName} (gitops-dr:kubeContext is empty: the current context is used)`,
              }
            : { command: `kubectl config use-context ${context}`, expect: `\`Switched to context "${context}".\`` };
    const cluster: ManualStep = {
        number: "1",
        title:
            mode === "protect"
                ? `Choose the cluster ${clusterName} and its kube context`
                : `Create the new cluster ${clusterName} and choose its kube context`,
        why:
            mode === "protect"
                ? "Pulumi reaches the cluster through the kubeconfig context and AWS through your credentials."
                : mode === "recover"
                  ? "The lost cluster is gone: build a new one (same Kubernetes minor, a CSI driver) before anything restores into it."
                  : "A drill restores into a throwaway cluster, never into prod.",
        checks: [
            useContext,
            { command: "kubectl get nodes", expect: "every node `Ready`" },
            ...(movesSnapshotData
                ? [
                      {
                          command: "kubectl get volumesnapshotclass",
                          expect: "a class for the cluster's CSI driver that Velero resolves: labelled velero.io/csi-volumesnapshot-class, the driver's default, or its only class (docs/design.md, \"Volume data\")",
                      },
                  ]
                : []),
            { command: "aws sts get-caller-identity", expect: "the AWS account of the vault" },
        ],
        runsPlan: false,
    };

    const copyFrom =
        spec.copyConfigFrom === undefined
            ? undefined
            : (STACKS as Readonly<Record<string, StackSpec>>)[spec.copyConfigFrom];
    const stackChecks: Check[] =
        copyFrom !== undefined
            ? [
                  {
                      command: `pulumi stack init ${spec.name} --copy-config-from ${copyFrom.name}`,
                      expect: `\`Created stack '${spec.name}'\`; its config and secrets are ${copyFrom.name}'s`,
                  },
                  ...configChanges(stackFileValues(copyFrom), stackFileValues(spec))
                      // The restore id is set below, new for every attempt.
                      .filter((command) => !command.includes(` ${configKey("restoreId")} `))
                      .map((command) => ({ command, expect: `nothing (makes the config ${spec.file}'s)` })),
              ]
            : [
                  {
                      command: `pulumi stack init ${spec.name}`,
                      expect: `\`Created stack '${spec.name}'\`; ${spec.file} holds its config (or \`pulumi stack select ${spec.name}\` when it exists)`,
                  },
              ];
    if (mode !== "protect") {
        stackChecks.push({
            command: `pulumi config set ${configKey("restoreId")} "$(date +%Y-%m-%d)"`,
            expect: "nothing: every attempt needs a new id, which names its Restore (a Restore never runs twice)",
        });
    }
    const stack: ManualStep = {
        number: "2",
        title:
            copyFrom !== undefined
                ? `Make the stack ${spec.name} from ${copyFrom.name}'s config`
                : `Select the stack ${spec.name}`,
        why:
            copyFrom !== undefined
                ? `${spec.file} shows the result; copying keeps ${copyFrom.name}'s secrets and settings.`
                : "Every command below acts on the selected stack.",
        checks: [
            ...stackChecks,
            {
                command: "pulumi config",
                expect: `\`${configKey("mode")}\` \`${mode}\`, \`${configKey("clusterName")}\` \`${clusterName}\``,
            },
        ],
        runsPlan: false,
    };

    const secretKeys = Object.keys(spec.secrets);
    const secrets: ManualStep = {
        number: "3",
        title: copyFrom !== undefined ? "Check the secrets that came with the copy" : "Set the secrets",
        why: "Secrets never sit in the stack file in clear; Pulumi encrypts them in the stack's config.",
        checks: [
            ...(copyFrom !== undefined
                ? secretKeys.map((key) => ({
                      command: `pulumi config get ${configKey(key)}`,
                      expect: `${copyFrom.name}'s value`,
                  }))
                : secretKeys.map((key) => secretCommand(key, mode, sourceStack))),
            {
                command: "pulumi config",
                expect: secretKeys.map((key) => `\`${configKey(key)}\` \`[secret]\``).join(", "),
            },
        ],
        runsPlan: false,
    };

    const up: ManualStep = {
        number: String(MANUAL_BEFORE + 1),
        title: "Run `pulumi up`",
        why: "It performs the steps below in this order, each waiting for the ones before; a failed step stops everything after it.",
        checks: [
            {
                command: "pulumi preview",
                expect: `the resources to create: the offline engine recorded ${run.resources.length} registrations (stack, components, providers and resources)`,
            },
            { command: "pulumi up", expect: "the steps below, then the stack outputs" },
        ],
        runsPlan: true,
    };

    const daily = str(run.outputs.dailyScheduleName);
    const namespace = str(run.outputs.veleroNamespace) ?? "velero";
    const restore = run.outputs.restore as { restoreName?: string } | undefined;
    const after: Check[] = [{ command: "pulumi stack output mode", expect: `\`${mode}\`` }];
    if (restore?.restoreName !== undefined) {
        after.push(
            {
                command: "pulumi stack output restore --json",
                expect: `\`"restoreName": "${restore.restoreName}"\`, \`"phase": "Completed"\`, \`"errors": 0\`, and the backup it restored`,
            },
            {
                command: "pulumi stack output restoredBackupStartTimestamp",
                expect: "when the restored backup started: the data's age at the restore",
            },
        );
    }
    if (run.outputs.drillReport !== undefined) {
        after.push({
            command: "pulumi stack output drillReport --json",
            expect: "`dataAgeAtRestore` (the RPO this drill shows), `timeToRestore` and `timeToVerified` (the RTO), and `checksPassed`: every step of the verification Job",
        });
    }
    if (backsUp && daily !== undefined) {
        after.push({
            command: `velero backup get -n ${namespace} -l velero.io/schedule-name=${daily}`,
            expect: `after the schedule's next tick, a backup \`${daily}-<timestamp>\` with STATUS \`Completed\``,
        });
    }
    if (mode === "drill") {
        after.push({
            command: "pulumi destroy",
            expect: "the drill's Restore deleted first (Velero removes its logs under restores/), then Velero, Argo CD and the drill's IAM; prod's backups and bucket stay untouched (docs/design.md, \"The restore order\")",
        });
    }
    const checks: ManualStep = {
        number: String(MANUAL_BEFORE + 2),
        title: mode === "drill" ? "Read the drill's result, then tear it down" : "Check the outcome",
        why:
            mode === "protect"
                ? "The stack is protected once the first scheduled backup completed."
                : "The restore's report says what came back and how old it is.",
        checks: after,
        runsPlan: false,
    };
    return [cluster, stack, secrets, up, checks];
}

const isMode = (m: string): m is Mode => m === "protect" || m === "recover" || m === "drill";

/** The plan of a recorded run of `spec`. */
export function buildPlan(run: ProgramRun, spec: StackSpec): Plan {
    const mode = configValue(run, "mode") ?? "protect";
    if (!isMode(mode)) {
        throw new Error(`stack ${spec.name}: unknown mode ${mode}`);
    }
    return {
        stack: spec.name,
        mode,
        file: spec.file,
        clusterName: configValue(run, "clusterName") ?? "",
        resourceCount: run.resources.length,
        manual: manualSteps(run, spec, mode),
        steps: planSteps(run),
    };
}

/** Runs a stack on the offline engine and plans it. `config` overrides its file (e.g. a scaled stack). */
export async function planStack(
    spec: StackSpec,
    config: Parameters<typeof stackRunOptions>[1] = {},
): Promise<{ plan: Plan; run: ProgramRun }> {
    const run = await runProgram(stackRunOptions(spec, config));
    return { plan: buildPlan(run, spec), run };
}

// ---------------------------------------------------------------------------------------------------------
// Rendering

const timeoutText = (t: StepTimeout): string =>
    t.minutes === undefined ? t.source : `${minutesText(t.minutes)} (${t.source})`;
const stepTitle = (s: PlanStep): string =>
    `${s.kind} ${s.objectName}${s.namespace === undefined ? "" : ` in ${s.namespace}`}`;
const plain = (s: string): string => s.replace(/`/g, "");

/** The plan as the terminal shows it. */
export function formatPlan(plan: Plan): string {
    const numberOf = new Map(plan.steps.map((s) => [s.urn, s.number]));
    const lines = [
        `Plan for stack ${plan.stack} (mode ${plan.mode}, cluster ${plan.clusterName}, ${plan.file}): ${plan.resourceCount} registrations, ` +
            `${plan.steps.length} steps in pulumi up, ${plan.manual.length} manual steps.`,
        "",
    ];
    for (const m of plan.manual) {
        lines.push(`${m.number}. [manual] ${plain(m.title)}`);
        for (const c of m.checks) {
            lines.push(`     $ ${c.command}`);
        }
        if (m.runsPlan) {
            for (const s of plan.steps) {
                lines.push(`   ${s.number} ${stepTitle(s)}  (${s.type} ${s.logicalName})`);
                lines.push(
                    `       waits for: ${s.waitsFor.length === 0 ? "nothing (done when the API accepts it)" : plain(s.waitsFor.join("; "))}`,
                );
                lines.push(`       timeout:   ${plain(timeoutText(s.timeout))}`);
                lines.push(
                    `       after:     ${s.after.length === 0 ? "-" : s.after.map((u) => numberOf.get(u)).join(", ")}`,
                );
            }
        }
    }
    return `${lines.join("\n")}\n`;
}

const mermaidLabel = (s: string): string => `"${s.replace(/"/g, "#quot;")}"`;

/** The order as a Mermaid flowchart: the manual steps around a `pulumi up` subgraph of the plan's steps. */
export function mermaid(plan: Plan): string {
    const id = new Map(plan.steps.map((s, i) => [s.urn, `S${i + 1}`]));
    const before = plan.manual.filter((m) => !m.runsPlan && Number(m.number) <= MANUAL_BEFORE);
    const up = plan.manual.find((m) => m.runsPlan)!;
    const last = plan.manual.filter((m) => Number(m.number) > Number(up.number));
    const lines = ["flowchart TD"];
    for (const m of [...before, ...last]) {
        lines.push(`    M${m.number}[${mermaidLabel(`${m.number}. ${plain(m.title)}`)}]`);
    }
    for (let i = 1; i < before.length; i++) {
        lines.push(`    M${before[i - 1].number} --> M${before[i].number}`);
    }
    lines.push(`    subgraph UP[${mermaidLabel(`${up.number}. pulumi up`)}]`);
    for (const s of plan.steps) {
        const limit = s.timeout.minutes === undefined ? "no wait" : `waits at most ${minutesText(s.timeout.minutes)}`;
        lines.push(
            `        ${id.get(s.urn)}[${mermaidLabel(`${s.number} ${s.kind}<br/>${s.objectName}<br/>${limit}`)}]`,
        );
    }
    for (const s of plan.steps) {
        for (const u of s.after) {
            lines.push(`        ${id.get(u)} --> ${id.get(s.urn)}`);
        }
    }
    lines.push("    end");
    const waitedOn = new Set(plan.steps.flatMap((s) => s.after));
    for (const s of plan.steps.filter((x) => x.after.length === 0)) {
        lines.push(`    M${before[before.length - 1].number} --> ${id.get(s.urn)}`);
    }
    for (const s of plan.steps.filter((x) => !waitedOn.has(x.urn))) {
        for (const m of last.slice(0, 1)) {
            lines.push(`    ${id.get(s.urn)} --> M${m.number}`);
        }
    }
    return lines.join("\n");
}

function checkLines(checks: readonly Check[]): string[] {
    return checks.flatMap((c) => ["```sh", c.command, "```", `Expect: ${c.expect}.`, ""]);
}

/** The Markdown runbook of a plan. */
export function renderRunbook(plan: Plan): string {
    const numberOf = new Map(plan.steps.map((s) => [s.urn, s.number]));
    const out = [
        `# Runbook: stack \`${plan.stack}\` (mode ${plan.mode})`,
        "",
        `Generated by \`npm run plan -- ${plan.stack}\` (scripts/plan.ts) from the offline engine's recorded graph of ` +
            `\`${plan.file}\`; do not edit by hand: tests/plan.test.ts fails when this file differs from what the script writes. ` +
            `Secrets and the source stack's outputs are the test fixtures' (engine/stacks.ts), so names that come from ` +
            `them are examples. Nothing here has run against a cluster: the outputs to expect are what Pulumi, Velero, Helm, ` +
            `kubectl and the AWS CLI print when the step went well.`,
        "",
        `Cluster \`${plan.clusterName}\`. ${plan.manual.length} manual steps; \`pulumi up\` performs ${plan.steps.length} steps ` +
            `that wait or that you check, out of ${plan.resourceCount} registrations. Neither number grows with the number of ` +
            `namespaces or volumes.`,
        "",
        "## Order",
        "",
        "```mermaid",
        mermaid(plan),
        "```",
        "",
        "## Steps",
        "",
    ];
    for (const m of plan.manual) {
        out.push(`### ${m.number}. ${m.title}${m.runsPlan ? "" : " (manual)"}`, "", m.why, "", ...checkLines(m.checks));
        if (!m.runsPlan) {
            continue;
        }
        for (const s of plan.steps) {
            out.push(
                `#### ${s.number} ${s.kind} \`${s.objectName}\`${s.namespace === undefined ? "" : ` in \`${s.namespace}\``}`,
                "",
                `- Resource: \`${s.type}\` \`${s.logicalName}\``,
                `- Waits for: ${s.waitsFor.length === 0 ? "nothing but the API call" : s.waitsFor.join("; ")}`,
                `- Timeout: ${timeoutText(s.timeout)}`,
                `- After: ${s.after.length === 0 ? `step ${MANUAL_BEFORE} only` : s.after.map((u) => numberOf.get(u)).join(", ")}`,
                `- \`pulumi up\` shows: ${s.pulumiShows}`,
                "",
                ...checkLines(s.checks),
            );
        }
    }
    return `${out.join("\n").replace(/\n+$/, "")}\n`;
}

/** Where the runbook of a stack is committed. */
export function runbookPath(stack: string): string {
    return path.join(ROOT, "docs", "runbooks", `${stack}.md`);
}

function usage(): string {
    return (
        `usage: npm run plan -- <${STACK_NAMES.join("|")}> [--no-write | --check]\n` +
        "  prints the ordered plan and writes docs/runbooks/<stack>.md; --check fails when that file is stale\n"
    );
}

async function main(argv: readonly string[]): Promise<number> {
    const flags = new Set(argv.filter((a) => a.startsWith("--")));
    const names = argv.filter((a) => !a.startsWith("--"));
    const unknown = [...flags].filter((f) => f !== "--no-write" && f !== "--check");
    if (names.length !== 1 || !isStackName(names[0]) || unknown.length > 0) {
        process.stderr.write(
            `${names.length === 1 && !isStackName(names[0]) ? `unknown stack ${names[0]}\n` : ""}${unknown.map((f) => `unknown flag ${f}\n`).join("")}${usage()}`,
        );
        return 2;
    }
    const { plan } = await planStack(STACKS[names[0]]);
    process.stdout.write(formatPlan(plan));
    const file = runbookPath(plan.stack);
    const runbook = renderRunbook(plan);
    if (flags.has("--check")) {
        const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
        if (current !== runbook) {
            process.stderr.write(`${path.relative(ROOT, file)} is stale: run npm run plan -- ${plan.stack}\n`);
            return 1;
        }
    } else if (!flags.has("--no-write")) {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, runbook);
        process.stdout.write(`\nRunbook written to ${path.relative(ROOT, file)}\n`);
    }
    return 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => {
            process.exitCode = code;
        },
        (e: unknown) => {
            process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
            process.exitCode = 1;
        },
    );
}
