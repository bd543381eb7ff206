import * as assert from "node:assert/strict";

import {
    allowedActions,
    PolicyDocument,
    bucketPolicy,
    ebsSnapshotPolicy,
    restorerPolicy,
    s3ServiceTrust,
    writerPolicy,
} from "../components/iam";
import { vaultKeyAlias } from "../components/names";
import { lifecycleRules } from "../components/vault";
import { CREDENTIALS_HASH_LABEL, configHash } from "../components/velero/values";
import { ProgramRun, runProgram } from "../engine";
import { RECOVER_CONFIG, STACK_REFERENCES, STACK_SECRETS, policyOf } from "./fixtures";
import { ACCOUNT, decide } from "./iam-eval";

const VAULT_TYPES = [
    "aws:s3/bucket:Bucket",
    "aws:kms/key:Key",
    "aws:kms/alias:Alias",
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
];

describe("BackupVault", () => {
    let prod: ProgramRun;
    before(async () => {
        prod = await runProgram({ stack: "prod", secrets: STACK_SECRETS });
    });
    const vaultResource = (type: string, suffix: string) => prod.one(type, `gitops-dr-prod-vault${suffix}`);

    it("creates the bucket with Object Lock on, at creation, and never force-destroys it", () => {
        const bucket = vaultResource("aws:s3/bucket:Bucket", "-bucket");
        assert.equal(bucket.inputs.bucket, "acme-gitops-dr-vault");
        assert.equal(bucket.inputs.objectLockEnabled, true);
        assert.equal(bucket.inputs.forceDestroy, false);
        assert.equal(bucket.inputs.region, "eu-west-1");
    });

    it("enables versioning and a default retention of the configured mode and days", () => {
        assert.deepEqual(
            vaultResource("aws:s3/bucketVersioning:BucketVersioning", "-versioning").inputs.versioningConfiguration,
            { status: "Enabled" },
        );
        const lock = vaultResource("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", "-lock");
        assert.equal(lock.inputs.objectLockEnabled, "Enabled");
        assert.deepEqual(lock.inputs.rule, { defaultRetention: { mode: "COMPLIANCE", days: 31 } });
    });

    it("takes GOVERNANCE when configured", async () => {
        const run = await runProgram({
            stack: "prod",
            secrets: STACK_SECRETS,
            config: { lockMode: "GOVERNANCE", lockDays: 45 },
        });
        const lock = run.one(
            "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
            "gitops-dr-prod-vault-lock",
        );
        assert.deepEqual(lock.inputs.rule, { defaultRetention: { mode: "GOVERNANCE", days: 45 } });
    });

    it("encrypts with a rotating customer-managed key and an S3 bucket key", () => {
        const key = vaultResource("aws:kms/key:Key", "-key");
        assert.equal(key.inputs.enableKeyRotation, true);
        assert.equal(key.inputs.deletionWindowInDays, 30);
        const sse = vaultResource(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "-encryption",
        );
        assert.deepEqual(sse.inputs.rules, [
            {
                applyServerSideEncryptionByDefault: {
                    sseAlgorithm: "aws:kms",
                    kmsMasterKeyId: "arn:aws:kms:eu-west-1:111122223333:key/gitops-dr-prod-vault-key-id",
                },
                bucketKeyEnabled: true,
                blockedEncryptionTypes: ["SSE-C"],
            },
        ]);
        assert.deepEqual(sse.propertyDependencies.rules, [key.urn]);
    });

    it("names each key it creates alias/<bucket> in the key's region, so a person can find it", () => {
        for (const [suffix, bucket, region] of [
            ["-key", "acme-gitops-dr-vault", "eu-west-1"],
            ["-replica-key", "acme-gitops-dr-vault-replica", "eu-central-1"],
        ]) {
            const key = vaultResource("aws:kms/key:Key", suffix);
            const alias = vaultResource("aws:kms/alias:Alias", `${suffix}-alias`);
            assert.equal(alias.inputs.name, `alias/${bucket}`);
            assert.equal(alias.inputs.region, region);
            assert.deepEqual(alias.propertyDependencies.targetKeyId, [key.urn]);
        }
        assert.equal(vaultKeyAlias("backups.example.com"), "alias/backups-example-com");
    });

    it("uses a given key ARN instead of creating one", async () => {
        const kmsKeyArn = "arn:aws:kms:eu-west-1:111122223333:key/existing";
        const run = await runProgram({
            stack: "prod",
            secrets: STACK_SECRETS,
            config: { kmsKeyArn, replicaRegion: "" },
        });
        assert.equal(run.ofType("aws:kms/key:Key").length, 0);
        const sse = run.one(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "gitops-dr-prod-vault-encryption",
        );
        assert.equal(
            (sse.inputs.rules as { applyServerSideEncryptionByDefault: { kmsMasterKeyId: string } }[])[0]
                .applyServerSideEncryptionByDefault.kmsMasterKeyId,
            kmsKeyArn,
        );
        assert.equal(run.outputs.kmsKeyArn, kmsKeyArn);
    });

    it("blocks every kind of public access and turns ACLs off", () => {
        const pab = vaultResource("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "-public-access");
        for (const setting of ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"]) {
            assert.equal(pab.inputs[setting], true, setting);
        }
        assert.deepEqual(
            vaultResource("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "-ownership").inputs.rule,
            { objectOwnership: "BucketOwnerEnforced" },
        );
    });

    it("denies plain HTTP and uploads encrypted with anything but the vault key", () => {
        const policy = policyOf(vaultResource("aws:s3/bucketPolicy:BucketPolicy", "-policy").inputs.policy);
        assert.deepEqual(
            policy.Statement.map((s) => [s.Sid, s.Effect]),
            [
                ["DenyInsecureTransport", "Deny"],
                ["DenyOtherEncryption", "Deny"],
                ["DenyCustomerProvidedKeys", "Deny"],
                ["DenyOtherKmsKeys", "Deny"],
            ],
        );
        assert.deepEqual(policy.Statement[0].Condition, { Bool: { "aws:SecureTransport": "false" } });
        assert.deepEqual(policy.Statement[1].Condition, {
            StringNotEquals: { "s3:x-amz-server-side-encryption": "aws:kms" },
            Null: { "s3:x-amz-server-side-encryption": "false" },
        });
        assert.deepEqual(policy.Statement[2].Condition, {
            Null: { "s3:x-amz-server-side-encryption-customer-algorithm": "false" },
        });
        assert.deepEqual(policy.Statement[3].Condition, {
            ArnNotEquals: {
                "s3:x-amz-server-side-encryption-aws-kms-key-id":
                    "arn:aws:kms:eu-west-1:111122223333:key/gitops-dr-prod-vault-key-id",
            },
            Null: { "s3:x-amz-server-side-encryption-aws-kms-key-id": "false" },
        });
    });

    it("expires noncurrent versions no sooner than the lock ends, removes expired markers, aborts uploads", () => {
        const lifecycle = vaultResource(
            "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
            "-lifecycle",
        );
        assert.deepEqual(lifecycle.inputs.rules, [
            {
                id: "expire-deleted-backups",
                status: "Enabled",
                filter: {},
                noncurrentVersionExpiration: { noncurrentDays: 31 },
                expiration: { expiredObjectDeleteMarker: true },
            },
            {
                id: "abort-incomplete-uploads",
                status: "Enabled",
                filter: {},
                abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
            },
        ]);
        assert.ok(
            lifecycle.dependencies.includes(
                vaultResource("aws:s3/bucketVersioning:BucketVersioning", "-versioning").urn,
            ),
        );
    });

    it("adds validated storage transitions as their own rule", async () => {
        const run = await runProgram({
            stack: "prod",
            secrets: STACK_SECRETS,
            config: { storageTransitions: ["STANDARD_IA:30", "GLACIER_IR:90"] },
        });
        const lifecycle = run.one(
            "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
            "gitops-dr-prod-vault-lifecycle",
        );
        const rules = lifecycle.inputs.rules as { id: string; transitions?: unknown }[];
        assert.deepEqual(rules.find((r) => r.id === "storage-transitions")?.transitions, [
            { days: 30, storageClass: "STANDARD_IA" },
            { days: 90, storageClass: "GLACIER_IR" },
        ]);
        assert.equal(
            lifecycleRules({ noncurrentVersionExpirationDays: 40, abortIncompleteMultipartUploadDays: 3 }).length,
            2,
        );
    });

    for (const suffix of ["-key", "-replica-key"]) {
        it(`${suffix.slice(1)}: only a break-glass principal may disable it, schedule its deletion or change its policy`, async () => {
            const key = vaultResource("aws:kms/key:Key", suffix);
            assert.equal(key.inputs.bypassPolicyLockoutSafetyCheck, undefined, "AWS's lockout check stays on");
            const keyPolicy = policyOf(key.inputs.policy) as unknown as PolicyDocument;
            const region = String(key.inputs.region);
            const keyArn = `arn:aws:kms:${region}:${ACCOUNT}:key/k`;
            // The recorded policy names the recording's account; the simulator's account is ACCOUNT.
            const policy = JSON.parse(JSON.stringify(keyPolicy).replaceAll("111122223333", ACCOUNT)) as PolicyDocument;
            const administrator = {
                Version: "2012-10-17" as const,
                Statement: [{ Sid: "Admin", Effect: "Allow" as const, Action: "*", Resource: "*" }],
            };
            const breakGlass = `arn:aws:iam::${ACCOUNT}:role/gitops-dr-vault-break-glass`;
            const as = (principal: string, identity: PolicyDocument[], action: string, context = {}) =>
                decide(identity, action, keyArn, { bucketPolicy: policy, principal, context });
            for (const action of [
                "kms:DisableKey",
                "kms:ScheduleKeyDeletion",
                "kms:PutKeyPolicy",
                "kms:DisableKeyRotation",
                // The alias a person finds the key by cannot be repointed or deleted either.
                "kms:UpdateAlias",
                "kms:DeleteAlias",
            ]) {
                assert.equal(
                    await as(`arn:aws:iam::${ACCOUNT}:role/Administrator`, [administrator], action),
                    "ExplicitlyDenied",
                    `an administrator: ${action}`,
                );
                assert.equal(
                    await as(`arn:aws:iam::${ACCOUNT}:root`, [], action),
                    "ExplicitlyDenied",
                    `the account root: ${action}`,
                );
                // The key policy itself grants break-glass, with no IAM policy: what AWS's lockout check asks.
                assert.equal(await as(breakGlass, [], action), "Allowed", `break-glass: ${action}`);
            }
            // Velero uses it through S3, and nobody uses it directly.
            const velero = writerPolicy({ bucketArn: "arn:aws:s3:::vault", kmsKeyArn: keyArn, prefix: "prod-eu-1" });
            const viaS3 = { "kms:ViaService": `s3.${region}.amazonaws.com` };
            const veleroRole = `arn:aws:iam::${ACCOUNT}:role/prod-eu-1-velero`;
            assert.equal(await as(veleroRole, [velero], "kms:Decrypt", viaS3), "Allowed");
            assert.equal(await as(veleroRole, [velero], "kms:Decrypt"), "ExplicitlyDenied");
            assert.equal(
                await as(`arn:aws:iam::${ACCOUNT}:role/Administrator`, [administrator], "kms:Decrypt"),
                "ExplicitlyDenied",
            );
            // A role without an IAM grant cannot use it at all.
            assert.equal(await as(`arn:aws:iam::${ACCOUNT}:role/other`, [], "kms:Decrypt", viaS3), "ImplicitlyDenied");
        });
    }

    it("replicates to a hardened bucket in another region, with its own key, delete markers included", () => {
        const replica = vaultResource("aws:s3/bucket:Bucket", "-replica-bucket");
        assert.equal(replica.inputs.bucket, "acme-gitops-dr-vault-replica");
        assert.equal(replica.inputs.region, "eu-central-1");
        assert.equal(replica.inputs.objectLockEnabled, true);
        const replicaKey = vaultResource("aws:kms/key:Key", "-replica-key");
        assert.equal(replicaKey.inputs.region, "eu-central-1");
        assert.equal(replicaKey.inputs.enableKeyRotation, true);
        for (const [type, suffix] of [
            ["aws:s3/bucketVersioning:BucketVersioning", "-replica-versioning"],
            ["aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", "-replica-lock"],
            ["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "-replica-public-access"],
            ["aws:s3/bucketPolicy:BucketPolicy", "-replica-policy"],
            ["aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "-replica-lifecycle"],
        ]) {
            assert.equal(vaultResource(type, suffix).inputs.region, "eu-central-1", suffix);
        }
        const replication = vaultResource("aws:s3/bucketReplicationConfig:BucketReplicationConfig", "-replication");
        const rule = (replication.inputs.rules as Record<string, unknown>[])[0];
        assert.deepEqual(rule.deleteMarkerReplication, { status: "Enabled" });
        assert.deepEqual(rule.sourceSelectionCriteria, { sseKmsEncryptedObjects: { status: "Enabled" } });
        assert.deepEqual(rule.destination, {
            bucket: "arn:aws:s3:::acme-gitops-dr-vault-replica",
            storageClass: "STANDARD",
            encryptionConfiguration: {
                replicaKmsKeyId: "arn:aws:kms:eu-central-1:111122223333:key/gitops-dr-prod-vault-replica-key-id",
            },
        });
        // Replication needs versioning on both sides before it can be configured.
        assert.ok(
            replication.dependencies.includes(
                vaultResource("aws:s3/bucketVersioning:BucketVersioning", "-versioning").urn,
            ),
        );
        assert.ok(
            replication.dependencies.includes(
                vaultResource("aws:s3/bucketVersioning:BucketVersioning", "-replica-versioning").urn,
            ),
        );
        const role = policyOf(vaultResource("aws:iam/rolePolicy:RolePolicy", "-replication").inputs.policy);
        const actions = role.Statement.flatMap((s) => (typeof s.Action === "string" ? [s.Action] : s.Action));
        for (const action of [
            "s3:GetObjectRetention",
            "s3:GetObjectLegalHold",
            "s3:ReplicateObject",
            "s3:ReplicateDelete",
            "kms:Decrypt",
            "kms:Encrypt",
        ]) {
            assert.ok(actions.includes(action), action);
        }
        assert.ok(!actions.some((a) => a.endsWith("*")));
        // The confused deputy: only S3 replicating this bucket, in this account, may assume the role.
        const trust = policyOf(vaultResource("aws:iam/role:Role", "-replication").inputs.assumeRolePolicy);
        assert.deepEqual(
            trust,
            JSON.parse(JSON.stringify(s3ServiceTrust("arn:aws:s3:::acme-gitops-dr-vault", "111122223333"))),
        );
        assert.deepEqual(trust.Statement[0].Condition, {
            StringEquals: { "aws:SourceAccount": "111122223333" },
            ArnLike: { "aws:SourceArn": "arn:aws:s3:::acme-gitops-dr-vault" },
        });
        assert.equal(vaultResource("aws:iam/role:Role", "-replication").inputs.namePrefix, "gitops-dr-replication-");
    });

    it("protects and retains every vault resource, so destroying the stack leaves every backup", () => {
        const vault = prod.one("gitops-dr:vault:BackupVault");
        const children = prod.descendants(vault);
        assert.deepEqual(
            [...new Set(children.map((r) => r.type))].sort(),
            [...VAULT_TYPES, "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy"].sort(),
        );
        for (const r of children) {
            assert.equal(r.protect, true, `${r.name} protect`);
            assert.equal(r.retainOnDelete, true, `${r.name} retainOnDelete`);
        }
    });

    it("publishes the vault's location for recover and drill stacks", () => {
        assert.equal(prod.outputs.bucketName, "acme-gitops-dr-vault");
        assert.equal(prod.outputs.bucketArn, "arn:aws:s3:::acme-gitops-dr-vault");
        assert.equal(prod.outputs.region, "eu-west-1");
        assert.equal(prod.outputs.prefix, "prod-eu-1");
        assert.match(String(prod.outputs.kmsKeyArn), /^arn:aws:kms:eu-west-1:/);
        assert.deepEqual(Object.keys(prod.outputs.replica as object).sort(), [
            "bucketArn",
            "bucketName",
            "kmsKeyArn",
            "region",
            "roleArn",
        ]);
    });

    it("a protect stack joining a shared vault creates no bucket and writes under its own prefix", async () => {
        const run = await runProgram({
            stack: "prod",
            secrets: STACK_SECRETS,
            config: {
                createBucket: false,
                replicaRegion: "",
                clusterName: "prod-us-1",
                kmsKeyArn: "arn:aws:kms:eu-west-1:111122223333:key/shared",
            },
        });
        assert.equal(run.ofType("aws:s3/bucket:Bucket").length, 0);
        assert.equal(run.outputs.prefix, "prod-us-1");
        const writer = policyOf(run.one("aws:iam/policy:Policy").inputs.policy);
        assert.equal(
            writer.Statement.find((s) => s.Sid === "ReadWriteOwnPrefix")?.Resource,
            "arn:aws:s3:::acme-gitops-dr-vault/prod-us-1/*",
        );
    });

    for (const mode of ["recover", "drill"] as const) {
        it(`${mode} registers no vault resource at all`, async () => {
            const run =
                mode === "drill"
                    ? await runProgram({ stack: "drill", secrets: STACK_SECRETS, stackReferences: STACK_REFERENCES })
                    : await runProgram({
                          stack: "recover",
                          config: RECOVER_CONFIG,
                          secrets: STACK_SECRETS,
                          stackReferences: STACK_REFERENCES,
                      });
            for (const type of VAULT_TYPES) {
                assert.equal(run.ofType(type).length, 0, type);
            }
        });
    }
});

describe("IAM policies", () => {
    const access = {
        bucketArn: "arn:aws:s3:::vault",
        kmsKeyArn: "arn:aws:kms:eu-west-1:111122223333:key/k",
        prefix: "prod-eu-1",
    };

    it("the writer holds exactly the plugin's documented actions, on its own prefix", () => {
        assert.deepEqual(allowedActions(writerPolicy(access)), [
            "kms:Decrypt",
            "kms:GenerateDataKey",
            "s3:AbortMultipartUpload",
            "s3:DeleteObject",
            "s3:GetObject",
            "s3:ListBucket",
            "s3:ListMultipartUploadParts",
            "s3:PutObject",
        ]);
        const resources = writerPolicy(access).Statement.map((s) => [s.Sid, s.Resource]);
        assert.deepEqual(resources, [
            ["ListVault", "arn:aws:s3:::vault"],
            ["ReadWriteOwnPrefix", "arn:aws:s3:::vault/prod-eu-1/*"],
            ["UseVaultKeyThroughS3", access.kmsKeyArn],
        ]);
        assert.deepEqual(writerPolicy(access).Statement[2].Condition, {
            StringEquals: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" },
        });
    });

    it("the restorer's statements: read the source, write and clean restore logs, add kopia blobs", () => {
        const policy = restorerPolicy(access);
        assert.deepEqual(
            policy.Statement.map((s) => [s.Sid, s.Action, s.Resource]),
            [
                ["ListVault", ["s3:ListBucket"], "arn:aws:s3:::vault"],
                ["ReadSourcePrefix", ["s3:GetObject"], "arn:aws:s3:::vault/prod-eu-1/*"],
                [
                    "WriteAndCleanRestoreLogs",
                    ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
                    "arn:aws:s3:::vault/prod-eu-1/restores/*",
                ],
                [
                    "AddKopiaSessionBlobs",
                    ["s3:PutObject", "s3:AbortMultipartUpload"],
                    [
                        "arn:aws:s3:::vault/prod-eu-1/kopia/*/q*",
                        "arn:aws:s3:::vault/prod-eu-1/kopia/*/xn*",
                        "arn:aws:s3:::vault/prod-eu-1/kopia/*/s*",
                    ],
                ],
                [
                    "DenyKopiaFixedBlobs",
                    ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"],
                    [
                        "arn:aws:s3:::vault/prod-eu-1/kopia/*kopia.*",
                        "arn:aws:s3:::vault/prod-eu-1/kopia/*.storageconfig",
                        "arn:aws:s3:::vault/prod-eu-1/kopia/*.shards",
                    ],
                ],
                ["UseVaultKeyThroughS3", ["kms:Decrypt", "kms:GenerateDataKey"], access.kmsKeyArn],
            ],
        );
    });

    // Evaluated request by request as AWS would (tests/iam-eval.ts): what a drill or recovery can do to prod's backups.
    const key = (path: string) => `arn:aws:s3:::vault/prod-eu-1/${path}`;
    const restorerCases: [string, string, "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied"][] = [
        ["s3:GetObject", key("backups/prod-eu-1-daily-20261124020000/velero-backup.json"), "Allowed"],
        ["s3:GetObject", key("kopia/shop/p0123abcd"), "Allowed"],
        ["s3:ListBucket", "arn:aws:s3:::vault", "Allowed"],
        // Restore logs: written, and deleted when the Restore object is deleted (its finalizer).
        ["s3:PutObject", key("restores/drill-eu-1-2026-11-25/restore-drill-eu-1-2026-11-25-logs.gz"), "Allowed"],
        ["s3:DeleteObject", key("restores/drill-eu-1-2026-11-25/restore-drill-eu-1-2026-11-25-logs.gz"), "Allowed"],
        // kopia manifest compaction adds a session marker, a manifest pack and an index blob; nothing is deleted.
        ["s3:PutObject", key("kopia/shop/q0123abcd"), "Allowed"],
        ["s3:PutObject", key("kopia/shop/xn0_0123abcd-s0123-c1"), "Allowed"],
        ["s3:PutObject", key("kopia/shop/s0123456789abcdef0"), "Allowed"],
        ["s3:DeleteObject", key("kopia/shop/p0123abcd"), "ImplicitlyDenied"],
        // Data packs and epoch markers are never rewritten by a restore.
        ["s3:PutObject", key("kopia/shop/p0123abcd"), "ImplicitlyDenied"],
        ["s3:PutObject", key("kopia/shop/xe1"), "ImplicitlyDenied"],
        // kopia's fixed-name blobs: refused explicitly, whatever else the role is granted.
        ...[
            "kopia.repository",
            "kopia.blobcfg",
            "kopia.maintenance",
            "kopia.repository.backup.velero@restorer",
            ".storageconfig",
            ".shards",
        ].flatMap((name): [string, string, "ExplicitlyDenied"][] => [
            ["s3:PutObject", key(`kopia/shop/${name}`), "ExplicitlyDenied"],
            ["s3:DeleteObject", key(`kopia/shop/${name}`), "ExplicitlyDenied"],
            // A namespace whose name starts with a granted letter (q, s, x) must not reopen the name.
            ["s3:PutObject", key(`kopia/staging/${name}`), "ExplicitlyDenied"],
        ]),
        // Backups: never deleted, overwritten, unlocked or re-locked.
        ["s3:DeleteObject", key("backups/prod-eu-1-daily-20261124020000/velero-backup.json"), "ImplicitlyDenied"],
        ["s3:PutObject", key("backups/prod-eu-1-daily-20261124020000/velero-backup.json"), "ImplicitlyDenied"],
        ["s3:DeleteObjectVersion", key("restores/x/logs.gz"), "ImplicitlyDenied"],
        ["s3:DeleteObjectVersion", key("kopia/shop/p0123abcd"), "ImplicitlyDenied"],
        ["s3:BypassGovernanceRetention", key("backups/x/velero-backup.json"), "ImplicitlyDenied"],
        ["s3:PutObjectRetention", key("kopia/shop/p0123abcd"), "ImplicitlyDenied"],
        ["s3:PutObjectLegalHold", key("kopia/shop/p0123abcd"), "ImplicitlyDenied"],
        ["s3:PutBucketObjectLockConfiguration", "arn:aws:s3:::vault", "ImplicitlyDenied"],
        ["s3:PutLifecycleConfiguration", "arn:aws:s3:::vault", "ImplicitlyDenied"],
        ["s3:PutBucketPolicy", "arn:aws:s3:::vault", "ImplicitlyDenied"],
        // Other clusters' prefixes: not even read.
        ["s3:GetObject", "arn:aws:s3:::vault/prod-us-1/backups/x/velero-backup.json", "ImplicitlyDenied"],
    ];
    for (const [action, resource, expected] of restorerCases) {
        it(`restorer: ${action} on ${resource.replace("arn:aws:s3:::vault/", "")} is ${expected}`, async () => {
            assert.equal(
                await decide([restorerPolicy(access)], action, resource, {
                    bucketPolicy: bucketPolicy(access.bucketArn, access.kmsKeyArn),
                }),
                expected,
            );
        });
    }

    it("the bucket policy lets uploads without an encryption header through and refuses a foreign encryption or key", async () => {
        const policy = bucketPolicy(access.bucketArn, access.kmsKeyArn);
        const put = (context: Record<string, string>) =>
            decide([writerPolicy(access)], "s3:PutObject", key("kopia/shop/p0"), { bucketPolicy: policy, context });
        assert.equal(await put({}), "Allowed", "kopia and UploadPart send no SSE header");
        assert.equal(
            await put({
                "s3:x-amz-server-side-encryption": "aws:kms",
                "s3:x-amz-server-side-encryption-aws-kms-key-id": access.kmsKeyArn,
            }),
            "Allowed",
        );
        assert.equal(await put({ "s3:x-amz-server-side-encryption": "AES256" }), "ExplicitlyDenied");
        assert.equal(
            await put({
                "s3:x-amz-server-side-encryption": "aws:kms",
                "s3:x-amz-server-side-encryption-aws-kms-key-id": "arn:aws:kms:eu-west-1:999999999999:key/other",
            }),
            "ExplicitlyDenied",
        );
    });

    it("a restorer holding a broader grant by mistake still cannot write kopia's fixed names", async () => {
        const broad = {
            Version: "2012-10-17" as const,
            Statement: [{ Sid: "Broad", Effect: "Allow" as const, Action: "s3:*", Resource: "arn:aws:s3:::vault/*" }],
        };
        for (const name of ["kopia.repository", "kopia.maintenance", ".storageconfig"]) {
            assert.equal(
                await decide([restorerPolicy(access), broad], "s3:PutObject", key(`kopia/shop/${name}`)),
                "ExplicitlyDenied",
                name,
            );
        }
        assert.equal(await decide([restorerPolicy(access), broad], "s3:PutObject", key("kopia/shop/p0")), "Allowed");
    });

    for (const [role, policy] of [
        ["writer", writerPolicy(access)],
        ["restorer", restorerPolicy(access)],
    ] as const) {
        it(`the bucket policy refuses the ${role} an upload with a customer-provided key (SSE-C)`, async () => {
            const target = role === "writer" ? key("kopia/shop/p0") : key("restores/r/restore-r-logs.gz");
            const put = (context: Record<string, string>) =>
                decide([policy], "s3:PutObject", target, {
                    bucketPolicy: bucketPolicy(access.bucketArn, access.kmsKeyArn),
                    context,
                });
            assert.equal(await put({}), "Allowed");
            assert.equal(
                await put({ "s3:x-amz-server-side-encryption-customer-algorithm": "AES256" }),
                "ExplicitlyDenied",
            );
        });
    }

    it("the bucket policy refuses plain HTTP even to the writer", async () => {
        const request = ["s3:GetObject", key("backups/x/velero-backup.json")] as const;
        assert.equal(
            await decide([writerPolicy(access)], ...request, {
                bucketPolicy: bucketPolicy(access.bucketArn, access.kmsKeyArn),
            }),
            "Allowed",
        );
        assert.equal(
            await decide([writerPolicy(access)], ...request, {
                bucketPolicy: bucketPolicy(access.bucketArn, access.kmsKeyArn),
                context: { "aws:SecureTransport": "false" },
            }),
            "ExplicitlyDenied",
        );
    });

    it("no policy allows a wildcard action", () => {
        for (const policy of [writerPolicy(access), restorerPolicy(access)]) {
            assert.ok(allowedActions(policy).every((a) => !a.includes("*")));
        }
        // The bucket policy's s3:* is a Deny, never an Allow.
        assert.ok(bucketPolicy(access.bucketArn, access.kmsKeyArn).Statement.every((s) => s.Effect === "Deny"));
    });

    const modes = {
        protect: () => runProgram({ stack: "prod", secrets: STACK_SECRETS }),
        recover: () =>
            runProgram({
                stack: "recover",
                config: RECOVER_CONFIG,
                secrets: STACK_SECRETS,
                stackReferences: STACK_REFERENCES,
            }),
        drill: () => runProgram({ stack: "drill", secrets: STACK_SECRETS, stackReferences: STACK_REFERENCES }),
    };
    const expected = {
        protect: [["prod-eu-1-velero-writer", "arn:aws:s3:::acme-gitops-dr-vault/prod-eu-1/*"]],
        recover: [
            ["prod-eu-2-velero-writer", "arn:aws:s3:::acme-gitops-dr-vault/prod-eu-2/*"],
            ["prod-eu-2-velero-restorer", "arn:aws:s3:::acme-gitops-dr-vault/prod-eu-1/*"],
        ],
        drill: [["drill-eu-1-velero-restorer", "arn:aws:s3:::acme-gitops-dr-vault/prod-eu-1/*"]],
    };
    for (const mode of ["protect", "recover", "drill"] as const) {
        it(`${mode}: the registered policies and the prefixes they reach`, async () => {
            const run = await modes[mode]();
            const policies = run.ofType("aws:iam/policy:Policy");
            assert.deepEqual(
                policies.map((p) => [
                    p.inputs.name,
                    policyOf(p.inputs.policy).Statement.find(
                        (s) => s.Sid === "ReadWriteOwnPrefix" || s.Sid === "ReadSourcePrefix",
                    )?.Resource,
                ]),
                expected[mode],
            );
            if (mode !== "protect") {
                // Everything this stack attaches to Velero, together: no backup of the source can be deleted.
                const documents = policies.map(
                    (p) => policyOf(p.inputs.policy) as unknown as Parameters<typeof decide>[0][number],
                );
                const backup =
                    "arn:aws:s3:::acme-gitops-dr-vault/prod-eu-1/backups/prod-eu-1-daily-20261124020000/velero-backup.json";
                assert.equal(await decide(documents, "s3:DeleteObject", backup), "ImplicitlyDenied");
                assert.equal(await decide(documents, "s3:PutObject", backup), "ImplicitlyDenied");
                assert.equal(
                    await decide(
                        documents,
                        "s3:DeleteObject",
                        "arn:aws:s3:::acme-gitops-dr-vault/prod-eu-1/kopia/shop/p0",
                    ),
                    "ImplicitlyDenied",
                );
            }
        });
    }

    it("native snapshots add EC2 snapshot actions; a drill cannot delete snapshots", async () => {
        const prod = await runProgram({
            stack: "prod",
            secrets: STACK_SECRETS,
            config: { volumeDataMode: "nativeSnapshots" },
        });
        const writer = policyOf(
            prod.one("aws:iam/policy:Policy", "gitops-dr-prod-velero-iam-ebs-snapshots").inputs.policy,
        );
        assert.deepEqual(writer.Statement[0].Action, [
            "ec2:DescribeVolumes",
            "ec2:DescribeSnapshots",
            "ec2:CreateTags",
            "ec2:CreateVolume",
            "ec2:CreateSnapshot",
        ]);
        // DeleteSnapshot only on snapshots Velero tagged with its backup's name.
        const snapshot = "arn:aws:ec2:eu-west-1::snapshot/snap-0123456789abcdef0";
        assert.equal(
            await decide([ebsSnapshotPolicy("writer")], "ec2:DeleteSnapshot", snapshot, {
                context: { "aws:ResourceTag/velero.io/backup": "prod-eu-1-daily-20261124020000" },
            }),
            "Allowed",
        );
        assert.equal(await decide([ebsSnapshotPolicy("writer")], "ec2:DeleteSnapshot", snapshot), "ImplicitlyDenied");
        const drill = await runProgram({
            stack: "drill",
            secrets: STACK_SECRETS,
            stackReferences: STACK_REFERENCES,
            config: { volumeDataMode: "nativeSnapshots" },
        });
        const restorer = policyOf(
            drill.one("aws:iam/policy:Policy", "gitops-dr-drill-velero-iam-ebs-snapshots").inputs.policy,
        );
        assert.ok(!(restorer.Statement[0].Action as string[]).includes("ec2:DeleteSnapshot"));
        assert.equal(drill.ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment").length, 2);
        assert.equal(
            (await runProgram({ stack: "prod", secrets: STACK_SECRETS })).ofType("aws:iam/policy:Policy").length,
            1,
        );
    });

    it("IRSA trusts only the Velero server service account through the cluster's OIDC provider", async () => {
        const run = await runProgram({ stack: "prod", secrets: STACK_SECRETS });
        const role = run.one("aws:iam/role:Role", "gitops-dr-prod-velero-iam-role");
        const trust = policyOf(role.inputs.assumeRolePolicy);
        const issuer = "oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF";
        assert.deepEqual(trust.Statement[0].Condition, {
            StringEquals: {
                [`${issuer}:sub`]: "system:serviceaccount:velero:velero-server",
                [`${issuer}:aud`]: "sts.amazonaws.com",
            },
        });
        assert.equal(trust.Statement[0].Action, "sts:AssumeRoleWithWebIdentity");
        const attachment = run.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment");
        assert.equal(attachment.inputs.policyArn, "arn:aws:iam::111122223333:policy/prod-eu-1-velero-writer");
        assert.equal(role.inputs.name, "prod-eu-1-velero");
    });

    it("Pod Identity: a role trusted by pods.eks.amazonaws.com and an association for the server service account", async () => {
        const run = await runProgram({
            stack: "prod",
            secrets: STACK_SECRETS,
            config: { credentialsMode: "podIdentity", oidcProviderArn: null, clusterRegion: "eu-central-1" },
        });
        const trust = policyOf(run.one("aws:iam/role:Role", "gitops-dr-prod-velero-iam-role").inputs.assumeRolePolicy);
        assert.deepEqual(trust.Statement[0].Action, ["sts:AssumeRole", "sts:TagSession"]);
        // Evaluated as STS would for the Pod Identity agent: only this cluster's Velero server service account.
        const roleArn = `arn:aws:iam::${ACCOUNT}:role/prod-eu-1-velero`;
        const asAgent = (tags: Record<string, string>) =>
            decide([], "sts:AssumeRole", roleArn, {
                bucketPolicy: JSON.parse(JSON.stringify(trust).replaceAll("111122223333", ACCOUNT)) as PolicyDocument,
                principal: "pods.eks.amazonaws.com",
                context: Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])),
            });
        const velero = {
            "eks-cluster-arn": `arn:aws:eks:eu-central-1:${ACCOUNT}:cluster/prod-eu-1`,
            "kubernetes-namespace": "velero",
            "kubernetes-service-account": "velero-server",
        };
        assert.equal(await asAgent(velero), "Allowed");
        assert.equal(
            await asAgent({ ...velero, "eks-cluster-arn": `arn:aws:eks:eu-central-1:${ACCOUNT}:cluster/other` }),
            "ImplicitlyDenied",
            "another cluster of the account with a velero/velero-server service account",
        );
        assert.equal(await asAgent({ ...velero, "kubernetes-service-account": "default" }), "ImplicitlyDenied");
        const association = run.one("aws:eks/podIdentityAssociation:PodIdentityAssociation");
        assert.equal(association.inputs.clusterName, "prod-eu-1");
        assert.equal(association.inputs.serviceAccount, "velero-server");
        assert.equal(association.inputs.namespace, "velero");
        // The association lives in the EKS cluster's region, not the vault's (eu-west-1, the provider's).
        assert.equal(association.inputs.region, "eu-central-1");
    });

    for (const [stack, policies] of [
        ["prod", ["prod-eu-1-velero-writer"]],
        ["drill", ["drill-eu-1-velero-restorer"]],
    ] as const) {
        it(`createAccessKey (${stack}): an IAM user with Velero's policies and its key, which Velero uses`, async () => {
            const run = await runProgram({
                stack,
                config: { credentialsMode: "staticKeys", oidcProviderArn: null, createAccessKey: "true" },
                secrets: STACK_SECRETS,
                stackReferences: STACK_REFERENCES,
            });
            const user = run.one("aws:iam/user:User");
            const clusterName = policies[0].replace(/-velero-.*/, "");
            assert.equal(user.inputs.name, `${clusterName}-velero`);
            assert.equal(run.ofType("aws:iam/role:Role").filter((r) => r.name.includes("velero")).length, 0);
            const attached = run
                .ofType("aws:iam/userPolicyAttachment:UserPolicyAttachment")
                .map((a) => String(a.inputs.policyArn).replace(/^.*:policy\//, ""));
            assert.deepEqual(attached, policies);
            for (const a of run.ofType("aws:iam/userPolicyAttachment:UserPolicyAttachment")) {
                assert.equal(a.inputs.user, user.inputs.name);
            }
            const key = run.one("aws:iam/accessKey:AccessKey");
            assert.equal(key.inputs.user, user.inputs.name);
            const secret = run.one("kubernetes:core/v1:Secret", `gitops-dr-${stack}-velero-cloud-credentials`);
            const cloud = (secret.inputs.stringData as { cloud: string }).cloud;
            assert.match(
                cloud,
                /^\[default\]\naws_access_key_id=AKIA\w+\naws_secret_access_key=\S+-secret-access-key\n$/,
            );
            assert.ok(secret.secretPaths.some((p) => p.startsWith("stringData")));
            // The key exists only once its policies are attached, and Velero starts only with the key.
            const release = run.ofType("kubernetes:helm.sh/v3:Release").find((r) => r.name.includes("velero"))!;
            for (const a of run.ofType("aws:iam/userPolicyAttachment:UserPolicyAttachment")) {
                assert.ok(run.dependsOn(key, a), a.name);
                assert.ok(run.dependsOn(release, a), a.name);
            }
            // A new key rolls the server's and the node agent's pods: a label holds a hash of its id.
            const keyId = /aws_access_key_id=(\w+)/.exec(cloud)![1];
            const values = release.inputs.values as { podLabels: Record<string, string>; nodeAgent: typeof values };
            assert.equal(values.podLabels[CREDENTIALS_HASH_LABEL], configHash(keyId));
            assert.equal(values.nodeAgent.podLabels[CREDENTIALS_HASH_LABEL], configHash(keyId));
            assert.equal(run.outputs.veleroUserName, user.inputs.name);
            assert.equal(run.outputs.veleroAccessKeyId, keyId);
        });
    }

    it("static keys: no role; the policy exists to attach to the key's user, and the keys stay secret", async () => {
        const run = await runProgram({
            stack: "prod",
            config: { credentialsMode: "staticKeys", oidcProviderArn: null },
            secrets: { ...STACK_SECRETS, awsAccessKeyId: "AKIAEXAMPLE", awsSecretAccessKey: "wJalrEXAMPLEKEY" },
        });
        assert.equal(run.ofType("aws:iam/role:Role").filter((r) => r.name.includes("velero")).length, 0);
        assert.equal(run.ofType("aws:iam/policy:Policy").length, 1);
        const secret = run.one("kubernetes:core/v1:Secret", "gitops-dr-prod-velero-cloud-credentials");
        assert.ok(secret.secretPaths.includes("stringData.cloud") || secret.secretPaths.includes("stringData"));
        assert.equal(
            (secret.inputs.stringData as { cloud: string }).cloud,
            "[default]\naws_access_key_id=AKIAEXAMPLE\naws_secret_access_key=wJalrEXAMPLEKEY\n",
        );
    });
});
