/**
 * Request-by-request IAM evaluation for tests, through the policy pack's simulator (policies/lib/iam.ts
 * `simulate`, @cloud-copilot/iam-simulate: identity policies, resource policies, explicit denies, conditions as
 * AWS evaluates them). "Who can delete a backup" is proven by asking, not by matching statements.
 */
import type { PolicyDocument } from "../components/iam";
import { ACCOUNT, Decision, simulate } from "../policies/lib/iam";
import type { Json } from "../policies/lib/values";

export type { Decision };
export { ACCOUNT };

/** One request by a role holding `identity` policies, over TLS, against a bucket with `bucketPolicy`. */
export async function decide(
    identity: readonly PolicyDocument[],
    action: string,
    resource: string,
    options: {
        bucketPolicy?: PolicyDocument;
        context?: Record<string, string | string[]>;
        /** The caller's ARN; a role of the simulated account by default (policies/lib/iam.ts `ACCOUNT`). */
        principal?: string;
    } = {},
): Promise<Decision> {
    const asJson = (d: PolicyDocument) => JSON.parse(JSON.stringify(d)) as Json;
    const { decision, error } = await simulate({
        identity: identity.map((policy, i) => ({ name: `policy-${i}`, policy: asJson(policy) })),
        action,
        resource,
        context: { "aws:SecureTransport": "true", ...(options.context ?? {}) },
        bucketPolicy: options.bucketPolicy === undefined ? undefined : asJson(options.bucketPolicy),
        mode: "Strict",
        principal: options.principal,
    });
    if (decision === undefined) {
        throw new Error(`the IAM simulator refused the request ${action} ${resource}: ${error ?? "no decision"}`);
    }
    return decision;
}
