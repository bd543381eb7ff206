/**
 * Reading what the engine recorded: a registration's Kubernetes metadata and spec, its string inputs, the
 * resource types the plan recognises, and the stack's config by key.
 */
import { ProgramRun, RegisteredResource } from "../../engine";

/** The Pulumi project, whose name prefixes the program's config keys. */
const PROJECT = "gitops-dr";

/** The annotation that makes the Kubernetes provider hold a create until a condition holds (components/wait.ts). */
export const WAIT_FOR = "pulumi.com/waitFor";

/** The Kubernetes metadata of a registration's inputs. */
export interface ObjectMeta {
    readonly name?: string;
    readonly namespace?: string;
    readonly annotations?: Readonly<Record<string, string>>;
}

/** A registration's `metadata` input, or none. */
export const metaOf = (r: RegisteredResource): ObjectMeta => r.inputs.metadata ?? {};

/** A registration's `spec` input, or an empty one. */
export const specOf = (r: RegisteredResource) => (r.inputs.spec ?? {}) as Record<string, unknown>;

/** A non-empty string, else undefined. */
export const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** The type token of a Helm release, any API version. */
export const HELM_RELEASE = /^kubernetes:helm\.sh\/v\d+:Release$/;

/** The type token of a Kubernetes Job. */
export const JOB = "kubernetes:batch/v1:Job";

/** A program config key as Pulumi names it: `gitops-dr:<key>`. */
export const configKey = (key: string) => `${PROJECT}:${key}`;

/** The value of a program config key in a run, when set and not empty. */
export const configValue = (run: ProgramRun, key: string): string | undefined => str(run.config[configKey(key)]);
