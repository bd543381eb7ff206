/**
 * What a plan is: the steps `pulumi up` performs (each taken from one registered resource), the manual steps
 * around it, and the checks that verify each by hand.
 */

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
    /** A backup storage location's bucket, prefix, region, KMS key and access mode: where a restore reads. */
    readonly storage?: string;
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

/** Manual steps before `pulumi up`. Fixed per mode: never one per volume, namespace or app. */
export const MANUAL_BEFORE = 3;

/** Whether a config value is a mode the program knows. */
export const isMode = (m: string): m is Mode => m === "protect" || m === "recover" || m === "drill";
