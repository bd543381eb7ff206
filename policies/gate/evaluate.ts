/**
 * The offline gate's evaluator: runs the pack's policies over a stack's resources the way `@pulumi/policy`'s
 * analyzer server runs them for the engine (its `server.js`): resource policies once per resource with its
 * inputs, stack policies once with every resource linked to its parent and dependencies, enforcement levels
 * from configuration, policy, then pack default, violations reported through the same callbacks. No CLI, no
 * gRPC, no cloud.
 */
import Ajv from "ajv";
import type {
    EnforcementLevel,
    Policies,
    PolicyProviderResource,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";

import type { GateResourceOptions } from "../lib/view";

/* eslint-disable @typescript-eslint/no-require-imports -- @pulumi/policy's proxy module ships no types */
const proxy = require("@pulumi/policy/proxy") as {
    unknownCheckingProxy<T extends object>(props: T): T;
    UnknownValueError: new (...args: never[]) => Error;
    unknownStringValue: string;
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** The engine's marker of a value unknown in a preview (engine/recorder.ts `UNKNOWN`). */
const ENGINE_UNKNOWN = "<unknown>";

/**
 * Props as the SDK's analyzer server hands them to a policy (`server.js`: `unknownCheckingProxy(deserialize(...))`):
 * a value unknown in a preview throws `UnknownValueError` when a policy reads it, and the server reports that policy
 * as advisory ("can't run ... during preview") instead of judging it.
 */
function asAnalyzed(props: Readonly<Record<string, unknown>>): Record<string, unknown> {
    const mark = (v: unknown): unknown =>
        v === ENGINE_UNKNOWN
            ? proxy.unknownStringValue
            : Array.isArray(v)
              ? v.map(mark)
              : v !== null && typeof v === "object"
                ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mark(x)]))
                : v;
    return proxy.unknownCheckingProxy(mark(props) as Record<string, unknown>);
}

/** One resource as the analyzer sees it. */
export interface AnalyzedResource {
    readonly type: string;
    readonly name: string;
    readonly urn: string;
    /** Inputs, what resource policies judge; for the `pulumi:pulumi:Stack` resource, the stack's outputs. */
    readonly props: Readonly<Record<string, unknown>>;
    /**
     * The provider's outputs after the step, what stack policies judge (pulumi `step_generator.go`
     * `AnalyzeResources`: "Unlike Analyze, AnalyzeStack is called on the final outputs"). Defaults to `props`.
     */
    readonly outputs?: Readonly<Record<string, unknown>>;
    /** Dotted paths of the outputs that were secrets. */
    readonly outputSecretPaths?: readonly string[];
    readonly opts: GateResourceOptions;
    readonly provider?: PolicyProviderResource;
    readonly parent?: string;
    readonly dependencies: readonly string[];
    readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
    /** Dotted paths of props that were secrets (the engine sends them wrapped; policies see them unwrapped). */
    readonly secretPaths?: readonly string[];
}

/** One violation. `message` is what the policy reported, without the description the SDK prefixes. */
export interface Violation {
    readonly policyName: string;
    readonly enforcementLevel: "advisory" | "mandatory";
    readonly urn?: string;
    readonly message: string;
}

/** A policy that did not apply to the stack, and why. */
export interface NotApplicable {
    readonly policyName: string;
    readonly reason: string;
}

export interface Evaluation {
    readonly violations: readonly Violation[];
    readonly notApplicable: readonly NotApplicable[];
}

/**
 * Policy configuration in the format of `pulumi preview --policy-pack-config`: per policy name an enforcement
 * level or an object of properties with an optional `enforcementLevel`; `all` sets every policy's level.
 */
export type PackConfig = Readonly<Record<string, EnforcementLevel | Readonly<Record<string, unknown>>>>;

/** The SDK's default when neither the configuration, the policy nor the pack sets a level. */
const PACK_DEFAULT_LEVEL: EnforcementLevel = "advisory";

class NotApplicableError extends Error {
    constructor(readonly reason: string) {
        super(reason);
    }
}

function isStackPolicy(p: Policies[number]): p is StackValidationPolicy {
    return "validateStack" in p && typeof p.validateStack === "function";
}

function levelOf(config: PackConfig, name: string): EnforcementLevel | undefined {
    const entry = config[name];
    if (typeof entry === "string") {
        return entry;
    }
    const level = entry?.enforcementLevel;
    return typeof level === "string" ? (level as EnforcementLevel) : undefined;
}

/** A policy's configuration properties (everything but `enforcementLevel`). */
function propertiesOf(config: PackConfig, name: string): Record<string, unknown> {
    const entry = config[name];
    if (entry === undefined || typeof entry === "string") {
        return {};
    }
    return Object.fromEntries(Object.entries(entry).filter(([key]) => key !== "enforcementLevel"));
}

/**
 * Checks the configuration as the CLI does before a preview: every named policy exists and its properties
 * satisfy the policy's `configSchema`. Throws with every problem.
 */
export function validateConfig(config: PackConfig, policies: Policies): void {
    const problems: string[] = [];
    const ajv = new Ajv({ allErrors: true, strict: false });
    for (const name of Object.keys(config)) {
        const policy = policies.find((p) => p.name === name);
        if (name !== "all" && policy === undefined) {
            problems.push(`"${name}" is not a policy of this pack`);
            continue;
        }
        const level = levelOf(config, name);
        if (level !== undefined && !["advisory", "mandatory", "remediate", "disabled"].includes(level)) {
            problems.push(`${name}: "${String(level)}" is not an enforcement level`);
        }
        if (policy === undefined) {
            continue;
        }
        const schema = {
            type: "object",
            properties: policy.configSchema?.properties ?? {},
            required: policy.configSchema?.required ?? [],
            additionalProperties: false,
        };
        const validate = ajv.compile(schema);
        if (!validate(propertiesOf(config, name))) {
            for (const error of validate.errors ?? []) {
                problems.push(`${name}${error.instancePath}: ${error.message ?? "is invalid"}`);
            }
        }
    }
    if (problems.length > 0) {
        throw new Error(`invalid policy configuration: ${problems.join("; ")}`);
    }
}

