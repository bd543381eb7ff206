/**
 * Who the stack's IAM lets do what. Rules that ask "can this role delete a backup?" do not match statement
 * text: they evaluate concrete requests against every policy the principal holds with
 * `@cloud-copilot/iam-simulate`, in its Discovery mode, which answers Allowed when some value of the
 * request's context keys would allow the request (a grant behind a condition still counts as a grant).
 */
import { runSimulation } from "@cloud-copilot/iam-simulate";
import type { ErrorSimulationResult } from "@cloud-copilot/iam-simulate";

import { T } from "./types";
import { Node, StackView } from "./view";
import { Json, arr, obj, str } from "./values";

/** A parsed policy document with where it came from. */
export interface NamedDocument {
    readonly name: string;
    readonly document: Json;
}

/** A principal whose permissions come from this stack. */
export interface Principal {
    /** For messages: `Role <name>`, or the static-key user's policies. */
    readonly label: string;
    readonly documents: readonly NamedDocument[];
    /** Policies attached by ARN that the stack does not define, so they cannot be evaluated. */
    readonly external: readonly string[];
    /** Policy resources whose document is not valid JSON. */
    readonly unreadable: readonly string[];
}

/** A policy input as an object: a JSON string (what `@pulumi/aws` sends) or an object. */
export function parseDocument(value: unknown): Json | undefined {
    if (typeof value === "string") {
        try {
            return obj(JSON.parse(value));
        } catch {
            return undefined;
        }
    }
    return obj(value);
}

/** The statements of a document. */
export function statements(document: Json): Json[] {
    const s = document.Statement;
    return (Array.isArray(s) ? s : [s]).map(obj).filter((x): x is Json => x !== undefined);
}

function policyName(node: Node): string {
    return str(node.props.name) ?? node.name;
}

/** The node an input of `node` came from, when it came from one of `candidates`. */
function fromInput(
    node: Node,
    input: string,
    candidates: readonly Node[],
    matches: (candidate: Node, value: string) => boolean,
): Node | undefined {
    const urns = node.propertyDependencies[input] ?? [];
    const byDependency = candidates.find((c) => urns.includes(c.urn));
    if (byDependency !== undefined) {
        return byDependency;
    }
    const value = str(node.props[input]);
    return value === undefined ? undefined : candidates.find((c) => matches(c, value));
}

/**
 * Every principal the stack grants permissions to: each role with its attached managed policies and inline
 * policies, and, when managed policies are attached to no role of the stack (static keys: the operator
 * attaches them to the key's IAM user), one principal holding all of those.
 */
export function principals(view: StackView): Principal[] {
    const policies = view.ofType(T.iamPolicy);
    const roles = view.ofType(T.iamRole);
    const attachedToSomeRole = new Set<string>();
    const result: Principal[] = [];

    const roleMatches = (role: Node, value: string) => str(role.props.name) === value || role.name === value;
    const policyMatches = (policy: Node, value: string) => value.endsWith(`:policy/${policyName(policy)}`);

    for (const role of roles) {
        const documents: NamedDocument[] = [];
        const external: string[] = [];
        const unreadable: string[] = [];
        const addPolicy = (policy: Node) => {
            attachedToSomeRole.add(policy.urn);
            const document = parseDocument(policy.props.policy);
            if (document === undefined) {
                unreadable.push(policy.name);
            } else {
                documents.push({ name: policy.name, document });
            }
        };
        for (const attachment of view.ofType(T.iamRolePolicyAttachment)) {
            if (fromInput(attachment, "role", [role], roleMatches) === undefined) {
                continue;
            }
            const policy = fromInput(attachment, "policyArn", policies, policyMatches);
            if (policy !== undefined) {
                addPolicy(policy);
            } else {
                external.push(str(attachment.props.policyArn) ?? attachment.name);
            }
        }
        for (const arn of arr(role.props.managedPolicyArns) ?? []) {
            const policy = policies.find((p) => typeof arn === "string" && policyMatches(p, arn));
            if (policy !== undefined) {
                addPolicy(policy);
            } else if (typeof arn === "string") {
                external.push(arn);
            }
        }
        for (const inline of arr(role.props.inlinePolicies) ?? []) {
            const document = parseDocument(obj(inline)?.policy);
            if (document !== undefined) {
                documents.push({ name: `${role.name} inline ${str(obj(inline)?.name) ?? ""}`.trim(), document });
            }
        }
        for (const rolePolicy of view.ofType(T.iamRolePolicy)) {
            if (fromInput(rolePolicy, "role", [role], roleMatches) === undefined) {
                continue;
            }
            const document = parseDocument(rolePolicy.props.policy);
            if (document === undefined) {
                unreadable.push(rolePolicy.name);
            } else {
                documents.push({ name: rolePolicy.name, document });
            }
        }
        result.push({ label: `Role ${role.name}`, documents, external, unreadable });
    }

    const unattached = policies.filter((p) => !attachedToSomeRole.has(p.urn));
    if (unattached.length > 0) {
        const documents: NamedDocument[] = [];
        const unreadable: string[] = [];
        for (const policy of unattached) {
            const document = parseDocument(policy.props.policy);
            if (document === undefined) {
                unreadable.push(policy.name);
            } else {
                documents.push({ name: policy.name, document });
            }
        }
        result.push({
            label: `the IAM user holding ${unattached.map((p) => p.name).join(", ")}`,
            documents,
            external: [],
            unreadable,
        });
    }
    return result;
}

/** One request to evaluate. */
export interface Request {
    readonly action: string;
    readonly resource: string;
}

