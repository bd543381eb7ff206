import * as assert from "node:assert/strict";

import type { Policy } from "@pulumi/policy";

import type { PackConfig } from "../../policies/gate/evaluate";
import { vaultBucketEncryption } from "../../policies/rules/vault-bucket-encryption";
import { vaultBucketLifecycle } from "../../policies/rules/vault-bucket-lifecycle";
import { vaultBucketPolicyAdmitsBackups } from "../../policies/rules/vault-bucket-policy-admits-backups";
import { vaultBucketObjectLock } from "../../policies/rules/vault-bucket-object-lock";
import { vaultBucketPublicAccess } from "../../policies/rules/vault-bucket-public-access";
import { vaultBucketTlsOnly } from "../../policies/rules/vault-bucket-tls-only";
import { vaultBucketVersioning } from "../../policies/rules/vault-bucket-versioning";
import { vaultKmsKey } from "../../policies/rules/vault-kms-key";
import { vaultBucketPolicyNoGrants } from "../../policies/rules/vault-bucket-policy-no-grants";
import { vaultLockGovernanceMode } from "../../policies/rules/vault-lock-governance-mode";
import { vaultReplicaMissing } from "../../policies/rules/vault-replica-missing";
import { vaultResourcesProtected } from "../../policies/rules/vault-resources-protected";
import { FixtureStack, N, compliantStack, violationsOf } from "../../policies/testing/stack";

const protect = compliantStack("protect");

/** The messages a policy reports for a stack. */
async function messages(stack: FixtureStack, policy: Policy, config: PackConfig = {}): Promise<string[]> {
    return (await violationsOf(stack, policy, config)).map((v) => v.message);
}

/** A vault without its replica: the replication, the replica bucket and the replica's settings. */
function withoutReplica(stack: FixtureStack): FixtureStack {
    return stack.without(
        N.replication,
        ...stack.resources.filter((r) => r.name.startsWith("vault-replica-")).map((r) => r.name),
    );
}