function isTypeOf(type: string, resourceClass: unknown): boolean {
    const token = (resourceClass as { __pulumiType?: unknown } | undefined)?.__pulumiType;
    return typeof token === "string" && token === type;
}

/** The SDK's `PolicyResource` objects for a stack policy: parents and dependencies resolved to objects. */
export function policyResources(resources: readonly AnalyzedResource[]): PolicyResource[] {
    const byUrn = new Map<string, PolicyResource>();
    const built = resources.map((r) => {
        const props = asAnalyzed(r.outputs ?? r.props);
        const resource: PolicyResource = {
            type: r.type,
            props,
            urn: r.urn,
            name: r.name,
            opts: r.opts,
            dependencies: [],
            propertyDependencies: {},
            isType: (cls) => isTypeOf(r.type, cls),
            asType: (cls) => (isTypeOf(r.type, cls) ? (props as never) : undefined),
        };
        if (r.provider !== undefined) {
            resource.provider = r.provider;
        }
        byUrn.set(r.urn, resource);
        return { r, resource };
    });
    for (const { r, resource } of built) {
        const parent = r.parent === undefined ? undefined : byUrn.get(r.parent);
        if (parent !== undefined) {
            resource.parent = parent;
        }
        resource.dependencies = r.dependencies
            .map((d) => byUrn.get(d))
            .filter((d): d is PolicyResource => d !== undefined);
        for (const [key, urns] of Object.entries(r.propertyDependencies)) {
            resource.propertyDependencies[key] = urns
                .map((d) => byUrn.get(d))
                .filter((d): d is PolicyResource => d !== undefined);
        }
    }
    return built.map((b) => b.resource);
}

/** Runs every policy over the stack. */
export async function evaluatePack(
    resources: readonly AnalyzedResource[],
    policies: Policies,
    config: PackConfig = {},
): Promise<Evaluation> {
    validateConfig(config, policies);
    const violations: Violation[] = [];
    const notApplicable: NotApplicable[] = [];
    const stackResources = policyResources(resources);

    for (const policy of policies) {
        let level =
            levelOf(config, policy.name) ?? levelOf(config, "all") ?? policy.enforcementLevel ?? PACK_DEFAULT_LEVEL;
        if (level === "disabled") {
            continue;
        }
        // Remediation is not used by this pack; the SDK reports a remaining violation as mandatory.
        if (level === "remediate") {
            level = "mandatory";
        }
        const enforcementLevel = level;
        const getConfig = <T extends object>() => propertiesOf(config, policy.name) as T;
        const throwNotApplicable = (reason?: string): never => {
            throw new NotApplicableError(reason ?? "Policy does not apply");
        };
        const report =
            (defaultUrn: string | undefined): ReportViolation =>
            (message, urn) => {
                violations.push({ policyName: policy.name, enforcementLevel, urn: defaultUrn ?? urn, message });
            };

        try {
            if (isStackPolicy(policy)) {
                const args: StackValidationArgs = {
                    resources: stackResources,
                    getConfig,
                    stackTags: new Map(),
                    notApplicable: throwNotApplicable,
                };
                await policy.validateStack(args, report(undefined));
                continue;
            }
            const validations = policy.validateResource;
            for (const validate of validations === undefined
                ? []
                : Array.isArray(validations)
                  ? validations
                  : [validations]) {
                for (const r of resources) {
                    const props = asAnalyzed(r.props);
                    const args: ResourceValidationArgs = {
                        type: r.type,
                        props,
                        urn: r.urn,
                        name: r.name,
                        opts: r.opts,
                        stackTags: new Map(),
                        isType: (cls) => isTypeOf(r.type, cls),
                        asType: (cls) => (isTypeOf(r.type, cls) ? (props as never) : undefined),
                        getConfig,
                        notApplicable: throwNotApplicable,
                    };
                    if (r.provider !== undefined) {
                        args.provider = r.provider;
                    }
                    try {
                        await validate(args, report(r.urn));
                    } catch (e) {
                        if (e instanceof proxy.UnknownValueError) {
                            violations.push(cannotRunInPreview(policy.name, e, r.urn));
                        } else if (!(e instanceof NotApplicableError)) {
                            throw e;
                        }
                    }
                }
            }
        } catch (e) {
            if (e instanceof NotApplicableError) {
                notApplicable.push({ policyName: policy.name, reason: e.reason });
                continue;
            }
            if (e instanceof proxy.UnknownValueError) {
                violations.push(cannotRunInPreview(policy.name, e, undefined));
                continue;
            }
            throw new Error(`policy ${policy.name} failed: ${(e as Error).stack ?? String(e)}`);
        }
    }
    return { violations, notApplicable };
}

/** What the SDK reports for a policy that read a value unknown in a preview: advisory, whatever its level. */
function cannotRunInPreview(policyName: string, e: Error, urn: string | undefined): Violation {
    return {
        policyName,
        enforcementLevel: "advisory",
        urn,
        message: `can't run policy ${policyName} during preview: ${e.message}`,
    };
}

/** Whether any violation blocks: a mandatory one. */
export function blocks(evaluation: Evaluation): boolean {
    return evaluation.violations.some((v) => v.enforcementLevel === "mandatory");
}
