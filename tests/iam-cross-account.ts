/**
 * Cross-account IAM evaluation for tests: a principal of one account, a resource of another, its identity policies
 * and the resource's policy (a bucket policy or a key policy), evaluated by @cloud-copilot/iam-simulate in Strict
 * mode. Across accounts AWS allows a request only when both the identity side and the resource side allow it;
 * within one account either side may (IAM "Policy evaluation logic", "Cross-account policy evaluation logic"),
 * and for a KMS key only when the key policy lets the account's IAM decide (KMS "Key policies").
 */
import { runSimulation } from "@cloud-copilot/iam-simulate";

import type { PolicyDocument } from "../components/iam";
import type { Decision } from "../policies/lib/iam";
import { describeErrors } from "../policies/lib/iam";

/**
 * The global keys AWS puts in every authenticated request's context and the simulator leaves to its caller (IAM
 * "AWS global condition context keys"): `aws:PrincipalAccount`, and `aws:PrincipalArn`, which for a role
 * session is the role's ARN, not the session's.
 */
export function principalContext(principalArn: string): Record<string, string> {
    const [, partition, , , account, resource] = principalArn.split(":");
    const session = /^assumed-role\/([^/]+)\//.exec(resource ?? "");
    return {
        "aws:PrincipalAccount": account,
        "aws:PrincipalArn": session === null ? principalArn : `arn:${partition}:iam::${account}:role/${session[1]}`,
    };
}

/** One request by `principalArn` holding `identity`, over TLS, against a resource of `resourceAccount`. */
export async function decideAcross(request: {
    principalArn: string;
    identity: readonly PolicyDocument[];
    action: string;
    resource: string;
    resourceAccount: string;
    resourcePolicy: PolicyDocument;
    context?: Record<string, string>;
}): Promise<Decision> {
    const asJson = (d: PolicyDocument): unknown => JSON.parse(JSON.stringify(d));
    const result = await runSimulation(
        {
            request: {
                principal: request.principalArn,
                action: request.action,
                resource: { resource: request.resource, accountId: request.resourceAccount },
                contextVariables: {
                    "aws:SecureTransport": "true",
                    ...principalContext(request.principalArn),
                    ...(request.context ?? {}),
                },
            },
            identityPolicies: request.identity.map((policy, i) => ({ name: `policy-${i}`, policy: asJson(policy) })),
            serviceControlPolicies: [],
            resourceControlPolicies: [],
            resourcePolicy: asJson(request.resourcePolicy),
        },
        { simulationMode: "Strict" },
    );
    if (result.resultType === "error") {
        throw new Error(`the IAM simulator refused ${request.action} ${request.resource}: ${describeErrors(result)}`);
    }
    return result.overallResult;
}