describe("policy vault-bucket-object-lock", () => {
    it("passes the compliant protect stack", async () => {
        assert.deepEqual(await messages(protect, vaultBucketObjectLock), []);
    });

    it("reports a bucket created without Object Lock", async () => {
        const stack = protect.with(N.bucket, (r) => (r.props.objectLockEnabled = false));
        assert.deepEqual(await messages(stack, vaultBucketObjectLock), [
            "A vault bucket must be created with Object Lock enabled. Found: Bucket vault-bucket has objectLockEnabled false. Fix: Create the bucket with objectLockEnabled: true. S3 only allows it when a bucket is created, so this needs a new bucket.",
        ]);
    });

    it("reports a bucket with no lock configuration", async () => {
        assert.deepEqual(await messages(protect.without(N.lock), vaultBucketObjectLock), [
            "A vault bucket must have an Object Lock configuration with a default retention. Found: no BucketObjectLockConfiguration configures Bucket vault-bucket. Fix: Register an aws.s3.BucketObjectLockConfiguration for the bucket with rule.defaultRetention (gitops-dr:lockMode, gitops-dr:lockDays).",
        ]);
    });

    it("reports a lock configuration without a default retention", async () => {
        const stack = protect.with(N.lock, (r) => delete r.props.rule);
        assert.deepEqual(await messages(stack, vaultBucketObjectLock), [
            'The vault\'s Object Lock configuration must be enabled with a default retention, so that every backup version is locked when it is written. Found: BucketObjectLockConfiguration vault-lock has no rule.defaultRetention. Fix: Set objectLockEnabled: "Enabled" and rule.defaultRetention with a mode and days (gitops-dr:lockMode, gitops-dr:lockDays).',
        ]);
    });

    it("reports a retention below the default minimum of 30 days", async () => {
        const stack = protect.with(
            N.lock,
            (r) => (r.props.rule = { defaultRetention: { mode: "COMPLIANCE", days: 7 } }),
        );
        assert.deepEqual(await messages(stack, vaultBucketObjectLock), [
            "The vault's default retention must be at least 30 days. Found: BucketObjectLockConfiguration vault-lock retains versions for 7 days. Fix: Set gitops-dr:lockDays to 30 or more and keep every backup TTL within it, or lower this policy's minLockDays if your organisation allows it.",
        ]);
    });

    it("reads minLockDays from the policy configuration and counts years as 365 days", async () => {
        const config = { "vault-bucket-object-lock": { minLockDays: 90 } };
        // The replica is a vault bucket too, held to the same minimum.
        assert.deepEqual(
            await messages(protect, vaultBucketObjectLock, config),
            ["vault-lock", "vault-replica-lock"].map(
                (lock) =>
                    `The vault's default retention must be at least 90 days. Found: BucketObjectLockConfiguration ${lock} retains versions for 31 days. Fix: Set gitops-dr:lockDays to 90 or more and keep every backup TTL within it, or lower this policy's minLockDays if your organisation allows it.`,
            ),
        );
        const years = protect
            .with(N.lock, (r) => (r.props.rule = { defaultRetention: { mode: "COMPLIANCE", years: 1 } }))
            .with(N.replicaLock, (r) => (r.props.rule = { defaultRetention: { mode: "COMPLIANCE", years: 1 } }));
        assert.deepEqual(await messages(years, vaultBucketObjectLock, config), []);
    });

    it("refuses GOVERNANCE unless the policy's requireCompliance is set false", async () => {
        const governance = protect.with(
            N.lock,
            (r) => (r.props.rule = { defaultRetention: { mode: "GOVERNANCE", days: 31 } }),
        );
        assert.deepEqual(
            await messages(governance, vaultBucketObjectLock, {
                "vault-bucket-object-lock": { requireCompliance: false },
            }),
            [],
        );
        assert.deepEqual(await messages(governance, vaultBucketObjectLock), [
            "The vault's default retention mode must be COMPLIANCE (this policy's requireCompliance is on). Found: BucketObjectLockConfiguration vault-lock uses \"GOVERNANCE\". Fix: Set gitops-dr:lockMode to COMPLIANCE once gitops-dr:lockDays is right; it applies to versions written from then on.",
        ]);
    });

    it("finds a bucket's lock configuration by bucket name when no property dependency links them", async () => {
        const byName = protect.with(N.lock, (r) => (r.propertyDependencies = {}));
        assert.deepEqual(await messages(byName, vaultBucketObjectLock), []);
        const otherBucket = byName.with(N.lock, (r) => (r.props.bucket = "some-other-bucket"));
        assert.equal((await messages(otherBucket, vaultBucketObjectLock)).length, 1);
    });
});

describe("policy vault-bucket-versioning", () => {
    const must =
        "A vault bucket must have versioning enabled: Object Lock protects versions, and Velero's deletes must leave the locked versions in place.";

    it("passes the compliant protect stack", async () => {
        assert.deepEqual(await messages(protect, vaultBucketVersioning), []);
    });

    it("reports a bucket without versioning", async () => {
        assert.deepEqual(await messages(protect.without(N.versioning), vaultBucketVersioning), [
            `${must} Found: no BucketVersioning configures Bucket vault-bucket. Fix: Register an aws.s3.BucketVersioning for the bucket with versioningConfiguration.status "Enabled".`,
        ]);
    });

    it("reports suspended versioning", async () => {
        const stack = protect.with(N.versioning, (r) => (r.props.versioningConfiguration = { status: "Suspended" }));
        assert.deepEqual(await messages(stack, vaultBucketVersioning), [
            `${must} Found: BucketVersioning vault-versioning has status "Suspended". Fix: Set versioningConfiguration.status to "Enabled".`,
        ]);
    });
});

