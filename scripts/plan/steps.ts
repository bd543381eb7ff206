/**
 * The steps `pulumi up` performs: which registrations are steps and why, what each create waits for and for how
 * long, and each step described (what `pulumi up` shows, how to verify it), in dependency order.
 */
import { ProgramRun, RegisteredResource } from "../../engine";
import { durationMinutes, minutesText } from "./durations";
import { MANUAL_BEFORE, PlanStep, StepReason, StepTimeout } from "./model";
import { dependencyOrder } from "./order";
import { HELM_RELEASE, JOB, WAIT_FOR, metaOf, specOf, str } from "./registrations";
import { Target, checksOf } from "./verify";

/** How long the Kubernetes provider waits when a resource sets no custom timeout (DESIGN §1; `await/job.go`). */
export const PROVIDER_DEFAULT_TIMEOUT_MINUTES = 10;

/** Helm's wait when a Release sets no `timeout` (pulumi-kubernetes `provider/pkg/provider/helm_release.go`). */
export const HELM_DEFAULT_TIMEOUT_SECONDS = 300;

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

function pulumiShows(r: RegisteredResource, timeout: StepTimeout): string {
    const row = `\`+ ${r.type} ${r.name}\``;
    return timeout.minutes === undefined
        ? `${row} \`created\``
        : `${row} \`creating\` while it waits (at most ${minutesText(timeout.minutes)}), then \`created\``;
}

const BACKUP_STORAGE_LOCATION = "kubernetes:velero.io/v1:BackupStorageLocation";

/** `s3://<bucket>/<prefix> in <region>, KMS key <arn>, <access mode>`: where a location reads (the vault or its replica). */
function storageOf(r: RegisteredResource): string {
    const spec = specOf(r);
    const storage = (spec.objectStorage ?? {}) as { bucket?: unknown; prefix?: unknown };
    const config = (spec.config ?? {}) as { region?: unknown; kmsKeyId?: unknown };
    const prefix = str(storage.prefix);
    return `s3://${str(storage.bucket) ?? ""}${prefix === undefined ? "" : `/${prefix}`} in ${str(config.region) ?? "?"}, KMS key ${str(config.kmsKeyId) ?? "none"}, ${str(spec.accessMode) ?? "ReadWrite"}`;
}

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
            ...(r.type === BACKUP_STORAGE_LOCATION ? { storage: storageOf(r) } : {}),
            checks: checksOf(r, reason, target, waits),
        };
    });
}
