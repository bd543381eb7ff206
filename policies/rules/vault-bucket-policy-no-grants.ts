import type { StackValidationPolicy } from "@pulumi/policy";

import { parseDocument, statements } from "../lib/iam";
import { label, violation } from "../lib/message";
import { onStack } from "../lib/policy";
import { T } from "../lib/types";
import { bucketName, buckets, settingsOf } from "../lib/vault";
import type { Json } from "../lib/values";
import { arr, obj, strings } from "../lib/values";
import { DESTRUCTIVE_OBJECT_ACTIONS, actionMatches, destructiveGrants, showGrants } from "../lib/vault-keys";

/**
 * What a vault's bucket policy must never allow: a bucket policy grants across every principal it names (`"*"`
 * included, and principals of other accounts), beside whatever their own IAM policies say, so an Allow of a
 * delete, an overwrite, a lock bypass or a change to the bucket's protection there is a path around every role
 * the pack judges.
 */
export const BUCKET_POLICY_FORBIDDEN_ACTIONS = [
    ...DESTRUCTIVE_OBJECT_ACTIONS,
    "s3:PutObject",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutLifecycleConfiguration",
    "s3:PutBucketVersioning",
    "s3:PutEncryptionConfiguration",
    "s3:PutReplicationConfiguration",
    "s3:DeleteBucket",
] as const;

/** What a Velero role of another account may be granted by a vault in its own account (components/vault-access.ts). */
const ROLE_GRANT_ACTIONS = new Set(["s3:PutObject", "s3:DeleteObject"]);

/**
 * A grant to one role of another account, as a vault in its own account must make (cross-account requests need
 * the bucket policy's Allow as well as the role's own): the principal is one account, narrowed by
 * `aws:PrincipalArn` to one role; the forbidden actions it grants are only object writes and deletes by key (a
 * delete marker on the versioned, locked vault), and only under a prefix. Version deletes, lock changes and
 * bucket changes stay forbidden to it as to anyone.
 */
export function isRoleGrant(statement: Json, bucket: string): boolean {
    const principal = obj(statement.Principal);
    const root = typeof principal?.AWS === "string" ? principal.AWS : undefined;
    const roles = obj(obj(statement.Condition)?.ArnEquals)?.["aws:PrincipalArn"];
    if (root === undefined || !/^arn:[a-z-]+:iam::\d{12}:root$/.test(root) || typeof roles !== "string") {
        return false;
    }
    if (Object.keys(obj(statement.Condition) ?? {}).some((op) => op.startsWith("ForAny") || op.endsWith("IfExists"))) {
        return false;
    }
    const actions = typeof statement.Action === "string" ? [statement.Action] : strings(arr(statement.Action) ?? []);
    const resources =
        typeof statement.Resource === "string" ? [statement.Resource] : strings(arr(statement.Resource) ?? []);
    const forbidden = actions.filter((a) =>
        BUCKET_POLICY_FORBIDDEN_ACTIONS.some((f) => actionMatches(a, f) || actionMatches(f, a)),
    );
    // A literal first path segment: the grant stays inside one cluster's prefix, whatever wildcards follow.
    const underPrefix = (r: string) => {
        const rest = r.split(`:s3:::${bucket}/`)[1];
        return rest !== undefined && /^[^*?/]+\//.test(rest);
    };
    return (
        statement.NotAction === undefined &&
        statement.NotResource === undefined &&
        forbidden.every((a) => ROLE_GRANT_ACTIONS.has(a)) &&
        resources.length > 0 &&
        resources.every(underPrefix)
    );
}

/** No Allow in a vault bucket's policy of anything that deletes, overwrites, unlocks or weakens. */
export const vaultBucketPolicyNoGrants: StackValidationPolicy = {
    name: "vault-bucket-policy-no-grants",
    description:
        "Checks that no vault bucket's policy allows deleting, overwriting or unlocking object versions, or changing the bucket's policy, lock, lifecycle, versioning, encryption or replication, to anyone but a vault in its own account's grant of object writes under one prefix to one named role.",
    enforcementLevel: "mandatory",
    validateStack: onStack(({ view }, report) => {
        for (const bucket of buckets(view)) {
            for (const policy of settingsOf(view, bucket, T.bucketPolicy)) {
                const document = parseDocument(policy.props.policy);
                if (document === undefined) {
                    // vault-bucket-tls-only reports a policy that is not JSON.
                    continue;
                }
                const name = bucketName(bucket) ?? bucket.name;
                const judged = { ...document, Statement: statements(document).filter((s) => !isRoleGrant(s, name)) };
                const grants = destructiveGrants(
                    [{ name: label(policy), document: judged }],
                    BUCKET_POLICY_FORBIDDEN_ACTIONS,
                    [`arn:*:s3:::${name}`, `arn:*:s3:::${name}/*`],
                );
                if (grants.length > 0) {
                    report(
                        violation(
                            "A vault bucket's policy must not allow anyone to delete, overwrite or unlock a backup, or to weaken the bucket's protection: it grants beside every role's own policies.",
                            showGrants(grants),
                            "Remove the statement; grant what Velero needs in its roles' identity policies (components/iam.ts), and keep the bucket policy to Deny statements.",
                        ),
                        policy.urn,
                    );
                }
            }
        }
    }),
};
