/**
 * Who outside the vault's account may use the vault, as bucket-policy and key-policy statements. With the vault
 * in an account of its own, a request from a cluster's account is allowed only when both sides allow it: the
 * role's identity policy (components/iam.ts, unchanged) and the vault's resource policies (here). The resource
 * side is derived from the very identity policy the role holds, so the two grant the same actions on the same
 * objects and nothing more. Plain objects, no Outputs: tests evaluate them request by request.
 */
import { PolicyDocument, Statement, VaultAccess, restorerPolicy, writerPolicy } from "./iam";

/** One Velero role outside the vault's account and what it may do. */
export interface VaultGrant {
    /** The role's ARN, `arn:<partition>:iam::<account>:role/<name>`. */
    readonly roleArn: string;
    /** writer: back up under `prefix` (components/iam.ts `writerPolicy`); restorer: read it (`restorerPolicy`). */
    readonly access: "writer" | "restorer";
    /** The cluster prefix the grant is scoped to. */
    readonly prefix: string;
}

/** The IAM role name of a cluster's Velero server (components/velero-iam.ts names it so). */
export function veleroRoleName(clusterName: string): string {
    return `${clusterName}-velero`;
}

/** The ARN partition of a region: `aws-cn` for China, `aws-us-gov` for GovCloud, else `aws`. */
export function partitionOfRegion(region: string): string {
    return region.startsWith("cn-") ? "aws-cn" : region.startsWith("us-gov-") ? "aws-us-gov" : "aws";
}

/** `arn:<partition>:iam::<account>:role/<name>` → `arn:<partition>:iam::<account>:root`. */
export function accountRootOf(roleArn: string): string {
    const [arn, partition, , , account] = roleArn.split(":");
    return `${arn}:${partition}:iam::${account}:root`;
}

/**
 * Requests that change or destroy the vault rather than use it. No principal outside the vault's account may
 * make them, whatever a later policy edit allows: the bucket policy denies them explicitly (`DenyForeignAccounts`).
 */
export const VAULT_ADMIN_ACTIONS: readonly string[] = [
    "s3:DeleteObjectVersion",
    "s3:BypassGovernanceRetention",
    "s3:PutObjectRetention",
    "s3:PutObjectLegalHold",
    "s3:DeleteBucket",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:PutLifecycleConfiguration",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutReplicationConfiguration",
    "s3:PutEncryptionConfiguration",
    "s3:PutBucketVersioning",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketOwnershipControls",
];

/** The identity policy a grant's role holds, as components/velero-iam.ts builds it. */
function identityPolicyOf(grant: VaultGrant, bucketArn: string, kmsKeyArn: string): PolicyDocument {
    const access: VaultAccess = { bucketArn, kmsKeyArn, prefix: grant.prefix };
    return grant.access === "writer" ? writerPolicy(access) : restorerPolicy(access);
}

/**
 * The role's account as the principal, narrowed to the role by `aws:PrincipalArn`: a policy naming the role
 * itself is stored with the role's unique id and silently stops matching when the role is recreated (IAM
 * "Specifying a principal", roles), and S3 and KMS refuse a policy naming a role that does not exist yet, as a
 * drill's role may not.
 */
function forRole(grant: VaultGrant, statement: Statement, i: number): Statement {
    const condition = {
        ...statement.Condition,
        ArnEquals: { ...statement.Condition?.ArnEquals, "aws:PrincipalArn": grant.roleArn },
    };
    return {
        ...statement,
        Sid: `${grant.access === "writer" ? "Writer" : "Restorer"}${i}${statement.Sid}`,
        Principal: { AWS: accountRootOf(grant.roleArn) },
        Condition: condition,
    };
}

/**
 * The vault bucket policy's statements for roles outside its account: for each grant, its identity policy's S3
 * statements with the role as principal; then one explicit deny of {@link VAULT_ADMIN_ACTIONS} to every
 * principal of another account.
 */
export function bucketGrantStatements(
    bucketArn: string,
    kmsKeyArn: string,
    vaultAccountId: string,
    grants: readonly VaultGrant[],
): Statement[] {
    const allows = grants.flatMap((grant, i) =>
        identityPolicyOf(grant, bucketArn, kmsKeyArn)
            .Statement.filter((s) => actionsOf(s).every((a) => a.startsWith("s3:")))
            .map((s) => forRole(grant, s, i)),
    );
    return [
        ...allows,
        {
            Sid: "DenyForeignAccounts",
            Effect: "Deny",
            Principal: "*",
            Action: VAULT_ADMIN_ACTIONS,
            Resource: [bucketArn, `${bucketArn}/*`],
            Condition: { StringNotEquals: { "aws:PrincipalAccount": vaultAccountId } },
        },
    ];
}

/**
 * The vault key policy's statements for roles outside its account (components/iam.ts `vaultKeyPolicy` holds the
 * rest): each grant's role may use the key exactly as its identity policy says, through S3 in the key's region,
 * never directly, and never manage it.
 */
export function keyGrantStatements(
    region: string,
    vaultAccountId: string,
    partition: string,
    grants: readonly VaultGrant[],
): Statement[] {
    // The policy is part of the key, so it cannot name the key's own ARN; only its region matters to the grants.
    const kmsKeyArn = `arn:${partition}:kms:${region}:${vaultAccountId}:key/*`;
    return grants.flatMap((grant, i) =>
        identityPolicyOf(grant, `arn:${partition}:s3:::unused`, kmsKeyArn)
            .Statement.filter((s) => actionsOf(s).every((a) => a.startsWith("kms:")))
            // In a key policy `Resource` is the key itself, "*"; the identity side names its ARN.
            .map((s) => ({ ...forRole(grant, s, i), Resource: "*" })),
    );
}

function actionsOf(s: Statement): readonly string[] {
    return typeof s.Action === "string" ? [s.Action] : s.Action;
}
