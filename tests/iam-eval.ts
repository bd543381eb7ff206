/**
 * Request-by-request IAM evaluation with @cloud-copilot/iam-simulate (AWS's policy evaluation logic: identity
 * policies, resource policies, explicit denies, conditions). "Who can delete a backup" is proven by asking, not
 * by matching statements.
 */
import { runSimulation } from "@cloud-copilot/iam-simulate";

import type { PolicyDocument } from "../components/iam";

export type Decision = "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied";

export const ACCOUNT = "111122223333";

/** One request by a role holding `identity` policies, against a bucket with `bucketPolicy`. */
export async function decide(
    identity: readonly PolicyDocument[],
    action: string,
    resource: string,
    options: { bucketPolicy?: PolicyDocument; context?: Record<string, string | string[]> } = {},
): Promise<Decision> {
    const response = await runSimulation(
        {
            identityPolicies: identity.map((policy, i) => ({ name: `policy-${i}`, policy: JSON.parse(JSON.stringify(policy)) as Record<string, unknown> })),
            serviceControlPolicies: [],
            resourceControlPolicies: [],
            resourcePolicy: options.bucketPolicy === undefined ? undefined : (JSON.parse(JSON.stringify(options.bucketPolicy)) as Record<string, unknown>),
            request: {
                action,
                principal: `arn:aws:iam::${ACCOUNT}:role/velero`,
                resource: { accountId: ACCOUNT, resource },
                contextVariables: { "aws:SecureTransport": "true", ...(options.context ?? {}) },
            },
        },
        {},
    );
    if (response.resultType === "error") {
        throw new Error(`iam-simulate refused the request ${action} ${resource}: ${JSON.stringify(response.errors)}`);
    }
    return response.overallResult;
}