describe("policy vault-bucket-encryption", () => {
    const must = "A vault bucket must encrypt by default with SSE-KMS under a customer-managed KMS key.";
    const customerKeyFix =
        "Set kmsMasterKeyId to a customer-managed key's ARN (gitops-dr:kmsKeyArn, or leave it empty to have the vault create one): only such a key's policy can be restricted, audited and granted to a recovery account.";
    const withDefault = (d: Record<string, unknown>) =>
        protect.with(
            N.encryption,
            (r) => (r.props.rules = [{ applyServerSideEncryptionByDefault: d, blockedEncryptionTypes: ["SSE-C"] }]),
        );

    it("passes the compliant protect stack", async () => {
        assert.deepEqual(await messages(protect, vaultBucketEncryption), []);
    });

    it("reports a bucket without default encryption", async () => {
        assert.deepEqual(await messages(protect.without(N.encryption), vaultBucketEncryption), [
            `${must} Found: no BucketServerSideEncryptionConfiguration configures Bucket vault-bucket. Fix: Register an aws.s3.BucketServerSideEncryptionConfiguration with applyServerSideEncryptionByDefault { sseAlgorithm: "aws:kms", kmsMasterKeyId: <key ARN> } (gitops-dr:kmsKeyArn, or leave it empty to have the vault create a key).`,
        ]);
    });

    it("reports an encryption configuration that lets SSE-C uploads through", async () => {
        const stack = protect.with(N.encryption, (r) => {
            (r.props.rules as Record<string, unknown>[])[0].blockedEncryptionTypes = ["NONE"];
        });
        assert.deepEqual(await messages(stack, vaultBucketEncryption), [
            'A vault bucket must refuse uploads encrypted with a customer-provided key (SSE-C): such a version is unreadable to anyone without that key, Velero included. Found: BucketServerSideEncryptionConfiguration vault-encryption does not list SSE-C in blockedEncryptionTypes. Fix: Set blockedEncryptionTypes: ["SSE-C"] on its rule (gitops-dr\'s BackupVault does).',
        ]);
    });

    it("reports a bucket policy that does not deny SSE-C uploads, by evaluating one", async () => {
        const stack = protect.with("vault-policy", (r) => {
            const document = JSON.parse(r.props.policy as string) as { Statement: { Sid?: string }[] };
            document.Statement = document.Statement.filter((st) => st.Sid !== "DenyCustomerProvidedKeys");
            r.props.policy = JSON.stringify(document);
        });
        assert.deepEqual(await messages(stack, vaultBucketEncryption), [
            'A vault bucket\'s policy must deny uploads that carry a customer-provided key (SSE-C), whatever a principal\'s own policies allow. Found: BucketPolicy vault-policy does not deny s3:PutObject with x-amz-server-side-encryption-customer-algorithm. Fix: Add a statement denying s3:PutObject to Principal "*" when s3:x-amz-server-side-encryption-customer-algorithm is present (Null: "false"), as components/iam.ts bucketPolicy does.',
        ]);
    });

    it("reports SSE-S3", async () => {
        assert.deepEqual(await messages(withDefault({ sseAlgorithm: "AES256" }), vaultBucketEncryption), [
            `${must} Found: BucketServerSideEncryptionConfiguration vault-encryption uses "AES256". Fix: Set applyServerSideEncryptionByDefault.sseAlgorithm to "aws:kms" with kmsMasterKeyId set to the vault's customer-managed key.`,
        ]);
    });

    it("reports SSE-KMS without a key, which is the AWS-managed key", async () => {
        assert.deepEqual(await messages(withDefault({ sseAlgorithm: "aws:kms" }), vaultBucketEncryption), [
            `${must} Found: BucketServerSideEncryptionConfiguration vault-encryption encrypts with no kmsMasterKeyId, which means the AWS-managed aws/s3 key. Fix: ${customerKeyFix}`,
        ]);
    });

    it("reports the aws/s3 alias", async () => {
        assert.deepEqual(
            await messages(
                withDefault({
                    sseAlgorithm: "aws:kms",
                    kmsMasterKeyId: "arn:aws:kms:eu-west-1:111122223333:alias/aws/s3",
                }),
                vaultBucketEncryption,
            ),
            [
                `${must} Found: BucketServerSideEncryptionConfiguration vault-encryption encrypts with "arn:aws:kms:eu-west-1:111122223333:alias/aws/s3", the AWS-managed key. Fix: ${customerKeyFix}`,
            ],
        );
    });
});