/** The partition of the S3 ARNs the documents use (`aws`, `aws-cn`, `aws-us-gov`), `aws` when none. */
export function partitionOf(documents: readonly NamedDocument[]): string {
    const m = /arn:(aws[a-z-]*):s3:::/.exec(JSON.stringify(documents.map((d) => d.document)));
    return m === null ? "aws" : m[1];
}

/** The account the simulation runs in: principal and bucket in the same account, as gitops-dr deploys them. */
export const ACCOUNT = "000000000000";

/** The simulator's validation errors as one line: `<policy> <path>: <message>; ...`. */
export function describeErrors(result: ErrorSimulationResult): string {
    const errors = result.errors;
    const lines = [
        ...Object.entries(errors.identityPolicyErrors ?? {}).flatMap(([name, list]) =>
            list.map((e) => `${name} ${e.path}: ${e.message}`),
        ),
        ...(errors.resourcePolicyErrors ?? []).map((e) => `bucket policy ${e.path}: ${e.message}`),
    ];
    return lines.length > 0 ? lines.join("; ") : errors.message;
}

/** What a principal may do among some requests. */
export interface Evaluation {
    /** The requests its identity policies allow under some context. */
    readonly allowed: readonly Request[];
    /** Why the simulator could not evaluate its policies (an invalid document), if it could not. */
    readonly error?: string;
}

/** AWS's decision on one request. */
export type Decision = "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied";

/**
 * One request by a principal of the vault's account, evaluated as AWS evaluates it (identity policies, an optional
 * resource policy, the request's context). `Strict` evaluates a condition on an absent key as AWS does;
 * `Discovery` counts a grant behind any condition as a grant.
 */
export async function simulate(input: {
    readonly identity: readonly { readonly name: string; readonly policy: Json }[];
    readonly action: string;
    readonly resource: string;
    readonly context?: Readonly<Record<string, string | string[]>>;
    /** The resource's policy: a bucket policy, or a KMS key policy. */
    readonly bucketPolicy?: Json;
    readonly mode: "Strict" | "Discovery";
    /** The calling principal's ARN, in the vault's account; a role named `principal` by default. */
    readonly principal?: string;
}): Promise<{ readonly decision?: Decision; readonly error?: string }> {
    const principal = input.principal ?? `arn:aws:iam::${ACCOUNT}:role/principal`;
    const result = await runSimulation(
        {
            request: {
                principal,
                action: input.action,
                resource: { resource: input.resource, accountId: ACCOUNT },
                // AWS sets aws:PrincipalArn on every request (a role session's is its role's ARN); the simulator
                // does not derive it from the principal.
                contextVariables: { "aws:PrincipalArn": principal, ...(input.context ?? {}) },
            },
            identityPolicies: input.identity.map((d) => ({ name: d.name, policy: d.policy })),
            serviceControlPolicies: [],
            resourceControlPolicies: [],
            ...(input.bucketPolicy === undefined ? {} : { resourcePolicy: input.bucketPolicy }),
        },
        { simulationMode: input.mode },
    );
    return result.resultType === "error" ? { error: describeErrors(result) } : { decision: result.overallResult };
}

/** Evaluates each request against the principal's identity policies. */
export async function evaluate(principal: Principal, requests: readonly Request[]): Promise<Evaluation> {
    const allowed: Request[] = [];
    const identity = principal.documents.map((d) => ({ name: d.name, policy: d.document }));
    for (const request of requests) {
        const { decision, error } = await simulate({
            identity,
            action: request.action,
            resource: request.resource,
            mode: "Discovery",
        });
        if (error !== undefined) {
            return { allowed, error };
        }
        if (decision === "Allowed") {
            allowed.push(request);
        }
    }
    return { allowed };
}

/** `s3:DeleteObject on arn:aws:s3:::vault/prod/backups/x` lines for a message. */
export function showRequests(requests: readonly Request[]): string {
    return requests.map((r) => `${r.action} on ${r.resource}`).join(", ");
}

const ALLOW_ALL = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] };

/**
 * The requests that a bucket policy does not explicitly deny when they arrive over plain HTTP
 * (`aws:SecureTransport` false), for a principal of the bucket's account whose own policies allow anything.
 */
export async function allowedOverHttp(bucketPolicy: Json, requests: readonly Request[]): Promise<Evaluation> {
    const allowed: Request[] = [];
    for (const request of requests) {
        const { decision, error } = await simulate({
            identity: [{ name: "allow-all", policy: ALLOW_ALL }],
            action: request.action,
            resource: request.resource,
            context: { "aws:SecureTransport": "false" },
            bucketPolicy,
            mode: "Strict",
        });
        if (error !== undefined) {
            return { allowed, error };
        }
        if (decision !== "ExplicitlyDenied") {
            allowed.push(request);
        }
    }
    return { allowed };
}

/**
 * Whether a principal's request is allowed once the bucket policy is evaluated with it: same account,
 * over TLS, with exactly the context given (Strict mode), so a condition on a header the client does not send
 * is evaluated as AWS evaluates it.
 */
export async function allowedWithBucketPolicy(
    principal: Principal,
    bucketPolicy: Json,
    request: Request,
    context: Readonly<Record<string, string>>,
): Promise<{ allowed: boolean; error?: string }> {
    const { decision, error } = await simulate({
        identity: principal.documents.map((d) => ({ name: d.name, policy: d.document })),
        action: request.action,
        resource: request.resource,
        context: { "aws:SecureTransport": "true", ...context },
        bucketPolicy,
        mode: "Strict",
    });
    return error !== undefined ? { allowed: false, error } : { allowed: decision === "Allowed" };
}