describe("policy vault-bucket-public-access", () => {
    const must = "A vault bucket must block all public access.";
    const fix =
        "Set blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets to true in an aws.s3.BucketPublicAccessBlock for the bucket.";

    it("passes the compliant protect stack", async () => {
        assert.deepEqual(await messages(protect, vaultBucketPublicAccess), []);
    });

    it("reports a bucket without a public access block", async () => {
        assert.deepEqual(await messages(protect.without(N.publicAccess), vaultBucketPublicAccess), [
            `${must} Found: no BucketPublicAccessBlock configures Bucket vault-bucket. Fix: ${fix}`,
        ]);
    });

    it("names each setting left off", async () => {
        const stack = protect.with(N.publicAccess, (r) => {
            r.props.blockPublicPolicy = false;
            delete r.props.restrictPublicBuckets;
        });
        assert.deepEqual(await messages(stack, vaultBucketPublicAccess), [
            `${must} Found: BucketPublicAccessBlock vault-public-access leaves blockPublicPolicy and restrictPublicBuckets unset or false. Fix: ${fix}`,
        ]);
    });
});

describe("policy vault-bucket-tls-only", () => {
    const must = "A vault bucket's policy must deny every request made without TLS.";
    const fix =
        'Add a statement denying s3:* on the bucket and its objects to Principal "*" when aws:SecureTransport is "false" (components/iam.ts bucketPolicy does).';
    const arn = "arn:aws:s3:::acme-gitops-dr-vault";
    const withStatements = (statements: unknown[]) =>
        protect.with(
            N.bucketPolicy,
            (r) => (r.props.policy = JSON.stringify({ Version: "2012-10-17", Statement: statements })),
        );

    it("passes the compliant protect stack", async () => {
        assert.deepEqual(await messages(protect, vaultBucketTlsOnly), []);
    });

    it("reports a bucket without a policy", async () => {
        assert.deepEqual(await messages(protect.without(N.bucketPolicy), vaultBucketTlsOnly), [
            `${must} Found: no BucketPolicy configures Bucket vault-bucket. Fix: ${fix}`,
        ]);
    });

    it("reports a policy that does not deny plain HTTP, by evaluating requests", async () => {
        const onlyKms = withStatements([
            {
                Sid: "DenyOtherEncryption",
                Effect: "Deny",
                Principal: "*",
                Action: "s3:PutObject",
                Resource: `${arn}/*`,
                Condition: {
                    StringNotEquals: { "s3:x-amz-server-side-encryption": "aws:kms" },
                    Null: { "s3:x-amz-server-side-encryption": "false" },
                },
            },
        ]);
        assert.deepEqual(await messages(onlyKms, vaultBucketTlsOnly), [
            `${must} Found: BucketPolicy vault-policy does not deny s3:GetObject on ${arn}/any-object, s3:PutObject on ${arn}/any-object, s3:ListBucket on ${arn} over plain HTTP. Fix: ${fix}`,
        ]);
    });

    it("reports a TLS statement that covers the objects but not the bucket", async () => {
        const objectsOnly = withStatements([
            {
                Effect: "Deny",
                Principal: "*",
                Action: "s3:*",
                Resource: `${arn}/*`,
                Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
        ]);
        assert.deepEqual(await messages(objectsOnly, vaultBucketTlsOnly), [
            `${must} Found: BucketPolicy vault-policy does not deny s3:ListBucket on ${arn} over plain HTTP. Fix: ${fix}`,
        ]);
    });

    it("reports a policy that is not JSON", async () => {
        const broken = protect.with(N.bucketPolicy, (r) => (r.props.policy = "{not json"));
        assert.deepEqual(await messages(broken, vaultBucketTlsOnly), [
            `${must} Found: BucketPolicy vault-policy has no valid JSON policy document. Fix: ${fix}`,
        ]);
    });
});

describe("policy vault-bucket-policy-admits-backups", () => {
    const object = "arn:aws:s3:::acme-gitops-dr-vault/prod-eu-1/kopia/default/p0123456789abcdef0123456789abcdef";
    const fix =
        'Guard each Deny on s3:x-amz-server-side-encryption* with a Null condition on the same key ("Null": {"<key>": "false"}), so that it only refuses a wrong header, never a missing one; ...IfExists does the opposite.';
    const withKeyCondition = (condition: Record<string, unknown>) =>
        protect.with(N.bucketPolicy, (r) => {
            const document = JSON.parse(r.props.policy as string) as {
                Statement: { Sid?: string; Condition?: unknown }[];
            };
            document.Statement.find((st) => st.Sid === "DenyOtherKmsKeys")!.Condition = condition;
            r.props.policy = JSON.stringify(document);
        });

    it("passes a Deny on a wrong key that lets header-less writes through (Null guard)", async () => {
        assert.deepEqual(await messages(protect, vaultBucketPolicyAdmitsBackups), []);
    });

    it("reports ...IfExists, which AWS evaluates as true when the header is absent", async () => {
        const stack = withKeyCondition({
            ArnNotEqualsIfExists: {
                "s3:x-amz-server-side-encryption-aws-kms-key-id": "arn:aws:kms:eu-west-1:111122223333:key/vault-key",
            },
        });
        assert.deepEqual(await messages(stack, vaultBucketPolicyAdmitsBackups), [
            `The vault's bucket policy must let Velero upload its backups: kopia's writes and every multipart part arrive without an encryption header, and the bucket's default SSE-KMS encrypts them. Found: BucketPolicy vault-policy refuses Role velero-iam-role s3:PutObject on ${object} sent without an encryption header. Fix: ${fix}`,
        ]);
    });

    it("reports a negated condition without the guard as well", async () => {
        const stack = withKeyCondition({
            ArnNotEquals: {
                "s3:x-amz-server-side-encryption-aws-kms-key-id": "arn:aws:kms:eu-west-1:111122223333:key/vault-key",
            },
        });
        assert.equal((await messages(stack, vaultBucketPolicyAdmitsBackups)).length, 1);
    });
});

describe("policy vault-bucket-lifecycle", () => {
    const rule0 = (change: (rule: Record<string, unknown>) => void) =>
        protect.with(N.lifecycle, (r) => {
            const rules = r.props.rules as Record<string, unknown>[];
            change(rules[0]);
        });

    it("passes the compliant protect stack", async () => {
        assert.deepEqual(await messages(protect, vaultBucketLifecycle), []);
    });

    it("reports a rule, even one on a prefix, that expires current versions", async () => {
        const stack = protect.with(N.lifecycle, (r) => {
            (r.props.rules as Record<string, unknown>[]).push({
                id: "tidy",
                status: "Enabled",
                filter: { prefix: "prod-eu-1/backups/" },
                expiration: { days: 7 },
            });
        });
        assert.deepEqual(await messages(stack, vaultBucketLifecycle), [
            "A vault bucket's lifecycle must never expire current versions: that deletes backups Velero still lists, on a schedule no TTL controls. Found: BucketLifecycleConfiguration vault-lifecycle rule tidy expires current versions (after 7 days). Fix: Remove expiration.days and expiration.date; keep only expiration.expiredObjectDeleteMarker, and let Velero's TTL delete backups.",
        ]);
    });

    it("reports a transition to a class that must be restored by hand before it can be read", async () => {
        const stack = protect.with(N.lifecycle, (r) => {
            (r.props.rules as Record<string, unknown>[]).push({
                id: "archive",
                status: "Enabled",
                filter: {},
                transitions: [{ days: 90, storageClass: "DEEP_ARCHIVE" }],
            });
        });
        assert.deepEqual(await messages(stack, vaultBucketLifecycle), [
            "A vault bucket's lifecycle may only move objects to storage classes Velero and kopia can read directly. Found: BucketLifecycleConfiguration vault-lifecycle rule archive moves objects to DEEP_ARCHIVE, which must be restored by hand before it can be read: a recovery would stall. Fix: Use only STANDARD, STANDARD_IA, INTELLIGENT_TIERING, GLACIER_IR (gitops-dr:storageTransitions).",
        ]);
    });

    it("reports a prefix rule that expires noncurrent versions before the lock ends, beside a correct whole-bucket rule", async () => {
        const stack = protect.with(N.lifecycle, (r) => {
            (r.props.rules as Record<string, unknown>[]).push({
                id: "short",
                status: "Enabled",
                filter: { prefix: "prod-eu-1/" },
                noncurrentVersionExpiration: { noncurrentDays: 1 },
            });
        });
        assert.deepEqual(await messages(stack, vaultBucketLifecycle), [
            "A vault bucket's lifecycle must not expire noncurrent versions before their Object Lock retention ends. Found: BucketLifecycleConfiguration vault-lifecycle rule short expires noncurrent versions after 1 days, the lock retains them 31 days. Fix: Set its noncurrentDays to 31 or more.",
        ]);
    });

    it("reports a bucket without a lifecycle", async () => {
        assert.deepEqual(await messages(protect.without(N.lifecycle), vaultBucketLifecycle), [
            "A vault bucket must have a lifecycle that removes noncurrent versions once their lock has ended and removes expired delete markers; Velero deletes without a version id, so otherwise nothing is ever freed. Found: no BucketLifecycleConfiguration configures Bucket vault-bucket. Fix: Register an aws.s3.BucketLifecycleConfiguration with an enabled whole-bucket rule setting noncurrentVersionExpiration.noncurrentDays (gitops-dr:noncurrentVersionExpirationDays) and expiration.expiredObjectDeleteMarker: true.",
        ]);
    });

    it("reports a lifecycle that never expires noncurrent versions", async () => {
        assert.deepEqual(
            await messages(
                rule0((rule) => delete rule.noncurrentVersionExpiration),
                vaultBucketLifecycle,
            ),
            [
                "A vault bucket's lifecycle must expire noncurrent versions, or every backup Velero deletes is kept forever. Found: BucketLifecycleConfiguration vault-lifecycle has no enabled whole-bucket rule with noncurrentVersionExpiration. Fix: Add an enabled rule with an empty filter and noncurrentVersionExpiration.noncurrentDays of at least the lock retention (gitops-dr:noncurrentVersionExpirationDays).",
            ],
        );
    });

    it("reports noncurrent versions expiring before the lock retention ends", async () => {
        assert.deepEqual(
            await messages(
                rule0((rule) => (rule.noncurrentVersionExpiration = { noncurrentDays: 10 })),
                vaultBucketLifecycle,
            ),
            [
                "A vault bucket's lifecycle must not expire noncurrent versions before their Object Lock retention ends. Found: BucketLifecycleConfiguration vault-lifecycle expires noncurrent versions after 10 days, the lock retains them 31 days. Fix: Set gitops-dr:noncurrentVersionExpirationDays to 31 or more.",
            ],
        );
    });

    it("reports a lifecycle that leaves expired delete markers", async () => {
        assert.deepEqual(
            await messages(
                rule0((rule) => delete rule.expiration),
                vaultBucketLifecycle,
            ),
            [
                "A vault bucket's lifecycle must remove expired delete markers, which Velero's deletes leave behind. Found: BucketLifecycleConfiguration vault-lifecycle has no enabled whole-bucket rule with expiration.expiredObjectDeleteMarker true. Fix: Add expiration.expiredObjectDeleteMarker: true to the whole-bucket rule that expires noncurrent versions.",
            ],
        );
    });

    it("does not count a disabled rule or one limited to a prefix", async () => {
        for (const stack of [
            rule0((rule) => (rule.status = "Disabled")),
            rule0((rule) => (rule.filter = { prefix: "prod-eu-1/" })),
        ]) {
            assert.deepEqual(
                (await messages(stack, vaultBucketLifecycle)).map((m) => m.substring(0, m.indexOf(" Found:"))),
                [
                    "A vault bucket's lifecycle must expire noncurrent versions, or every backup Velero deletes is kept forever.",
                    "A vault bucket's lifecycle must remove expired delete markers, which Velero's deletes leave behind.",
                ],
            );
        }
    });
});

describe("policy vault-resources-protected", () => {
    it("passes the compliant protect stack", async () => {
        assert.deepEqual(await messages(protect, vaultResourcesProtected), []);
    });

    it("reports an unprotected bucket", async () => {
        const stack = protect.with(N.bucket, (r) => (r.opts.protect = false));
        const violations = await violationsOf(stack, vaultResourcesProtected);
        assert.deepEqual(
            violations.map((v) => [v.urn, v.message]),
            [
                [
                    stack.get(N.bucket).urn,
                    "The vault's buckets, their configurations and KMS keys must be protected, so that pulumi destroy refuses to delete them. Found: Bucket vault-bucket has protect false. Fix: Create it with the resource option protect: true (gitops-dr's BackupVault does).",
                ],
            ],
        );
    });

    it("reports a key not retained on delete", async () => {
        const stack = protect.with(N.key, (r) => (r.opts.retainOnDelete = false));
        assert.deepEqual(await messages(stack, vaultResourcesProtected), [
            "The vault's buckets, their configurations and KMS keys must be retained on delete, so that even an unprotected destroy leaves them in AWS. Found: Key vault-key has retainOnDelete false. Fix: Create it with the resource option retainOnDelete: true (gitops-dr's BackupVault does).",
        ]);
    });

    it("cannot judge retainOnDelete when the engine does not send it, as under pulumi preview", async () => {
        const stack = protect.with(N.lock, (r) => delete r.opts.retainOnDelete);
        assert.deepEqual(await messages(stack, vaultResourcesProtected), []);
    });

    it("reports every vault setting, not only the bucket, lock and key (versioning here)", async () => {
        const stack = protect.with(N.versioning, (r) => (r.opts = { protect: false, retainOnDelete: false }));
        assert.deepEqual(await messages(stack, vaultResourcesProtected), [
            "The vault's buckets, their configurations and KMS keys must be protected, so that pulumi destroy refuses to delete them. Found: BucketVersioning vault-versioning has protect false. Fix: Create it with the resource option protect: true (gitops-dr's BackupVault does).",
            "The vault's buckets, their configurations and KMS keys must be retained on delete, so that even an unprotected destroy leaves them in AWS. Found: BucketVersioning vault-versioning has retainOnDelete false. Fix: Create it with the resource option retainOnDelete: true (gitops-dr's BackupVault does).",
        ]);
    });

    it("ignores resources outside the vault", async () => {
        const stack = protect.with(N.role, (r) => (r.opts = { protect: false, retainOnDelete: false }));
        assert.deepEqual(await messages(stack, vaultResourcesProtected), []);
    });
});

describe("policy vault-lock-governance-mode (advisory)", () => {
    it("passes a COMPLIANCE vault", async () => {
        assert.deepEqual(await messages(protect, vaultLockGovernanceMode), []);
    });

    it("advises against GOVERNANCE in a protect stack", async () => {
        const stack = protect.with(
            N.lock,
            (r) => (r.props.rule = { defaultRetention: { mode: "GOVERNANCE", days: 31 } }),
        );
        const violations = await violationsOf(stack, vaultLockGovernanceMode);
        assert.deepEqual(
            violations.map((v) => [v.enforcementLevel, v.message]),
            [
                [
                    "advisory",
                    'A protect stack\'s vault should retain backups in COMPLIANCE mode, which nobody, not even the account root, can lift before it expires. Found: BucketObjectLockConfiguration vault-lock uses GOVERNANCE, which any principal with s3:BypassGovernanceRetention can lift. Fix: Set gitops-dr:lockMode to COMPLIANCE once gitops-dr:lockDays is right (docs/design.md, "Lock modes").',
                ],
            ],
        );
    });
});

describe("policy vault-replica-missing (advisory)", () => {
    it("passes a replicated vault", async () => {
        assert.deepEqual(await messages(protect, vaultReplicaMissing), []);
    });

    it("advises a replica when the vault has none", async () => {
        const violations = await violationsOf(withoutReplica(protect), vaultReplicaMissing);
        assert.deepEqual(
            violations.map((v) => [v.enforcementLevel, v.message]),
            [
                [
                    "advisory",
                    "The vault should be replicated to a bucket in another region, so that losing the region does not lose the backups. Found: no BucketReplicationConfig replicates Bucket vault-bucket. Fix: Set gitops-dr:replicaRegion (and gitops-dr:replicaBucketName if the default <bucketName>-replica does not suit).",
                ],
            ],
        );
    });

    it("does not apply to a recover stack, which creates no vault", async () => {
        assert.deepEqual(await messages(compliantStack("recover"), vaultReplicaMissing), []);
    });
});

describe("policy vault-kms-key", () => {
    const must =
        "A vault KMS key's policy must refuse every principal but the break-glass ones kms:DisableKey, kms:ScheduleKeyDeletion and kms:PutKeyPolicy: without it any administrator can make every backup unreadable.";
    const fix =
        "Give the key the policy components/iam.ts vaultKeyPolicy builds, with gitops-dr:breakGlassPrincipalArns naming the only principals that may.";

    it("passes the compliant protect stack", async () => {
        assert.deepEqual(await messages(protect, vaultKmsKey), []);
    });

    it("reports a key without rotation", async () => {
        const stack = protect.with(N.key, (r) => (r.props.enableKeyRotation = false));
        assert.deepEqual(await messages(stack, vaultKmsKey), [
            "A vault KMS key must rotate its key material every year. Found: Key vault-key has enableKeyRotation false. Fix: Set enableKeyRotation: true (gitops-dr's BackupVault does).",
        ]);
    });

    it("reports a key without a key policy (the account default)", async () => {
        const stack = protect.with(N.key, (r) => delete r.props.policy);
        assert.deepEqual(await messages(stack, vaultKmsKey), [
            `${must} Found: Key vault-key has no key policy, so the account's default lets IAM administrators do all three. Fix: ${fix}`,
        ]);
    });

    it("reports, by evaluating it, a key policy whose deny no longer covers deletion", async () => {
        const stack = protect.with(N.key, (r) => {
            const document = JSON.parse(r.props.policy as string) as { Statement: { Sid: string; Action: unknown }[] };
            document.Statement.find((st) => st.Sid === "DenyKeyDestructionButBreakGlass")!.Action = ["kms:DisableKey"];
            r.props.policy = JSON.stringify(document);
        });
        assert.deepEqual(await messages(stack, vaultKmsKey), [
            `${must} Found: under Key vault-key's policy an administrator may kms:ScheduleKeyDeletion, kms:PutKeyPolicy. Fix: ${fix}`,
        ]);
    });

    it("reports a key of another account in the vault's encryption unless allowedKmsKeyAccounts names it", async () => {
        const foreign = "arn:aws:kms:eu-west-1:999999999999:key/elsewhere";
        const stack = protect
            .with(N.key, (r) => (r.props.arn = "arn:aws:kms:eu-west-1:111122223333:key/vault-key"))
            .with(N.encryption, (r) => {
                (r.props.rules as Record<string, Record<string, unknown>>[])[0].applyServerSideEncryptionByDefault = {
                    sseAlgorithm: "aws:kms",
                    kmsMasterKeyId: foreign,
                };
            });
        assert.deepEqual(await messages(stack, vaultKmsKey), [
            `The vault's data must be encrypted with keys of the stack's own account (111122223333) or of an account the organisation allows. Found: BucketServerSideEncryptionConfiguration vault-encryption uses ${foreign}. Fix: Use a KMS key of this account (gitops-dr:kmsKeyArn), or add its account to this policy's allowedKmsKeyAccounts.`,
        ]);
        assert.deepEqual(
            await messages(stack, vaultKmsKey, { "vault-kms-key": { allowedKmsKeyAccounts: ["999999999999"] } }),
            [],
        );
    });
});

describe("policy vault-bucket-policy-no-grants", () => {
    it("passes the compliant protect stack, whose bucket policy only denies", async () => {
        assert.deepEqual(await messages(protect, vaultBucketPolicyNoGrants), []);
    });

    it("reports a bucket policy that lets anyone bypass governance retention or delete", async () => {
        const stack = protect.with("vault-policy", (r) => {
            const document = JSON.parse(r.props.policy as string) as { Statement: unknown[] };
            document.Statement.push({
                Sid: "Helpdesk",
                Effect: "Allow",
                Principal: { AWS: "arn:aws:iam::444455556666:root" },
                Action: ["s3:BypassGovernanceRetention", "s3:DeleteObject*", "s3:GetObject"],
                Resource: "arn:aws:s3:::acme-gitops-dr-vault/*",
            });
            r.props.policy = JSON.stringify(document);
        });
        assert.deepEqual(await messages(stack, vaultBucketPolicyNoGrants), [
            "A vault bucket's policy must not allow anyone to delete, overwrite or unlock a backup, or to weaken the bucket's protection: it grants beside every role's own policies. Found: BucketPolicy vault-policy statement Helpdesk allows s3:DeleteObject, s3:DeleteObjectVersion, s3:BypassGovernanceRetention on arn:aws:s3:::acme-gitops-dr-vault/*. Fix: Remove the statement; grant what Velero needs in its roles' identity policies (components/iam.ts), and keep the bucket policy to Deny statements.",
        ]);
    });
});
